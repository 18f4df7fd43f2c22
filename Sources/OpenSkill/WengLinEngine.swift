/// The model-specific step of `rate` (openskill's `_compute`): fill `game.omega` and
/// `game.delta` for every team. Everything else is shared and lives in `WengLin`.
protocol WengLinUpdate {
    var parameters: ModelParameters { get set }
    var math: MathFunctions { get }
    /// PlackettLuce compares `int(rank)` of the raw ranks; the pairwise models re-rank them.
    static var truncatesRanks: Bool { get }
    /// Whether `_compute` ends with openskill's tie "averaging" (see `WengLin.finish`).
    static var averagesTies: Bool { get }
    /// Whether Ω == 0 updates like a gain (`omega >= 0`) or like a loss (`omega > 0`, only
    /// ThurstoneMostellerPart).
    static var zeroOmegaIsGain: Bool { get }
    func accumulate(_ game: GameState) throws(OpenSkillError)
}

/// The model-independent parts of openskill.py's Weng–Lin models.
enum WengLin {
    /// openskill `rate`: validate, add τ, turn scores into ranks, normalise weights, sort teams
    /// by rank, run the model's update, then apply `limit_sigma` and write the new ratings back
    /// into `teams` (in the caller's order). Nothing is written unless the whole call succeeds.
    static func rate<Model: WengLinUpdate>(
        _ model: inout Model, _ teams: inout [[Rating]], _ options: RateOptions
    ) throws(OpenSkillError) {
        let (playerCount, largestTeam) = try Validation.checkTeams(teams)
        try Validation.checkParameters(model.parameters)
        if let ranks = options.ranks {
            try Validation.checkPerTeam(ranks, name: "ranks", teamCount: teams.count)
        }
        if options.ranks != nil && options.scores != nil { throw .ranksAndScoresBothGiven }
        if let scores = options.scores {
            try Validation.checkPerTeam(scores, name: "scores", teamCount: teams.count)
        }
        if let weights = options.weights { try Validation.checkWeights(weights, teams: teams) }
        if let tau = options.tau, !tau.isFinite { throw .nonFiniteInput(path: "tau", value: tau) }

        let n = teams.count
        // A limitSigma passed to rate() replaces the model's for this and later calls; it is
        // stored only once the call has succeeded (openskill raises before assigning it).
        let limitSigma = options.limitSigma ?? model.parameters.limitSigma
        let doubleCount = 9 * n + 4 * playerCount
        let intCount = 2 * n + 1 + largestTeam
        try withUnsafeTemporaryAllocation(of: Double.self, capacity: doubleCount) {
            (doubles) throws(OpenSkillError) in
            try withUnsafeTemporaryAllocation(of: Int.self, capacity: intCount) {
                (ints) throws(OpenSkillError) in
                let game = try run(model, teams, options, limitSigma: limitSigma,
                                   playerCount: playerCount, doubles: doubles, ints: ints)
                for t in 0..<n {
                    let o = game.original[t]
                    let base = game.firstPlayer[t]
                    for j in 0..<(game.firstPlayer[t + 1] - base) {
                        teams[o][j] = Rating(mu: game.playerMu[base + j], sigma: game.playerSigma[base + j])
                    }
                }
            }
        }
        if let value = options.limitSigma { model.parameters.limitSigma = value }
    }

    private static func run<Model: WengLinUpdate>(
        _ model: Model,
        _ teams: [[Rating]],
        _ options: RateOptions,
        limitSigma: Bool,
        playerCount: Int,
        doubles: UnsafeMutableBufferPointer<Double>,
        ints: UnsafeMutableBufferPointer<Int>
    ) throws(OpenSkillError) -> GameState {
        let n = teams.count
        let parameters = model.parameters
        let math = model.math
        var doubleCarver = BufferCarver(doubles)
        var intCarver = BufferCarver(ints)
        let hasScores = options.ranks == nil && options.scores != nil
        let hasWeights = options.weights != nil
        let game = GameState(
            teamCount: n, parameters: parameters, math: math,
            original: intCarver.take(n), firstPlayer: intCarver.take(n + 1),
            rank: doubleCarver.take(n), teamMu: doubleCarver.take(n),
            teamSigmaSquared: doubleCarver.take(n), omega: doubleCarver.take(n),
            delta: doubleCarver.take(n), scratch: doubleCarver.take(3 * n),
            hasScores: hasScores, score: doubleCarver.take(n),
            playerMu: doubleCarver.take(playerCount), playerSigma: doubleCarver.take(playerCount),
            hasWeights: hasWeights, weight: doubleCarver.take(playerCount),
            inputSigma: doubleCarver.take(playerCount))
        let playerOrder = intCarver.take(ints.count - intCarver.offset)

        // 1. The rank value of each team, in the caller's order (kept in `rank` for now).
        //    Scores become competition ranks of the negated scores (`_calculate_rankings`):
        //    the number of teams with a strictly higher score.
        let sortByRank = options.ranks != nil || options.scores != nil
        if let ranks = options.ranks {
            for i in 0..<n { game.rank[i] = ranks[i] }
        } else if let scores = options.scores {
            for i in 0..<n {
                var better = 0
                for j in 0..<n where -scores[j] < -scores[i] { better += 1 }
                game.rank[i] = Double(better)
            }
        }

        // 2. Teams in rank order; ties keep the caller's order (`_unwind` is a stable sort).
        for position in 0..<n {
            var slot = position
            if sortByRank {
                let key = game.rank[position]
                while slot > 0 && game.rank[game.original[slot - 1]] > key {
                    game.original[slot] = game.original[slot - 1]
                    slot -= 1
                }
            }
            game.original[slot] = position
        }

        // 3. The ranks the model compares, from the sorted rank values.
        //    PlackettLuce: int(rank). The others: competition rank of the sorted values.
        //    Without ranks or scores both are simply 0, 1, 2, …
        if sortByRank {
            for t in 0..<n { game.scratch[t] = game.rank[game.original[t]] }
            for t in 0..<n {
                let value = game.scratch[t]
                if Model.truncatesRanks {
                    game.rank[t] = Ranking.truncated(value)
                } else {
                    game.rank[t] = (t > 0 && value == game.scratch[t - 1]) ? game.rank[t - 1] : Double(t)
                }
            }
        } else {
            for t in 0..<n { game.rank[t] = Double(t) }
        }
        if hasScores, let scores = options.scores {
            for t in 0..<n { game.score[t] = scores[game.original[t]] }
        }

        // 4. Players: σ ← √(σ² + τ²) (`tau if tau else self.tau`: nil or 0 means the model's),
        //    and weights normalised per team into the model's bounds.
        let tau = (options.tau == nil || options.tau == 0) ? parameters.tau : options.tau!
        let tauSquared = tau * tau
        var next = 0
        for t in 0..<n {
            let o = game.original[t]
            let size = teams[o].count
            game.firstPlayer[t] = next
            for j in 0..<size {
                let player = teams[o][j]
                game.playerMu[next + j] = player.mu
                game.inputSigma[next + j] = player.sigma
                game.playerSigma[next + j] = (player.sigma * player.sigma + tauSquared).squareRoot()
            }
            if let weights = options.weights {
                normalize(weights[o], into: parameters.weightBounds,
                          output: UnsafeMutableBufferPointer(rebasing: game.weight[next..<(next + size)]))
            }
            next += size
        }
        game.firstPlayer[n] = next

        // 5. Team aggregates.
        for t in 0..<n {
            let base = game.firstPlayer[t]
            let aggregate = try TeamRating.aggregate(
                count: game.firstPlayer[t + 1] - base,
                mu: { game.playerMu[base + $0] }, sigma: { game.playerSigma[base + $0] },
                order: playerOrder, parameters: parameters, math: math)
            game.teamMu[t] = aggregate.mu
            game.teamSigmaSquared[t] = aggregate.sigmaSquared
        }

        // 6. The model's Ω and Δ, then the shared per-player step.
        try model.accumulate(game)
        try finish(game, averagesTies: Model.averagesTies,
                   zeroOmegaIsGain: Model.zeroOmegaIsGain, limitSigma: limitSigma)

        return game
    }

    /// openskill `_normalize`: rescale one team's weights linearly onto [lower, upper]; a single
    /// weight becomes `upper`, and equal weights divide by 0.0001 instead of 0 (all → lower).
    /// Without bounds the raw weights are used.
    static func normalize(
        _ values: [Double], into bounds: WeightBounds?, output: UnsafeMutableBufferPointer<Double>
    ) {
        guard let bounds else {
            for j in values.indices { output[j] = values[j] }
            return
        }
        if values.count == 1 {
            output[0] = bounds.upper
            return
        }
        var low = values[0]
        var high = values[0]
        for value in values.dropFirst() {
            if value < low { low = value }
            if value > high { high = value }
        }
        var sourceRange = high - low
        if sourceRange == 0 { sourceRange = 0.0001 }
        let targetRange = bounds.upper - bounds.lower
        for j in values.indices {
            output[j] = (((values[j] - low) / sourceRange) * targetRange) + bounds.lower
        }
    }

    /// The per-player step shared by all five models, then `limit_sigma`. μ moves by
    /// σ²/σ²_team · Ω and σ shrinks by √max(1 − σ²/σ²_team · Δ, κ); a weight multiplies gains
    /// and divides losses.
    ///
    /// `averagesTies` reproduces the end of `_compute` in PlackettLuce, BradleyTerryFull and
    /// ThurstoneMostellerFull: it averages `result.mu − original.mu` over tied teams, but both
    /// name the same (already updated) player objects, so the average is 0.0 and the only effect
    /// is μ ← μ + 0.0 for players of tied teams (turning a −0.0 into +0.0).
    @inline(__always)
    static func finish(
        _ game: GameState, averagesTies: Bool, zeroOmegaIsGain: Bool,
        limitSigma: Bool
    ) throws(OpenSkillError) {
        let n = game.teamCount
        let kappa = game.parameters.kappa
        let math = game.math
        for t in 0..<n {
            let teamSigmaSquared = game.teamSigmaSquared[t]
            if teamSigmaSquared == 0 {
                throw .divisionByZero(context: "player update (team \(game.original[t]) has variance 0)")
            }
            let omega = game.omega[t]
            let delta = game.delta[t]
            let gain = zeroOmegaIsGain ? omega >= 0 : omega > 0
            let tied = averagesTies
                && ((t > 0 && game.rank[t - 1] == game.rank[t])
                    || (t + 1 < n && game.rank[t + 1] == game.rank[t]))
            let o = game.original[t]
            let base = game.firstPlayer[t]
            for j in 0..<(game.firstPlayer[t + 1] - base) {
                let k = base + j
                let weight = game.hasWeights ? game.weight[k] : 1.0
                let mu = game.playerMu[k]
                let sigma = game.playerSigma[k]
                let share = math.square(sigma) / teamSigmaSquared
                var newMu: Double
                let shrink: Double
                if gain {
                    newMu = mu + share * omega * weight
                    shrink = 1 - share * delta * weight
                } else {
                    if weight == 0 {
                        throw .divisionByZero(context: "weights[\(o)][\(j)] is 0 for a loss")
                    }
                    newMu = mu + share * omega / weight
                    shrink = 1 - share * delta / weight
                }
                if tied { newMu = newMu + 0.0 }
                // Python's max(x, kappa) keeps x unless kappa is larger.
                var newSigma = sigma * (kappa > shrink ? kappa : shrink).squareRoot()
                if limitSigma {
                    // Python's min(new, original) keeps `new` unless `original` is smaller.
                    let original = game.inputSigma[k]
                    if original < newSigma { newSigma = original }
                }
                if !newMu.isFinite {
                    throw .nonFiniteResult(path: "result[\(o)][\(j)].mu", value: newMu)
                }
                if !newSigma.isFinite {
                    throw .nonFiniteResult(path: "result[\(o)][\(j)].sigma", value: newSigma)
                }
                game.playerMu[k] = newMu
                game.playerSigma[k] = newSigma
            }
        }
    }
}
