/// The norm a window's outer step clips every Δ to, and the oversize rule measures against (D59):
/// the score-weighted lower median of the applied Δs' norms, held within [floor, bound].
///
/// Weighted by score, not by head count: on a localnet, 17 spam keys sending random Δs of norm 1
/// scored positive about half the time (a random direction moves the loss by ±0.0004 nats, an
/// honest Δ by 0.1) and, counted one each, they were the median — honest Δs three times that norm
/// were then `oversized`, unpaid and left out of the step. A key's weight is what its Δ did to the
/// model, so the median moves only with work that improved it. Integers for the weights, one
/// comparison order for the norms: the result is the same on every validator.
public enum ClipReference {
    /// The smallest norm at which the weight of the norms up to it reaches half the total (ties
    /// in the given order; a NaN counts as +∞). With equal weights it is the lower median. Nonpositive
    /// weights count as 1, so a set of zero scores still has a median. nil when `items` is empty.
    public static func weightedLowerMedian(_ items: [(norm: Double, weight: Int64)]) -> Double? {
        guard !items.isEmpty else { return nil }
        let keyed = items.enumerated().map { (offset, item) in
            (norm: item.norm.isNaN ? Double.infinity : item.norm, weight: Int128(max(1, item.weight)), offset: offset)
        }
        let sorted = keyed.sorted { $0.norm != $1.norm ? $0.norm < $1.norm : $0.offset < $1.offset }
        // Weights below 2^63: any array that fits in memory sums far below 2^127.
        let total = sorted.reduce(Int128(0)) { $0 + $1.weight }
        var cumulative: Int128 = 0
        for item in sorted {
            cumulative += item.weight
            if 2 * cumulative >= total { return item.norm }
        }
        return sorted.last!.norm  // unreachable: the last item brings cumulative to total
    }

    /// `weightedLowerMedian` held within [floor, bound] (bound wins if floor > bound); `bound` when
    /// there are no items.
    public static func clip(_ items: [(norm: Double, weight: Int64)], floor: Double, bound: Double) -> Double {
        guard let median = weightedLowerMedian(items) else { return bound }
        return min(max(median, floor), bound)
    }
}
