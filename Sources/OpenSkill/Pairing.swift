/// How the pairwise models (Bradley–Terry, Thurstone–Mosteller) choose opponents.
///
/// openskill loops over each team i and, inside, over its opponents q in increasing order.
/// Visiting unordered pairs (i < q) in lexicographic order and updating both teams gives every
/// team its terms in exactly that order (opponents before it first, then those after it), so
/// the floating-point sums are identical — while work shared by both sides of a pair (c_iq, and
/// for Thurstone–Mosteller the Φ/φ evaluations) is done once.
enum Pairing {
    /// Full pairing: every other team.
    case full
    /// Partial pairing: teams at most `window` places away in the ranking (`window_size`).
    case window(Int)

    /// Calls `body(i, q)` for each compared pair, i < q, in openskill's accumulation order.
    @inline(__always)
    func forEachPair(
        teamCount n: Int, _ body: (Int, Int) throws(OpenSkillError) -> Void
    ) throws(OpenSkillError) {
        let reach: Int
        switch self {
        case .full: reach = n
        case .window(let size): reach = min(size, n)  // q ∈ [max(0, i−w), min(n, i+w+1))
        }
        if reach < 1 { return }
        for i in 0..<n {
            let last = min(n - 1, i + reach)
            if i + 1 > last { continue }
            for q in (i + 1)...last { try body(i, q) }
        }
    }

    /// The number of opponents of team i (openskill's `comparisons`).
    @inline(__always)
    func opponentCount(of i: Int, teamCount n: Int) -> Int {
        switch self {
        case .full:
            return n - 1
        case .window(let size):
            let reach = min(size, n)
            if reach < 1 { return 0 }
            return min(n - 1, i + reach) - max(0, i - reach)
        }
    }
}

extension GameState {
    /// Zeroes Ω and Δ before a pairwise model accumulates into them, and stores √σ²_team in
    /// `scratch[0..<teamCount]` (the default γ's numerator, the same for every opponent).
    @inline(__always)
    func preparePairwise() {
        for t in 0..<teamCount {
            omega[t] = 0.0
            delta[t] = 0.0
            scratch[t] = teamSigmaSquared[t].squareRoot()
        }
    }

    /// x / d where d is a margin divisor; skipping the division when d == 1 changes no bit.
    @inline(__always)
    static func divideByMargin(_ x: Double, _ d: Double) -> Double {
        d == 1.0 ? x : x / d
    }

    /// The partial-pairing models average the pairwise terms over the opponents
    /// (0 when a team has none, e.g. window_size 0).
    @inline(__always)
    func averageOmegaDelta(_ pairing: Pairing) {
        for t in 0..<teamCount {
            let comparisons = pairing.opponentCount(of: t, teamCount: teamCount)
            if comparisons > 0 {
                omega[t] = omega[t] / Double(comparisons)
                delta[t] = delta[t] / Double(comparisons)
            } else {
                omega[t] = 0.0
                delta[t] = 0.0
            }
        }
    }
}
