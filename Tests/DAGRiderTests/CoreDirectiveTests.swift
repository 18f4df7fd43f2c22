import CairnCore
import CairnCrypto
import ConsensusSimulator
import DAGRider
import Testing

/// A 4-validator committee with simulated keys, and helpers to drive cores by hand.
struct Fixture {
    let n: Int
    let committee: Committee
    let keys: KeyedHashSignatures

    /// Garbage-collection depth of every core (short in the random-order test, so its DAG is
    /// many GC depths long).
    var gcDepth: UInt64 = 50

    init(n: Int = 4, seed: UInt64 = 1, gcDepth: UInt64 = 50) {
        self.n = n
        self.gcDepth = gcDepth
        committee = Committee(size: n, chain: Hashing.digest(.genesis, [UInt8(seed)]))
        keys = KeyedHashSignatures(seed: seed, validators: n, me: 0)
    }

    func settings(_ me: Int, futureRoundWindow: UInt64 = 20) -> DAGRiderSettings {
        var s = DAGRiderSettings(committee: committee, me: me)
        s.minRoundIntervalMs = 10
        s.maxRoundIntervalMs = 100
        s.futureRoundWindow = futureRoundWindow
        s.gcDepth = gcDepth
        return s
    }

    func signer(_ i: Int) -> KeyedHashSignatures { KeyedHashSignatures(keys: keys.keys, me: i) }
    func coin(_ i: Int) -> SimulatedCoin { SimulatedCoin(seed: 1, validators: n, me: i) }
    func core(_ i: Int, futureRoundWindow: UInt64 = 20) -> DAGRiderCore {
        DAGRiderCore(settings: settings(i, futureRoundWindow: futureRoundWindow), signer: signer(i), coin: coin(i))
    }
    func verifier(_ i: Int) -> MessageVerifier { MessageVerifier(settings: settings(i), verifier: keys, coin: coin(i)) }

    func signed(_ vertex: Vertex) -> SignedVertex {
        let digest = SigningMessages.vertexDigest(vertex)
        return SignedVertex(vertex: vertex, signature: signer(Int(vertex.author)).sign(SigningMessages.proposal(chain: committee.chain, digest: digest)))
    }

    func vote(_ signed: SignedVertex, by voter: Int) -> Vote {
        let digest = SigningMessages.vertexDigest(signed.vertex)
        return Vote(digest: digest, round: signed.vertex.round, author: signed.vertex.author, voter: UInt32(voter),
                    signature: signer(voter).sign(SigningMessages.vote(chain: committee.chain, digest: digest)))
    }

    func verified(_ message: ConsensusMessage, from: Int, at receiver: Int = 0) throws -> VerifiedMessage {
        try verifier(receiver).verify(message, from: from).get()
    }
}

func proposals(in directives: [Directive]) -> [SignedVertex] {
    directives.compactMap { if case let .broadcast(.proposal(p)) = $0 { return p } else { return nil } }
}

@Suite("DAG-Rider core directives")
struct CoreDirectiveTests {
    @Test("starting proposes round 1, persisting before broadcasting")
    func start() throws {
        let f = Fixture()
        var core = f.core(0)
        let out = core.onStart(nowMs: 0)
        guard case let .persistProposal(persisted) = out[0], case let .broadcast(.proposal(sent)) = out[1] else {
            Issue.record("expected persistProposal then broadcast, got \(out)"); return
        }
        #expect(persisted == sent)
        #expect(sent.vertex.round == 1 && sent.vertex.author == 0 && sent.vertex.strongEdges.isEmpty)
        #expect(out.last == .scheduleTick(atMs: 10))
        #expect(core.round == 1)
    }

    @Test("a valid proposal gets one vote, persisted before it is sent; equivocation is refused")
    func voting() throws {
        let f = Fixture()
        var proposer = f.core(0)
        let proposal = try #require(proposals(in: proposer.onStart(nowMs: 0)).first)
        var voter = f.core(1)
        _ = voter.onStart(nowMs: 0)
        let out = voter.onMessage(try f.verified(.proposal(proposal), from: 0, at: 1), from: 0, nowMs: 1)
        let vote = f.vote(proposal, by: 1)
        #expect(out == [.persistVote(vote), .send(to: 0, .vote(vote))])

        // The same proposal again (the author lost the vote): the same vote, nothing new persisted.
        #expect(voter.onMessage(try f.verified(.proposal(proposal), from: 0, at: 1), from: 0, nowMs: 2) == [.send(to: 0, .vote(vote))])

        // A second, different vertex for the slot: refused.
        var twin = proposal.vertex
        twin.payload = [[42]]
        let out2 = voter.onMessage(try f.verified(.proposal(f.signed(twin)), from: 0, at: 1), from: 0, nowMs: 3)
        #expect(out2 == [.rejected(.equivocation, from: 0)])
    }

    @Test("2f+1 votes form a certificate that is stored and broadcast")
    func certificate() throws {
        let f = Fixture()
        var proposer = f.core(0)
        let proposal = try #require(proposals(in: proposer.onStart(nowMs: 0)).first)
        #expect(proposer.onMessage(try f.verified(.vote(f.vote(proposal, by: 1)), from: 1), from: 1, nowMs: 1).isEmpty)
        let out = proposer.onMessage(try f.verified(.vote(f.vote(proposal, by: 3)), from: 3), from: 3, nowMs: 2)
        let certificates = out.compactMap { if case let .broadcast(.certificate(c)) = $0 { return c } else { return nil } }
        let certificate = try #require(certificates.first)
        #expect(certificate.votes.map(\.voter) == [0, 1, 3])
        #expect(out.contains(.storeCertificate(try f.verifier(1).verify(certificate).get())))
        #expect(proposer.dagSize == 1)
        // Later votes change nothing.
        #expect(proposer.onMessage(try f.verified(.vote(f.vote(proposal, by: 2)), from: 2), from: 2, nowMs: 3).isEmpty)
    }

    @Test("far-future proposals are refused; unknown parents are fetched from the sender")
    func boundsAndFetch() throws {
        let f = Fixture()
        var core = f.core(0)
        _ = core.onStart(nowMs: 0)
        let far = f.signed(Vertex(round: 1_000, author: 2, strongEdges: (0 ..< 3).map { Digest(uncheckedBytes: [UInt8](repeating: UInt8($0), count: 32)) },
                                  weakEdges: [], payload: [], coinShare: nil))
        #expect(core.onMessage(try f.verified(.proposal(far), from: 2), from: 2, nowMs: 1) == [.rejected(.farFutureRound, from: 2)])
        let parents = (0 ..< 3).map { Digest(uncheckedBytes: [UInt8](repeating: UInt8($0 + 10), count: 32)) }
        let orphan = f.signed(Vertex(round: 2, author: 2, strongEdges: parents, weakEdges: [], payload: [], coinShare: nil))
        let out = core.onMessage(try f.verified(.proposal(orphan), from: 2), from: 2, nowMs: 2)
        #expect(out == [.send(to: 2, .fetchCertificates(parents))])
        // Unanswered: after the retry interval another peer is asked.
        let retry = core.onTick(nowMs: 2 + core.settings.fetchRetryMs)
        #expect(retry.contains { if case .send(to: 3, .fetchCertificates) = $0 { return true } else { return false } })
        // Still unanswered after every peer was asked many times: keep asking (backing off),
        // since a validator that stops asking can stall for good.
        var now = 2 + core.settings.fetchRetryMs
        var asks = 0
        while now < 200 * core.settings.fetchRetryMs {
            now += core.settings.fetchRetryMs
            asks += core.onTick(nowMs: now).filter { if case .send(_, .fetchCertificates) = $0 { return true } else { return false } }.count
        }
        #expect(asks >= 25, "asked \(asks) times in 200 retry intervals")
        #expect(core.missingCertificates == 3)
    }

    /// Certificates of rounds 1…rounds, four authors each, every vertex linked to all of the
    /// previous round.
    func chain(_ f: Fixture, rounds: UInt64) -> [Certificate] {
        var certificates: [Certificate] = []
        var previous: [Digest] = []
        for round in 1 ... rounds {
            var current: [Digest] = []
            for author in 0 ..< f.n {
                let signed = f.signed(Vertex(round: round, author: UInt32(author), strongEdges: previous, weakEdges: [], payload: [], coinShare: nil))
                let votes = (0 ..< f.committee.quorum).map { CertificateVote(voter: UInt32($0), signature: f.vote(signed, by: $0).signature) }
                certificates.append(Certificate(signedVertex: signed, votes: votes))
                current.append(SigningMessages.vertexDigest(signed.vertex))
            }
            previous = current
        }
        return certificates
    }

    /// The bug behind a sequence divergence seen once between real nodes: a restore whose GC line
    /// lay beyond the future-round window refused every stored certificate as "far future" and
    /// marked all their edges as below the floor, so catch-up later inserted vertices without
    /// their parents and delivered different histories.
    @Test("a core restored far past its future-round window keeps every stored certificate above the GC line")
    func restorePastWindow() throws {
        let f = Fixture()
        let certificates = chain(f, rounds: 200)
        var snapshot = ConsensusSnapshot()
        snapshot.certificates = certificates.shuffled()
        snapshot.lastCommittedRound = 181
        snapshot.decidedWave = 46
        let floor: UInt64 = 181 - 50
        let restored = DAGRiderCore.restore(settings: f.settings(0), signer: f.signer(0), coin: f.coin(0), from: snapshot)
        #expect(restored.gcFloor == floor)
        #expect(restored.dagSize == Int(200 - floor + 1) * 4)
        #expect(restored.highestQuorumRound == 200)
        #expect(restored.unrestorable == 0)

        // A damaged store (one certificate of round 150 lost): everything above it that depends
        // on it is left out for catch-up, never inserted without its parent.
        snapshot.certificates = certificates.filter { !($0.vertex.round == 150 && $0.vertex.author == 2) }
        let damaged = DAGRiderCore.restore(settings: f.settings(0), signer: f.signer(0), coin: f.coin(0), from: snapshot)
        #expect(damaged.dagSize == Int(150 - floor + 1) * 4 - 1)
        #expect(damaged.unrestorable == 50 * 4)
        #expect(damaged.highestQuorumRound == 150)
    }

    @Test("a restarted validator re-sends its persisted proposal instead of making a new one")
    func restore() throws {
        let f = Fixture()
        var core = f.core(0)
        let proposal = try #require(proposals(in: core.onStart(nowMs: 0)).first)
        var snapshot = ConsensusSnapshot()
        snapshot.ownProposals = [proposal]
        var restored = DAGRiderCore.restore(settings: f.settings(0), signer: f.signer(0), coin: f.coin(0), from: snapshot)
        let out = restored.onStart(nowMs: 5_000)
        #expect(out.first == .broadcast(.proposal(proposal)))
        #expect(!out.contains { if case .persistProposal = $0 { return true } else { return false } })
        #expect(restored.round == 1)
    }
}

@Suite("Message verification")
struct MessageVerifierTests {
    /// Counts signature checks, to show which ones the cache saves.
    final class CountingVerifier: ConsensusVerifier, @unchecked Sendable {
        let inner: KeyedHashSignatures
        var checks = 0
        init(_ inner: KeyedHashSignatures) { self.inner = inner }
        func verify(_ signature: Signature, message: [UInt8], signer: Int) -> Bool {
            checks += 1
            return inner.verify(signature, message: message, signer: signer)
        }
    }

    @Test("with a cache, a repeated proposal or certificate is not checked again; a copy with other signatures is")
    func cache() throws {
        let f = Fixture()
        let counting = CountingVerifier(f.keys)
        let records = [Array("r1".utf8), Array("r2".utf8)]
        let payloadCounter = CountingVerifier(f.keys)  // its `checks` counts records here
        let verifier = MessageVerifier(settings: f.settings(0), verifier: counting, coin: f.coin(0),
                                       payloadValidator: { _ in payloadCounter.checks += 1; return true }, cache: VerificationCache(capacity: 4))
        var payloadChecks: Int { payloadCounter.checks }
        let proposal = f.signed(Vertex(round: 1, author: 1, strongEdges: [], weakEdges: [], payload: records, coinShare: nil))
        #expect(throws: Never.self) { try verifier.verify(.proposal(proposal), from: 1).get() }
        #expect(counting.checks == 1 && payloadChecks == 2)
        #expect(throws: Never.self) { try verifier.verify(.proposal(proposal), from: 1).get() }
        #expect(counting.checks == 1 && payloadChecks == 2)

        // Its certificate: the author's signature is known; the three votes are checked once.
        let votes = [0, 2, 3].map { CertificateVote(voter: UInt32($0), signature: f.vote(proposal, by: $0).signature) }
        let certificate = Certificate(signedVertex: proposal, votes: votes)
        #expect(throws: Never.self) { try verifier.verify(certificate).get() }
        #expect(counting.checks == 4)
        #expect(throws: Never.self) { try verifier.verify(certificate).get() }
        #expect(counting.checks == 4)

        // The same vertex with a forged vote is a different key: checked, and refused.
        var forged = votes
        forged[1] = CertificateVote(voter: 2, signature: f.vote(proposal, by: 3).signature)
        #expect(verifier.verify(Certificate(signedVertex: proposal, votes: forged)) == .failure(.invalidSignature))
        // A forged author signature on the same vertex is checked too.
        let other = SignedVertex(vertex: proposal.vertex, signature: f.vote(proposal, by: 1).signature)
        #expect(verifier.verify(.proposal(other), from: 1) == .failure(.invalidSignature))

        // Bounded: after more distinct entries than two generations hold, the first is checked again.
        for round in UInt64(2) ... 12 {
            let edges = (0 ..< 3).map { Digest(uncheckedBytes: [UInt8](repeating: UInt8($0), count: 31) + [UInt8(round)]) }
            _ = verifier.verify(.proposal(f.signed(Vertex(round: round, author: 1, strongEdges: edges, weakEdges: [], payload: [], coinShare: nil))), from: 1)
        }
        let before = counting.checks
        #expect(throws: Never.self) { try verifier.verify(.proposal(proposal), from: 1).get() }
        #expect(counting.checks == before + 1)
    }

    @Test("a proposal carrying a record the payload validator refuses gets no vote; certificates are not re-checked")
    func payloadValidation() throws {
        let f = Fixture()
        let verifier = MessageVerifier(settings: f.settings(0), verifier: f.keys, coin: f.coin(0),
                                       payloadValidator: { $0.first == 1 })
        let good = f.signed(Vertex(round: 1, author: 1, strongEdges: [], weakEdges: [], payload: [[1, 9], [1]], coinShare: nil))
        #expect(throws: Never.self) { try verifier.verify(.proposal(good), from: 1).get() }
        let bad = f.signed(Vertex(round: 1, author: 1, strongEdges: [], weakEdges: [], payload: [[1], [2, 2]], coinShare: nil))
        #expect(verifier.verify(.proposal(bad), from: 1) == .failure(.invalidRecord))
        let votes = [0, 2, 3].map { CertificateVote(voter: UInt32($0), signature: f.vote(bad, by: $0).signature) }
        #expect(throws: Never.self) { try verifier.verify(Certificate(signedVertex: bad, votes: votes)).get() }
    }

    @Test("each malformed or forged message is refused with its reason")
    func rejections() throws {
        let f = Fixture()
        let verifier = f.verifier(0)
        let good = f.signed(Vertex(round: 1, author: 1, strongEdges: [], weakEdges: [], payload: [[1]], coinShare: nil))
        #expect(throws: Never.self) { try verifier.verify(.proposal(good), from: 1).get() }

        var forged = good
        forged.signature = Signature(uncheckedBytes: [UInt8](repeating: 9, count: 64))
        #expect(verifier.verify(.proposal(forged), from: 1) == .failure(.invalidSignature))
        #expect(verifier.verify(.proposal(good), from: 2) == .failure(.senderMismatch))
        #expect(verifier.verify(.proposal(good), from: 9) == .failure(.unknownValidator))

        let edges = (0 ..< 3).map { Digest(uncheckedBytes: [UInt8](repeating: UInt8($0), count: 32)) }
        let noShare = f.signed(Vertex(round: 5, author: 1, strongEdges: edges, weakEdges: [], payload: [], coinShare: nil))
        #expect(verifier.verify(.proposal(noShare), from: 1) == .failure(.missingCoinShare))
        var badShare = try f.coin(1).makeShare(wave: 1)
        badShare.share = CurvePoint(uncheckedBytes: [UInt8](repeating: 1, count: 32))
        let wrongShare = f.signed(Vertex(round: 5, author: 1, strongEdges: edges, weakEdges: [], payload: [], coinShare: badShare))
        #expect(verifier.verify(.proposal(wrongShare), from: 1) == .failure(.invalidCoinShare))
        let otherValidatorsShare = f.signed(Vertex(round: 5, author: 1, strongEdges: edges, weakEdges: [], payload: [], coinShare: try f.coin(2).makeShare(wave: 1)))
        #expect(verifier.verify(.proposal(otherValidatorsShare), from: 1) == .failure(.invalidCoinShare))
        let early = f.signed(Vertex(round: 2, author: 1, strongEdges: edges, weakEdges: [], payload: [], coinShare: try f.coin(1).makeShare(wave: 1)))
        #expect(verifier.verify(.proposal(early), from: 1) == .failure(.unexpectedCoinShare))
        let thin = f.signed(Vertex(round: 2, author: 1, strongEdges: Array(edges.prefix(2)), weakEdges: [], payload: [], coinShare: nil))
        #expect(verifier.verify(.proposal(thin), from: 1) == .failure(.malformedVertex))
        // Duplicate edges (a strong edge twice; a weak edge repeating a strong one), round 0, a
        // round-1 vertex with edges, and an oversized payload.
        let twice = f.signed(Vertex(round: 2, author: 1, strongEdges: [edges[0], edges[0], edges[1]], weakEdges: [], payload: [], coinShare: nil))
        #expect(verifier.verify(.proposal(twice), from: 1) == .failure(.malformedVertex))
        let echo = f.signed(Vertex(round: 3, author: 1, strongEdges: edges, weakEdges: [edges[0]], payload: [], coinShare: nil))
        #expect(verifier.verify(.proposal(echo), from: 1) == .failure(.malformedVertex))
        let zero = f.signed(Vertex(round: 0, author: 1, strongEdges: [], weakEdges: [], payload: [], coinShare: nil))
        #expect(verifier.verify(.proposal(zero), from: 1) == .failure(.malformedVertex))
        let rootedOne = f.signed(Vertex(round: 1, author: 1, strongEdges: edges, weakEdges: [], payload: [], coinShare: nil))
        #expect(verifier.verify(.proposal(rootedOne), from: 1) == .failure(.malformedVertex))
        let stuffed = f.signed(Vertex(round: 1, author: 1, strongEdges: [], weakEdges: [],
                                      payload: Array(repeating: [1], count: f.settings(0).maxRecordsPerVertex + 1), coinShare: nil))
        #expect(verifier.verify(.proposal(stuffed), from: 1) == .failure(.oversizedPayload))

        let votes = [0, 2, 3].map { CertificateVote(voter: UInt32($0), signature: f.vote(good, by: $0).signature) }
        #expect(throws: Never.self) { try verifier.verify(Certificate(signedVertex: good, votes: votes)).get() }
        #expect(verifier.verify(Certificate(signedVertex: good, votes: Array(votes.prefix(2)))) == .failure(.notEnoughVotes))
        #expect(verifier.verify(Certificate(signedVertex: good, votes: [votes[0], votes[0], votes[1]])) == .failure(.duplicateVoter))
        var badVote = votes
        badVote[1].signature = votes[2].signature
        #expect(verifier.verify(Certificate(signedVertex: good, votes: badVote)) == .failure(.invalidSignature))
        let vote = f.vote(good, by: 2)
        #expect(verifier.verify(.vote(vote), from: 3) == .failure(.senderMismatch))
    }
}
