/// Input checks done before any arithmetic, so that bad input is reported as a typed error
/// naming the offending value instead of surfacing later as NaN.
enum Validation {
    /// Checks the teams and returns (player count, largest team size).
    @discardableResult
    static func checkTeams(_ teams: [[Rating]]) throws(OpenSkillError) -> (players: Int, largest: Int) {
        if teams.count < 2 { throw .tooFewTeams(count: teams.count) }
        var players = 0
        var largest = 0
        // Index-based loops borrow the inner arrays instead of copying (retaining) them.
        for t in teams.indices {
            let count = teams[t].count
            if count == 0 { throw .emptyTeam(team: t) }
            players += count
            largest = max(largest, count)
            for p in 0..<count {
                let mu = teams[t][p].mu
                let sigma = teams[t][p].sigma
                if !mu.isFinite { throw .nonFiniteInput(path: "teams[\(t)][\(p)].mu", value: mu) }
                if !sigma.isFinite {
                    throw .nonFiniteInput(path: "teams[\(t)][\(p)].sigma", value: sigma)
                }
                if sigma < 0 { throw .negativeSigma(path: "teams[\(t)][\(p)].sigma", value: sigma) }
            }
        }
        return (players, largest)
    }

    static func checkParameters(_ parameters: ModelParameters) throws(OpenSkillError) {
        try checkFinite("mu", parameters.mu)
        try checkFinite("sigma", parameters.sigma)
        try checkFinite("beta", parameters.beta)
        try checkFinite("kappa", parameters.kappa)
        try checkFinite("tau", parameters.tau)
        try checkFinite("margin", parameters.margin)
        if parameters.kappa < 0 {
            // sqrt(max(1 − …, κ)) must have a non-negative argument.
            throw .invalidParameter(name: "kappa", value: parameters.kappa, requirement: "≥ 0")
        }
        if let bounds = parameters.weightBounds {
            if !bounds.lower.isFinite {
                throw .invalidParameter(
                    name: "weightBounds.lower", value: bounds.lower, requirement: "a finite number")
            }
            if !bounds.upper.isFinite {
                throw .invalidParameter(
                    name: "weightBounds.upper", value: bounds.upper, requirement: "a finite number")
            }
        }
    }

    @inline(__always)
    static func checkFinite(_ name: String, _ value: Double) throws(OpenSkillError) {
        if !value.isFinite {
            throw .invalidParameter(name: name, value: value, requirement: "a finite number")
        }
    }

    static func checkPerTeam(
        _ values: [Double], name: String, teamCount: Int
    ) throws(OpenSkillError) {
        if values.count != teamCount {
            throw .lengthMismatch(argument: name, expected: teamCount, actual: values.count, team: nil)
        }
        for (i, value) in values.enumerated() where !value.isFinite {
            throw .nonFiniteInput(path: "\(name)[\(i)]", value: value)
        }
    }

    static func checkWeights(_ weights: [[Double]], teams: [[Rating]]) throws(OpenSkillError) {
        if weights.count != teams.count {
            throw .lengthMismatch(
                argument: "weights", expected: teams.count, actual: weights.count, team: nil)
        }
        for t in weights.indices {
            let count = weights[t].count
            if count != teams[t].count {
                throw .lengthMismatch(
                    argument: "weights[\(t)]", expected: teams[t].count, actual: count, team: t)
            }
            for p in 0..<count where !weights[t][p].isFinite {
                throw .nonFiniteInput(path: "weights[\(t)][\(p)]", value: weights[t][p])
            }
        }
    }
}
