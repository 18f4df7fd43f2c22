import CairnChain
import CairnCore
import CairnCrypto
import CairnLedger
import CairnStorage
import CairnTraining
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Logging
import NIOConcurrencyHelpers

/// What the evaluation service does next for one contribution (pure; D47's phases): evaluate it,
/// submit the commitment to an evaluation already computed, reveal it, or nothing.
public enum EvaluationStep: Equatable, Sendable {
    case evaluate
    case commit
    case reveal
    case none

    /// `journaled`: an evaluation (with its salt) is stored locally; `committed`/`revealed`: state
    /// holds this validator's commitment/reveal; `inFlight*`: submitted, not yet in state;
    /// `modelReady`: the model the contribution is evaluated on (θ_{k+1} for window k, D59) is in
    /// state — it is computed at window k's close, so nothing is evaluated before.
    public static func next(phase: EvaluationPhase, journaled: Bool, committed: Bool, revealed: Bool,
                            inFlightCommit: Bool, inFlightReveal: Bool, modelReady: Bool = true) -> EvaluationStep {
        switch phase {
        case .closed: return .none
        case .commit:
            if committed || inFlightCommit { return .none }
            return journaled ? .commit : (modelReady ? .evaluate : .none)
        case .reveal:
            // Without a commitment in state a reveal is rejected (`no_commitment`): nothing to do.
            guard committed, journaled, !revealed, !inFlightReveal else { return .none }
            return .reveal
        }
    }
}

/// The evaluation service of a validator (ARCHITECTURE §6, D47): off the consensus actor, it
/// evaluates every contribution committed in the current or previous window — once, one at a time
/// (bounded memory: one decoded model, kept while its contributions are evaluated, and one
/// workspace) — journals the evaluation and its salt in the `meta` column family before committing
/// to it, and reveals it once the commit deadline passed. It reads state through RocksDB (safe
/// beside the consensus actor's writes) and submits its records through
/// `ConsensusNode.submitOwnRecord`, so they share the validator's nonce sequence.
public actor EvaluationService {
    let validator: Validator
    let evaluator: Evaluator
    let updater: ModelUpdater
    let me: UInt32
    let logger: Logger
    let behaviour: EvaluatorBehaviour
    public nonisolated let telemetry: NodeTelemetry
    var inFlightCommits: Set<Digest> = []
    var inFlightReveals: Set<Digest> = []
    /// Contributions this service gave up on (their blob missing beyond its window, an error).
    var failed: Set<Digest> = []
    /// The last window this service saw open (for its log line).
    var lastSeenWindow: UInt64?
    /// `copy-commitment`: whose commitment was copied, by contribution.
    var copiedFrom: [Digest: UInt32] = [:]
    /// The model being evaluated on, decoded, and its baselines by seed (one model at a time).
    var cache: BaseCache?

    struct BaseCache {
        var model: Digest
        var parameters: [Float]
        var baselines: [Digest: Evaluator.Baseline] = [:]
    }

    public init(validator: Validator, task: ReferenceTask, logger: Logger) {
        self.validator = validator
        telemetry = validator.telemetry
        let spec = validator.genesis.task
        evaluator = ContributionEvaluation.evaluator(task: task, spec: spec)
        updater = validator.modelUpdater
        me = UInt32(validator.index)
        self.logger = logger
        behaviour = validator.config.evaluatorBehaviour
    }

    static func journalKey(_ contribution: Digest) -> [UInt8] { Array("evaluation/".utf8) + contribution.bytes }

    /// Polls state every `interval` until cancelled: 100 ms, so a reveal goes out within a round
    /// or two of the reveal phase beginning even when rounds are fast (D59; a reveal phase spans
    /// at least three committed leaders).
    public func run(interval: Duration = .milliseconds(100)) async {
        while !Task.isCancelled {
            var evaluated = false
            do {
                evaluated = try await pass()
            } catch {
                logger.error("evaluation pass failed", metadata: ["error": "\(error)"])
            }
            if !evaluated { try? await Task.sleep(for: interval) }
        }
    }

    /// One look at state: every contribution of the current and previous window gets its next
    /// commitment or reveal, then at most one is evaluated (true when one was); with nothing to
    /// evaluate, the held-out loss of the current window's model.
    @discardableResult
    public func pass() async throws -> Bool {
        let database = validator.database
        let windowMs = validator.windowMs
        guard let window = try database.get(WindowState.self, .state, StateKey.window) else { return false }
        if window.current != lastSeenWindow {
            // Consensus time against this machine's clock at each window it sees open: how far the
            // ledger's clock runs behind or ahead of the wall (D46, D59).
            let wall = Int64(bitPattern: ConsensusNode.unixTimeMs())
            logger.info("window open", metadata: [
                "ledger.window": "\(window.current)", "ledger.window_opened_at_ms": "\(window.openedAtMs)",
                "ledger.clock_ms": "\(window.clockMs)", "clock.wall_minus_consensus_ms": "\(wall &- Int64(bitPattern: window.clockMs))",
            ])
            lastSeenWindow = window.current
            failed.removeAll()  // each gets one more try in a new window
            // Baselines are per evaluation seed, i.e. per wave: none is reused in a later window,
            // and a model carried over several windows would otherwise keep them all.
            cache?.baselines.removeAll()
        }
        // Commitments and reveals first, then at most one evaluation per pass: a reveal never waits
        // behind a queue of evaluations (D59: the reveal phase is the last third of a window).
        var next: (id: Digest, stored: StoredContribution, window: UInt64)?
        for contributionWindow in [window.current > 0 ? window.current - 1 : nil, window.current].compactMap({ $0 }) {
            // Evaluated on θ_{k+1}, known at window k's close (D59); until then nothing is evaluated.
            let modelReady = try contributionWindow < .max
                && database.get(ColumnFamily.state.rawValue, StateKey.model(contributionWindow + 1)) != nil
            for (id, stored) in try ContributionEvaluation.order(window: contributionWindow, database: database) where !failed.contains(id) {
                // The phase as of the latest state (it may have moved on since the window was read).
                let current = try database.get(WindowState.self, .state, StateKey.window) ?? window
                let phase = current.evaluationPhase(contributionWindow: contributionWindow, windowMs: windowMs)
                let committed = try database.get(ColumnFamily.state.rawValue, StateKey.evaluationCommitment(contribution: id, validator: me)) != nil
                let revealed = try database.get(ColumnFamily.state.rawValue, StateKey.evaluation(contribution: id, validator: me)) != nil
                if committed { inFlightCommits.remove(id) }
                if revealed { inFlightReveals.remove(id) }
                let journal = try database.get(ColumnFamily.meta.rawValue, Self.journalKey(id)).flatMap { try? CairnCore.Evaluation(canonicalBytes: $0) }
                if behaviour == .copy {
                    try await copy(id: id, phase: phase, committed: committed, revealed: revealed)
                    continue
                }
                if behaviour == .copyCommitment {
                    try await copyCommitment(id: id, phase: phase, committed: committed, revealed: revealed)
                    continue
                }
                switch EvaluationStep.next(phase: phase, journaled: journal != nil, committed: committed, revealed: revealed,
                                           inFlightCommit: inFlightCommits.contains(id), inFlightReveal: inFlightReveals.contains(id),
                                           modelReady: modelReady) {
                case .none:
                    continue
                case .evaluate:
                    if next == nil { next = (id, stored, contributionWindow) }
                case .commit:
                    if let journal { try await commit(journal, window: contributionWindow) }
                case .reveal:
                    if let journal {
                        try await validator.node.submitOwnRecord(.evaluation(journal))
                        inFlightReveals.insert(id)
                        telemetry.count(.revealed)
                        logger.debug("evaluation revealed", metadata: ["contribution": "\(id.hex)"])
                    }
                }
            }
        }
        guard let (id, stored, contributionWindow) = next else {
            // Once per window, when no evaluation waits (it takes about a second).
            try await measureHeldOut(window: window.current)
            return false
        }
        do {
            let evaluation = try await evaluate(id: id, stored: stored, window: contributionWindow)
            try database.put(ColumnFamily.meta.rawValue, Self.journalKey(id), evaluation.canonicalBytes)
            try await commit(evaluation, window: contributionWindow)
        } catch {
            failed.insert(id)
            telemetry.count(.failed)
            logger.error("evaluation failed", metadata: ["contribution": "\(id.hex)", "error": "\(error)"])
        }
        return true
    }

    /// The `copy` behaviour: a commitment to random bytes in the commit phase, then, in the reveal
    /// phase, another validator's revealed evaluation under a fresh salt.
    func copy(id: Digest, phase: EvaluationPhase, committed: Bool, revealed: Bool) async throws {
        switch phase {
        case .commit where !committed && !inFlightCommits.contains(id):
            try await validator.node.submitOwnRecord(.evaluationCommit(EvaluationCommit(contribution: id,
                                                                                       commitment: try Digest(bytes: secureRandomBytes(Digest.byteCount)))))
            inFlightCommits.insert(id)
        case .reveal where committed && !revealed && !inFlightReveals.contains(id):
            var other: CairnCore.Evaluation?
            try validator.database.scan(ColumnFamily.state.rawValue, prefix: StateKey.evaluations(contribution: id)) { _, value in
                other = try? StoredEvaluation(canonicalBytes: value).evaluation
                return other == nil
            }
            guard var copied = other else { return }  // nobody revealed yet: look again next pass
            copied.salt = try Digest(bytes: secureRandomBytes(Digest.byteCount))
            try await validator.node.submitOwnRecord(.evaluation(copied))
            inFlightReveals.insert(id)
            logger.warning("testing.evaluator = copy: revealed another validator's evaluation", metadata: ["contribution": "\(id.hex)"])
        default:
            break
        }
    }

    /// The `copy-commitment` behaviour: another validator's commitment in the commit phase, then
    /// that validator's reveal, byte for byte, in the reveal phase.
    func copyCommitment(id: Digest, phase: EvaluationPhase, committed: Bool, revealed: Bool) async throws {
        func other(_ prefix: [UInt8]) throws -> (validator: UInt32, value: [UInt8])? {
            var found: (UInt32, [UInt8])?
            try validator.database.scan(ColumnFamily.state.rawValue, prefix: prefix) { key, value in
                if let index = try? UInt32(canonicalBytes: Array(key.suffix(4))), index != me { found = (index, value) }
                return found == nil
            }
            return found
        }
        switch phase {
        case .commit where !committed && !inFlightCommits.contains(id):
            guard let (victim, bytes) = try other(StateKey.evaluationCommitments(contribution: id)),
                  let stored = try? StoredCommitment(canonicalBytes: bytes) else { return }  // nobody committed yet
            try await validator.node.submitOwnRecord(.evaluationCommit(EvaluationCommit(contribution: id, commitment: stored.commitment)))
            inFlightCommits.insert(id)
            copiedFrom[id] = victim
            logger.warning("testing.evaluator = copy-commitment: committed another validator's commitment", metadata: ["contribution": "\(id.hex)", "victim": "\(victim)"])
        case .reveal where committed && !revealed && !inFlightReveals.contains(id):
            let key = copiedFrom[id].map { StateKey.evaluation(contribution: id, validator: $0) }
            guard let key, let bytes = try validator.database.get(ColumnFamily.state.rawValue, key),
                  let stored = try? StoredEvaluation(canonicalBytes: bytes) else { return }  // the victim has not revealed yet
            try await validator.node.submitOwnRecord(.evaluation(stored.evaluation))
            inFlightReveals.insert(id)
            logger.warning("testing.evaluator = copy-commitment: revealed the victim's evaluation byte for byte", metadata: ["contribution": "\(id.hex)"])
        default:
            break
        }
    }

    /// The held-out loss (genesis `held_out_contexts` of the held-out slice) of window `window`'s
    /// model, once per window, stored in `meta` for `GET /v1/windows/{k}` (each validator's own
    /// measurement; it never enters state).
    func measureHeldOut(window: UInt64) async throws {
        let database = validator.database
        guard try database.get(ColumnFamily.meta.rawValue, ContributionEvaluation.heldOutKey(window)) == nil,
              let model = try database.get(ModelRecord.self, .state, StateKey.model(window)) else { return }
        let parameters = try updater.parameters(of: model)
        let count = Int(validator.genesis.task.evaluation.heldOutContexts)
        let task = evaluator.task
        let loss = await Task.detached(priority: .utility) {
            task.heldOutLoss(parameters, count: count, workspace: ByteMLP.Workspace(layout: task.layout, capacity: ReferenceTask.batchCapacity))
        }.value
        guard try database.get(ColumnFamily.meta.rawValue, ContributionEvaluation.heldOutKey(window)) == nil else { return }
        try database.put(ColumnFamily.meta.rawValue, ContributionEvaluation.heldOutKey(window), loss.bitPattern.canonicalBytes)
        logger.info("held-out loss of the window's model", metadata: ["window": "\(window)", "model": "\(model.hash.hex)", "heldout_loss": "\(loss)"])
    }

    func commit(_ evaluation: CairnCore.Evaluation, window: UInt64) async throws {
        let commitment = evaluation.commitment(chain: validator.genesisHash, window: window, validator: validator.publicKey)
        try await validator.node.submitOwnRecord(.evaluationCommit(EvaluationCommit(contribution: evaluation.contribution, commitment: commitment)))
        inFlightCommits.insert(evaluation.contribution)
        telemetry.count(.committed)
    }

    /// Evaluates one contribution of window `window` on a background thread: losses before/after on
    /// the trainer's shard and on seed-drawn data, and the SimHash of Δy (CairnTraining's
    /// `Evaluator`), with a fresh 32-byte salt for the commitment. Problems with the blob become
    /// flags, not errors.
    func evaluate(id: Digest, stored: StoredContribution, window: UInt64) async throws -> CairnCore.Evaluation {
        let database = validator.database
        let contribution = stored.contribution
        let (model, clipNorm) = try ContributionEvaluation.model(window: window, spec: validator.genesis.task) {
            try database.get(ModelRecord.self, .state, StateKey.model($0))
        }
        // The base model and what it gives on each seed are the same for every contribution of the
        // window: decoded and computed once (the random-data loss before is a quarter of an
        // evaluation's forward passes).
        if cache?.model != model.hash { cache = BaseCache(model: model.hash, parameters: try updater.parameters(of: model)) }
        let base = cache!.parameters
        let cachedBaseline = cache!.baselines[stored.beacon]
        let assignment = try ContributionEvaluation.assignmentBeacon(window: contribution.baseWindow, chain: validator.genesisHash, database: database)
        let blob = try BlobStore(database: database).get(contribution.blob)
        let spec = validator.genesis.task
        let evaluator = evaluator
        let behaviour = behaviour
        let step = ContributionEvaluation.step(spec: spec, contributions: try database.get(UInt64.self, .state, StateKey.contributionCount(window: window)) ?? 1)
        let salt = try Digest(bytes: secureRandomBytes(Digest.byteCount))
        let started = ContinuousClock.now
        let (result, baseline, cpu) = await Task.detached(priority: .utility) {
            let cpuStart = Self.threadCPUSeconds()
            let baseline = cachedBaseline
                ?? evaluator.baseline(base: base, seed: stored.beacon,
                                      workspace: ByteMLP.Workspace(layout: evaluator.task.layout, capacity: ReferenceTask.batchCapacity))
            return (behaviour.evaluate(id: id, stored: stored, base: base, clipNorm: clipNorm, step: step, assignment: assignment, blob: blob, spec: spec,
                                       evaluator: evaluator, salt: salt, baseline: baseline), baseline,
                    Self.threadCPUSeconds() - cpuStart)
        }.value
        if cache?.model == model.hash { cache?.baselines[stored.beacon] = baseline }
        let elapsed = started.duration(to: .now).components
        let seconds = Double(elapsed.seconds) + Double(elapsed.attoseconds) * 1e-18
        telemetry.count(.evaluated)
        if !result.flags.isEmpty { telemetry.count(.flagged) }
        NodeTelemetry.record(telemetry.evaluationSeconds, seconds: seconds)
        logger.info("contribution evaluated", metadata: [
            "contribution": "\(id.hex)", "flags": "\(result.flags.rawValue)", "random.before": "\(result.random.before)",
            "random.after": "\(result.random.after)", "seconds": "\(String(format: "%.3f", seconds))",
            // CPU time of the evaluating thread: against `seconds` it tells a slow evaluation from
            // one waiting for a core.
            "cpu_seconds": "\(String(format: "%.3f", cpu))",
        ])
        return result
    }

    /// CPU seconds (user + system) the calling thread has used (getrusage RUSAGE_THREAD).
    static func threadCPUSeconds() -> Double {
        var usage = rusage()
        // RUSAGE_THREAD (1) is a GNU extension the Glibc module does not export.
        guard getrusage(__rusage_who_t(1), &usage) == 0 else { return 0 }
        let user = Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) * 1e-6
        return user + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) * 1e-6
    }
}
