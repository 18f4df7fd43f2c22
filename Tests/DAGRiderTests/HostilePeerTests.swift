import CairnCore
import CairnCrypto
import ConsensusSimulator
import DAGRider
import Testing

/// What one Byzantine validator can make an honest core hold (DECISIONS D39).
@Suite("Hostile peers: buffers, edges, fetch floods")
struct HostilePeerTests {
    static func digest(_ i: Int, salt: UInt8 = 0) -> Digest {
        var bytes = [UInt8](repeating: salt, count: 32)
        withUnsafeBytes(of: UInt64(i).bigEndian) { bytes.replaceSubrange(24 ..< 32, with: $0) }
        bytes[0] = 0xee
        return Digest(uncheckedBytes: bytes)
    }

    static func certificate(_ f: Fixture, _ vertex: Vertex) -> Certificate {
        let signed = f.signed(vertex)
        let votes = (0 ..< f.committee.quorum).map { CertificateVote(voter: UInt32($0), signature: f.vote(signed, by: $0).signature) }
        return Certificate(signedVertex: signed, votes: votes)
    }

    @Test("20,000 proposals from one author (several per slot, maximum weak edges, old and far rounds) stay within the per-author bound; an honest certificate with a missing parent is still buffered and later inserted")
    func proposalFlood() throws {
        let f = Fixture()
        var core = f.core(0, futureRoundWindow: 100)
        let verifier = f.verifier(0)
        _ = core.onStart(nowMs: 0)
        let byzantine = 3
        var refusals: [RejectReason: Int] = [:]
        for i in 0 ..< 20_000 {
            // Rounds 1…300: past the far-future window as well as inside it; up to 70 edges over
            // the weak-edge cap for some; strong edges nobody has, so everything waits on parents.
            let round = UInt64(1 + i % 300)
            let weakCount = i % 7 == 0 ? f.committee.maxWeakEdges + 1 : f.committee.maxWeakEdges
            let strong = (0 ..< 3).map { Self.digest(i * 3 + $0, salt: 1) }
            let weak = round <= 2 ? [] : (0 ..< weakCount).map { Self.digest(i * 100 + $0, salt: 2) }
            let vertex = Vertex(round: round, author: UInt32(byzantine), strongEdges: round == 1 ? [] : strong, weakEdges: weak,
                                payload: [[UInt8(i & 0xff), UInt8(i >> 8 & 0xff)]], coinShare: nil)
            let signed = f.signed(vertex)
            switch verifier.verify(.proposal(signed), from: byzantine) {
            case let .failure(reason):
                refusals[reason, default: 0] += 1
            case let .success(message):
                for case let .rejected(reason, _) in core.onMessage(message, from: byzantine, nowMs: UInt64(i / 100)) {
                    refusals[reason, default: 0] += 1
                }
            }
            #expect(core.bufferedProposalCount <= core.settings.maxBufferedProposalsPerAuthor)
        }
        #expect(core.bufferedProposalCount <= core.settings.maxBufferedProposalsPerAuthor)
        // Bounded parents-waited-on: each buffered proposal waits on at most 3 + maxWeakEdges.
        #expect(core.waiterCount <= core.settings.maxBufferedProposalsPerAuthor * (3 + f.committee.maxWeakEdges))
        #expect(refusals[.tooManyWeakEdges, default: 0] > 0)
        #expect(refusals[.equivocation, default: 0] > 0)
        #expect(refusals[.farFutureRound, default: 0] > 0)

        // An honest certificate of round 2 whose round-1 parents this core lacks: still buffered.
        let round1 = (0 ..< 3).map { Self.certificate(f, Vertex(round: 1, author: UInt32($0), strongEdges: [], weakEdges: [], payload: [], coinShare: nil)) }
        let parents = round1.map { SigningMessages.vertexDigest($0.vertex) }
        let honest = Self.certificate(f, Vertex(round: 2, author: 1, strongEdges: parents, weakEdges: [], payload: [[7]], coinShare: nil))
        let out = core.onMessage(try f.verified(.certificate(honest), from: 1), from: 1, nowMs: 500)
        #expect(!out.contains { if case .rejected = $0 { return true } else { return false } }, "\(out)")
        #expect(core.bufferedCertificateCount == 1)
        #expect(out.contains(.send(to: 1, .fetchCertificates(parents))))
        // The parents arrive: the certificate enters the DAG.
        let before = core.dagSize
        _ = core.onMessage(try f.verified(.certificates(round1), from: 1), from: 1, nowMs: 501)
        #expect(core.dagSize == before + 4)
        #expect(core.bufferedCertificateCount == 0)
    }

    @Test("a second buffered certificate for a slot is refused; each author's certificates have their own budget")
    func certificateBudgets() throws {
        let f = Fixture()
        var settings = f.settings(0, futureRoundWindow: 100)
        settings.maxBufferedCertificatesPerAuthor = 10
        var core = DAGRiderCore(settings: settings, signer: f.signer(0), coin: f.coin(0))
        _ = core.onStart(nowMs: 0)
        let missing = (0 ..< 3).map { Self.digest($0, salt: 9) }
        func orphan(author: Int, round: UInt64, payload: UInt8) throws -> VerifiedMessage {
            try f.verified(.certificate(Self.certificate(f, Vertex(round: round, author: UInt32(author), strongEdges: missing, weakEdges: [],
                                                                  payload: [[payload]], coinShare: nil))), from: 2)
        }
        var refused: [RejectReason] = []
        // Rounds 4w+1 would need coin shares; the budget is what is under test.
        for round in (2 ... 40 as ClosedRange<UInt64>).filter({ ($0 - 1) % 4 != 0 }).prefix(29) {
            for case let .rejected(reason, _) in core.onMessage(try orphan(author: 3, round: round, payload: 0), from: 2, nowMs: 1) { refused.append(reason) }
        }
        #expect(core.bufferedCertificateCount == 10)
        #expect(refused.allSatisfy { $0 == .authorBufferFull } && refused.count == 19)
        // Author 1's certificates are unaffected by author 3's.
        _ = core.onMessage(try orphan(author: 1, round: 6, payload: 0), from: 2, nowMs: 2)
        #expect(core.bufferedCertificateCount == 11)
        // A different certificate for a slot already buffered (needs f+1 double voters).
        let twin = core.onMessage(try orphan(author: 1, round: 6, payload: 1), from: 2, nowMs: 3)
        #expect(twin == [.rejected(.conflictingCertificate, from: 2)])
    }

    @Test("fetch requests beyond the per-peer budget are refused; answers are split below the byte limit")
    func fetchFlood() throws {
        let f = Fixture()
        var settings = f.settings(0)
        settings.maxFetchAnswerBytes = 2_000
        var core = DAGRiderCore(settings: settings, signer: f.signer(0), coin: f.coin(0))
        _ = core.onStart(nowMs: 0)
        // Round-1 certificates with ~600-byte payloads in the DAG.
        let round1 = (0 ..< 4).map { Self.certificate(f, Vertex(round: 1, author: UInt32($0), strongEdges: [], weakEdges: [],
                                                                   payload: [[UInt8](repeating: UInt8($0), count: 600)], coinShare: nil)) }
        _ = core.onMessage(try f.verified(.certificates(round1), from: 1), from: 1, nowMs: 1)
        let digests = round1.map { SigningMessages.vertexDigest($0.vertex) }
        let answer = core.onMessage(try f.verified(.fetchCertificates(digests), from: 2), from: 2, nowMs: 2)
        let sent = answer.compactMap { if case let .send(2, .certificates(c)) = $0 { return c } else { return nil } }
        #expect(sent.count >= 2, "answers: \(sent.map(\.count))")
        #expect(sent.flatMap { $0 } .count == 4)
        #expect(sent.allSatisfy { ConsensusMessage.certificates($0).canonicalBytes.count <= 2_000 + 64 })
        // A flood: 1,000 requests within one second from one peer; only the budget is served.
        var served = 0, refused = 0
        for i in 0 ..< 1_000 {
            for directive in core.onMessage(.fetchRounds(from: 1, to: 1), from: 3, nowMs: 10 + UInt64(i) / 2) {
                if case .send(3, .certificates) = directive { served += 1 }
                if case .rejected(.fetchFlood, 3) = directive { refused += 1 }
            }
        }
        #expect(refused > 0)
        // Each admitted request may take several answers; count admitted requests instead.
        #expect(refused >= 1_000 - 2 * settings.maxFetchesServedPerPeerPerSecond)
        // Another peer still gets served.
        #expect(core.onMessage(.fetchRounds(from: 1, to: 1), from: 1, nowMs: 20).contains { if case .send(1, .certificates) = $0 { return true } else { return false } })
    }

    @Test("below-floor parents keep their round and author: a vertex whose strong edge points to a below-floor vertex of the wrong round is refused, as a validator still holding that parent refuses it")
    func belowFloorEdgesChecked() throws {
        let f = Fixture()
        // A restored core whose GC floor is 100: rounds 100…105 in its DAG.
        var certificates: [Certificate] = []
        var previous = (0 ..< 4).map { Self.digest($0, salt: 7) }
        for round in 100 ... 105 as ClosedRange<UInt64> {
            var current: [Digest] = []
            for author in 0 ..< 4 {
                let c = Self.certificate(f, Vertex(round: round, author: UInt32(author), strongEdges: Array(previous.prefix(4)), weakEdges: [], payload: [], coinShare: round % 4 == 1 ? nil : nil))
                certificates.append(c)
                current.append(SigningMessages.vertexDigest(c.vertex))
            }
            previous = current
        }
        // (rounds ≡ 1 mod 4 need coin shares from the verifier, but restore trusts storage.)
        var snapshot = ConsensusSnapshot()
        snapshot.certificates = certificates
        snapshot.lastCommittedRound = 150
        snapshot.lastProposedRound = 105
        var core = DAGRiderCore.restore(settings: f.settings(0), signer: f.signer(0), coin: f.coin(0), from: snapshot)
        #expect(core.gcFloor == 100)
        _ = core.onStart(nowMs: 0)
        // A proposal below the floor is refused before anything is buffered.
        let old = f.signed(Vertex(round: 99, author: 3, strongEdges: (0 ..< 3).map { Self.digest($0, salt: 5) }, weakEdges: [], payload: [], coinShare: nil))
        #expect(core.onMessage(try f.verified(.proposal(old), from: 3), from: 3, nowMs: 0) == [.rejected(.belowGarbageCollection, from: 3)])
        #expect(core.bufferedProposalCount == 0)
        // X: a certified vertex of round 90 (below the floor). A Byzantine proposal of round 101
        // names X as a strong edge (strong edges must be of round 100).
        let x = Self.certificate(f, Vertex(round: 90, author: 2, strongEdges: (0 ..< 3).map { Self.digest($0, salt: 8) }, weakEdges: [], payload: [], coinShare: nil))
        let xDigest = SigningMessages.vertexDigest(x.vertex)
        let round100 = certificates.filter { $0.vertex.round == 100 }.map { SigningMessages.vertexDigest($0.vertex) }
        let hostile = f.signed(Vertex(round: 102, author: 3, strongEdges: [certificates.first { $0.vertex.round == 101 && $0.vertex.author == 0 }!, certificates.first { $0.vertex.round == 101 && $0.vertex.author == 1 }!].map { SigningMessages.vertexDigest($0.vertex) } + [xDigest],
                                      weakEdges: [], payload: [], coinShare: nil))
        _ = round100
        let asked = core.onMessage(try f.verified(.proposal(hostile), from: 3), from: 3, nowMs: 1)
        #expect(asked.contains(.send(to: 3, .fetchCertificates([xDigest]))))
        // X arrives (it is certified, just old): the proposal is judged against X's real round.
        let judged = core.onMessage(try f.verified(.certificates([x]), from: 3), from: 3, nowMs: 2)
        #expect(judged.contains(.rejected(.malformedVertex, from: 3)), "\(judged)")
        #expect(!judged.contains { if case .persistVote = $0 { return true } else { return false } })
    }

    @Test("a restored validator whose own proposals all lie below the floor never proposes at or below its last round again")
    func restoreBelowFloorProposals() throws {
        let f = Fixture()
        var certificates: [Certificate] = []
        var previous: [Digest] = []
        for round in 1 ... 12 as ClosedRange<UInt64> {
            var current: [Digest] = []
            for author in 0 ..< 4 {
                let c = Self.certificate(f, Vertex(round: round, author: UInt32(author), strongEdges: previous, weakEdges: [], payload: [], coinShare: nil))
                certificates.append(c)
                current.append(SigningMessages.vertexDigest(c.vertex))
            }
            previous = current
        }
        var snapshot = ConsensusSnapshot()
        snapshot.certificates = certificates.filter { $0.vertex.round >= 6 }
        snapshot.lastCommittedRound = 56  // floor 6 with gcDepth 50
        snapshot.lastProposedRound = 5    // every own proposal is below the floor
        var core = DAGRiderCore.restore(settings: f.settings(0), signer: f.signer(0), coin: f.coin(0), from: snapshot)
        #expect(core.round == 5)
        let out = core.onStart(nowMs: 0)
        let rounds = proposals(in: out).map(\.vertex.round)
        #expect(rounds.allSatisfy { $0 > 5 }, "proposed \(rounds)")
        #expect(rounds == [13])
    }
}
