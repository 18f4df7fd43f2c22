/// The Plackett–Luce model (Weng & Lin 2011, Algorithm 4): a full ranking is a sequence of
/// choices, each team chosen with probability e^{θ/c} / Σ e^{θ/c} among those not yet placed.
/// Port of openskill.py 6.2.0 `PlackettLuce`.
public struct PlackettLuce: RatingModel, WengLinUpdate {
    public var parameters: ModelParameters
    public var math: MathFunctions
    public var kind: ModelKind { .plackettLuce }

    public init(parameters: ModelParameters = ModelParameters(), math: MathFunctions = .portable) {
        self.parameters = parameters
        self.math = math
    }

    public mutating func rate(
        _ teams: inout [[Rating]], options: RateOptions
    ) throws(OpenSkillError) {
        try WengLin.rate(&self, &teams, options)
    }

    public func predictWin(_ teams: [[Rating]]) throws(OpenSkillError) -> [Double] {
        try Prediction.win(teams, parameters, math)
    }

    public func predictRank(_ teams: [[Rating]]) throws(OpenSkillError) -> [RankPrediction] {
        try Prediction.rank(teams, parameters, math)
    }

    public func predictDraw(_ teams: [[Rating]]) throws(OpenSkillError) -> Double {
        try Prediction.draw(teams, parameters, math)
    }

    /// PlackettLuce's `_calculate_team_ratings` uses `int(rank)` of the raw ranks, so ranks
    /// 1.2 and 1.5 tie.
    static let truncatesRanks = true
    static let averagesTies = true
    static let zeroOmegaIsGain = true

    func accumulate(_ game: GameState) throws(OpenSkillError) {
        let n = game.teamCount
        let rank = game.rank
        let strength = UnsafeMutableBufferPointer(rebasing: game.scratch[0..<n])
        let sumQ = UnsafeMutableBufferPointer(rebasing: game.scratch[n..<(2 * n)])
        let tieCount = UnsafeMutableBufferPointer(rebasing: game.scratch[(2 * n)..<(3 * n)])

        // c = √Σ(σ²_team + β²)  (`_c`)
        let betaSquared = math.square(parameters.beta)
        var collective = 0.0
        for t in 0..<n { collective += game.teamSigmaSquared[t] + betaSquared }
        let c = collective.squareRoot()
        if c == 0 { throw .divisionByZero(context: "PlackettLuce c (beta and all sigmas are 0)") }

        // e^{θ_i/c}, θ_i adjusted for score margins. openskill computes it in `_sum_q` and again
        // in `_compute`; it is the same value, computed once here.
        for i in 0..<n {
            let argument = adjustedMu(i, game) / c
            let value = math.exp(argument)
            if value == .infinity {
                throw .expOverflow(argument: argument, context: "PlackettLuce team strength")
            }
            strength[i] = value
        }

        // sum_q[q] = Σ_{i: rank_i ≥ rank_q} e^{θ_i/c}, accumulated in i order (`_sum_q`);
        // A_q = the number of teams sharing q's rank (`_a`).
        for q in 0..<n {
            sumQ[q] = 0
            var ties = 0
            for s in 0..<n where rank[s] == rank[q] { ties += 1 }
            tieCount[q] = Double(ties)
        }
        for i in 0..<n {
            for q in 0..<n where rank[i] >= rank[q] { sumQ[q] += strength[i] }
        }
        for q in 0..<n where sumQ[q] == 0 {
            throw .divisionByZero(context: "PlackettLuce sum_q[\(q)] underflowed to 0")
        }

        for i in 0..<n {
            var omega = 0.0
            var delta = 0.0
            for q in 0..<n where rank[q] <= rank[i] {
                let share = strength[i] / sumQ[q]
                delta += share * (1 - share) / tieCount[q]
                if q == i {
                    omega += (1 - share) / tieCount[q]
                } else {
                    omega -= share / tieCount[q]
                }
            }
            let sigmaSquared = game.teamSigmaSquared[i]
            omega *= sigmaSquared / c
            delta *= sigmaSquared / math.square(c)
            let gamma = sigmaSquared.squareRoot() / c  // default gamma: √σ²_team / c
            delta *= gamma
            game.omega[i] = omega
            game.delta[i] = delta
        }
    }

    /// θ_i plus the mean margin adjustment over the teams with a different score: for each,
    /// ∓(θ_i − θ_j)·(f − 1) with f = log1p(|Δscore|/margin) beyond a positive margin, else 1.
    @inline(__always)
    private func adjustedMu(_ i: Int, _ game: GameState) -> Double {
        let mu = game.teamMu
        var adjusted = mu[i]
        guard game.hasScores else { return adjusted }
        let score = game.score
        var adjustment = 0.0
        var comparisons = 0
        for j in 0..<game.teamCount where j != i {
            let difference = abs(score[i] - score[j])
            if difference > 0 {
                var factor = 1.0
                if difference > parameters.margin && parameters.margin > 0.0 {
                    factor = math.log1p(difference / parameters.margin)
                }
                if score[i] > score[j] {
                    adjustment -= (mu[i] - mu[j]) * (factor - 1.0)
                } else {
                    adjustment += (mu[j] - mu[i]) * (factor - 1.0)
                }
                comparisons += 1
            }
        }
        adjusted += comparisons > 0 ? adjustment / Double(comparisons) : adjustment
        return adjusted
    }
}
