import CairnCore

/// Where a trainer of window k starts (D60, D67). The ledger applies window k−1's Δs to θ_k at
/// the close of window k, giving θ_{k+1}, and window k's Δs to θ_{k+1}: a trainer that starts
/// from θ_k trains from a model one step behind the one its Δ will meet. The protocol does not
/// say where a trainer starts — its Δ is applied as sent — so this is the trainer's choice.
public enum EagerStart: String, Sendable, CaseIterable {
    /// θ_k as served.
    case none
    /// θ_k less outer_rate × the trainer's own Δ of window k−1 (Eager updates, arXiv 2502.12996):
    /// its own Δ stands in for the mean of all of them.
    case own
    /// The model the ledger will reach: θ_k less the step window k−1's Δs make through the
    /// ledger's own aggregation (`PendingStep`). With honest trainers whose Δs are all accepted at
    /// equal scores, the pipeline then trains exactly as a synchronous network would
    /// (EagerStartTests "full eager starts …").
    case all
}

/// The step the ledger has not applied yet when window k's trainers start (D67).
public enum PendingStep {
    /// θ_k less `rate` × the trainer's own pending Δ (`EagerStart.own`, D60): its own Δ stands in
    /// for the mean of all of them.
    public static func own(global: [Float], pending: PseudoGradient, rate: Float) -> [Float] {
        var start = global
        pending.forEachEntry { index, value in start[index] -= rate * value }
        return start
    }

    /// θ_{k+1} as the ledger would compute it from `global` (θ_k, whose carried clip norm is
    /// `clipNorm`) if it accepted every Δ of `pending` with the scores given as their weights:
    /// the ledger's `Aggregation` with its rate, top-G, clip bounds and averaging. A window's
    /// scores are not known while its successor trains, so a trainer passes what it has — its
    /// peers' accepted scores of the latest judged window (`cairn submit`), or 1 for all (the
    /// simulator). A Δ the quorums will refuse is clipped to the median norm like any other and
    /// costs only this trainer's starting point: its own Δ is still applied as a difference to the
    /// ledger's own model.
    public static func predict(global: [Float], clipNorm: Double?, pending: [Aggregation.Contribution], rate: Float,
                               maxContributions: Int, initialClipNorm: Double, clipGrowth: Double,
                               averaging: Aggregation.Averaging) -> [Float] {
        guard !pending.isEmpty else { return global }
        return Aggregation.apply(pending, to: global, rate: rate, maxContributions: max(1, maxContributions),
                                 clipBound: TrainingSpec.clipBound(baseClipNorm: clipNorm, initial: initialClipNorm, growth: clipGrowth),
                                 clipFloor: TrainingSpec.clipFloor(baseClipNorm: clipNorm, growth: clipGrowth),
                                 averaging: averaging).parameters
    }

    /// `predict` with genesis's settings.
    public static func predict(global: [Float], clipNorm: Double?, pending: [Aggregation.Contribution], training: TrainingSpec) -> [Float] {
        predict(global: global, clipNorm: clipNorm, pending: pending, rate: Float(training.outerLearningRate),
                maxContributions: Int(training.maxAggregated), initialClipNorm: training.initialClipNorm, clipGrowth: training.clipGrowth,
                averaging: Aggregation.Averaging(rawValue: training.averaging) ?? .overAll)
    }
}
