import CairnCore
import DAGRider

/// A lossless, FIFO, in-process network of cores: the simplest possible shell. Used to build real
/// DAGs for ordering tests and to run the real Ed25519 + threshold-coin path end to end.
struct LoopbackNetwork {
    var cores: [DAGRiderCore]
    let verifiers: [MessageVerifier]
    var inbox: [(to: Int, from: Int, message: ConsensusMessage)] = []
    var commits: [[Digest]]
    var stored: [Digest: Certificate] = [:]
    var now: UInt64 = 0
    var rejected = 0
    /// Validators cut off: messages from or to them are dropped.
    var isolated: Set<Int> = []
    /// Cut this validator off right after it proposes a vertex carrying records, before the
    /// proposal leaves (so it is never certified).
    var isolateAfterProposingRecords: Int?
    /// Fetches are answered from every certificate ever stored, as a node answers from its
    /// database (cores keep only rounds above their GC line in memory).
    var servesFromStorage = false

    init(fixture: Fixture) {
        cores = (0 ..< fixture.n).map { fixture.core($0) }
        verifiers = (0 ..< fixture.n).map { fixture.verifier($0) }
        commits = Array(repeating: [], count: fixture.n)
    }

    init(cores: [DAGRiderCore], verifiers: [MessageVerifier]) {
        self.cores = cores
        self.verifiers = verifiers
        commits = Array(repeating: [], count: cores.count)
    }

    mutating func execute(_ directives: [Directive], at node: Int) {
        for directive in directives {
            if case let .persistProposal(signed) = directive, isolateAfterProposingRecords == node, !signed.vertex.payload.isEmpty {
                isolated.insert(node)
                isolateAfterProposingRecords = nil
            }
            switch directive {
            case let .send(to, message): inbox.append((to, node, message))
            case let .broadcast(message):
                for peer in cores.indices where peer != node { inbox.append((peer, node, message)) }
            case let .commit(committed): commits[node] += committed.certificates.map(\.digest)
            case let .storeCertificate(certificate): stored[certificate.digest] = certificate.certificate
            case .rejected: rejected += 1
            default: break
            }
        }
    }

    /// Runs until every validator committed `untilCommits` leaders (or 20,000 steps pass).
    mutating func run(untilCommits target: Int) {
        for node in cores.indices { execute(cores[node].onStart(nowMs: now), at: node) }
        run(while: { $0.cores.contains(where: { $0.committedLeaders < target }) })
    }

    /// Delivers messages (ticking 20 ms whenever none is in flight) while `condition` holds, at
    /// most `steps` times.
    mutating func run(while condition: (LoopbackNetwork) -> Bool, steps limit: Int = 20_000) {
        var steps = 0
        while condition(self), steps < limit {
            steps += 1
            if inbox.isEmpty {
                now += 20
                for node in cores.indices { execute(cores[node].onTick(nowMs: now), at: node) }
                continue
            }
            let (to, from, message) = inbox.removeFirst()
            if isolated.contains(to) || isolated.contains(from) { continue }
            if servesFromStorage, let answer = storageAnswer(message) {
                inbox.append((from, to, answer))
                continue
            }
            guard case let .success(verified) = verifiers[to].verify(message, from: from) else { rejected += 1; continue }
            execute(cores[to].onMessage(verified, from: from, nowMs: now), at: to)
        }
    }

    func storageAnswer(_ message: ConsensusMessage) -> ConsensusMessage? {
        switch message {
        case let .fetchCertificates(digests): return .certificates(digests.compactMap { stored[$0] })
        case let .fetchRounds(from, to):
            return .certificates(Array(allCertificates().filter { (from ... to).contains($0.vertex.round) }.prefix(ConsensusMessage.maxCertificatesPerMessage)))
        default: return nil
        }
    }

    /// Payloads delivered by `node`, in order.
    func deliveredRecords(_ node: Int) -> [[UInt8]] { commits[node].flatMap { stored[$0]?.vertex.payload ?? [] } }

    func allCertificates() -> [Certificate] {
        stored.values.sorted { ($0.vertex.round, $0.vertex.author) < ($1.vertex.round, $1.vertex.author) }
    }
}
