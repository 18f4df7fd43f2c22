import CairnCore

/// What a validator's storage holds about consensus, enough to resume without equivocating,
/// double-voting or re-delivering (DESIGN §4 "restoring a core from stored certificates and its
/// persisted last-proposed round and votes").
public struct ConsensusSnapshot: Sendable {
    public var certificates: [Certificate] = []
    /// Own proposals (at least the latest one).
    public var ownProposals: [SignedVertex] = []
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
        for certificate in ordered {
            let verified = VerifiedCertificate(certificate: certificate, digest: SigningMessages.vertexDigest(certificate.vertex))
            // Edges below the floor were satisfied when the certificate was first inserted.
            for edge in certificate.vertex.strongEdges + certificate.vertex.weakEdges where !core.dag.contains(edge) {
                core.belowFloor.insert(edge)
            }
            core.onCertificate(verified, from: settings.me, into: &scratch)
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
        core.restoring = false
        return core
    }
}
