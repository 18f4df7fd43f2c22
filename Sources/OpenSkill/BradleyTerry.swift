/// The Bradley–Terry models (Weng & Lin 2011, Algorithms 1–2): each compared pair of teams
/// contributes through a logistic win probability p_iq = 1 / (1 + e^{(θ_q − θ_i)/c_iq}).

/// Bradley–Terry with full pairing: every team is compared with every other team.
/// Port of openskill.py 6.2.0 `BradleyTerryFull`.
public struct BradleyTerryFull: RatingModel, WengLinUpdate {
    public var parameters: ModelParameters
    public var math: MathFunctions
    public var kind: ModelKind { .bradleyTerryFull }

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

    static let truncatesRanks = false
    static let averagesTies = true
    static let zeroOmegaIsGain = true

    func accumulate(_ game: GameState) throws(OpenSkillError) {
        game.preparePairwise()
        let twoBetaSquared = 2 * math.square(parameters.beta)
        try Pairing.full.forEachPair(teamCount: game.teamCount) { (i, q) throws(OpenSkillError) in
            try BradleyTerry.addPair(i, q, game, twoBetaSquared: twoBetaSquared)
        }
    }
}

/// Bradley–Terry with partial pairing: each team is compared only with the teams within
/// `windowSize` places of it in the ranking, and the contributions are averaged.
/// Port of openskill.py 6.2.0 `BradleyTerryPart`.
public struct BradleyTerryPart: RatingModel, WengLinUpdate {
    public var parameters: ModelParameters
    /// How many neighbouring places on each side a team is compared with (openskill `window_size`).
    public var windowSize: Int
    public var math: MathFunctions
    public var kind: ModelKind { .bradleyTerryPart }

    public init(
        parameters: ModelParameters = ModelParameters(), windowSize: Int = 4,
        math: MathFunctions = .portable
    ) {
        self.parameters = parameters
        self.windowSize = windowSize
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

    static let truncatesRanks = false
    static let averagesTies = false
    static let zeroOmegaIsGain = true

    func accumulate(_ game: GameState) throws(OpenSkillError) {
        game.preparePairwise()
        let twoBetaSquared = 2 * math.square(parameters.beta)
        let pairing = Pairing.window(windowSize)
        try pairing.forEachPair(teamCount: game.teamCount) { (i, q) throws(OpenSkillError) in
            try BradleyTerry.addPair(i, q, game, twoBetaSquared: twoBetaSquared)
        }
        game.averageOmegaDelta(pairing)
    }
}

enum BradleyTerry {
    /// Adds the terms of the comparison between teams i and q to both teams' Ω and Δ.
    @inline(__always)
    static func addPair(
        _ i: Int, _ q: Int, _ game: GameState, twoBetaSquared: Double
    ) throws(OpenSkillError) {
        let sigmaSquaredI = game.teamSigmaSquared[i]
        let sigmaSquaredQ = game.teamSigmaSquared[q]
        // c_iq = √(σ²_i + σ²_q + 2β²); the same bits from either side (+ is commutative).
        let ciq = (sigmaSquaredI + sigmaSquaredQ + twoBetaSquared).squareRoot()
        if ciq == 0 { throw .divisionByZero(context: "Bradley–Terry c_iq (beta and sigmas are 0)") }
        let marginDivisor = game.marginFactor(i, q)
        let muI = game.teamMu[i]
        let muQ = game.teamMu[q]
        let rankI = game.rank[i]
        let rankQ = game.rank[q]
        try addSide(i, opponentMu: muQ, ownMu: muI, sigmaSquared: sigmaSquaredI,
                    sigma: game.scratch[i], ciq: ciq, marginDivisor: marginDivisor,
                    outcome: rankQ > rankI ? 1.0 : (rankQ == rankI ? 0.5 : 0.0), game)
        try addSide(q, opponentMu: muI, ownMu: muQ, sigmaSquared: sigmaSquaredQ,
                    sigma: game.scratch[q], ciq: ciq, marginDivisor: marginDivisor,
                    outcome: rankI > rankQ ? 1.0 : (rankI == rankQ ? 0.5 : 0.0), game)
    }

    /// One team's view: p = 1/(1 + e^{(θ_opp − θ_own)/md/c}), Ω += σ²/c·(s − p),
    /// Δ += γ·σ²/c/c·p·(1 − p) with the default γ = √σ²/c (`sigma` is √σ²).
    @inline(__always)
    private static func addSide(
        _ k: Int, opponentMu: Double, ownMu: Double, sigmaSquared: Double, sigma: Double,
        ciq: Double, marginDivisor: Double, outcome: Double, _ game: GameState
    ) throws(OpenSkillError) {
        let argument = GameState.divideByMargin(opponentMu - ownMu, marginDivisor) / ciq
        let e = game.math.exp(argument)
        if e == .infinity {
            throw .expOverflow(argument: argument, context: "Bradley–Terry win probability")
        }
        let p = 1 / (1 + e)
        let sigmaSquaredToCiq = sigmaSquared / ciq
        game.omega[k] += sigmaSquaredToCiq * (outcome - p)
        let gamma = sigma / ciq
        game.delta[k] += gamma * sigmaSquaredToCiq / ciq * p * (1 - p)
    }
}
