import CairnCore

/// What a validator's storage holds about consensus, enough to resume without equivocating,
/// double-voting or re-delivering (ARCHITECTURE §4 "restoring a core from stored certificates and its
/// persisted last-proposed round and votes").
public struct ConsensusSnapshot: Sendable {
    public var certificates: [Certificate] = []
    /// Own proposals at or above the GC floor (older ones are never needed again).
    public var ownProposals: [SignedVertex] = []
    /// Round of this validator's latest proposal, even when it lies below the floor: the core
    /// must never propose at or below it again (no equivocation across restarts).
    public var lastProposedRound: UInt64 = 0
    /// Own votes cast.
    public var votes: [Vote] = []
    public var decidedWave: UInt64 = 0
    public var lastCommittedRound: UInt64 = 0
    public var committedLeaders = 0
    /// Digests delivered at rounds ≥ lastCommittedRound − gcDepth (older ones are never reconsidered).
    public var recentlyDelivered: [Digest] = []

    public init() {}
}

extension DAGRiderCore {
    /// Rebuilds a core from storage. Certificates come from this validator's own database, which
    /// only ever held verified ones, so they are not verified again. Call `onStart` next.
    public static func restore(settings: DAGRiderSettings, signer: any ConsensusSigner, coin: any CoinScheme,
                               from snapshot: ConsensusSnapshot) -> DAGRiderCore {
        var core = DAGRiderCore(settings: settings, signer: signer, coin: coin)
        core.restoring = true
        core.decidedWave = snapshot.decidedWave
        core.lastCommittedRound = snapshot.lastCommittedRound
        core.committedLeaders = snapshot.committedLeaders
        let floor = snapshot.lastCommittedRound > settings.gcDepth ? snapshot.lastCommittedRound - settings.gcDepth : 0
        _ = core.dag.raiseFloor(to: floor)
        core.delivered = Set(snapshot.recentlyDelivered)
        var scratch: [Directive] = []
        let ordered = snapshot.certificates.filter { $0.vertex.round >= floor }
            .sorted { ($0.vertex.round, $0.vertex.author) < ($1.vertex.round, $1.vertex.author) }
        let stored = Set(ordered.map { SigningMessages.vertexDigest($0.vertex) })
        for certificate in ordered {
            let vertex = certificate.vertex
            let verified = VerifiedCertificate(certificate: certificate, digest: SigningMessages.vertexDigest(vertex))
            // Storage is causally closed above the floor: a certificate was stored only once its
            // parents were in the DAG or certified below the floor of the time, and the floor only
            // rises. So a missing edge is below the floor — unless it is a stored certificate that
            // could not be restored, or a strong edge whose round (r − 1) is at or above the floor:
            // then storage is damaged, and this certificate is left out (catch-up refetches it)
            // rather than let the DAG lose causal closure, which would change what gets delivered.
            let missing = (vertex.strongEdges + vertex.weakEdges).filter { !core.dag.contains($0) }
            let strongAboveFloor = vertex.round > floor && vertex.strongEdges.contains { !core.dag.contains($0) }
            guard !strongAboveFloor, !missing.contains(where: stored.contains),
                  core.dag.digest(round: vertex.round, author: Int(vertex.author)) == nil else {
                core.unrestorable += 1
                continue
            }
            core.restoredBelowFloor.formUnion(missing)
            // Inserted directly: the far-future window and fetching are for live input, and the
            // window is relative to a round the restoring core does not know yet.
            core.insert(verified, into: &scratch)
        }
        for vote in snapshot.votes where vote.round >= floor {
            core.votedSlots[Slot(author: Int(vote.author), round: vote.round)] = vote.digest
        }
        for signed in snapshot.ownProposals where signed.vertex.round >= floor {
            let digest = SigningMessages.vertexDigest(signed.vertex)
            core.ownProposals[signed.vertex.round] = OwnProposal(signed: signed, digest: digest, votes: [:], certified: core.dag.contains(digest))
            core.votedSlots[Slot(author: settings.me, round: signed.vertex.round)] = digest
            core.round = max(core.round, signed.vertex.round)
            core.markReferenced(signed.vertex.strongEdges + signed.vertex.weakEdges)
        }
        // Even when every own proposal is below the floor (a validator that was down while the
        // others went on), the next proposal must come after the last one.
        core.round = max(core.round, snapshot.lastProposedRound, snapshot.ownProposals.map(\.vertex.round).max() ?? 0)
        core.restoring = false
        // Later vertices that reference these are checked against the real parents, fetched
        // again (peers serve them from storage) like any other missing edge.
        core.restoredBelowFloor = []
        return core
    }
}
