import CairnCore

/// A leader committed by the wave rule, with the part of its causal history delivered with it.
public struct CommittedLeader: Sendable, Hashable {
    public var wave: UInt64
    public var leader: Digest
    public var leaderRound: UInt64
    public var leaderAuthor: Int
    /// The wave's coin beacon (public randomness fixed only after the wave completed).
    public var beacon: Digest
    /// Consensus time of the leader: lower median of its strong parents' timestamps (0 for a
    /// round-1 leader, which has none). See `ConsensusTime`.
    public var timeMs: UInt64
    /// Newly delivered certificates, in delivery order: sorted by (round, author), the leader last.
    public var certificates: [VerifiedCertificate]

    public init(wave: UInt64, leader: Digest, leaderRound: UInt64, leaderAuthor: Int, beacon: Digest, timeMs: UInt64 = 0,
                certificates: [VerifiedCertificate]) {
        self.wave = wave
        self.leader = leader
        self.leaderRound = leaderRound
        self.leaderAuthor = leaderAuthor
        self.beacon = beacon
        self.timeMs = timeMs
        self.certificates = certificates
    }
}

/// What the core asks its shell to do, in order. A `persist…` directive must be durable (synced)
/// before the shell executes any directive after it: that is what makes a restarted validator
/// unable to equivocate or double-vote (ARCHITECTURE §4, §8).
public enum Directive: Sendable, Hashable {
    /// Make this own proposal durable (it fixes the last proposed round) before sending it.
    case persistProposal(SignedVertex)
    /// Make this own vote durable before sending it.
    case persistVote(Vote)
    /// Store a certificate that entered the DAG (need not be synced: it can be fetched again).
    case storeCertificate(VerifiedCertificate)
    case send(to: Int, ConsensusMessage)
    /// To every other validator.
    case broadcast(ConsensusMessage)
    /// Deliver these certificates, in order, after everything delivered before.
    case commit(CommittedLeader)
    /// Certified vertices that fell below the garbage-collection line undelivered: their records
    /// will never be ordered and may be re-submitted.
    case dropped([VerifiedCertificate])
    /// A message refused by the core's own checks (for metrics and logs).
    case rejected(RejectReason, from: Int)
    /// Call `onTick` at (or after) this time.
    case scheduleTick(atMs: UInt64)
}
