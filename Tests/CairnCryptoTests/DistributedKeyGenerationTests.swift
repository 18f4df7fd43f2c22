import CairnCore
@testable import CairnCrypto
import CairnTestKit
import Testing

/// n validators' keys and joins for one ceremony, with helpers to play honest or Byzantine parts.
struct Ceremony {
    let n: Int
    let keys: [SigningKey]
    let secrets: [CeremonySecret]
    let joins: [CeremonyJoin]
    let dkg: DistributedKeyGeneration
    var f: Int { (n - 1) / 3 }

    init(n: Int, chain: String = "dkg-test", keys: [SigningKey]? = nil, secrets: [CeremonySecret]? = nil) throws {
        self.n = n
        self.keys = keys ?? (0 ..< n).map { _ in SigningKey.generate() }
        self.secrets = secrets ?? (0 ..< n).map { _ in CeremonySecret.generate() }
        let keys = self.keys, secrets = self.secrets
        var joins: [CeremonyJoin] = []
        for i in 0 ..< n {
            var join = CeremonyJoin(chainID: chain, name: "v\(i)", publicKey: keys[i].publicKey, peerAddress: "10.0.0.\(i + 1):26600",
                                    apiAddress: "10.0.0.\(i + 1):26601", ceremonyKey: secrets[i].publicKey)
            join.proveCeremonyKey(secrets[i])
            join.signature = keys[i].sign(join.signedBytes)
            joins.append(join)
        }
        self.joins = joins
        dkg = try DistributedKeyGeneration(session: SHA256.hash(Array(chain.utf8)), joins: joins)
    }

    func deal(_ i: Int) throws -> CeremonyDeal { try dkg.deal(as: i, secret: secrets[i], signingKey: keys[i]) }

    func respond(_ j: Int, _ deals: [CeremonyDeal]) throws -> CeremonyResponse {
        try dkg.respond(as: j, deals: deals, secret: secrets[j], signingKey: keys[j]).response
    }

    func resigned(_ deal: CeremonyDeal) -> CeremonyDeal {
        var copy = deal
        copy.signature = keys[Int(deal.dealer)].sign(copy.signedBytes)
        return copy
    }

    /// A deal whose commitments and shares the dealer chose, every share sealed consistently with
    /// the commitments as published (so only the Feldman check or the encoding rules can catch it).
    func crafted(_ i: Int, commitments edit: (inout [CurvePoint]) throws -> Void = { _ in },
                 share: (_ recipient: Int, _ correct: Scalar) -> Scalar = { $1 }) throws -> CeremonyDeal {
        let polynomial = SecretPolynomial.random(coefficients: f + 1, nonZeroAt: 1 ... UInt32(n))
        var commitments = try polynomial.commitments()
        try edit(&commitments)
        let digest = dkg.commitmentsDigest(commitments)
        let shares = try (0 ..< n).map { j in
            let key = try dkg.shareKey(dealer: UInt32(i), recipient: UInt32(j), sharedPoint: dkg.ceremonyKeys[j].times(secrets[i].scalar))
            return dkg.seal(share(j, polynomial.value(at: UInt32(j + 1))).bytes, key: key,
                            associatedData: dkg.associatedData(dealer: UInt32(i), recipient: UInt32(j), commitments: digest))
        }
        return resigned(CeremonyDeal(session: dkg.session, dealer: UInt32(i), commitments: commitments, shares: shares))
    }
}

/// How a Byzantine dealer misbehaves.
enum DealerStrategy: CaseIterable {
    case badShareToOne, garbageCiphertext, mismatchedCommitment, silent, equivocate, wrongCommitmentCount,
         identityCommitment, topBitCommitment
}

/// How a Byzantine validator answers the deals.
enum ResponderStrategy: CaseIterable { case honest, silent, falseComplaint, forgedComplaint }

@Suite("Distributed key generation (genesis ceremony)")
struct DistributedKeyGenerationTests {
    @Test("honest ceremonies: one outcome in any order, every share matches, the coin verifies and combines", arguments: [4, 7, 10])
    func honestCeremony(n: Int) throws {
        let c = try Ceremony(n: n)
        let deals = try (0 ..< n).map { try c.deal($0) }
        let responses = try (0 ..< n).map { try c.respond($0, deals) }
        #expect(responses.allSatisfy { $0.complaints.isEmpty })
        let outcome = try c.dkg.finish(deals: deals, responses: responses)
        #expect(outcome.qualified == (0 ..< UInt32(n)).map { $0 })
        #expect(outcome.faults.isEmpty && outcome.silentResponders.isEmpty && outcome.ignored.isEmpty)
        var rng = SeededGenerator(seed: UInt64(n))
        let shuffled = try c.dkg.finish(deals: deals.shuffled(using: &rng), responses: responses.shuffled(using: &rng))
        #expect(shuffled.commitments == outcome.commitments && shuffled.publicShares == outcome.publicShares)
        #expect(shuffled.transcript == outcome.transcript)
        let shares = try (0 ..< n).map { try c.dkg.secretShare(for: $0, deals: deals, outcome: outcome, secret: c.secrets[$0]) }
        try checkCoin(shares: shares, outcome: outcome, f: c.f)
    }

    /// The coin built from the ceremony's outcome goes through the same checks as a dealt one; any
    /// f+1 shares give one value, and f+1 secret shares interpolate to the group key's secret.
    func checkCoin(shares: [CoinSecretShare], outcome: CeremonyOutcome, f: Int) throws {
        let coin = try ThresholdCoin(chainID: "dkg-test", threshold: f + 1, publicShares: outcome.publicShares, commitments: outcome.commitments)
        let coinShares = try shares.map { try coin.makeShare(wave: 3, secret: $0) }
        for share in coinShares { try coin.verify(share, wave: 3) }
        let first = try coin.combine(Array(coinShares.prefix(f + 1)), wave: 3)
        let last = try coin.combine(Array(coinShares.suffix(f + 1)), wave: 3)
        #expect(first == last)
        // Lagrange at 0 over the first f+1 secret shares: x·G must be the group key A_0.
        let secret = try interpolateAtZero(Array(shares.prefix(f + 1)))
        #expect(try GroupElement.base(secret).curvePoint == outcome.commitments[0])
        // f shares alone do not determine it: interpolating f of them at 0 gives another value.
        if f >= 2 { #expect(try interpolateAtZero(Array(shares.prefix(f))) != secret) }
    }

    /// Σ λ_i·x_i with λ_i = Π_{j≠i} j / (j − i): the polynomial through these shares, at 0.
    func interpolateAtZero(_ shares: [CoinSecretShare]) throws -> Scalar {
        var sum = Scalar(0)
        for share in shares {
            var lambda = Scalar(1)
            for other in shares where other.index != share.index {
                lambda = lambda * Scalar(UInt64(other.index)) * (try (Scalar(UInt64(other.index)) - Scalar(UInt64(share.index))).inverse())
            }
            sum = sum + lambda * share.scalar
        }
        return sum
    }

    @Test("f Byzantine dealers, random strategies and delivery orders: all of them and none of the honest are disqualified", arguments: 0 ..< 12)
    func byzantineDealers(seed: UInt64) throws {
        var rng = SeededGenerator(seed: 0xD6_0000 + seed)
        let n = [4, 7, 10][Int(seed % 3)]
        let c = try Ceremony(n: n)
        let byzantine = Array((0 ..< n).shuffled(using: &rng).prefix(c.f)).sorted()
        let honest = (0 ..< n).filter { !byzantine.contains($0) }
        var strategies: [Int: DealerStrategy] = [:]
        var deals: [CeremonyDeal] = []
        for i in 0 ..< n {
            let deal = try c.deal(i)
            guard byzantine.contains(i) else { deals.append(deal); continue }
            // Every strategy comes up across the seeds (12 seeds × f ≥ 1 Byzantine dealers).
            let strategy = DealerStrategy.allCases[(Int(seed) + strategies.count * 5) % DealerStrategy.allCases.count]
            strategies[i] = strategy
            let victim = honest.randomElement(using: &rng)!
            switch strategy {
            case .badShareToOne:
                deals.append(try c.crafted(i, share: { $0 == victim ? Scalar.random() : $1 }))
            case .garbageCiphertext:
                var copy = deal
                copy.shares[victim] = SealedShare(uncheckedBytes: rng.bytes(SealedShare.byteCount))
                deals.append(c.resigned(copy))
            case .mismatchedCommitment:
                deals.append(try c.crafted(i, commitments: { $0[c.f] = try GroupElement.base(Scalar.random()).curvePoint }))
            case .silent:
                break
            case .equivocate:
                deals.append(deal)
                deals.append(try c.deal(i))
            case .wrongCommitmentCount:
                deals.append(try c.crafted(i, commitments: { $0.removeLast() }))
            case .identityCommitment:
                deals.append(try c.crafted(i, commitments: { $0[0] = CurvePoint(uncheckedBytes: [UInt8](repeating: 0, count: 32)) }))
            case .topBitCommitment:
                // The same point to libsodium 1.0.18, a second encoding to us: every share checks.
                deals.append(try c.crafted(i, commitments: {
                    var bytes = $0[0].bytes
                    bytes[31] |= 0x80
                    $0[0] = CurvePoint(uncheckedBytes: bytes)
                }))
            }
        }
        var responses = try honest.map { try c.respond($0, deals) }
        for j in byzantine {
            switch ResponderStrategy.allCases[(Int(seed) + j) % ResponderStrategy.allCases.count] {
            case .honest: responses.append(try c.respond(j, deals))
            case .silent: break
            case let strategy:
                // Accuse an honest dealer: with the true key and a valid proof (the share opens and
                // checks), or with a made-up key (the proof fails).
                let target = UInt32(honest.randomElement(using: &rng)!)
                let base = c.dkg.ceremonyKeys[Int(target)]
                let key = strategy == .falseComplaint ? try base.times(c.secrets[j].scalar) : try GroupElement.base(Scalar.random())
                let proof = try ChaumPedersen.prove(secret: c.secrets[j].scalar, base: base, nonceTag: DomainTag.ceremonyShare.rawValue) {
                    c.dkg.complaintChallenge(dealer: target, responder: UInt32(j), sharedPoint: key, a: $0, b: $1)
                }
                var response = try c.respond(j, deals)
                response.complaints.append(CeremonyComplaint(dealer: target, sharedKey: key.curvePoint, challenge: ScalarBytes(uncheckedBytes: proof.challenge.bytes),
                                                             response: ScalarBytes(uncheckedBytes: proof.response.bytes)))
                response.signature = c.keys[j].sign(response.signedBytes)
                responses.append(response)
            }
        }
        let outcome = try c.dkg.finish(deals: deals.shuffled(using: &rng), responses: responses.shuffled(using: &rng))
        for i in byzantine {
            #expect(outcome.faults[UInt32(i)] != nil, "seed \(seed): Byzantine dealer \(i) (\(strategies[i]!)) qualified")
        }
        for i in honest { #expect(outcome.faults[UInt32(i)] == nil, "seed \(seed): honest dealer \(i) disqualified: \(outcome.faults[UInt32(i)]!)") }
        #expect(outcome.qualified == honest.map(UInt32.init))
        let again = try c.dkg.finish(deals: deals.reversed(), responses: responses.reversed())
        #expect(again.commitments == outcome.commitments && again.transcript == outcome.transcript)
        let shares = try honest.map { try c.dkg.secretShare(for: $0, deals: deals, outcome: outcome, secret: c.secrets[$0]) }
        let coin = try ThresholdCoin(chainID: "dkg-test", threshold: c.f + 1, publicShares: outcome.publicShares, commitments: outcome.commitments)
        let coinShares = try shares.map { try coin.makeShare(wave: 9, secret: $0) }
        #expect(try coin.combine(Array(coinShares.prefix(c.f + 1)), wave: 9) == coin.combine(Array(coinShares.suffix(c.f + 1)), wave: 9))
    }

    @Test("a complaint is judged on its own: a true one reveals one bad share, tampered keys or proofs are rejected")
    func complaints() throws {
        let c = try Ceremony(n: 4)
        var deals = try (0 ..< 4).map { try c.deal($0) }
        deals[1] = try c.crafted(1, share: { $0 == 2 ? Scalar(12345) : $1 })
        let (response, bad) = try c.dkg.respond(as: 2, deals: deals, secret: c.secrets[2], signingKey: c.keys[2])
        #expect(bad.keys.sorted() == [1] && response.complaints.count == 1)
        let complaint = response.complaints[0]
        let sorted = c.dkg.sortDeals(deals)
        #expect(c.dkg.judge(complaint, by: 2, deal: deals[1], commitments: sorted.usable[1]!.commitments) != nil)
        // The same complaint credited to another validator, a different key, a flipped proof.
        #expect(c.dkg.judge(complaint, by: 3, deal: deals[1], commitments: sorted.usable[1]!.commitments) == nil)
        var otherKey = complaint
        otherKey.sharedKey = try GroupElement.base(Scalar.random()).curvePoint
        #expect(c.dkg.judge(otherKey, by: 2, deal: deals[1], commitments: sorted.usable[1]!.commitments) == nil)
        var flipped = complaint
        var z = flipped.response.bytes
        z[0] ^= 1
        flipped.response = ScalarBytes(uncheckedBytes: z)
        #expect(c.dkg.judge(flipped, by: 2, deal: deals[1], commitments: sorted.usable[1]!.commitments) == nil)
        // Against a good share the true key opens it and it checks: rejected.
        let good = try c.respond(3, deals)
        #expect(good.complaints.isEmpty)
        let responses = try [0, 1, 3].map { try c.respond($0, deals) } + [response]
        let outcome = try c.dkg.finish(deals: deals, responses: responses)
        #expect(outcome.faults[1] == .badShare(recipient: 2, reason: "the share does not lie on the committed polynomial"))
        #expect(outcome.qualified == [0, 2, 3])
    }

    @Test("what finish refuses or ignores: stale responses, forged and foreign files, too few dealers")
    func refusals() throws {
        let c = try Ceremony(n: 4)
        let deals = try (0 ..< 4).map { try c.deal($0) }
        // A response made before dealer 3's deal arrived could hide a complaint about it: reported
        // as stale (not refused, so one signed response cannot block the ceremony), and its author
        // cannot install a coin share from this outcome.
        let stale = try c.respond(0, Array(deals.prefix(3)))
        let withStale = try c.dkg.finish(deals: deals, responses: [stale] + (1 ..< 4).map { try c.respond($0, deals) })
        #expect(withStale.staleResponders == [0] && withStale.silentResponders.isEmpty && withStale.qualified == [0, 1, 2, 3])
        // A deal naming dealer 1 signed by dealer 0, and one from another ceremony: ignored, and
        // dealer 1's real deal still counts.
        var forged = try c.deal(1)
        forged.signature = c.keys[0].sign(forged.signedBytes)
        let other = try Ceremony(n: 4, chain: "other")
        let foreign = try other.deal(2)
        let withJunk = deals + [forged, foreign]
        let responses = try (0 ..< 4).map { try c.respond($0, withJunk) }
        let outcome = try c.dkg.finish(deals: withJunk, responses: responses)
        #expect(outcome.qualified == [0, 1, 2, 3] && outcome.ignored.count == 2)
        // n = 4 needs f+1 = 2 dealers.
        #expect(throws: CeremonyError.self) { try c.dkg.finish(deals: [deals[0]], responses: []) }
        // Joins must be signed by the key they name and distinct.
        var badJoin = c.joins
        badJoin[2].name = "renamed"
        #expect(throws: CeremonyError.self) { try DistributedKeyGeneration(session: c.dkg.session, joins: badJoin) }
        #expect(throws: CeremonyError.self) { try DistributedKeyGeneration(session: c.dkg.session, joins: c.joins + [c.joins[0], c.joins[1], c.joins[2]]) }
        // A validator that did not complain about its bad share cannot install a wrong coin share.
        var bad = deals
        bad[3] = try c.crafted(3, share: { $0 == 1 ? Scalar(99) : $1 })
        let silent = try c.dkg.finish(deals: bad, responses: try [0, 2, 3].map { try c.respond($0, bad) })
        #expect(silent.silentResponders == [1] && silent.qualified == [0, 1, 2, 3])
        #expect(throws: CeremonyError.self) { try c.dkg.secretShare(for: 1, deals: bad, outcome: silent, secret: c.secrets[1]) }
        _ = try c.dkg.secretShare(for: 0, deals: bad, outcome: silent, secret: c.secrets[0])
        // The wrong home's key is refused before anything is dealt.
        #expect(throws: CeremonyError.self) { try c.dkg.deal(as: 0, secret: c.secrets[1], signingKey: c.keys[0]) }
    }

    @Test("a ceremony key must come with a proof of its secret: a multiple of another validator's key is refused")
    func ceremonyKeyProof() throws {
        let c = try Ceremony(n: 4)
        // Validator 3 joins with E_3 = 5·E_1 (it does not know e_1, so not 5·e_1): complaints
        // against it would hand out keys that open validator 1's shares.
        var joins = c.joins
        let stolen = try c.dkg.ceremonyKeys[1].times(Scalar(5))
        joins[3].ceremonyKey = stolen.curvePoint
        joins[3].proveCeremonyKey(c.secrets[3])  // the best it can do: a proof for a key it knows
        joins[3].signature = c.keys[3].sign(joins[3].signedBytes)
        #expect(!joins[3].ceremonyKeyProven)
        #expect(throws: CeremonyError.self) { try DistributedKeyGeneration(session: c.dkg.session, joins: joins) }
        // A proof is bound to its join: lifted into another validator's join it fails.
        var lifted = c.joins[2]
        lifted.keyProofChallenge = c.joins[1].keyProofChallenge
        lifted.keyProofResponse = c.joins[1].keyProofResponse
        #expect(c.joins.allSatisfy(\.ceremonyKeyProven) && !lifted.ceremonyKeyProven)
    }

    @Test("complaint proofs in two sessions with one ceremony key do not reveal it")
    func complaintNonceDependsOnSession() throws {
        // The same operators (same validator and ceremony keys) in two ceremonies, e.g. after the
        // draft changed; dealer 1 sends validator 2 a bad share in both.
        let first = try Ceremony(n: 4, chain: "session-one")
        let second = try Ceremony(n: 4, chain: "session-two", keys: first.keys, secrets: first.secrets)
        var proofs: [CeremonyComplaint] = []
        for c in [first, second] {
            var deals = try (0 ..< 4).map { try c.deal($0) }
            deals[1] = try c.crafted(1, share: { $0 == 2 ? Scalar(7) : $1 })
            let complaint = try #require(try c.dkg.respond(as: 2, deals: deals, secret: c.secrets[2], signingKey: c.keys[2]).response.complaints.first)
            proofs.append(complaint)
        }
        // With one nonce under two challenges, e = (z1 − z2) / (c1 − c2).
        let c1 = try Scalar(canonical: proofs[0].challenge.bytes), c2 = try Scalar(canonical: proofs[1].challenge.bytes)
        let z1 = try Scalar(canonical: proofs[0].response.bytes), z2 = try Scalar(canonical: proofs[1].response.bytes)
        let extracted = (z1 - z2) * (try (c1 - c2).inverse())
        #expect(try GroupElement.base(extracted).curvePoint != first.secrets[2].publicKey)
    }

    @Test("ceremony decoders: random and mutated bytes never trap, and what decodes re-encodes to the same bytes")
    func decoderFuzz() throws {
        let c = try Ceremony(n: 4)
        let deals = try (0 ..< 4).map { try c.deal($0) }
        var withComplaint = deals
        withComplaint[0] = try c.crafted(0, share: { $0 == 1 ? Scalar(5) : $1 })
        let samples: [[UInt8]] = [c.joins[0].canonicalBytes, deals[1].canonicalBytes, try c.respond(1, withComplaint).canonicalBytes]
        var rng = SeededGenerator(seed: 0xF022)
        var decoded = 0
        for round in 0 ..< 3000 {
            let base = samples[round % 3]
            var bytes: [UInt8]
            switch round % 4 {
            case 0: bytes = rng.bytes(Int.random(in: 0 ... 300, using: &rng))
            case 1: bytes = Array(base.prefix(Int.random(in: 0 ... base.count, using: &rng)))
            default:
                bytes = base
                for _ in 0 ..< Int.random(in: 1 ... 4, using: &rng) { bytes[Int.random(in: 0 ..< bytes.count, using: &rng)] = UInt8.random(in: 0 ... 255, using: &rng) }
            }
            if let join = try? CeremonyJoin(canonicalBytes: bytes) { #expect(join.canonicalBytes == bytes); decoded += 1 }
            if let deal = try? CeremonyDeal(canonicalBytes: bytes) {
                #expect(deal.canonicalBytes == bytes)
                decoded += 1
                // A mutated deal is never signed by the dealer it names: ignored, nobody faulted.
                if deal != deals[Int(deal.dealer % 4)] {
                    let outcome = try c.dkg.finish(deals: deals + [deal], responses: [])
                    #expect(outcome.qualified == [0, 1, 2, 3])
                }
            }
            if let response = try? CeremonyResponse(canonicalBytes: bytes) { #expect(response.canonicalBytes == bytes); decoded += 1 }
        }
        #expect(decoded > 100)
    }
}
