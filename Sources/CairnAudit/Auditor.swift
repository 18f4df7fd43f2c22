import CairnCore
import CairnCrypto
import CairnLedger
import CairnChain
import CairnStorage
import ConsensusOracle
import DAGRider

/// `cairn audit`: replays a node's stored sequence from genesis without trusting anything the
/// node computed (ARCHITECTURE §1 "auditors replay and verify the ledger from genesis"). Every
/// certificate's votes and every record's signature are checked again, the sequence hash chain is
/// recomputed, the ledger is re-executed leader by leader, and the results are compared with what
/// the node stored: its sequence hashes, its state root at every window close, the checkpoint
/// certificates, and its current state root.
public struct Auditor {
    let store: ConsensusStore
    let genesis: Genesis
    let genesisHash: Digest

    public init(database: Database, genesis: Genesis, genesisHash: Digest) {
        store = ConsensusStore(database: database)
        self.genesis = genesis
        self.genesisHash = genesisHash
    }

    public struct Report: Sendable, Encodable {
        public var positions: UInt64 = 0
        public var leaders = 0
        public var recordsExecuted = 0
        public var recordsRejected = 0
        public var windowsClosed = 0
        public var checkpointsChecked = 0
        /// Window closes at which Σ balances + burned = genesis supply + Σ emissions was checked (D53).
        public var supplyChecks = 0
        /// Window states the node keeps for Merkle proofs (D58) found equal to the replay's.
        public var stateCopiesChecked = 0
        /// Positions whose vertex DAG-Rider's ordering, re-derived from the stored certificates,
        /// puts there too (D54), and the leaders it committed.
        public var orderChecked: UInt64 = 0
        public var leadersRederived = 0
        /// The node's stored state entries compared with the replay's, one by one.
        public var stateEntriesChecked = 0
        /// Ed25519 signatures the replay verified on delivered vertices (the vertex's own and its
        /// certificate's votes) and records: what the replay-speed ceiling is measured against.
        public var signaturesChecked = 0
        public var stateRoot = ""
        public var nodeStateRoot = ""
        public var sequenceHash = ""
        /// The first disagreement, naming the position or window and both values; nil when none.
        public var problem: String?

        enum CodingKeys: String, CodingKey {
            case positions, leaders, recordsExecuted = "records_executed", recordsRejected = "records_rejected",
                 windowsClosed = "windows_closed", checkpointsChecked = "checkpoints_checked", supplyChecks = "supply_checks", stateCopiesChecked = "state_copies_checked", orderChecked = "order_checked", leadersRederived = "leaders_rederived", stateRoot = "state_root",
                 stateEntriesChecked = "state_entries_checked", signaturesChecked = "signatures_checked",
                 nodeStateRoot = "node_state_root", sequenceHash = "sequence_hash", problem
        }
    }

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// Ends a replay at a window close (`state(afterClose:)`), carrying the state there.
    struct Stop: Error {
        var entries: [(key: [UInt8], value: [UInt8])]
    }

    /// When set, the replay stops right after this window's close has been checked.
    var stopAfterClose: UInt64?

    /// The ledger state right after window `window` closed, as the replay from genesis computes it
    /// (every check up to there applied). Throws the first problem found before it, or when the
    /// stored history never closes that window.
    public func state(afterClose window: UInt64) throws -> [(key: [UInt8], value: [UInt8])] {
        var replay = self
        replay.stopAfterClose = window
        do {
            let report = try replay.run()
            if let problem = report.problem { throw Failure(description: problem) }
            throw Failure(description: "window \(window) never closed in the stored history (\(report.windowsClosed) windows closed)")
        } catch let stop as Stop {
            return stop.entries
        }
    }

    /// Replays positions 0 ..< the node's delivered count (as of the moment the audit starts).
    /// `report(done, total)` is called every 256 positions and at the end.
    public func run(progress report: (UInt64, UInt64) -> Void = { _, _ in }) throws -> Report {
        let progress = try store.progress()
        guard try store.prunedBelow() == 0 else {
            throw Failure(description: "this database was pruned (`cairn prune`); a replay from genesis needs full history — audit a node that kept it")
        }
        // The order pass checks every certificate first; its cache spares the replay a second pass.
        let dag = try CertifiedDAG(store: store, genesis: genesis, genesisHash: genesisHash, history: progress.delivered)
        var replay = try AuditReplay(auditor: self, progress: progress, dag: dag)
        // DAG-Rider re-derived from every certificate first: its pass checks every certificate's
        // signatures on every core and leaves the answers in the cache for the replay below; the
        // comparison with the stored order comes after the replay.
        let oracle: OrderingOracle
        do {
            oracle = try dag.rederive()
        } catch let inconsistent as CertifiedDAG.Inconsistent {
            return replay.fail(inconsistent.description)
        }
        if let problem = try replay.replaySequence(report: report) { return replay.fail(problem) }
        if let problem = dag.issues.first { return replay.fail(problem) }
        if let problem = try replay.checkOrder(oracle) { return replay.fail(problem) }
        if let problem = try replay.checkCheckpoints() { return replay.fail(problem) }
        if let problem = replay.checkFinalRoot() { return replay.fail(problem) }
        if let problem = try replay.compareState() { return replay.fail(problem) }
        return replay.result
    }
}
