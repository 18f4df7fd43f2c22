/// Working storage for one `rate` call, carved out of two temporary (usually stack) buffers so
/// that a call allocates nothing but its result.
///
/// Teams are held in rank order — the order openskill's `_compute` sees after `_unwind` — and
/// indexed by that position t; `original[t]` is the caller's index. Players of team t occupy
/// `firstPlayer[t] ..< firstPlayer[t + 1]` of the per-player buffers, in the caller's order.
struct GameState {
    let teamCount: Int
    let parameters: ModelParameters
    let math: MathFunctions

    /// The caller's index of the team at rank position t.
    let original: UnsafeMutableBufferPointer<Int>
    /// Offsets into the per-player buffers (teamCount + 1 entries).
    let firstPlayer: UnsafeMutableBufferPointer<Int>
    /// The rank the model compares (integer-valued).
    let rank: UnsafeMutableBufferPointer<Double>
    /// Team aggregates (`_calculate_team_ratings`).
    let teamMu: UnsafeMutableBufferPointer<Double>
    let teamSigmaSquared: UnsafeMutableBufferPointer<Double>
    /// Ω and Δ per team, filled by the model.
    let omega: UnsafeMutableBufferPointer<Double>
    let delta: UnsafeMutableBufferPointer<Double>
    /// 3 × teamCount doubles the model may use freely.
    let scratch: UnsafeMutableBufferPointer<Double>
    /// Scores reordered like the teams; meaningful only when `hasScores`.
    let hasScores: Bool
    let score: UnsafeMutableBufferPointer<Double>

    /// μ and σ (τ already added) per player; overwritten with the new values at the end.
    let playerMu: UnsafeMutableBufferPointer<Double>
    let playerSigma: UnsafeMutableBufferPointer<Double>
    /// Normalised weights per player; meaningful only when `hasWeights`.
    let hasWeights: Bool
    let weight: UnsafeMutableBufferPointer<Double>
    /// σ as the caller gave it (before τ), for `limit_sigma`.
    let inputSigma: UnsafeMutableBufferPointer<Double>

    /// The margin factor between teams i and q: log1p(|Δscore|/margin) when scores were given
    /// and |Δscore| exceeds a positive margin, otherwise 1 (openskill's `margin_factor`
    /// and `margin_divisor`). Symmetric in i and q.
    @inline(__always)
    func marginFactor(_ i: Int, _ q: Int) -> Double {
        guard hasScores else { return 1.0 }
        let margin = parameters.margin
        let difference = abs(score[i] - score[q])
        if difference > 0 && difference > margin && margin > 0.0 {
            return math.log1p(difference / margin)
        }
        return 1.0
    }
}

/// Carves consecutive sub-buffers out of a temporary allocation.
struct BufferCarver<Element> {
    let base: UnsafeMutableBufferPointer<Element>
    var offset = 0

    init(_ base: UnsafeMutableBufferPointer<Element>) { self.base = base }

    @inline(__always)
    mutating func take(_ count: Int) -> UnsafeMutableBufferPointer<Element> {
        defer { offset += count }
        return UnsafeMutableBufferPointer(rebasing: base[offset..<(offset + count)])
    }
}
