import CairnChain
import CairnCore
import CairnLedger
import CairnTraining

/// How a validator evaluates. Anything but `honest` exists to show that the ledger catches it, in
/// tests and demonstrations only (`[testing] evaluator` in config.toml; README).
public enum EvaluatorBehaviour: String, Sendable, CaseIterable {
    case honest
    /// Commits and reveals an evaluation computed without applying Δ (Δy = 0).
    case lazy
    /// Commits to nothing it computed, then reveals another validator's evaluation, copied from
    /// state, under its own salt (the ledger rejects it: `reveal_mismatch`).
    case copy
    /// Evaluates honestly, then reveals a random-data loss after 10% lower than it measured (a
    /// contribution made to look better), with the honest SimHash: inside the quorum by its hash,
    /// flagged `deviant` by its losses and unpaid (D53).
    case skew
    /// Evaluates nothing: copies another validator's commitment byte for byte in the commit phase,
    /// then, once that validator's reveal is in state, reveals the same evaluation byte for byte,
    /// salt included (D59, attack 1). The commitment binds the committing validator (D59),
    /// so the copied reveal is rejected (`reveal_mismatch`) and the copier is flagged `unrevealed`.
    case copyCommitment = "copy-commitment"
}

extension EvaluatorBehaviour {
    /// One contribution's evaluation as this behaviour makes it: `ContributionEvaluation.compute`
    /// when honest; `lazy` measures θ against itself (the losses do not move and Δy is zero);
    /// `skew` reports a random-data loss after 10% lower than measured. `copy` and
    /// `copy-commitment` compute honestly here — the service copies at commit and reveal time.
    func evaluate(id: Digest, stored: StoredContribution, base: [Float], clipNorm: Double?, step: Float, assignment: Digest, blob: [UInt8]?,
                  spec: TrainingTaskSpec, evaluator: Evaluator, salt: Digest, baseline: Evaluator.Baseline?) -> CairnCore.Evaluation {
        switch self {
        case .honest, .copy, .copyCommitment:
            return ContributionEvaluation.compute(id: id, stored: stored, base: base, clipNorm: clipNorm, step: step, assignment: assignment,
                                                  blob: blob, spec: spec, evaluator: evaluator, salt: salt, baseline: baseline)
        case .lazy:
            switch ContributionEvaluation.prepare(stored: stored, blob: blob, assignment: assignment, spec: spec, evaluator: evaluator) {
            case let .flagged(flags):
                return ContributionEvaluation.record(id: id, measured: nil, flags: flags, salt: salt)
            case let .ready(prepared):
                let workspace = ByteMLP.Workspace(layout: evaluator.task.layout, capacity: ReferenceTask.batchCapacity)
                let measured = evaluator.evaluate(base: base, updated: base, ownPositions: prepared.ownPositions, seed: stored.beacon,
                                                  workspace: workspace, baseline: baseline)
                return ContributionEvaluation.record(id: id, measured: measured, flags: [], salt: salt)
            }
        case .skew:
            var evaluation = ContributionEvaluation.compute(id: id, stored: stored, base: base, clipNorm: clipNorm, step: step, assignment: assignment,
                                                            blob: blob, spec: spec, evaluator: evaluator, salt: salt, baseline: baseline)
            if evaluation.flags.isEmpty { evaluation.random.after *= 0.9 }
            return evaluation
        }
    }
}
