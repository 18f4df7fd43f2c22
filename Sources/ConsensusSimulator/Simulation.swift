import CairnCore
import CairnCrypto
import ConsensusOracle
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
    /// Messages a link holds in flight (sent, not yet delivered); more are lost, as the real
    /// mesh drops when a peer's outbound queue is full. The mesh bounds its queues at 64 MiB;
    /// 16 messages scales that down so overflow happens in ordinary runs (partitions, slow
    /// links, n = 10), not only under floods, and recovery from it is exercised on most seeds.
    public var linkQueueCapacity = 16
    /// Replaces the ordering rules of every validator (the test suite plants wrong ones, D43).
    public var orderingRules: (any OrderingRules)?
    /// Replaces the coin validators' verifiers check shares with (a test shows that without the
    /// share check, one Byzantine share splits the leader choice).
    public var verifierCoin: (@Sendable (_ seed: UInt64, _ validators: Int, _ me: Int) -> any CoinScheme)?

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
    /// Most proposals and certificates any honest core held waiting for parents at once.
    public var maxBufferedProposals = 0
    public var maxBufferedCertificates = 0
    /// Messages lost because a link's queue was full.
    public var lostOnOverflow = 0
    /// Honest vertices the validity check owed delivery, and those that reached 2f+1 honest
    /// validators only when half a GC depth old (not owed).
    public var obligations = 0
    public var lateCertificates = 0
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
    var deliveredSet: Set<Digest> = []
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
    /// Set by a crash event: the node dies after a random number of the directives of its next
    /// step (any of them, or none).
    var crashInNextStep = false
    /// Requests it serves from storage, budgeted per peer as the node does (D39).
    var fetchServing: FetchServing
    var received: [ConsensusMessage] = []
    var equivocations: [UInt64: SignedVertex] = [:]
    var coreNanos: UInt64 = 0
    var latencySum = 0.0
    var latencyCount = 0
    var recordCounter: UInt64 = 0
    /// Records the core took, with when: those of a validator that never crashed must be delivered.
    var recordsTaken: [(record: [UInt8], at: UInt64)] = []
    var everCrashed = false
    /// Payloads this validator delivered.
    var deliveredRecords = Set<[UInt8]>()
    var commitTimes: [UInt64] = []
    /// adversarial-edges: own proposals as re-signed without the victim's vertices (by the digest
    /// the core made), and the votes gathered for them.
    var rewritten: [Digest: SignedVertex] = [:]
    var rewrittenVotes: [Digest: [UInt32: Signature]] = [:]
    /// The rewritten proposals by their own digest (what votes name).
    var rewrittenByDigest: [Digest: SignedVertex] = [:]
    /// The independent ordering oracle, fed what this validator stores (it lives with the store).
    var oracle: OrderingOracle
    /// Oracle disagreements seen at commits.
    var oracleViolation: String?

    init(index: Int, behaviour: Behaviour, core: DAGRiderCore, verifier: MessageVerifier) {
        self.index = index
        self.behaviour = behaviour
        self.core = core
        self.verifier = verifier
        fetchServing = FetchServing(settings: core.settings)
        oracle = OrderingOracle(validators: 4, gcDepth: 0) { _, _ in nil }
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
    /// adversarial-edges: the honest validator the Byzantine ones starve.
    var victim: Int?
    /// Messages in flight per link (from · n + to).
    var inFlight: [Int]
    var lostOnOverflow = 0
    var maxBufferedProposals = 0
    var maxBufferedCertificates = 0
    /// Validity (D43): honest certificates and the honest validators that stored them; once
    /// 2f+1 did so by `obligationDeadline`, every live honest validator must deliver it.
    var storedBy: [Digest: Set<Int>] = [:]
    var obligations: Set<Digest> = []
    /// Honest certificates that reached 2f+1 honest validators only when too old to be owed delivery.
    var lateCertificates = 0
    var lastObligationCheck: UInt64 = 0
    var obligationsMet = false

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
            if let rules = config.orderingRules { s.orderingRules = rules }
            return s
        }
        inFlight = Array(repeating: 0, count: config.validators * config.validators)
    }

    func makeCore(_ index: Int) -> DAGRiderCore {
        DAGRiderCore(settings: settings[index], signer: KeyedHashSignatures(keys: signatures.keys, me: index),
                     coin: SimulatedCoin(seed: config.seed, validators: config.validators, me: index))
    }

    func makeVerifier(_ index: Int) -> MessageVerifier {
        MessageVerifier(settings: settings[index], verifier: signatures,
                        coin: config.verifierCoin?(config.seed, config.validators, index)
                            ?? SimulatedCoin(seed: config.seed, validators: config.validators, me: index))
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
    ///
    /// Validity is eventual too: the run also waits (checking every 100 virtual ms) until every
    /// live honest validator delivered every obligation.
    var finished: Bool {
        mutating get {
            guard now >= lastDisturbanceEnd + 3000 else { return false }
            let live = nodes.filter { $0.isHonest && $0.alive }
            guard live.allSatisfy({ $0.core.round >= config.rounds && $0.commitTimes.contains { $0 > lastDisturbanceEnd } }) else { return false }
            guard now >= lastObligationCheck + 100 else { return false }
            lastObligationCheck = now
            obligationsMet = live.allSatisfy { obligations.isSubset(of: $0.store.deliveredSet) }
            return obligationsMet && undeliveredRecords().isEmpty

        }
    }

    /// Records an honest validator that never crashed took before the obligation deadline, that
    /// some live honest validator has not delivered. Pending records survive in a real node's
    /// store; here only a validator that never crashed is held to them. A validator cut off by a
    /// partition proposes them late, or at rounds the others have already collected (found by
    /// tools/netns-scenario minority): they must come back into its queue, not vanish (D64).
    func undeliveredRecords() -> [(validator: Int, record: [UInt8])] {
        guard config.byzantine <= config.faults else { return [] }
        let live = nodes.filter { $0.isHonest && $0.alive }
        var missing: [(Int, [UInt8])] = []
        for node in nodes where node.isHonest && !node.everCrashed {
            for (record, at) in node.recordsTaken where at <= obligationDeadline && !live.allSatisfy({ $0.deliveredRecords.contains(record) }) {
                missing.append((node.index, record))
            }
        }
        return missing
    }

    /// Certificates that reached 2f+1 honest validators by then must be delivered: the later of
    /// the last disturbance's end and one second in (so undisturbed runs have obligations too).
    var obligationDeadline: UInt64 { max(lastDisturbanceEnd, 1000) }

    mutating func setUp() {
        let faulty = Set(rng.shuffled(Array(0 ..< config.validators)).prefix(config.byzantine))
        for index in 0 ..< config.validators {
            var behaviour = Behaviour.honest
            if faulty.contains(index) {
                behaviour = config.behaviour == .mixed ? Behaviour.faulty[rng.int(below: Behaviour.faulty.count)] : config.behaviour
            }
            let node = SimNode(index: index, behaviour: behaviour, core: makeCore(index), verifier: makeVerifier(index))
            let coin = SimulatedCoin(seed: config.seed, validators: config.validators, me: index)
            node.oracle = OrderingOracle(validators: config.validators, gcDepth: config.gcDepth) { wave, shares in
                try? coin.combine(wave: wave, shares: shares).leader
            }
            nodes.append(node)
        }
        if nodes.contains(where: { $0.behaviour == .adversarialEdges }) {
            let honest = nodes.filter(\.isHonest).map(\.index)
            victim = honest.isEmpty ? nil : honest[rng.int(below: honest.count)]
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
            inFlight[from * config.validators + to] -= 1
            let node = nodes[to]
            guard node.alive else { return }
            if node.behaviour == .replay, node.received.count < 400 { node.received.append(message) }
            // A flooder ignores the answers it provoked (verifying them would only slow the run).
            if node.behaviour == .flood, case .certificates = message { return }
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
                    // keeps the full history, not from the core's garbage-collected memory, within
                    // a per-peer budget.
                    guard node.fetchServing.admit(peer: from, nowMs: now) else {
                        rejected[RejectReason.fetchFlood.rawValue, default: 0] += 1
                        return
                    }
                    for message in node.fetchServing.answers(answer).messages { send(from: to, to: from, message) }
                    return
                }
                if case let .vote(vote) = verified, node.rewrittenVotes[vote.digest] != nil {
                    collectRewrittenVote(vote, at: node)
                    return
                }
                let directives = timed(node) { $0.onMessage(verified, from: from, nowMs: now) }
                execute(directives, for: node)
                if node.isHonest {
                    maxBufferedProposals = max(maxBufferedProposals, node.core.bufferedProposalCount)
                    maxBufferedCertificates = max(maxBufferedCertificates, node.core.bufferedCertificateCount)
                }
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
                let taken = node.core.onRecords(records)
                node.recordsTaken += records.prefix(taken).map { ($0, now) }
            }
            let directives = timed(node) { $0.onTick(nowMs: now) }
            execute(directives, for: node)
            misbehaveOnTick(node)
        case let .crash(index):
            let node = nodes[index]
            guard node.alive else { return }
            node.everCrashed = true
            // Half the time the crash lands in the middle of the node's next step, after any of
            // its directives.
            if rng.double() < 0.5 {
                node.crashInNextStep = true
            } else {
                node.alive = false
            }
        case let .restart(index):
            let node = nodes[index]
            node.alive = true
            node.crashInNextStep = false
            node.fetchServing = FetchServing(settings: settings[index])
            node.rewritten = [:]
            node.rewrittenVotes = [:]
            node.rewrittenByDigest = [:]
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
        var limit = directives.count
        let crashing = node.crashInNextStep
        if crashing {
            node.crashInNextStep = false
            limit = rng.int(below: directives.count + 1)
        }
        for (position, directive) in directives.enumerated() {
            if position >= limit { break }
            switch directive {
            case let .persistProposal(signed):
                node.store.ownProposals[signed.vertex.round] = signed
            case let .persistVote(vote):
                node.store.votes.append(vote)
            case let .storeCertificate(certificate):
                node.store.certificates[certificate.digest] = certificate.certificate
                checker.observe(certificate.certificate)
                noteStored(certificate, by: node)
                if node.isHonest { node.oracle.add(certificate.digest, certificate.certificate) }
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
                    if node.isHonest { node.deliveredRecords.formUnion(certificate.vertex.payload) }
                    node.store.delivered.append((certificate.digest, certificate.vertex.round, committed.leaderRound))
                    node.store.deliveredSet.insert(certificate.digest)
                    node.latencySum += Double(node.core.round >= certificate.vertex.round ? node.core.round - certificate.vertex.round : 0)
                    node.latencyCount += 1
                }
                if node.isHonest, node.oracleViolation == nil, !node.oracle.delivered.starts(with: node.store.delivered.lazy.map(\.digest)) {
                    node.oracleViolation = "oracle: at \(now) ms validator \(node.index) had delivered \(node.store.delivered.count) vertices through wave \(committed.wave), "
                        + "but DAG-Rider's rules over its DAG deliver \(node.oracle.delivered.count) through wave \(node.oracle.decided)"
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
        if crashing { node.alive = false }
    }

    mutating func noteStored(_ certificate: VerifiedCertificate, by node: SimNode) {
        let author = Int(certificate.vertex.author)
        guard node.isHonest, nodes[author].isHonest, now <= obligationDeadline, !obligations.contains(certificate.digest) else { return }
        storedBy[certificate.digest, default: []].insert(node.index)
        if storedBy[certificate.digest]!.count >= settings[0].committee.quorum {
            storedBy[certificate.digest] = nil
            // With garbage collection, DAG-Rider delivers a vertex only while it lies within gcDepth
            // rounds of the leader that commits it (ARCHITECTURE §4): one that became available
            // when the honest frontier was already half a GC depth past it (e.g. a restarted
            // validator's old proposal certified late) is not owed delivery.
            let frontier = nodes.filter { $0.isHonest && $0.alive }.map(\.core.round).max() ?? 0
            if certificate.vertex.round + config.gcDepth / 2 >= frontier {
                obligations.insert(certificate.digest)
            } else {
                lateCertificates += 1
            }
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
        case .adversarialEdges:
            if case let .vote(vote) = message, Int(vote.author) == victim { return }
            if case let .proposal(signed) = message, Int(signed.vertex.author) == from {
                outgoing = .proposal(rewrite(signed, at: sender))
            }
        case .invalidSignature:
            outgoing = corruptSignatures(message)
        case .invalidCoin:
            if case let .proposal(signed) = message, signed.vertex.coinShare != nil, Int(signed.vertex.author) == from {
                outgoing = .proposal(rewrite(signed, at: sender))
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
        let link = from * config.validators + to
        // Only honest senders have the mesh's bounded queues; a Byzantine one writes as it likes.
        guard inFlight[link] < config.linkQueueCapacity || !nodes[from].isHonest else {
            lostOnOverflow += 1
            return
        }
        inFlight[link] += 1
        var at = now + 1 + extraDelayMs + UInt64(rng.exponential(mean: config.meanDelayMs))
        // adversarial-edges: the adversary also owns the schedule and slows the victim's links, so
        // its vertices arrive late and gather little strong support.
        if from == victim { at += UInt64(rng.exponential(mean: 4 * config.meanDelayMs)) }
        while rng.double() < config.lossRate { at += config.retransmitMs }
        if let groups = partition, !groups.contains(where: { $0.contains(from) && $0.contains(to) }) {
            at = max(at, healAt + UInt64(rng.exponential(mean: config.meanDelayMs)))
        }
        queue.push(.deliver(to: to, from: from, message), at: at)
    }

    /// A Byzantine validator's own proposal as it really sends it, re-signed (and remembered, so a
    /// repeated proposal stays the same vertex); the votes for it are gathered outside its core.
    /// adversarial-edges: without edges to the victim's vertices, wherever 2f+1 strong edges
    /// remain. invalid-coin: with a garbage coin share (certified only if verifiers fail to check).
    mutating func rewrite(_ signed: SignedVertex, at node: SimNode) -> SignedVertex {
        let original = SigningMessages.vertexDigest(signed.vertex)
        if let known = node.rewritten[original] { return known }
        var vertex = signed.vertex
        if node.behaviour == .adversarialEdges {
            let victimDigests = Set(node.store.certificates.filter { Int($0.value.vertex.author) == victim }.map(\.key))
            let strong = vertex.strongEdges.filter { !victimDigests.contains($0) }
            if strong.count >= settings[node.index].committee.quorum { vertex.strongEdges = strong }
            vertex.weakEdges = vertex.weakEdges.filter { !victimDigests.contains($0) }
        } else {
            vertex.coinShare?.share = CurvePoint(uncheckedBytes: [UInt8](repeating: 7, count: 32))
        }
        let result = resign(vertex, as: node.index)
        let digest = SigningMessages.vertexDigest(vertex)
        node.rewritten[original] = result
        node.rewrittenByDigest[digest] = result
        if node.rewrittenVotes[digest] == nil {
            // Its own vote first, as an honest author's core casts one for its own vertex.
            let own = KeyedHashSignatures(keys: signatures.keys, me: node.index).sign(SigningMessages.vote(chain: settings[node.index].committee.chain, digest: digest))
            node.rewrittenVotes[digest] = [UInt32(node.index): own]
        }
        return result
    }

    /// adversarial-edges: votes for a rewritten proposal, which its core does not know; at 2f+1
    /// the certificate goes to every peer and, through its own verifier, into its own core.
    mutating func collectRewrittenVote(_ vote: Vote, at node: SimNode) {
        guard var votes = node.rewrittenVotes[vote.digest], votes.count < settings[node.index].committee.quorum else { return }
        votes[vote.voter] = vote.signature
        node.rewrittenVotes[vote.digest] = votes
        guard votes.count >= settings[node.index].committee.quorum, let signed = node.rewrittenByDigest[vote.digest] else { return }
        let certificate = Certificate(signedVertex: signed, votes: votes.keys.sorted().map { CertificateVote(voter: $0, signature: votes[$0]!) })
        for peer in 0 ..< config.validators where peer != node.index { send(from: node.index, to: peer, .certificate(certificate)) }
        let someone = (node.index + 1) % config.validators
        if case let .success(verified) = node.verifier.verify(.certificate(certificate), from: someone) {
            let directives = timed(node) { $0.onMessage(verified, from: someone, nowMs: now) }
            execute(directives, for: node)
        }
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
        case .flood:
            // About five bursts a second (ticks come every 20 ms).
            guard rng.double() < 0.1 else { return }
            let committee = settings[node.index].committee
            let current = node.core.round
            let coin = SimulatedCoin(seed: config.seed, validators: config.validators, me: node.index)
            // Two distinct proposals for each of the next two slots, one for an old slot and one for
            // round 1 — each with the most weak edges a vertex may carry, to digests nobody has.
            for round in [current + 1, current + 2, current > 6 ? current - 5 : 2, 1] {
                for copy in 0 ..< 2 {
                    let strong = round == 1 ? [] : (0 ..< committee.quorum).map { _ in Digest(uncheckedBytes: rng.bytes(32)) }
                    let weak = round <= 2 ? [] : (0 ..< committee.maxWeakEdges).map { _ in Digest(uncheckedBytes: rng.bytes(32)) }
                    let vertex = Vertex(round: round, author: UInt32(node.index), strongEdges: strong, weakEdges: weak,
                                        payload: [Array("flood-\(node.index)-\(round)-\(copy)-\(now)".utf8)],
                                        coinShare: Wave.coinWave(carriedIn: round).map { try! coin.makeShare(wave: $0) })
                    let signed = resign(vertex, as: node.index)
                    for peer in 0 ..< config.validators where peer != node.index { transmit(from: node.index, to: peer, .proposal(signed)) }
                }
            }
            // Catch-up requests far over the per-peer budget (about 200 a second): one whole window
            // of history, single rounds (small answers keep the simulation fast; the budget counts
            // requests), one range no validator serves, and unknown digests.
            let window = settings[node.index].futureRoundWindow
            for peer in 0 ..< config.validators where peer != node.index {
                transmit(from: node.index, to: peer, .fetchRounds(from: 1, to: window))
                for _ in 0 ..< 38 {
                    let round = 1 + UInt64(rng.int(below: Int(max(1, current))))
                    transmit(from: node.index, to: peer, .fetchRounds(from: round, to: round))
                }
                transmit(from: node.index, to: peer, .fetchRounds(from: 0, to: UInt64.max))
                transmit(from: node.index, to: peer, .fetchCertificates((0 ..< 8).map { _ in Digest(uncheckedBytes: rng.bytes(32)) }))
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
        // The independent oracle: at every commit each honest validator's sequence was a prefix of
        // what Alg. 3 derives from its DAG; at the end it is all of it (a prefix for one that died
        // mid-step at the end).
        for node in honest {
            if let problem = node.oracleViolation { violations.append(problem) }
            let expected = node.oracle.delivered
            let actual = node.store.delivered.map(\.digest)
            let agrees = node.alive ? actual == expected : expected.starts(with: actual)
            if node.oracleViolation == nil && !agrees {
                let at = zip(actual, expected).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(actual.count, expected.count)
                violations.append("oracle: validator \(node.index) delivered \(actual.count) vertices, Alg. 3 over its DAG gives \(expected.count); first difference at position \(at)")
            }
        }
        // Validity: honest certificates that 2f+1 honest validators stored by the deadline.
        if !obligationsMet && config.byzantine <= config.faults {
            for node in honest where node.alive {
                let missing = obligations.subtracting(node.store.deliveredSet)
                if let example = missing.min() {
                    violations.append("validity: validator \(node.index) never delivered \(missing.count) honest certificates that 2f+1 honest validators stored by \(obligationDeadline) ms (e.g. \(example.short), round \(node.store.certificates[example]?.vertex.round ?? 0))")
                }
            }
        }
        let lostRecords = undeliveredRecords()
        if let example = lostRecords.first {
            violations.append("records: \(lostRecords.count) records taken by honest validators that never crashed were never delivered everywhere (e.g. validator \(example.validator)'s \(String(decoding: example.record, as: UTF8.self)))")
        }
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
        result.maxBufferedProposals = maxBufferedProposals
        result.maxBufferedCertificates = maxBufferedCertificates
        result.lostOnOverflow = lostOnOverflow
        result.obligations = obligations.count
        result.lateCertificates = lateCertificates
        if config.recordDAG {
            for node in honest { result.export[node.index] = DAGExport.lines(store: node.store) }
        }
        return result
    }
}
