import CairnChain
import CairnCore
import CairnCrypto
import CairnLedger
import CairnStorage
import ConsensusOracle
import DAGRider

/// One replay of a node's stored history (`Auditor.run`), as named passes over its state: the
/// delivered sequence re-executed leader by leader with every window close checked, the order
/// against DAG-Rider re-derived, every checkpoint certificate, the final root and the stored
/// entries. Each pass returns the first problem it finds, or nil.
struct AuditReplay {
    let auditor: Auditor
    let progress: ConsensusStore.Progress
    let dag: CertifiedDAG
    let ledger: Ledger
    let genesisSupply: UInt64
    var state: InMemoryLedgerStore
    var result = Auditor.Report()
    var sequenceHash = Digest.zero
    /// What the replay found at each window close: the checkpoint certificates must say the same.
    var closes: [UInt64: (stateRoot: Digest, sequenceHash: Digest, modelHash: Digest)] = [:]

    var store: ConsensusStore { auditor.store }
    var genesis: Genesis { auditor.genesis }
    var genesisHash: Digest { auditor.genesisHash }
    var coin: any CoinScheme { dag.coin }
    var verifier: MessageVerifier { dag.verifier }

    init(auditor: Auditor, progress: ConsensusStore.Progress, dag: CertifiedDAG) throws {
        self.auditor = auditor
        self.progress = progress
        self.dag = dag
        let genesis = auditor.genesis
        // The outer step is recomputed from the stored pseudo-gradient blobs, never read from the node.
        let updater = try ModelUpdater(blobs: BlobStore(database: auditor.store.database), task: genesis.task, storesModels: false)
        ledger = Ledger(genesis: genesis, genesisHash: auditor.genesisHash, transition: updater)
        state = InMemoryLedgerStore(entries: try Ledger.genesisState(genesis, model: try ModelUpdater.initialModel(genesis: genesis, blobs: nil)))
        genesisSupply = try state.state[StateKey.supply].map { try Supply(canonicalBytes: $0) }?.created ?? 0
    }

    /// The report so far, with `problem`.
    func fail(_ problem: String) -> Auditor.Report {
        var failed = result
        failed.problem = problem
        failed.sequenceHash = sequenceHash.hex
        return failed
    }

    /// The delivered sequence, position by position: each certificate checked (2f+1 valid votes),
    /// the sequence hash chain recomputed, and each leader's vertices executed once its group is
    /// complete (the last certificate of a leader's group is the leader itself: delivery sorts by
    /// round). `report(done, total)` every 256 positions.
    mutating func replaySequence(report: (UInt64, UInt64) -> Void) throws -> String? {
        var pending: [DeliveredVertex] = []
        var pendingLeaderRound: UInt64?
        var pendingLeader: Vertex?
        var position: UInt64 = 0
        while position < progress.delivered {
            guard let entry = try store.sequenceEntry(position) else {
                return "position \(position): no sequence entry although the node reports \(progress.delivered) delivered"
            }
            let (digest, leaderRound, storedHash) = (entry.digest, entry.leaderRound, entry.sequenceHash)
            guard let certificate = try store.certificates([digest]).first else {
                return "position \(position): certificate \(digest.hex) is missing from storage"
            }
            guard case let .success(verified) = verifier.verify(certificate), verified.digest == digest else {
                return "position \(position): certificate \(digest.hex) does not carry 2f+1 valid votes for that vertex"
            }
            result.signaturesChecked += certificate.votes.count + 1
            // A new leader round: the previous leader's vertices are complete; execute them with
            // the sequence hash as it stood after its last vertex.
            if let current = pendingLeaderRound, current != leaderRound, let leader = pendingLeader {
                if let problem = try executeLeader(pending, leaderRound: current, leader: leader) { return problem }
                pending = []
            }
            sequenceHash = Hashing.digest(.sequence, sequenceHash.bytes + digest.bytes)
            guard sequenceHash == storedHash else {
                return "position \(position): stored sequence hash \(storedHash.hex), recomputed \(sequenceHash.hex)"
            }
            pendingLeaderRound = leaderRound
            pendingLeader = certificate.vertex
            pending.append(DeliveredVertex(position: position, payload: certificate.vertex.payload))
            position += 1
            result.positions = position
            if position % 256 == 0 { report(position, progress.delivered) }
        }
        if let current = pendingLeaderRound, let leader = pendingLeader,
           let problem = try executeLeader(pending, leaderRound: current, leader: leader) { return problem }
        return nil
    }

    /// The committing wave's beacon, recomputed from the coin shares its round-4w+1 certificates
    /// carry (each share checked), not taken from the node.
    /// A leader round that is not a wave's first round (damaged or forged storage) has no
    /// beacon: nil, reported as a mismatch, never an overflow.
    func beacon(leaderRound: UInt64) throws -> Digest? {
        guard leaderRound >= 1, leaderRound % 4 == 1, leaderRound < UInt64.max - 8 else { return nil }
        let wave = (leaderRound - 1) / 4 + 1
        // Only certified vertices' shares (the certificate check verified each one); the
        // combined value is the same from any f+1 valid shares, so the oracle's is reused.
        if let known = dag.memo.known(wave: wave) { return known?.beacon }
        let certified = try store.certificates(rounds: 4 * wave + 1, to: 4 * wave + 1, limit: genesis.validators.count)
            .filter { if case .success = verifier.verify($0) { true } else { false } }
        let shares = certified.compactMap(\.vertex.coinShare)
        return dag.memo.value(wave: wave) { try? coin.combine(wave: wave, shares: Array(shares.prefix(genesis.faultTolerance + 1))) }?.beacon
    }

    /// The leader's consensus time, recomputed from its strong parents' stored certificates.
    func consensusTime(of leader: Vertex) throws -> UInt64? {
        let parents = try store.certificates(leader.strongEdges)
        guard parents.count == leader.strongEdges.count else { return nil }
        return ConsensusTime.leaderTime(parents.map(\.vertex.timestampMs), faults: genesis.faultTolerance) ?? 0
    }

    /// Executes the vertices of one committed leader and checks every window it closed.
    mutating func executeLeader(_ vertices: [DeliveredVertex], leaderRound: UInt64, leader: Vertex) throws -> String? {
        guard leader.round == leaderRound else {
            return "leader round \(leaderRound): the last vertex delivered with this leader is of round \(leader.round); a leader is delivered last"
        }
        guard let beacon = try beacon(leaderRound: leaderRound) else {
            return "leader round \(leaderRound): fewer than f+1 valid coin shares stored for its wave; the beacon cannot be recomputed"
        }
        guard let timeMs = try consensusTime(of: leader) else {
            return "leader round \(leaderRound): a strong parent's certificate is missing from storage; its consensus time cannot be recomputed"
        }
        // Every record's signature, checked on every core before the (sequential) execution.
        let records = vertices.flatMap(\.payload).compactMap { bytes in (try? SignedRecord(canonicalBytes: bytes)).map { (bytes: bytes, record: $0) } }
        let chain = genesisHash
        let valid = Parallel.map(records) { entry in
            entry.record.author.verify(entry.record.signature, for: SignedRecord.signingBytes(chain: chain, author: entry.record.author,
                                                                                            nonce: entry.record.nonce, body: entry.record.body))
        }
        // By id over the delivered bytes, as the ledger computes it.
        let verified = Set(zip(records, valid).filter(\.1).map { Hashing.digest(.record, $0.0.bytes) })
        var overlay = Overlay()
        let execution = try ledger.execute(vertices, leaderTimeMs: timeMs, leaderRound: leaderRound, beacon: beacon, store: state, overlay: &overlay,
                                           verifyRecord: { _, id in verified.contains(id) })
        state.commit(overlay)
        result.leaders += 1
        result.signaturesChecked += execution.records.count
        for record in execution.records {
            let accepted: Bool
            if case .accepted = record.outcome { accepted = true } else { accepted = false }
            if accepted { result.recordsExecuted += 1 } else { result.recordsRejected += 1 }
            if let stored = try store.recordStatus(record.id), (stored.rejection == nil) != accepted {
                return "record \(record.id.hex) at position \(record.position): the node stored \(stored.rejection.map { "rejected (\($0))" } ?? "executed"), the replay \(record.outcome)"
            }
        }
        guard !execution.closedWindows.isEmpty else { return nil }
        if let problem = try checkSupply(closing: execution.closedWindows) { return problem }
        let root = state.root
        for window in execution.closedWindows {
            result.windowsClosed += 1
            let model = window < .max ? try state.state[StateKey.model(window + 1)].map { try ModelRecord(canonicalBytes: $0).hash } : nil
            closes[window] = (root, sequenceHash, model ?? .zero)
            // Missing data is a failure, never a skip: a node that closed a window keeps its record.
            guard let ours = try store.closedWindow(window) else {
                return "window \(window): the replay closes it at position \(vertices.last?.position ?? 0), but the node has no record of that close (its window-close entry is missing); the node's storage is incomplete or was altered"
            }
            if ours.stateRoot != root || ours.sequenceHash != sequenceHash {
                return "window \(window): the node recorded state root \(ours.stateRoot.hex) / sequence hash \(ours.sequenceHash.hex) at its close, the replay gives \(root.hex) / \(sequenceHash.hex)"
            }
            // The copy it proves entries from must be that state too, or its proofs would fail
            // light clients (or, with a forged certificate, mislead them).
            if let kept = try store.stateSnapshot(window: window) {
                let keptRoot = Ledger.stateRoot(kept)
                guard keptRoot == root else {
                    return "window \(window): the state copy the node keeps for proofs hashes to \(keptRoot.hex), the replay's state at the close to \(root.hex); proofs it serves for this window are wrong"
                }
                result.stateCopiesChecked += 1
            }
            if window == auditor.stopAfterClose { throw Auditor.Stop(entries: try state.entries(prefix: [])) }
        }
        return nil
    }

    /// Σ balances + burned = created, and created = genesis supply + Σ emissions, exactly (D53).
    mutating func checkSupply(closing windows: [UInt64]) throws -> String? {
        let supply = try state.state[StateKey.supply].map { try Supply(canonicalBytes: $0) } ?? Supply(created: 0)
        var balances: UInt128 = 0
        for (_, value) in try state.entries(prefix: Array("a/".utf8)) { balances += UInt128(try Account(canonicalBytes: value).balance) }
        var emitted: UInt128 = 0
        for (_, value) in try state.entries(prefix: Array("wr/".utf8)) { emitted += UInt128(try WindowRewards(canonicalBytes: value).emitted) }
        result.supplyChecks += 1
        guard balances + UInt128(supply.burned) == UInt128(supply.created), UInt128(supply.created) == UInt128(genesisSupply) + emitted else {
            return "window \(windows.last ?? 0): Σ balances \(balances) + burned \(supply.burned) ≠ created \(supply.created), or created ≠ genesis \(genesisSupply) + emitted \(emitted): the supply is not conserved"
        }
        return nil
    }

    /// The order itself (D54): DAG-Rider's decisions — leaders from the combined coin, the
    /// direct and recursive commit rules, delivery in (round, author) order above the GC line —
    /// re-derived by an implementation apart from the node's core (`OrderingOracle`) from every
    /// stored certificate with 2f+1 valid votes, fed in (round, author) order. Its delivered
    /// sequence must extend the node's stored one: a node that reordered, dropped or inserted a
    /// vertex, even with every stored hash rewritten, fails at the first differing position.
    mutating func checkOrder(_ oracle: OrderingOracle) throws -> String? {
        result.leadersRederived = oracle.leaders.count
        for position in 0 ..< progress.delivered {
            guard let entry = try store.sequenceEntry(position) else { return "position \(position): no sequence entry" }
            guard position < UInt64(oracle.delivered.count) else {
                return "position \(position): the node delivered \(entry.digest.hex), but DAG-Rider over the stored certificates delivers only \(oracle.delivered.count) vertices; the node's order does not follow from its certificates"
            }
            let expected = oracle.delivered[Int(position)]
            guard expected == entry.digest else {
                return "position \(position): DAG-Rider over the stored certificates delivers \(expected.hex) here, the node stored \(entry.digest.hex); its sequence is not the one its certificates decide"
            }
            result.orderChecked = position + 1
        }
        return nil
    }

    /// Every checkpoint certificate the replay formed: 2f+1 valid signatures against genesis, and
    /// the state root, sequence hash and model hash the replay itself reached at that close.
    mutating func checkCheckpoints() throws -> String? {
        for (_, value) in try state.entries(prefix: Array("k/".utf8)) {
            let certificate = try CheckpointCertificate(canonicalBytes: value)
            let vote = certificate.vote
            result.checkpointsChecked += 1
            let problems = CheckpointCheck.problems(certificate, genesis: genesis, genesisHash: genesisHash)
            guard problems.isEmpty else { return "checkpoint of window \(vote.window): \(problems.joined(separator: "; "))" }
            guard let close = closes[vote.window] else {
                return "checkpoint of window \(vote.window): certified, but the replay never closed that window"
            }
            for (name, certified, replayed) in [("state root", vote.stateRoot, close.stateRoot), ("sequence hash", vote.sequenceHash, close.sequenceHash),
                                                ("model hash", vote.modelHash, close.modelHash)] where certified != replayed {
                return "checkpoint of window \(vote.window): 2f+1 validators certified \(name) \(certified.hex), the replay gives \(replayed.hex); the certified history is not the one stored here"
            }
        }
        return nil
    }

    /// The replay's final state root against the node's.
    mutating func checkFinalRoot() -> String? {
        result.stateRoot = state.root.hex
        result.nodeStateRoot = progress.stateRoot.hex
        result.sequenceHash = sequenceHash.hex
        if state.root != progress.stateRoot {
            let at = progress.delivered == 0 ? "before the first position" : "after position \(progress.delivered - 1)"
            return "\(at): the node's state root is \(progress.stateRoot.hex), the replay gives \(state.root.hex)"
        }
        return nil
    }

    /// The node's state entries themselves: its recorded root can agree with the replay while a
    /// stored value (a balance, a payout) was changed afterwards. (The audit opens a fixed view of
    /// the database, so the entries belong to the same moment as the progress read.)
    mutating func compareState() throws -> String? {
        let ours = try store.stateEntries()
        let replayed = try state.entries(prefix: [])
        for (i, entry) in replayed.enumerated() {
            guard i < ours.count else { return "state: the node lacks entry \(StateKey.describe(entry.key)) (and \(replayed.count - i - 1) after it)" }
            let stored = ours[i]
            if stored.key != entry.key {
                let first = stored.key.lexicographicallyPrecedes(entry.key) ? stored.key : entry.key
                return "state: entry \(StateKey.describe(first)) is \(first == stored.key ? "stored by the node but not produced by the replay" : "produced by the replay but missing from the node")"
            }
            if stored.value != entry.value {
                return "state: entry \(StateKey.describe(entry.key)) holds \(Hex.encode(stored.value)) at the node, the replay gives \(Hex.encode(entry.value)); the node's stored state was altered after execution"
            }
            result.stateEntriesChecked += 1
        }
        if ours.count > replayed.count { return "state: the node stores entry \(StateKey.describe(ours[replayed.count].key)) that the replay does not produce" }
        return nil
    }
}
