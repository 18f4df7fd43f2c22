/// A team's aggregate belief as openskill's `_calculate_team_ratings` forms it.
struct TeamRating {
    var mu: Double
    var sigmaSquared: Double
}

extension TeamRating {
    /// openskill's default `ordinal()`: 1·((μ − 3σ) + 0/1), written out so the sort keys match.
    @inline(__always)
    static func defaultOrdinal(mu: Double, sigma: Double) -> Double {
        1.0 * ((mu - 3.0 * sigma) + 0.0 / 1.0)
    }

    /// Sums μ and σ² over a team's players taken in descending default-ordinal order (stable),
    /// which fixes the floating-point summation order. With `balance`, each player is weighted by
    /// 1 + (best ordinal − own ordinal)/(best ordinal + κ), emphasising weaker members.
    /// `order` is scratch space for at least `count` indices.
    @inline(__always)
    static func aggregate(
        count: Int,
        mu: (Int) -> Double,
        sigma: (Int) -> Double,
        order: UnsafeMutableBufferPointer<Int>,
        parameters: ModelParameters,
        math: MathFunctions
    ) throws(OpenSkillError) -> TeamRating {
        var muSum = 0.0
        var sigmaSquaredSum = 0.0
        if count == 1 && !parameters.balance {
            muSum += mu(0) * 1.0
            sigmaSquaredSum += math.square(sigma(0) * 1.0)
            return TeamRating(mu: muSum, sigmaSquared: sigmaSquaredSum)
        }
        // Stable insertion sort of player indices by ordinal, highest first: Python's
        // `sorted(team, key=ordinal, reverse=True)` keeps equal keys in input order.
        for position in 0..<count {
            let key = defaultOrdinal(mu: mu(position), sigma: sigma(position))
            var slot = position
            while slot > 0 {
                let previous = order[slot - 1]
                if defaultOrdinal(mu: mu(previous), sigma: sigma(previous)) >= key { break }
                order[slot] = previous
                slot -= 1
            }
            order[slot] = position
        }
        let best = order[0]
        let maxOrdinal = defaultOrdinal(mu: mu(best), sigma: sigma(best))
        for k in 0..<count {
            let j = order[k]
            var balanceWeight = 1.0
            if parameters.balance {
                let denominator = maxOrdinal + parameters.kappa
                if denominator == 0 {
                    throw .divisionByZero(context: "balance weight (best ordinal + kappa is 0)")
                }
                let ordinal = defaultOrdinal(mu: mu(j), sigma: sigma(j))
                balanceWeight = 1.0 + (maxOrdinal - ordinal) / denominator
            }
            muSum += mu(j) * balanceWeight
            sigmaSquaredSum += math.square(sigma(j) * balanceWeight)
        }
        return TeamRating(mu: muSum, sigmaSquared: sigmaSquaredSum)
    }

    /// The aggregates of whole teams, for the predictions (no τ, no ranks).
    static func aggregates(
        _ teams: [[Rating]], parameters: ModelParameters, math: MathFunctions
    ) throws(OpenSkillError) -> [TeamRating] {
        var largest = 0
        for team in teams { largest = max(largest, team.count) }
        return try withUnsafeTemporaryAllocation(of: Int.self, capacity: largest) {
            (order) throws(OpenSkillError) -> [TeamRating] in
            var result: [TeamRating] = []
            result.reserveCapacity(teams.count)
            for team in teams {
                result.append(try aggregate(
                    count: team.count, mu: { team[$0].mu }, sigma: { team[$0].sigma },
                    order: order, parameters: parameters, math: math))
            }
            return result
        }
    }
}

enum Ranking {
    /// Python's `int(x)` for a finite double: truncation toward zero (without libm's trunc).
    @inline(__always)
    static func truncated(_ x: Double) -> Double {
        abs(x) < 0x1p52 ? Double(Int64(x)) : x  // beyond 2^52 every double is an integer
    }
}
