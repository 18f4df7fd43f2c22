import CairnCore
import CairnCrypto
import CairnLedger
import CairnStorage
import CairnTraining

/// One contribution's evaluation as the ledger defines it (ARCHITECTURE §6, D47, D59, D60), shared
/// by the validator's evaluation service and the auditor's `--reevaluate`: which model and step it
/// is evaluated at, which data, and the computation itself. Pure over what it is given, apart from
/// the state reads named as such.
public enum ContributionEvaluation {
    /// A validator's held-out loss of window k's model (Float64 bits in `meta`; information, not state).
    public static func heldOutKey(_ window: UInt64) -> [UInt8] { Array("heldout/".utf8) + window.canonicalBytes }

    /// Window `window`'s contributions in the order a validator evaluates them (D59): by
    /// SHA-256(β ‖ id), β the beacon of the wave that closed the window — unknown until evaluation
    /// may start, so no one can place chosen contributions at the back of every validator's queue.
    /// Key (id) order while the window is open (nothing is evaluated then).
    public static func order(window: UInt64, database: Database) throws -> [(id: Digest, stored: StoredContribution)] {
        let prefix = StateKey.contributionPrefix(window: window)
        var entries: [(id: Digest, stored: StoredContribution)] = []
        try database.scan(ColumnFamily.state.rawValue, prefix: prefix) { key, value in
            if key.count == prefix.count + Digest.byteCount, let id = try? Digest(bytes: key.suffix(Digest.byteCount)),
               let stored = try? StoredContribution(canonicalBytes: value) {
                entries.append((id, stored))
            }
            return true
        }
        guard let beacon = try database.get(ColumnFamily.state.rawValue, StateKey.windowBeacon(window)) else { return entries }
        return entries.map { (rank: SHA256.hash(beacon + $0.id.bytes).bytes, entry: $0) }
            .sorted { $0.rank.lexicographicallyPrecedes($1.rank) }.map(\.entry)
    }

    /// The model window `window`'s contributions are evaluated on, and the norm every Δ is clipped
    /// to (D59): θ_{window+1}, the model the outer step at window + 1's close applies them to,
    /// and that step's clip bound (genesis growth over θ_{window+1}'s own clip norm).
    public static func model(window: UInt64, spec: TrainingTaskSpec, model: (UInt64) throws -> ModelRecord?) throws -> (record: ModelRecord, clipBound: Double) {
        guard window < .max, let record = try model(window + 1) else {
            throw ModelUpdater.Failure(description: "state holds no model for window \(window &+ 1), on which window \(window)'s contributions are evaluated")
        }
        return (record, spec.training.clipBound(baseClipNorm: record.clipNorm))
    }

    /// The step an evaluation applies Δ at (D60): genesis `evaluation.step` times a Δ's share of
    /// the outer step when every one of the window's `contributions` (at most `max_aggregated`) is
    /// applied with equal weight — 1/G under the mean over all applied Δs (`averaging` 0), 1 under
    /// the per-coordinate mean. Scoring the whole Δ of a window's training on θ_{k+1} overshot: on
    /// the first localnet with trainers that use their window (~500 inner steps), 3 of 6 honest
    /// contributions of windows 3–4 scored negative at step 1 while the step that applied a third
    /// of each lowered the held-out loss from 3.20 to 2.32. The count is in state once the window
    /// has closed, so every validator and the auditor use the same step.
    public static func step(spec: TrainingTaskSpec, contributions: UInt64) -> Float {
        guard spec.training.averaging == 0 else { return Float(spec.evaluation.step) }
        let share = max(1, min(contributions, UInt64(max(1, spec.training.maxAggregated))))
        return Float(spec.evaluation.step / Double(share))
    }

    /// The evaluator genesis defines (contexts, step, SimHash bits).
    public static func evaluator(task: ReferenceTask, spec: TrainingTaskSpec) -> Evaluator {
        Evaluator(task: task, parameters: EvaluationParameters(
            ownContexts: Int(spec.evaluation.ownContexts), randomContexts: Int(spec.evaluation.randomContexts),
            step: Float(spec.evaluation.step), probeContexts: Int(spec.evaluation.probeContexts), bits: Int(spec.lsh.bits)))
    }

    /// β_k, the beacon a trainer's assignment in window k derives from: the beacon of the wave that
    /// closed window k − 1 (state `wb/`), or the genesis hash for window 0.
    public static func assignmentBeacon(window: UInt64, chain: Digest, database: Database) throws -> Digest {
        guard window > 0 else { return chain }
        guard let bytes = try database.get(ColumnFamily.state.rawValue, StateKey.windowBeacon(window - 1)),
              let beacon = try? Digest(bytes: bytes) else {
            throw ModelUpdater.Failure(description: "state holds no beacon for window \(window - 1)")
        }
        return beacon
    }

    /// A contribution ready to evaluate: its decoded Δ and the own-data sample, drawn by the
    /// evaluation seed from the contexts of the steps the trainer claims (D60).
    public struct Prepared {
        public let delta: PseudoGradient
        public let ownPositions: [Int]
    }

    public enum Preparation {
        case ready(Prepared)
        /// Nothing to evaluate; the evaluation carries these flags.
        case flagged(CairnCore.Evaluation.Flags)
    }

    /// Decodes the blob and draws the own-data sample, or says what is wrong as flags: a missing
    /// blob is `unavailable`; one of the wrong size, one that does not decode, and a Δ without a
    /// nonzero value are `invalid_blob` (spam costs a decode, not an evaluation).
    public static func prepare(stored: StoredContribution, blob: [UInt8]?, assignment: Digest, spec: TrainingTaskSpec,
                               evaluator: Evaluator) -> Preparation {
        let contribution = stored.contribution
        guard let blob else { return .flagged(.unavailable) }
        guard UInt64(blob.count) == contribution.blobSize,
              let delta = try? PseudoGradientBlob.decode(blob, task: spec),
              delta.l2Norm > 0 else { return .flagged(.invalidBlob) }
        // The contexts of the steps the trainer claims (the ledger bounds the claim by genesis
        // `max_inner_steps`; the min keeps an auditor of a damaged record from allocating more).
        let claimed = Int(min(contribution.innerSteps, spec.training.maxInnerSteps))
        let used = evaluator.task.split.shard(beacon: assignment, trainer: stored.author, window: contribution.baseWindow,
                                              count: claimed * Int(spec.training.batchSize))
        return .ready(Prepared(delta: delta, ownPositions: evaluator.ownPositions(used: used, seed: stored.beacon, trainer: stored.author)))
    }

    /// The evaluation record for what the evaluator measured, or a flagged one with zero losses.
    public static func record(id: Digest, measured: CairnTraining.Evaluation?, flags: CairnCore.Evaluation.Flags, salt: Digest) -> CairnCore.Evaluation {
        guard let e = measured, flags.isEmpty, !e.flags.contains(.nonFinite) else {
            var flags = flags
            if measured?.flags.contains(.nonFinite) == true { flags.insert(.nonFinite) }
            return CairnCore.Evaluation(contribution: id, own: LossPair(before: 0, after: 0), random: LossPair(before: 0, after: 0),
                                        simHash: [], flags: flags, salt: salt)
        }
        return CairnCore.Evaluation(contribution: id, own: LossPair(before: Float(e.lossBeforeOwn), after: Float(e.lossAfterOwn)),
                                    random: LossPair(before: Float(e.lossBeforeRandom), after: Float(e.lossAfterRandom)),
                                    simHash: SimHash.bytes(e.outputHash), flags: [], salt: salt)
    }

    /// One contribution's honest evaluation: losses before/after on the trainer's shard and on
    /// seed-drawn data, and the SimHash of Δy, on `base` (θ_{k+1} for window k's contributions)
    /// with Δ clipped to `clipNorm` (the outer step's bound, D59) and applied at `step`.
    public static func compute(id: Digest, stored: StoredContribution, base: [Float], clipNorm: Double?, step: Float, assignment: Digest, blob: [UInt8]?,
                               spec: TrainingTaskSpec, evaluator: Evaluator, salt: Digest, baseline: Evaluator.Baseline? = nil) -> CairnCore.Evaluation {
        switch prepare(stored: stored, blob: blob, assignment: assignment, spec: spec, evaluator: evaluator) {
        case let .flagged(flags):
            return record(id: id, measured: nil, flags: flags, salt: salt)
        case let .ready(prepared):
            let workspace = ByteMLP.Workspace(layout: evaluator.task.layout, capacity: ReferenceTask.batchCapacity)
            let measured = evaluator.evaluate(base: base, delta: prepared.delta, ownPositions: prepared.ownPositions, seed: stored.beacon,
                                              workspace: workspace, clipNorm: clipNorm, step: step, baseline: baseline)
            return record(id: id, measured: measured, flags: [], salt: salt)
        }
    }
}
