/// Consensus time (DECISIONS D46, D59): the clock the ledger's windows run on, derived from the
/// committed order alone so that every validator and auditor computes the same value.
///
/// A committed leader's time is an order statistic of the timestamps of its strong parents
/// (`leaderTime`): sorted ascending, the (f+2)-th largest. A leader names ≥ 2f+1 parents of
/// distinct authors, at most f of them Byzantine. Above the chosen value lie f+1 values, so f
/// Byzantine clocks at 2^64 − 1 *and* one honest clock running ahead cannot move it: it is at most
/// the second-fastest honest clock among the parents. Below it lie count − f − 1 values, so with
/// 2f+2 or more parents it is at least the slowest honest clock; with exactly 2f+1 (a leader that
/// chose them) f low liars can hold it back, which only keeps the clock where it was — the ledger
/// makes it monotone, and the next leader moves it. D46 took the lower median, which a leader that
/// picks f Byzantine parents and one fast honest one pushes to that honest clock (D59, attack 7).
public enum ConsensusTime {
    /// Lower median of `timestamps`, or nil when there are none.
    public static func median(_ timestamps: [UInt64]) -> UInt64? {
        guard !timestamps.isEmpty else { return nil }
        return timestamps.sorted()[(timestamps.count - 1) / 2]
    }

    /// The leader time of a leader whose strong parents carry `timestamps`, in a committee that
    /// tolerates `faults` = f (see the type's comment); nil when there are none (a round-1 leader).
    /// With fewer than f + 2 values (only possible for f = 0) the lower median.
    public static func leaderTime(_ timestamps: [UInt64], faults: Int) -> UInt64? {
        guard !timestamps.isEmpty else { return nil }
        let sorted = timestamps.sorted()
        let f = max(0, faults)
        guard sorted.count >= f + 2 else { return sorted[(sorted.count - 1) / 2] }
        return sorted[sorted.count - f - 2]
    }
}
