/// Consensus time (DECISIONS D46): the clock the ledger's windows run on, derived from the committed
/// order alone so that every validator and auditor computes the same value.
///
/// A committed leader's time is the lower median of the timestamps of its strong parents. A leader
/// names ≥ 2f+1 parents of distinct authors, at most f of them Byzantine, so at least f+1 values lie
/// on each side of the median: it is bounded by the honest proposers' clocks, whatever f liars
/// write. The ledger makes it monotone (a later leader never moves the clock back).
public enum ConsensusTime {
    /// Lower median of `timestamps`, or nil when there are none (a round-1 leader has no parents).
    public static func median(_ timestamps: [UInt64]) -> UInt64? {
        guard !timestamps.isEmpty else { return nil }
        return timestamps.sorted()[(timestamps.count - 1) / 2]
    }
}
