/// What a faulty validator does in a simulation (`cairn sim --behaviour`).
public enum Behaviour: String, CaseIterable, Sendable, Codable {
    case honest
    /// Two different vertices per round, one to each half of the other validators.
    case equivocate
    /// Never sends a vote.
    case withholdVotes = "withhold-votes"
    /// Votes for every vertex it sees in a slot, not just the first.
    case doubleVote = "double-vote"
    /// Every signature it sends is corrupted.
    case invalidSignature = "invalid-signature"
    /// Its coin shares are garbage (in validly signed vertices).
    case invalidCoin = "invalid-coin"
    /// Also floods proposals and certificates for rounds far ahead.
    case farFuture = "far-future"
    /// Re-sends old messages it received, to random validators.
    case replay
    /// Sends nothing at all.
    case silent
    /// Honest, but crashes and restarts from its stored state (repeatedly).
    case crash
    /// Also floods: several validly signed proposals per slot with the maximum weak edges (to
    /// digests nobody holds), proposals for old rounds and for round 1 (below everyone's floor),
    /// and fetch requests far over the per-peer budget.
    case flood
    /// Chooses strong and weak edges that leave out one honest validator's vertices (wherever a
    /// quorum remains without them), so they get no support from it, and never votes for them;
    /// the victim's links are also slowed (the adversary owns the schedule), so its vertices
    /// arrive late and live on weak edges.
    case adversarialEdges = "adversarial-edges"
    /// Each faulty validator draws one of the behaviours above.
    case mixed

    /// The behaviours `mixed` draws from.
    public static let faulty: [Behaviour] = allCases.filter { $0 != .honest && $0 != .mixed }
}
