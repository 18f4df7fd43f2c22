import CSodium
import CairnCore

/// A ceremony participant's ristretto255 secret e (`keys/ceremony.key`); its public half E = e·G
/// is in the operator's signed join file, and dealers seal its coin shares to it (D63).
public struct CeremonySecret: Sendable {
    let scalar: Scalar

    public static func generate() -> CeremonySecret {
        while true {
            let candidate = Scalar.random()
            if !candidate.isZero { return CeremonySecret(scalar: candidate) }
        }
    }

    public init(secret: [UInt8]) throws {
        scalar = try Scalar(canonical: secret)
        guard !scalar.isZero else { throw CoinError.invalidScalar("a zero ceremony key has no public half") }
    }

    private init(scalar: Scalar) { self.scalar = scalar }

    public var secretBytes: [UInt8] { scalar.bytes }
    // Non-zero canonical scalars never give the identity.
    public var publicKey: CurvePoint { try! GroupElement.base(scalar).curvePoint }
}

extension CeremonyJoin {
    /// Proof that whoever signs this join knows the ceremony key's secret e (E = e·G): a
    /// Chaum–Pedersen proof with G for both bases — a Schnorr proof — whose challenge binds the
    /// chain, the validator key and E, so it cannot be lifted into another join.
    public mutating func proveCeremonyKey(_ secret: CeremonySecret) {
        let g = try! GroupElement.base(Scalar(1))  // the generator is never the identity
        let key = try! GroupElement.base(secret.scalar)
        let proof = try! ChaumPedersen.prove(secret: secret.scalar, base: g, nonceTag: DomainTag.ceremonyJoin.rawValue,
                                             context: keyProofContext) { keyProofChallenge(key, $0, $1) }
        keyProofChallenge = ScalarBytes(uncheckedBytes: proof.challenge.bytes)
        keyProofResponse = ScalarBytes(uncheckedBytes: proof.response.bytes)
    }

    /// Whether the proof of the ceremony key holds.
    public var ceremonyKeyProven: Bool {
        guard let key = try? GroupElement(ceremonyKey, what: "ceremony key"),
              let c = try? Scalar(canonical: keyProofChallenge.bytes), let z = try? Scalar(canonical: keyProofResponse.bytes),
              let g = try? GroupElement.base(Scalar(1)) else { return false }
        return ChaumPedersen(challenge: c, response: z).verifies(publicKey: key, base: g, image: key) { keyProofChallenge(key, $0, $1) }
    }

    private var keyProofContext: [UInt8] {
        var writer = CanonicalWriter()
        writer.writeFixed(Array("ceremony-key".utf8))
        writer.write(chainID)
        writer.write(publicKey)
        writer.write(ceremonyKey)
        return writer.bytes
    }

    private func keyProofChallenge(_ key: GroupElement, _ a: GroupElement, _ b: GroupElement) -> Scalar {
        Scalar(reducing: sha512([DomainTag.ceremonyJoin.rawValue], keyProofContext, key.bytes, a.bytes, b.bytes))
    }
}

public struct CeremonyError: Error, Hashable, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Why a dealer is left out of the coin key.
public enum DealerFault: Hashable, Sendable, CustomStringConvertible {
    /// No deal in the transcript.
    case silent
    /// Two different signed deals: recipients may have been shown different polynomials.
    case equivocated
    /// A signed deal that no recipient can use (counts, points).
    case malformed(String)
    /// A recipient proved (publicly, with the share's key) that its share is bad.
    case badShare(recipient: UInt32, reason: String)

    public var description: String {
        switch self {
        case .silent: return "sent no deal"
        case .equivocated: return "signed two different deals"
        case let .malformed(reason): return "malformed deal: \(reason)"
        case let .badShare(recipient, reason): return "validator \(recipient) proved its share bad (\(reason))"
        }
    }
}

/// What the transcript decides: who qualified, the coin key's public part (the sums of the
/// qualified dealers' commitments and every validator's public share), and everything that was
/// refused or ignored, for the operators to read.
public struct CeremonyOutcome: Sendable {
    public var qualified: [UInt32]
    public var faults: [UInt32: DealerFault]
    /// (responder, dealer) of complaints that did not hold: the share was good or the proof wrong.
    public var falseComplaints: [(responder: UInt32, dealer: UInt32)]
    /// Validators whose response is missing: a bad share to them went unreported.
    public var silentResponders: [UInt32]
    /// Validators whose response checked another set of deals: its complaints still count (each
    /// proves itself), but a bad share in a deal it did not see went unreported.
    public var staleResponders: [UInt32]
    /// Files that were not part of this ceremony or not signed by whom they name.
    public var ignored: [String]
    /// A_0…A_f: the coin commitments genesis publishes (A_0 is the group key).
    public var commitments: [CurvePoint]
    /// VK_j = Σ_k A_k·(j+1)^k for every validator.
    public var publicShares: [CurvePoint]
    /// Digest of the deals and responses the outcome was computed from.
    public var transcript: Digest
}

/// Joint-Feldman distributed key generation for the threshold coin (Pedersen's DKG as in Gennaro
/// et al., with ETHDKG-style publicly verifiable complaints; D63). Every validator deals a random
/// degree-f polynomial, sealing its value at each validator's index to that validator's ceremony
/// key; a recipient whose share fails the Feldman check publishes the share's Diffie–Hellman key
/// with a Chaum–Pedersen proof, so anyone can open that one share and judge. The qualified dealers'
/// polynomials sum to the coin's: nobody ever knows the whole secret, and any f+1 validators'
/// coin shares combine exactly as with a dealt coin.
///
/// Pure: no I/O, no clock. The same deals and responses give the same outcome, in any order.
public struct DistributedKeyGeneration: Sendable {
    public let session: Digest
    public let validatorKeys: [PublicKey]
    let ceremonyKeys: [GroupElement]

    public var count: Int { validatorKeys.count }
    public var faults: Int { (count - 1) / 3 }
    /// f+1 coefficients per polynomial: any f+1 shares combine, f reveal nothing.
    public var threshold: Int { faults + 1 }

    /// The ceremony's id: the draft genesis (everything but the coin) and the joins, in order.
    /// Every signed deal and response names it, so none serves another ceremony or draft.
    public static func sessionID(draft: Genesis, joins: [CeremonyJoin]) -> Digest {
        var writer = CanonicalWriter()
        writer.writeFixed(Array("cairn-dkg-v1".utf8))
        writer.write(draft)
        writer.write(joins)
        return Hashing.digest(.ceremonySession, writer.bytes)
    }

    /// Checks the joins (signatures, distinct keys, valid ceremony keys) and that their number is
    /// 3f+1.
    public init(session: Digest, joins: [CeremonyJoin]) throws {
        if let problem = validatorCountProblem(joins.count) { throw CeremonyError("\(joins.count) joins: \(problem)") }
        var seen = Set<PublicKey>(), seenCeremony = Set<CurvePoint>()
        var keys: [GroupElement] = []
        for (index, join) in joins.enumerated() {
            guard join.publicKey.isValidEd25519Point, join.publicKey.verify(join.signature, for: join.signedBytes) else {
                throw CeremonyError("join \(index) (\(join.name)) is not signed by the validator key it names")
            }
            guard join.ceremonyKeyProven else {
                throw CeremonyError("join \(index) (\(join.name)) does not prove knowledge of its ceremony key")
            }
            guard seen.insert(join.publicKey).inserted else { throw CeremonyError("join \(index) (\(join.name)) repeats validator key \(join.publicKey.short)…") }
            guard seenCeremony.insert(join.ceremonyKey).inserted else { throw CeremonyError("join \(index) (\(join.name)) repeats a ceremony key") }
            do {
                keys.append(try GroupElement(join.ceremonyKey, what: "ceremony key of join \(index)"))
            } catch {
                throw CeremonyError("join \(index) (\(join.name)): \(error)")
            }
        }
        self.session = session
        self.validatorKeys = joins.map(\.publicKey)
        self.ceremonyKeys = keys
    }

    // MARK: Dealing

    /// This validator's deal: a fresh random polynomial, committed and sealed to everyone.
    public func deal(as dealer: Int, secret: CeremonySecret, signingKey: SigningKey) throws -> CeremonyDeal {
        try checkOwnKeys(dealer, secret: secret, signingKey: signingKey)
        let polynomial = SecretPolynomial.random(coefficients: threshold, nonZeroAt: 1 ... UInt32(count))
        let commitments = try polynomial.commitments()
        let digest = commitmentsDigest(commitments)
        var shares: [SealedShare] = []
        for recipient in 0 ..< count {
            let key = try shareKey(dealer: UInt32(dealer), recipient: UInt32(recipient),
                                   sharedPoint: ceremonyKeys[recipient].times(secret.scalar))
            shares.append(seal(polynomial.value(at: UInt32(recipient + 1)).bytes, key: key,
                               associatedData: associatedData(dealer: UInt32(dealer), recipient: UInt32(recipient), commitments: digest)))
        }
        var deal = CeremonyDeal(session: session, dealer: UInt32(dealer), commitments: commitments, shares: shares)
        deal.signature = signingKey.sign(deal.signedBytes)
        return deal
    }

    private func checkOwnKeys(_ index: Int, secret: CeremonySecret, signingKey: SigningKey) throws {
        guard (0 ..< count).contains(index) else { throw CeremonyError("validator index \(index) is outside 0…\(count - 1)") }
        guard signingKey.publicKey == validatorKeys[index] else {
            throw CeremonyError("this validator key (\(signingKey.publicKey.short)…) is not validator \(index)'s in the draft")
        }
        guard secret.publicKey == ceremonyKeys[index].curvePoint else {
            throw CeremonyError("this ceremony key is not the one validator \(index) joined with; use the home that ran `cairn genesis join`")
        }
    }

    // MARK: Reading the transcript

    /// A deal sorted into what the transcript can use.
    enum Classified {
        /// Not this ceremony's, or not signed by the validator it names: attributable to nobody.
        case ignored(String)
        case malformed(dealer: UInt32, String)
        case usable(dealer: UInt32, commitments: [GroupElement])
    }

    func classify(_ deal: CeremonyDeal) -> Classified {
        guard deal.session == session else { return .ignored("deal for another ceremony (session \(deal.session.short)…)") }
        guard Int(deal.dealer) < count else { return .ignored("deal names dealer \(deal.dealer), outside 0…\(count - 1)") }
        guard validatorKeys[Int(deal.dealer)].verify(deal.signature, for: deal.signedBytes) else {
            return .ignored("deal naming dealer \(deal.dealer) is not signed by its key")
        }
        guard deal.commitments.count == threshold else {
            return .malformed(dealer: deal.dealer, "\(deal.commitments.count) commitments, a degree-\(faults) polynomial has \(threshold)")
        }
        guard deal.shares.count == count else {
            return .malformed(dealer: deal.dealer, "\(deal.shares.count) sealed shares for \(count) validators")
        }
        do {
            let commitments = try deal.commitments.enumerated().map { try GroupElement($0.element, what: "commitment \($0.offset)") }
            return .usable(dealer: deal.dealer, commitments: commitments)
        } catch {
            return .malformed(dealer: deal.dealer, "\(error)")
        }
    }

    /// Digest of the attributable deals (signed by the dealer they name, for this ceremony), in
    /// digest order: what a response says it checked.
    public func dealSetDigest(_ deals: [CeremonyDeal]) -> Digest {
        var writer = CanonicalWriter()
        let digests = Set(deals.filter { if case .ignored = classify($0) { false } else { true } }
            .map { Hashing.digest(.ceremonyDeal, $0) }).sorted()
        writer.write(digests)
        return Hashing.digest(.ceremonyDeal, writer.bytes)
    }

    /// Per dealer, its one usable deal, or why it has none.
    func sortDeals(_ deals: [CeremonyDeal]) -> (usable: [UInt32: (deal: CeremonyDeal, commitments: [GroupElement])],
                                                 faults: [UInt32: DealerFault], ignored: [String]) {
        var byDealer: [UInt32: [CeremonyDeal]] = [:]
        var ignored: [String] = []
        for deal in deals {
            if case let .ignored(reason) = classify(deal) { ignored.append(reason); continue }
            if !(byDealer[deal.dealer]?.contains(deal) ?? false) { byDealer[deal.dealer, default: []].append(deal) }
        }
        var usable: [UInt32: (CeremonyDeal, [GroupElement])] = [:]
        var faults: [UInt32: DealerFault] = [:]
        for dealer in 0 ..< UInt32(count) {
            guard let signed = byDealer[dealer] else { faults[dealer] = .silent; continue }
            guard signed.count == 1 else { faults[dealer] = .equivocated; continue }
            switch classify(signed[0]) {
            case let .usable(_, commitments): usable[dealer] = (signed[0], commitments)
            case let .malformed(_, reason): faults[dealer] = .malformed(reason)
            case .ignored: break  // filtered above
            }
        }
        return (usable, faults, ignored)
    }

    /// Opens recipient's share of a usable deal with the share's Diffie–Hellman point and checks it
    /// against the commitments: g^s = Σ_k C_k·(recipient+1)^k. Returns the share or why it is bad.
    func openShare(_ deal: CeremonyDeal, commitments: [GroupElement], recipient: UInt32,
                   sharedPoint: GroupElement) -> Result<Scalar, CeremonyError> {
        let key: [UInt8]
        do {
            key = try shareKey(dealer: deal.dealer, recipient: recipient, sharedPoint: sharedPoint)
        } catch {
            return .failure(CeremonyError("\(error)"))
        }
        guard let plain = open(deal.shares[Int(recipient)], key: key,
                               associatedData: associatedData(dealer: deal.dealer, recipient: recipient,
                                                              commitments: commitmentsDigest(deal.commitments))) else {
            return .failure(CeremonyError("the sealed share does not authenticate"))
        }
        guard let share = try? Scalar(canonical: plain), !share.isZero else {
            return .failure(CeremonyError("the share is not a non-zero canonical scalar"))
        }
        guard let expected = try? ThresholdCoin.evaluateCommitments(commitments, at: recipient + 1),
              let actual = try? GroupElement.base(share), actual == expected else {
            return .failure(CeremonyError("the share does not lie on the committed polynomial"))
        }
        return .success(share)
    }

    // MARK: Responding

    /// Checks every share sealed to `responder` and complains, with proof, about each bad one.
    /// Also returns the dealers found bad, for the operator to read.
    public func respond(as responder: Int, deals: [CeremonyDeal], secret: CeremonySecret,
                        signingKey: SigningKey) throws -> (response: CeremonyResponse, bad: [UInt32: String]) {
        try checkOwnKeys(responder, secret: secret, signingKey: signingKey)
        let sorted = sortDeals(deals)
        var complaints: [CeremonyComplaint] = []
        var bad: [UInt32: String] = [:]
        let me = UInt32(responder)
        for dealer in sorted.usable.keys.sorted() {
            let (deal, commitments) = sorted.usable[dealer]!
            let sharedPoint = try ceremonyKeys[Int(dealer)].times(secret.scalar)
            if case let .failure(reason) = openShare(deal, commitments: commitments, recipient: me, sharedPoint: sharedPoint) {
                bad[dealer] = reason.description
                let proof = try ChaumPedersen.prove(secret: secret.scalar, base: ceremonyKeys[Int(dealer)],
                                                    nonceTag: DomainTag.ceremonyShare.rawValue,
                                                    context: complaintContext(dealer: dealer, responder: me, sharedPoint: sharedPoint)) {
                    complaintChallenge(dealer: dealer, responder: me, sharedPoint: sharedPoint, a: $0, b: $1)
                }
                complaints.append(CeremonyComplaint(dealer: dealer, sharedKey: sharedPoint.curvePoint,
                                                    challenge: ScalarBytes(uncheckedBytes: proof.challenge.bytes),
                                                    response: ScalarBytes(uncheckedBytes: proof.response.bytes)))
            }
        }
        var response = CeremonyResponse(session: session, responder: me, dealsChecked: dealSetDigest(deals), complaints: complaints)
        response.signature = signingKey.sign(response.signedBytes)
        return (response, bad)
    }

    // MARK: Finishing

    /// The outcome of a transcript: anyone can compute it, and it is the same for every order of
    /// the same files. Throws if fewer than f+1 dealers qualify. A response that checked another
    /// set of deals is reported, not refused: one signed response must not be able to block the
    /// ceremony, and its complaints prove themselves.
    public func finish(deals: [CeremonyDeal], responses: [CeremonyResponse]) throws -> CeremonyOutcome {
        let sorted = sortDeals(deals)
        let usable = sorted.usable
        var faults = sorted.faults, ignored = sorted.ignored
        let dealSet = dealSetDigest(deals)
        var complaintsBy: [UInt32: Set<CeremonyComplaint>] = [:]
        var responded = Set<UInt32>(), stale = Set<UInt32>()
        var usedResponses = Set<Digest>()
        for response in responses {
            guard response.session == session else { ignored.append("response for another ceremony (session \(response.session.short)…)"); continue }
            guard Int(response.responder) < count,
                  validatorKeys[Int(response.responder)].verify(response.signature, for: response.signedBytes) else {
                ignored.append("response naming validator \(response.responder) is not signed by its key")
                continue
            }
            if response.dealsChecked == dealSet { responded.insert(response.responder) } else { stale.insert(response.responder) }
            usedResponses.insert(Hashing.digest(.ceremonyResponse, response))
            // Two responses by one validator: every complaint is judged on its own proof, so the
            // union is as safe as either.
            complaintsBy[response.responder, default: []].formUnion(response.complaints)
        }
        var falseComplaints: [(UInt32, UInt32)] = []
        for responder in complaintsBy.keys.sorted() {
            for complaint in complaintsBy[responder]!.sorted(by: { ($0.dealer, $0.sharedKey) < ($1.dealer, $1.sharedKey) }) {
                guard let (deal, commitments) = usable[complaint.dealer], faults[complaint.dealer] == nil else { continue }
                switch judge(complaint, by: responder, deal: deal, commitments: commitments) {
                case let .some(reason): faults[complaint.dealer] = .badShare(recipient: responder, reason: reason)
                case .none: falseComplaints.append((responder, complaint.dealer))
                }
            }
        }
        let qualified = (0 ..< UInt32(count)).filter { faults[$0] == nil }
        guard qualified.count >= threshold else {
            throw CeremonyError("only \(qualified.count) dealers qualified, the coin needs at least f+1 = \(threshold): \(faults.keys.sorted().map { "validator \($0) \(faults[$0]!)" }.joined(separator: "; "))")
        }
        var sums: [GroupElement] = []
        for k in 0 ..< threshold {
            var sum = usable[qualified[0]]!.commitments[k]
            for dealer in qualified.dropFirst() { sum = try sum + usable[dealer]!.commitments[k] }
            sums.append(sum)
        }
        let publicShares = try (0 ..< UInt32(count)).map { try ThresholdCoin.evaluateCommitments(sums, at: $0 + 1).curvePoint }
        var writer = CanonicalWriter()
        writer.write(dealSet)
        writer.write(usedResponses.sorted())
        return CeremonyOutcome(
            qualified: qualified, faults: faults, falseComplaints: falseComplaints,
            silentResponders: (0 ..< UInt32(count)).filter { !responded.contains($0) && !stale.contains($0) },
            staleResponders: stale.subtracting(responded).sorted(), ignored: ignored,
            commitments: sums.map(\.curvePoint), publicShares: publicShares,
            transcript: Hashing.digest(.ceremonySession, writer.bytes))
    }

    /// Why the accused share is bad, or nil if the complaint does not hold (wrong proof, or the
    /// share opens and checks).
    func judge(_ complaint: CeremonyComplaint, by responder: UInt32, deal: CeremonyDeal, commitments: [GroupElement]) -> String? {
        guard let sharedPoint = try? GroupElement(complaint.sharedKey, what: "complaint key"),
              let c = try? Scalar(canonical: complaint.challenge.bytes),
              let z = try? Scalar(canonical: complaint.response.bytes) else { return nil }
        let proof = ChaumPedersen(challenge: c, response: z)
        guard proof.verifies(publicKey: ceremonyKeys[Int(responder)], base: ceremonyKeys[Int(complaint.dealer)], image: sharedPoint, challenge: {
            complaintChallenge(dealer: complaint.dealer, responder: responder, sharedPoint: sharedPoint, a: $0, b: $1)
        }) else { return nil }
        if case let .failure(reason) = openShare(deal, commitments: commitments, recipient: responder, sharedPoint: sharedPoint) {
            return reason.description
        }
        return nil
    }

    /// This validator's coin share x_j = Σ_{i∈QUAL} s_ij, checked against its public share.
    public func secretShare(for recipient: Int, deals: [CeremonyDeal], outcome: CeremonyOutcome,
                            secret: CeremonySecret) throws -> CoinSecretShare {
        guard (0 ..< count).contains(recipient), secret.publicKey == ceremonyKeys[recipient].curvePoint else {
            throw CeremonyError("this ceremony key is not validator \(recipient)'s; use the home that ran `cairn genesis join`")
        }
        let usable = sortDeals(deals).usable
        var sum = Scalar(0)
        for dealer in outcome.qualified {
            guard let (deal, commitments) = usable[dealer] else { throw CeremonyError("qualified dealer \(dealer) has no usable deal in these files") }
            switch openShare(deal, commitments: commitments, recipient: UInt32(recipient),
                             sharedPoint: try ceremonyKeys[Int(dealer)].times(secret.scalar)) {
            case let .success(share): sum = sum + share
            case let .failure(reason):
                throw CeremonyError("dealer \(dealer)'s share to this validator is bad (\(reason)) yet it qualified: this validator's complaint is missing from the responses, so it cannot hold a coin share of this outcome")
            }
        }
        let share = try CoinSecretShare(index: UInt32(recipient + 1), secret: sum.bytes)
        guard share.publicShare == outcome.publicShares[recipient] else {
            throw CeremonyError("the coin share computed here does not match validator \(recipient)'s public share in the outcome")
        }
        return share
    }

    // MARK: Sealing

    func commitmentsDigest(_ commitments: [CurvePoint]) -> Digest {
        var writer = CanonicalWriter()
        writer.write(commitments)
        return Hashing.digest(.ceremonyShare, writer.bytes)
    }

    func associatedData(dealer: UInt32, recipient: UInt32, commitments: Digest) -> [UInt8] {
        var writer = CanonicalWriter()
        writer.write(session)
        writer.write(dealer)
        writer.write(recipient)
        writer.write(commitments)
        return writer.bytes
    }

    /// k = SHA-256(tag ‖ "share-key" ‖ session ‖ dealer ‖ recipient ‖ K): one key per share.
    func shareKey(dealer: UInt32, recipient: UInt32, sharedPoint: GroupElement) throws -> [UInt8] {
        var writer = CanonicalWriter()
        writer.writeFixed(Array("share-key".utf8))
        writer.write(session)
        writer.write(dealer)
        writer.write(recipient)
        writer.writeFixed(sharedPoint.bytes)
        return Hashing.digest(.ceremonyShare, writer.bytes).bytes
    }

    /// What a complaint's proof binds besides its commitments: the session, both indices, both
    /// ceremony keys and the revealed point. Also hashed into the nonce (see `ChaumPedersen.prove`).
    func complaintContext(dealer: UInt32, responder: UInt32, sharedPoint: GroupElement) -> [UInt8] {
        var writer = CanonicalWriter()
        writer.write(DomainTag.ceremonyShare.rawValue)
        writer.writeFixed(Array("complaint".utf8))
        writer.write(session)
        writer.write(dealer)
        writer.write(responder)
        for element in [ceremonyKeys[Int(responder)], ceremonyKeys[Int(dealer)], sharedPoint] { writer.writeFixed(element.bytes) }
        return writer.bytes
    }

    func complaintChallenge(dealer: UInt32, responder: UInt32, sharedPoint: GroupElement,
                            a: GroupElement, b: GroupElement) -> Scalar {
        Scalar(reducing: sha512(complaintContext(dealer: dealer, responder: responder, sharedPoint: sharedPoint), a.bytes, b.bytes))
    }

    func seal(_ plaintext: [UInt8], key: [UInt8], associatedData: [UInt8]) -> SealedShare {
        let nonce = secureRandomBytes(Int(crypto_aead_xchacha20poly1305_ietf_NPUBBYTES))
        var ciphertext = [UInt8](repeating: 0, count: plaintext.count + Int(crypto_aead_xchacha20poly1305_ietf_ABYTES))
        var length: UInt64 = 0
        let rc = crypto_aead_xchacha20poly1305_ietf_encrypt(&ciphertext, &length, plaintext, UInt64(plaintext.count),
                                                            associatedData, UInt64(associatedData.count), nil, nonce, key)
        precondition(rc == 0, "crypto_aead_xchacha20poly1305_ietf_encrypt cannot fail with a valid key")
        return SealedShare(uncheckedBytes: nonce + ciphertext)
    }

    private func open(_ sealed: SealedShare, key: [UInt8], associatedData: [UInt8]) -> [UInt8]? {
        let nonceCount = Int(crypto_aead_xchacha20poly1305_ietf_NPUBBYTES)
        let nonce = Array(sealed.bytes.prefix(nonceCount)), ciphertext = Array(sealed.bytes.dropFirst(nonceCount))
        var plaintext = [UInt8](repeating: 0, count: ciphertext.count - Int(crypto_aead_xchacha20poly1305_ietf_ABYTES))
        var length: UInt64 = 0
        let rc = crypto_aead_xchacha20poly1305_ietf_decrypt(&plaintext, &length, nil, ciphertext, UInt64(ciphertext.count),
                                                            associatedData, UInt64(associatedData.count), nonce, key)
        return rc == 0 ? plaintext : nil
    }
}

/// A random polynomial over the scalars, secret to whoever drew it: the dealer's in `cairn
/// testnet`, each dealer's own in the ceremony.
struct SecretPolynomial {
    let coefficients: [Scalar]

    /// Non-zero coefficients, redrawn until the polynomial is non-zero at every index in
    /// `nonZeroAt` (a zero share is refused everywhere; the chance is ~n·2^-252).
    static func random(coefficients count: Int, nonZeroAt indices: ClosedRange<UInt32>) -> SecretPolynomial {
        while true {
            var coefficients: [Scalar] = []
            while coefficients.count < count {
                let candidate = Scalar.random()
                if !candidate.isZero { coefficients.append(candidate) }
            }
            let polynomial = SecretPolynomial(coefficients: coefficients)
            if indices.allSatisfy({ !polynomial.value(at: $0).isZero }) { return polynomial }
        }
    }

    /// Horner's rule at x = index.
    func value(at index: UInt32) -> Scalar {
        let x = Scalar(UInt64(index))
        var value = Scalar(0)
        for coefficient in coefficients.reversed() { value = value * x + coefficient }
        return value
    }

    /// Feldman commitments a_k·G.
    func commitments() throws -> [CurvePoint] {
        try coefficients.map { try GroupElement.base($0).curvePoint }
    }
}
