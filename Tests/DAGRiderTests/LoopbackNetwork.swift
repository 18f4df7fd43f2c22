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
        var steps = 0
        while cores.contains(where: { $0.committedLeaders < target }), steps < 20_000 {
            steps += 1
            if inbox.isEmpty {
                now += 20
                for node in cores.indices { execute(cores[node].onTick(nowMs: now), at: node) }
                continue
            }
            let (to, from, message) = inbox.removeFirst()
            guard case let .success(verified) = verifiers[to].verify(message, from: from) else { rejected += 1; continue }
            execute(cores[to].onMessage(verified, from: from, nowMs: now), at: to)
        }
    }

    func allCertificates() -> [Certificate] {
        stored.values.sorted { ($0.vertex.round, $0.vertex.author) < ($1.vertex.round, $1.vertex.author) }
    }
}
