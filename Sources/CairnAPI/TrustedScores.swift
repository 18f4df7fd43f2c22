import CairnLedger

extension WindowReply {
    /// Accepted scores of this judged window by author (hex key): the trainers whose next Δs a
    /// prediction of the pending step takes (`cairn submit --eager all`, D67), and their weights.
    /// Left out: no positive score, a copycat, flagged by its quorum, or an author the ledger kept
    /// out of this window's step (`TrainerWindowResult.Penalties.outOfStep`) — an oversized 10× Δ
    /// can score positive, and predicted as applied it moved every trainer's start. The reply is
    /// untrusted: at worst a hostile node's list makes this trainer start from a worse model.
    public func trustedScores() -> [String: Int64] {
        let outOfStep = Set(TrainerWindowResult.Penalties.outOfStep.names)
        let leftOut = Set(trainers.filter { !outOfStep.isDisjoint(with: $0.penalties) }.map(\.trainer))
        var scores: [String: Int64] = [:]
        for contribution in contributions where !leftOut.contains(contribution.author) {
            guard let outcome = contribution.outcome, let score = outcome.scorePpb, score > 0, outcome.copycatOf == nil, outcome.flags == 0 else { continue }
            scores[contribution.author] = max(scores[contribution.author] ?? 0, score)
        }
        return scores
    }
}
