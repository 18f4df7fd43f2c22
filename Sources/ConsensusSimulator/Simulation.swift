import CairnCore
import CairnCrypto
import DAGRider

/// One simulated network of DAG-Rider validators, driven by a seed (ARCHITECTURE §12).
public struct SimulationConfig: Sendable {
    public var validators: Int
    public var byzantine: Int
    public var behaviour: Behaviour
    /// Stop once every live honest validator has proposed this round.
    public var rounds: UInt64
    public var seed: UInt64
    public var meanDelayMs: Double = 25
    /// Probability that a transmission is lost (it is then retransmitted after `retransmitMs`).
    public var lossRate: Double = 0.02
    public var retransmitMs: UInt64 = 150
    /// Whether a random partition (that later heals) may be injected; decided per seed.
    public var allowPartitions = true
    /// Crash f+1 honest validators for a while: no commit may happen, then commits must resume.
    /// (No partition is injected in this scenario.)
    public var crashQuorum = false
    public var gcDepth: UInt64 = 50
    public var minRoundIntervalMs: UInt64 = 20
    public var maxRoundIntervalMs: UInt64 = 200
    /// Records each honest validator submits per tick (exercises payloads).
    public var recordsPerTick = 2
    /// Keep every validator's certified vertices and decisions for `--export-dag`.
    public var recordDAG = false

    public init(validators: Int, byzantine: Int, behaviour: Behaviour, rounds: UInt64, seed: UInt64) {
        self.validators = validators
        self.byzantine = byzantine
        self.behaviour = behaviour
        self.rounds = rounds
        self.seed = seed
    }

    public var faults: Int { (validators - 1) / 3 }
}

/// The outcome of one seed.
public struct RunResult: Sendable {
    public var seed: UInt64
    public var violations: [String]
    /// Leaders committed, averaged over honest validators.
    public var commits: Double
    public var decidedWaves: Double
    /// Rounds between a vertex's round and the round its validator was in when delivering it.
    public var meanLatencyRounds: Double
    public var verticesDelivered: Int
    /// CPU time spent inside cores, summed over validators.
    public var coreSeconds: Double
    public var virtualSeconds: Double
    public var rejected: [String: Int]
    public var export: [Int: [String]] = [:]
}

/// Simulator events.
enum SimEvent {
    case deliver(to: Int, from: Int, ConsensusMessage)
    case tick(Int)
    case crash(Int)
    case restart(Int)
    case partition([Set<Int>])
    case heal
}

/// What a simulated validator keeps across crashes (its "RocksDB").
struct SimStore {
    var certificates: [Digest: Certificate] = [:]
    var ownProposals: [UInt64: SignedVertex] = [:]
    var votes: [Vote] = []
    var delivered: [(digest: Digest, round: UInt64, leaderRound: UInt64)] = []
    var decidedWave: UInt64 = 0
    var lastCommittedRound: UInt64 = 0
    var committedLeaders = 0
    var decisions: [(wave: UInt64, leader: Int)] = []

    /// The answer to a fetch, from stored certificates; nil for any other message.
    func answer(_ message: VerifiedMessage) -> [Certificate]? {
        let found: [Certificate]
        switch message {
        case let .fetchCertificates(digests):
            found = digests.compactMap { certificates[$0] }
        case let .fetchRounds(from, to):
            found = from > to ? [] : certificates.values.filter { (from ... to).contains($0.vertex.round) }
                .sorted { ($0.vertex.round, $0.vertex.author) < ($1.vertex.round, $1.vertex.author) }
        default:
            return nil
        }
        return Array(found.prefix(ConsensusMessage.maxCertificatesPerMessage))
    }

    func snapshot(gcDepth: UInt64) -> ConsensusSnapshot {
        var snapshot = ConsensusSnapshot()
        snapshot.certificates = Array(certificates.values)
        let line = lastCommittedRound > gcDepth ? lastCommittedRound - gcDepth : 0
        // As the node's store reads it (D40): proposals and votes at or above the floor, and the
        // last proposed round wherever it lies.
        snapshot.ownProposals = ownProposals.values.filter { $0.vertex.round >= line }
        snapshot.lastProposedRound = ownProposals.values.map(\.vertex.round).max() ?? 0
        snapshot.votes = votes.filter { $0.round >= line }
        snapshot.decidedWave = decidedWave
        snapshot.lastCommittedRound = lastCommittedRound
        snapshot.committedLeaders = committedLeaders
        snapshot.recentlyDelivered = delivered.filter { $0.round >= line }.map(\.digest)
        return snapshot
    }
}

final class SimNode {
    let index: Int
    let behaviour: Behaviour
    var core: DAGRiderCore
    let verifier: MessageVerifier
    var store = SimStore()
    var alive = true
    var nextTick: UInt64?
    /// Set by a crash event: the node dies after this many directives of its next step.
    var dieAfterDirectives: Int?
    var received: [ConsensusMessage] = []
    var equivocations: [UInt64: SignedVertex] = [:]
    var coreNanos: UInt64 = 0
    var latencySum = 0.0
    var latencyCount = 0
    var recordCounter: UInt64 = 0
    var commitTimes: [UInt64] = []

    init(index: Int, behaviour: Behaviour, core: DAGRiderCore, verifier: MessageVerifier) {
        self.index = index
        self.behaviour = behaviour
        self.core = core
        self.verifier = verifier
    }

    var isHonest: Bool { behaviour == .honest || behaviour == .crash }
}

/// Runs one seed to completion and checks it.
public struct Simulation {
    let config: SimulationConfig
    var rng: SeededRandom
    var queue = EventQueue<SimEvent>()
    var nodes: [SimNode] = []
    var now: UInt64 = 0
    var partition: [Set<Int>]?
    var healAt: UInt64 = 0
    var checker: SafetyChecker
    let settings: [DAGRiderSettings]
    let signatures: KeyedHashSignatures
    var rejected: [String: Int] = [:]
    var crashWindow: (start: UInt64, end: UInt64)?
    var lastDisturbanceEnd: UInt64 = 0

    public init(config: SimulationConfig) {
        precondition(config.byzantine <= config.faults || config.crashQuorum, "more faulty validators than f")
        self.config = config
        rng = SeededRandom(seed: config.seed)
        let chain = Hashing.digest(.genesis, config.seed.canonicalBytes)
        let committee = Committee(size: config.validators, chain: chain)
        signatures = KeyedHashSignatures(seed: config.seed, validators: config.validators, me: 0)
        checker = SafetyChecker(committee: committee, gcDepth: config.gcDepth, signatures: signatures)
        settings = (0 ..< config.validators).map { index in
            var s = DAGRiderSettings(committee: committee, me: index)
            s.gcDepth = config.gcDepth
            s.minRoundIntervalMs = config.minRoundIntervalMs
            s.maxRoundIntervalMs = config.maxRoundIntervalMs
            s.maxRecordsPerVertex = 64
            s.futureRoundWindow = 60
            s.fetchRetryMs = 300
            s.proposalRetryMs = 400
            return s
        }
    }

    func makeCore(_ index: Int) -> DAGRiderCore {
        DAGRiderCore(settings: settings[index], signer: KeyedHashSignatures(keys: signatures.keys, me: index),
                     coin: SimulatedCoin(seed: config.seed, validators: config.validators, me: index))
    }

    func makeVerifier(_ index: Int) -> MessageVerifier {
        MessageVerifier(settings: settings[index], verifier: signatures,
                        coin: SimulatedCoin(seed: config.seed, validators: config.validators, me: index))
    }

    // MARK: Running

    public mutating func run() -> RunResult {
        setUp()
        // Generous: time for the target rounds plus ~150 more waves to show liveness.
        let limit: UInt64 = config.rounds * (config.maxRoundIntervalMs + 400) + 90_000 + lastDisturbanceEnd
        while let (time, event) = queue.pop() {
            now = time
            if now > limit { break }
            handle(event)
            if finished { break }
        }
        return finish()
    }

    /// Done once every live honest validator reached the target round and the network has run
    /// undisturbed for a while after the last crash, restart or partition (to judge liveness).
    ///
    /// "Commits keep happening" is an eventual property: the coin may pick a silent validator's
    /// vertex several waves in a row (probability 4^-k at n = 4), so a run continues — bounded by
    /// the time limit — until every live honest validator has committed after the disturbance.
    var finished: Bool {
        guard now >= lastDisturbanceEnd + 3000 else { return false }
        return nodes.filter { $0.isHonest && $0.alive }.allSatisfy {
            $0.core.round >= config.rounds && $0.commitTimes.contains { $0 > lastDisturbanceEnd }
        }
    }

    mutating func setUp() {
        let faulty = Set(rng.shuffled(Array(0 ..< config.validators)).prefix(config.byzantine))
        for index in 0 ..< config.validators {
            var behaviour = Behaviour.honest
            if faulty.contains(index) {
                behaviour = config.behaviour == .mixed ? Behaviour.faulty[rng.int(below: Behaviour.faulty.count)] : config.behaviour
            }
            nodes.append(SimNode(index: index, behaviour: behaviour, core: makeCore(index), verifier: makeVerifier(index)))
        }
        for node in nodes {
            let start = UInt64(rng.int(below: 50))
            queue.push(.restart(node.index), at: start)  // first start = restart with empty storage
            if node.behaviour == .crash {
                // Spread over the whole run, and long enough in long runs that a restarted
                // validator restores past its garbage-collection line and catches up from
                // storage (short runs keep the schedule their seeds always had).
                let spread = max(2000, Int(config.rounds) * 25)
                let downtime = max(1500, Int(config.rounds) * 20)
                var t = start + 300 + UInt64(rng.int(below: spread))
                for _ in 0 ..< 3 {
                    queue.push(.crash(node.index), at: t)
                    let back = t + 200 + UInt64(rng.int(below: downtime))
                    queue.push(.restart(node.index), at: back)
                    lastDisturbanceEnd = max(lastDisturbanceEnd, back)
                    t = back + 500 + UInt64(rng.int(below: spread))
                }
            }
        }
        // A partition holds messages sent before the f+1 crash until it heals, which would blur the
        // "nothing commits while f+1 are down" check, so that scenario runs without partitions.
        if config.allowPartitions && !config.crashQuorum && rng.double() < 0.5 {
            let start = 200 + UInt64(rng.int(below: 2000))
            let end = start + 300 + UInt64(rng.int(below: 2000))
            let shuffled = rng.shuffled(Array(0 ..< config.validators))
            let cut = 1 + rng.int(below: config.validators - 1)
            queue.push(.partition([Set(shuffled.prefix(cut)), Set(shuffled.dropFirst(cut))]), at: start)
            queue.push(.heal, at: end)
            healAt = end
            lastDisturbanceEnd = max(lastDisturbanceEnd, end)
        }
        if config.crashQuorum {
            let honest = rng.shuffled(nodes.filter { $0.behaviour == .honest }.map(\.index))
            let victims = honest.prefix(config.faults + 1 - config.byzantine)
            // Later and longer in long runs, so the outage starts past the GC line and the
            // victims restore from storage and catch up across it.
            let start = 1500 + UInt64(rng.int(below: max(1000, Int(config.rounds) * 15)))
            let end = start + max(3000, config.rounds * 10)
            for victim in victims {
                queue.push(.crash(victim), at: start)
                queue.push(.restart(victim), at: end)
            }
            crashWindow = (start, end)
            lastDisturbanceEnd = max(lastDisturbanceEnd, end)
        }
    }

    mutating func handle(_ event: SimEvent) {
        switch event {
        case let .deliver(to, from, message):
            let node = nodes[to]
            guard node.alive else { return }
            if node.behaviour == .replay, node.received.count < 400 { node.received.append(message) }
            switch node.verifier.verify(message, from: from) {
            case let .failure(reason):
                rejected[reason.rawValue, default: 0] += 1
            case let .success(verified):
                if node.behaviour == .doubleVote, case let .proposal(signed, digest) = verified, Int(signed.vertex.author) != to {
                    // Votes for everything, on top of whatever its honest core does.
                    let vote = Vote(digest: digest, round: signed.vertex.round, author: signed.vertex.author, voter: UInt32(to),
                                    signature: KeyedHashSignatures(keys: signatures.keys, me: to).sign(SigningMessages.vote(chain: settings[to].committee.chain, digest: digest)))
                    send(from: to, to: Int(signed.vertex.author), .vote(vote))
                }
                if node.isHonest, let answer = node.store.answer(verified) {
                    // As a node does (ARCHITECTURE §8, D24): catch-up is served from storage, which
                    // keeps the full history, not from the core's garbage-collected memory.
                    if !answer.isEmpty { send(from: to, to: from, .certificates(answer)) }
                    return
                }
                let directives = timed(node) { $0.onMessage(verified, from: from, nowMs: now) }
                execute(directives, for: node)
            }
        case let .tick(index):
            let node = nodes[index]
            guard node.alive, node.nextTick == now else { return }
            node.nextTick = nil
            if node.isHonest && config.recordsPerTick > 0 {
                var records: [[UInt8]] = []
                for _ in 0 ..< config.recordsPerTick {
                    node.recordCounter += 1
                    records.append(Array("n\(index)-r\(node.recordCounter)".utf8))
                }
                _ = node.core.onRecords(records)
            }
            let directives = timed(node) { $0.onTick(nowMs: now) }
            execute(directives, for: node)
            misbehaveOnTick(node)
        case let .crash(index):
            let node = nodes[index]
            guard node.alive else { return }
            // Half the time the crash lands in the middle of the node's next step.
            if rng.double() < 0.5 {
                node.dieAfterDirectives = rng.int(below: 4)
            } else {
                node.alive = false
            }
        case let .restart(index):
            let node = nodes[index]
            node.alive = true
            node.dieAfterDirectives = nil
            node.core = DAGRiderCore.restore(settings: settings[index], signer: KeyedHashSignatures(keys: signatures.keys, me: index),
                                             coin: SimulatedCoin(seed: config.seed, validators: config.validators, me: index),
                                             from: node.store.snapshot(gcDepth: config.gcDepth))
            node.nextTick = nil
            let directives = timed(node) { $0.onStart(nowMs: now) }
            execute(directives, for: node)
        case let .partition(groups):
            partition = groups
        case .heal:
            partition = nil
        }
    }

    func timed(_ node: SimNode, _ body: (inout DAGRiderCore) -> [Directive]) -> [Directive] {
        let start = ContinuousClock.now
        let result = body(&node.core)
        let elapsed = ContinuousClock.now - start
        node.coreNanos += UInt64(elapsed.components.seconds) * 1_000_000_000 + UInt64(elapsed.components.attoseconds / 1_000_000_000)
        return result
    }

    // MARK: Directives

    mutating func execute(_ directives: [Directive], for node: SimNode) {
        for (position, directive) in directives.enumerated() {
            if let limit = node.dieAfterDirectives, position >= limit {
                node.alive = false
                node.dieAfterDirectives = nil
                return
            }
            switch directive {
            case let .persistProposal(signed):
                node.store.ownProposals[signed.vertex.round] = signed
            case let .persistVote(vote):
                node.store.votes.append(vote)
            case let .storeCertificate(certificate):
                node.store.certificates[certificate.digest] = certificate.certificate
                checker.observe(certificate.certificate)
            case let .send(to, message):
                send(from: node.index, to: to, message)
            case let .broadcast(message):
                for peer in 0 ..< config.validators where peer != node.index { send(from: node.index, to: peer, message) }
            case let .commit(committed):
                node.store.decidedWave = max(node.store.decidedWave, committed.wave)
                node.store.lastCommittedRound = max(node.store.lastCommittedRound, committed.leaderRound)
                node.store.committedLeaders += 1
                node.store.decisions.append((committed.wave, committed.leaderAuthor))
                node.commitTimes.append(now)
                for certificate in committed.certificates {
                    node.store.delivered.append((certificate.digest, certificate.vertex.round, committed.leaderRound))
                    node.latencySum += Double(node.core.round >= certificate.vertex.round ? node.core.round - certificate.vertex.round : 0)
                    node.latencyCount += 1
                }
            case .dropped:
                rejected["dropped_below_gc", default: 0] += 1
            case let .rejected(reason, _):
                rejected[reason.rawValue, default: 0] += 1
            case let .scheduleTick(at):
                if node.nextTick.map({ at < $0 || $0 < now }) ?? true {
                    node.nextTick = at
                    queue.push(.tick(node.index), at: at)
                }
            }
        }
        if node.dieAfterDirectives != nil {
            node.alive = false
            node.dieAfterDirectives = nil
        }
    }

    /// Puts a message on the wire, after the sender's Byzantine transformation.
    mutating func send(from: Int, to: Int, _ message: ConsensusMessage) {
        let sender = nodes[from]
        guard sender.alive else { return }
        var outgoing = message
        switch sender.behaviour {
        case .silent:
            return
        case .withholdVotes:
            if case .vote = message { return }
        case .invalidSignature:
            outgoing = corruptSignatures(message)
        case .invalidCoin:
            if case let .proposal(signed) = message, signed.vertex.coinShare != nil {
                var vertex = signed.vertex
                vertex.coinShare?.share = CurvePoint(uncheckedBytes: [UInt8](repeating: 7, count: 32))
                outgoing = .proposal(resign(vertex, as: from))
            }
        case .equivocate:
            if case let .proposal(signed) = message {
                let twin = sender.equivocations[signed.vertex.round] ?? {
                    var vertex = signed.vertex
                    vertex.payload.append(Array("equivocation-\(from)-\(vertex.round)".utf8))
                    return resign(vertex, as: from)
                }()
                sender.equivocations[signed.vertex.round] = twin
                // One version to each half first; then the other version too, so every validator
                // holds both and only its first-seen rule stands between it and a double vote.
                let (first, second) = to % 2 == 1 ? (twin, signed) : (signed, twin)
                outgoing = .proposal(first)
                transmit(from: from, to: to, .proposal(second), extraDelayMs: 1 + UInt64(rng.int(below: 100)))
            }
        default:
            break
        }
        if sender.isHonest, case let .vote(vote) = outgoing { checker.observeHonestVote(vote) }
        if case let .certificate(certificate) = outgoing { checker.observe(certificate) }
        transmit(from: from, to: to, outgoing)
    }

    mutating func transmit(from: Int, to: Int, _ message: ConsensusMessage, extraDelayMs: UInt64 = 0) {
        var at = now + 1 + extraDelayMs + UInt64(rng.exponential(mean: config.meanDelayMs))
        while rng.double() < config.lossRate { at += config.retransmitMs }
        if let groups = partition, !groups.contains(where: { $0.contains(from) && $0.contains(to) }) {
            at = max(at, healAt + UInt64(rng.exponential(mean: config.meanDelayMs)))
        }
        queue.push(.deliver(to: to, from: from, message), at: at)
    }

    func resign(_ vertex: Vertex, as author: Int) -> SignedVertex {
        let digest = SigningMessages.vertexDigest(vertex)
        return SignedVertex(vertex: vertex, signature: KeyedHashSignatures(keys: signatures.keys, me: author)
            .sign(SigningMessages.proposal(chain: settings[author].committee.chain, digest: digest)))
    }

    func corruptSignatures(_ message: ConsensusMessage) -> ConsensusMessage {
        func flip(_ s: Signature) -> Signature {
            var bytes = s.bytes
            bytes[0] ^= 0x01
            return Signature(uncheckedBytes: bytes)
        }
        switch message {
        case var .proposal(signed):
            signed.signature = flip(signed.signature)
            return .proposal(signed)
        case var .vote(vote):
            vote.signature = flip(vote.signature)
            return .vote(vote)
        case var .certificate(certificate):
            certificate.signedVertex.signature = flip(certificate.signedVertex.signature)
            return .certificate(certificate)
        default:
            return message
        }
    }

    /// Periodic misbehaviour: far-future floods and replays.
    mutating func misbehaveOnTick(_ node: SimNode) {
        switch node.behaviour {
        case .farFuture:
            let round = node.core.round + 1_000 + UInt64(rng.int(below: 1_000_000))
            let edges = (0 ..< settings[node.index].committee.quorum).map { _ in Digest(uncheckedBytes: rng.bytes(32)) }
            let vertex = Vertex(round: round, author: UInt32(node.index), strongEdges: edges, weakEdges: [], payload: [],
                                coinShare: Wave.coinWave(carriedIn: round).map { try! SimulatedCoin(seed: config.seed, validators: config.validators, me: node.index).makeShare(wave: $0) })
            let signed = resign(vertex, as: node.index)
            let forged = Certificate(signedVertex: signed, votes: (0 ..< settings[node.index].committee.quorum).map {
                CertificateVote(voter: UInt32($0), signature: Signature(uncheckedBytes: rng.bytes(64)))
            })
            for peer in 0 ..< config.validators where peer != node.index {
                transmit(from: node.index, to: peer, .proposal(signed))
                transmit(from: node.index, to: peer, .certificate(forged))
            }
        case .replay:
            guard !node.received.isEmpty, rng.double() < 0.5 else { return }
            for _ in 0 ..< 3 {
                let message = node.received[rng.int(below: node.received.count)]
                var peer = rng.int(below: config.validators)
                if peer == node.index { peer = (peer + 1) % config.validators }
                transmit(from: node.index, to: peer, message)
            }
        default:
            break
        }
    }

    // MARK: Results

    mutating func finish() -> RunResult {
        let honest = nodes.filter(\.isHonest)
        var sequences: [Int: [(digest: Digest, leaderRound: UInt64)]] = [:]
        for node in honest { sequences[node.index] = node.store.delivered.map { ($0.digest, $0.leaderRound) } }
        checker.checkSequences(sequences)
        var violations = checker.violations
        // Liveness: with ≤ f faulty and the network healed, every honest validator keeps committing.
        if config.byzantine <= config.faults {
            for node in honest where node.alive {
                if !node.commitTimes.contains(where: { $0 > lastDisturbanceEnd }) {
                    violations.append("liveness: validator \(node.index) committed nothing after the last disturbance ended at \(lastDisturbanceEnd) ms (reached round \(node.core.round); \(node.core.diagnostics))")
                }
            }
        }
        if let window = crashWindow {
            // f+1 down: after in-flight messages settle, no commit anywhere until they are back.
            for node in honest {
                if let t = node.commitTimes.first(where: { $0 > window.start + 1500 && $0 < window.end }) {
                    violations.append("validator \(node.index) committed at \(t) ms while f+1 validators were down (\(window.start)–\(window.end) ms)")
                }
            }
        }
        let count = Double(max(1, honest.count))
        let commits = honest.map { Double($0.store.committedLeaders) }.reduce(0, +) / count
        let waves = honest.map { Double($0.store.decidedWave) }.reduce(0, +) / count
        let latencyCount = honest.map(\.latencyCount).reduce(0, +)
        var result = RunResult(
            seed: config.seed, violations: violations.map { "seed \(config.seed): \($0)" }, commits: commits, decidedWaves: waves,
            meanLatencyRounds: latencyCount == 0 ? 0 : honest.map(\.latencySum).reduce(0, +) / Double(latencyCount),
            verticesDelivered: honest.map(\.store.delivered.count).reduce(0, +),
            coreSeconds: Double(nodes.map(\.coreNanos).reduce(0, +)) / 1e9, virtualSeconds: Double(now) / 1000,
            rejected: rejected)
        if config.recordDAG {
            for node in honest { result.export[node.index] = DAGExport.lines(store: node.store) }
        }
        return result
    }
}
