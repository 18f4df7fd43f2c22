/// openskill's `predict_win`, `predict_rank` and `predict_draw`, identical for all five models.
enum Prediction {
    private static func teamRatings(
        _ teams: [[Rating]], _ parameters: ModelParameters, _ math: MathFunctions
    ) throws(OpenSkillError) -> [TeamRating] {
        try Validation.checkTeams(teams)
        try Validation.checkParameters(parameters)
        return try TeamRating.aggregates(teams, parameters: parameters, math: math)
    }

    /// Φ((μa − μb) / √(2β² + σ²a + σ²b)).
    @inline(__always)
    private static func pairwiseWin(
        _ a: TeamRating, _ b: TeamRating, twoBetaSquared: Double, math: MathFunctions
    ) throws(OpenSkillError) -> Double {
        let scale = (twoBetaSquared + a.sigmaSquared + b.sigmaSquared).squareRoot()
        if scale == 0 { throw .divisionByZero(context: "prediction (beta and all sigmas are 0)") }
        return NormalDistribution.cdf((a.mu - b.mu) / scale, math)
    }

    static func win(
        _ teams: [[Rating]], _ parameters: ModelParameters, _ math: MathFunctions
    ) throws(OpenSkillError) -> [Double] {
        let ratings = try teamRatings(teams, parameters, math)
        let twoBetaSquared = 2 * math.square(parameters.beta)
        let n = ratings.count
        if n == 2 {
            let p = try pairwiseWin(ratings[0], ratings[1], twoBetaSquared: twoBetaSquared, math: math)
            return [p, 1 - p]
        }
        // Mean of each team's pairwise wins over the others (in itertools.permutations order).
        var wins: [Double] = []
        wins.reserveCapacity(n)
        for i in 0..<n {
            var sum = 0.0
            for j in 0..<n where j != i {
                sum += try pairwiseWin(ratings[i], ratings[j], twoBetaSquared: twoBetaSquared, math: math)
            }
            wins.append(sum / Double(n - 1))
        }
        return try normalizedProbabilities(wins)
    }

    static func rank(
        _ teams: [[Rating]], _ parameters: ModelParameters, _ math: MathFunctions
    ) throws(OpenSkillError) -> [RankPrediction] {
        let ratings = try teamRatings(teams, parameters, math)
        let twoBetaSquared = 2 * math.square(parameters.beta)
        let n = ratings.count
        var wins: [Double] = []
        wins.reserveCapacity(n)
        for i in 0..<n {
            var sum = 0.0
            for j in 0..<n where j != i {
                sum += try pairwiseWin(ratings[i], ratings[j], twoBetaSquared: twoBetaSquared, math: math)
            }
            wins.append(sum / Double(n - 1))
        }
        let probabilities = try normalizedProbabilities(wins)

        // Stable sort by probability, highest first (Python's `sorted(..., reverse=True)`
        // keeps equal keys in input order); equal probabilities share a rank.
        var order = Array(0..<n)
        for position in 1..<max(n, 1) {
            let current = order[position]
            var slot = position
            while slot > 0 && probabilities[order[slot - 1]] < probabilities[current] {
                order[slot] = order[slot - 1]
                slot -= 1
            }
            order[slot] = current
        }
        var ranks = [Int](repeating: 0, count: n)
        var currentRank = 1
        for (position, teamIndex) in order.enumerated() {
            if position > 0 && probabilities[teamIndex] < probabilities[order[position - 1]] {
                currentRank = position + 1
            }
            ranks[teamIndex] = currentRank
        }
        return (0..<n).map { RankPrediction(rank: ranks[$0], probability: probabilities[$0]) }
    }

    static func draw(
        _ teams: [[Rating]], _ parameters: ModelParameters, _ math: MathFunctions
    ) throws(OpenSkillError) -> Double {
        let ratings = try teamRatings(teams, parameters, math)
        let twoBetaSquared = 2 * math.square(parameters.beta)
        let playerCount = teams.reduce(0) { $0 + $1.count }
        let drawProbability = 1.0 / Double(playerCount)
        let drawMargin = Double(playerCount).squareRoot() * parameters.beta
            * math.normalQuantile((1 + drawProbability) / 2)

        var sum = 0.0
        var pairs = 0
        for a in 0..<ratings.count {
            for b in (a + 1)..<ratings.count {
                let ra = ratings[a]
                let rb = ratings[b]
                let scale = (twoBetaSquared + ra.sigmaSquared + rb.sigmaSquared).squareRoot()
                if scale == 0 { throw .divisionByZero(context: "predictDraw (beta and all sigmas are 0)") }
                sum += NormalDistribution.cdf((drawMargin - ra.mu + rb.mu) / scale, math)
                    - NormalDistribution.cdf((rb.mu - ra.mu - drawMargin) / scale, math)
                pairs += 1
            }
        }
        let result = sum / Double(pairs)
        if !result.isFinite { throw .nonFiniteResult(path: "predictDraw", value: result) }
        return result
    }

    private static func normalizedProbabilities(_ wins: [Double]) throws(OpenSkillError) -> [Double] {
        var total = 0.0
        for p in wins { total += p }
        if total == 0 { throw .divisionByZero(context: "prediction (all win probabilities are 0)") }
        let result = wins.map { $0 / total }
        for (i, p) in result.enumerated() where !p.isFinite {
            throw .nonFiniteResult(path: "prediction[\(i)]", value: p)
        }
        return result
    }
}
