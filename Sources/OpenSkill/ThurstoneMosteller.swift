/// The Thurstone–Mosteller models (Weng & Lin 2011, Algorithms 1 and 3): pairwise comparisons
/// with Gaussian performance noise, updated through the truncated-Gaussian functions V, W
/// (win/loss) and Ṽ, W̃ (draw), with draw margin ε.

/// Thurstone–Mosteller with full pairing. Port of openskill.py 6.2.0 `ThurstoneMostellerFull`.
public struct ThurstoneMostellerFull: RatingModel, WengLinUpdate {
    public var parameters: ModelParameters
    /// Draw margin ε (openskill `epsilon`).
    public var epsilon: Double
    public var math: MathFunctions
    public var kind: ModelKind { .thurstoneMostellerFull }

    public init(
        parameters: ModelParameters = ModelParameters(), epsilon: Double = 0.1,
        math: MathFunctions = .portable
    ) {
        self.parameters = parameters
        self.epsilon = epsilon
        self.math = math
    }

    public mutating func rate(
        _ teams: inout [[Rating]], options: RateOptions
    ) throws(OpenSkillError) {
        if !epsilon.isFinite {
            throw .invalidParameter(name: "epsilon", value: epsilon, requirement: "a finite number")
        }
        return try WengLin.rate(&self, &teams, options)
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
            try ThurstoneMosteller.addPair(
                i, q, game, twoBetaSquared: twoBetaSquared, epsilon: epsilon, doubledScale: false)
        }
    }
}

/// Thurstone–Mosteller with partial pairing: each team is compared with the teams within
/// `windowSize` places, contributions averaged. Note two differences from the full model that
/// openskill.py 6.2.0 has and this port keeps: c_iq is doubled, and a zero Ω counts as a loss.
/// Port of openskill.py 6.2.0 `ThurstoneMostellerPart`.
public struct ThurstoneMostellerPart: RatingModel, WengLinUpdate {
    public var parameters: ModelParameters
    /// Draw margin ε (openskill `epsilon`).
    public var epsilon: Double
    /// How many neighbouring places on each side a team is compared with (openskill `window_size`).
    public var windowSize: Int
    public var math: MathFunctions
    public var kind: ModelKind { .thurstoneMostellerPart }

    public init(
        parameters: ModelParameters = ModelParameters(), epsilon: Double = 0.1, windowSize: Int = 4,
        math: MathFunctions = .portable
    ) {
        self.parameters = parameters
        self.epsilon = epsilon
        self.windowSize = windowSize
        self.math = math
    }

    public mutating func rate(
        _ teams: inout [[Rating]], options: RateOptions
    ) throws(OpenSkillError) {
        if !epsilon.isFinite {
            throw .invalidParameter(name: "epsilon", value: epsilon, requirement: "a finite number")
        }
        return try WengLin.rate(&self, &teams, options)
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
    /// openskill 6.2.0's ThurstoneMostellerPart tests `omega > 0`, so Ω == 0 updates as a loss.
    static let zeroOmegaIsGain = false

    func accumulate(_ game: GameState) throws(OpenSkillError) {
        game.preparePairwise()
        let twoBetaSquared = 2 * math.square(parameters.beta)
        let pairing = Pairing.window(windowSize)
        try pairing.forEachPair(teamCount: game.teamCount) { (i, q) throws(OpenSkillError) in
            try ThurstoneMosteller.addPair(
                i, q, game, twoBetaSquared: twoBetaSquared, epsilon: epsilon, doubledScale: true)
        }
        game.averageOmegaDelta(pairing)
    }
}

enum ThurstoneMosteller {
    /// Adds the terms of the comparison between teams i and q to both teams' Ω and Δ.
    /// For team s against opponent o, with δ = (θ_s − θ_o)/c, t = ε/c and margin divisor md:
    /// a win adds σ²_s/c·V(δ/md, t) to Ω and γ·σ²_s/c/c·W(δ/md, t) to Δ; a loss adds
    /// −σ²_s/c·V(−δ/md, t) and γ·σ²_s/c/c·W(−δ/md, t); a draw uses Ṽ(δ/md, t) and W̃(δ/md, t).
    /// `doubledScale` is ThurstoneMostellerPart's c_iq = 2·√(…).
    @inline(__always)
    static func addPair(
        _ i: Int, _ q: Int, _ game: GameState, twoBetaSquared: Double, epsilon: Double,
        doubledScale: Bool
    ) throws(OpenSkillError) {
        let math = game.math
        let sigmaSquaredI = game.teamSigmaSquared[i]
        let sigmaSquaredQ = game.teamSigmaSquared[q]
        let root = (sigmaSquaredI + sigmaSquaredQ + twoBetaSquared).squareRoot()
        let ciq = doubledScale ? 2 * root : root
        if ciq == 0 {
            throw .divisionByZero(context: "Thurstone–Mosteller c_iq (beta and sigmas are 0)")
        }
        let muI = game.teamMu[i]
        let muQ = game.teamMu[q]
        let deltaMuI = (muI - muQ) / ciq
        // (θ_q − θ_i)/c is exactly −(θ_i − θ_q)/c, except that equal means give +0 both ways.
        let deltaMuQ = muI == muQ ? 0.0 : -deltaMuI
        let marginDivisor = game.marginFactor(i, q)
        let t = epsilon / ciq
        // Ω and Δ scales, with the default γ = √σ²/c.
        let omegaScaleI = sigmaSquaredI / ciq
        let omegaScaleQ = sigmaSquaredQ / ciq
        let deltaScaleI = game.scratch[i] / ciq * omegaScaleI / ciq
        let deltaScaleQ = game.scratch[q] / ciq * omegaScaleQ / ciq
        let rankI = game.rank[i]
        let rankQ = game.rank[q]

        if rankQ != rankI {
            let iWon = rankQ > rankI
            let xI = GameState.divideByMargin(iWon ? deltaMuI : -deltaMuI, marginDivisor)
            let xQ = GameState.divideByMargin(iWon ? -deltaMuQ : deltaMuQ, marginDivisor)
            let valuesI = TruncatedGaussian.WinLoss(xt: xI - t, math)
            let xtQ = xQ - t
            // Both sides evaluate at the same x − t (up to the sign of a zero); reuse Φ and φ
            // whenever the bits agree.
            let valuesQ = xtQ.bitPattern == valuesI.xt.bitPattern
                ? valuesI : TruncatedGaussian.WinLoss(xt: xtQ, math)
            game.omega[i] += (iWon ? omegaScaleI : -omegaScaleI) * valuesI.v
            game.delta[i] += deltaScaleI * valuesI.w(x: xI)
            game.omega[q] += (iWon ? -omegaScaleQ : omegaScaleQ) * valuesQ.v
            game.delta[q] += deltaScaleQ * valuesQ.w(x: xQ)
        } else {
            let xI = GameState.divideByMargin(deltaMuI, marginDivisor)
            let xQ = GameState.divideByMargin(deltaMuQ, marginDivisor)
            let valuesI = TruncatedGaussian.Draw(xx: abs(xI), t: t, math)
            let valuesQ = abs(xQ).bitPattern == valuesI.xx.bitPattern
                ? valuesI : TruncatedGaussian.Draw(xx: abs(xQ), t: t, math)
            game.omega[i] += omegaScaleI * valuesI.vt(x: xI)
            game.delta[i] += deltaScaleI * valuesI.wt(x: xI)
            game.omega[q] += omegaScaleQ * valuesQ.vt(x: xQ)
            game.delta[q] += deltaScaleQ * valuesQ.wt(x: xQ)
        }
    }
}
