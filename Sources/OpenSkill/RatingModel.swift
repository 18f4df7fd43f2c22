/// One team's predicted finishing place and its normalised win probability (`predict_rank`).
public struct RankPrediction: Sendable, Hashable {
    /// 1-based competition rank (equal probabilities share a rank).
    public var rank: Int
    public var probability: Double

    public init(rank: Int, probability: Double) {
        self.rank = rank
        self.probability = probability
    }
}

/// The optional arguments of `rate`, as in openskill's `rate(teams, ranks, scores, weights,
/// tau, limit_sigma)`.
public struct RateOptions: Sendable, Hashable {
    /// Finishing positions, lower is better; ties allowed; any real numbers.
    public var ranks: [Double]?
    /// Points, higher is better (converted to competition ranks). Exclusive with `ranks`.
    public var scores: [Double]?
    /// One list per team, one non-negative contribution per player.
    public var weights: [[Double]]?
    /// Dynamics for this call; nil or 0 means the model's tau.
    public var tau: Double?
    /// Replaces the model's `limitSigma` for this and later calls when non-nil.
    public var limitSigma: Bool?

    public init(
        ranks: [Double]? = nil, scores: [Double]? = nil, weights: [[Double]]? = nil,
        tau: Double? = nil, limitSigma: Bool? = nil
    ) {
        self.ranks = ranks
        self.scores = scores
        self.weights = weights
        self.tau = tau
        self.limitSigma = limitSigma
    }
}

/// The public surface shared by the five Weng–Lin models.
public protocol RatingModel: Sendable {
    /// Which of the five models this is.
    var kind: ModelKind { get }
    var parameters: ModelParameters { get set }
    /// The transcendental functions used (`.libm` or `.portable`).
    var math: MathFunctions { get set }

    /// Rates one game in place: on success every rating in `teams` is replaced by its updated
    /// value (no allocation when the arrays are uniquely referenced); on error nothing changes.
    /// See `rate(_:ranks:scores:weights:tau:limitSigma:)` for the semantics.
    mutating func rate(_ teams: inout [[Rating]], options: RateOptions) throws(OpenSkillError)

    /// Each team's probability of winning (sums to 1).
    func predictWin(_ teams: [[Rating]]) throws(OpenSkillError) -> [Double]
    /// Each team's predicted place and normalised win probability.
    func predictRank(_ teams: [[Rating]]) throws(OpenSkillError) -> [RankPrediction]
    /// The probability that the game is drawn.
    func predictDraw(_ teams: [[Rating]]) throws(OpenSkillError) -> Double
}

extension RatingModel {
    /// New ratings after one game (openskill `rate`). `teams` are in any order; the result has
    /// the same shape and order. Give either `ranks` (lower is better, ties allowed) or `scores`
    /// (higher is better), or neither (teams finished in the order given). `weights` has one
    /// list per team, one entry per player. `tau` nil or 0 uses the model's tau. A non-nil
    /// `limitSigma` is stored in `parameters.limitSigma` and applies to later calls too.
    public mutating func rate(
        _ teams: [[Rating]],
        ranks: [Double]? = nil,
        scores: [Double]? = nil,
        weights: [[Double]]? = nil,
        tau: Double? = nil,
        limitSigma: Bool? = nil
    ) throws(OpenSkillError) -> [[Rating]] {
        var result = teams  // copy-on-write: the update allocates the new arrays
        try rate(&result, options: RateOptions(
            ranks: ranks, scores: scores, weights: weights, tau: tau, limitSigma: limitSigma))
        return result
    }

    /// `rate` for callers that own their arrays: the new ratings replace the old ones in
    /// `teams`, which avoids allocating a result. On error `teams` is left unchanged.
    public mutating func rateInPlace(
        _ teams: inout [[Rating]],
        ranks: [Double]? = nil,
        scores: [Double]? = nil,
        weights: [[Double]]? = nil,
        tau: Double? = nil,
        limitSigma: Bool? = nil
    ) throws(OpenSkillError) {
        try rate(&teams, options: RateOptions(
            ranks: ranks, scores: scores, weights: weights, tau: tau, limitSigma: limitSigma))
    }

    /// A rating with the model's prior (openskill `model.rating()`), optionally overridden.
    public func rating(mu: Double? = nil, sigma: Double? = nil) -> Rating {
        Rating(mu: mu ?? parameters.mu, sigma: sigma ?? parameters.sigma)
    }
}

/// The five models, named as in openskill.py.
public enum ModelKind: String, Sendable, CaseIterable {
    case plackettLuce = "PlackettLuce"
    case bradleyTerryFull = "BradleyTerryFull"
    case bradleyTerryPart = "BradleyTerryPart"
    case thurstoneMostellerFull = "ThurstoneMostellerFull"
    case thurstoneMostellerPart = "ThurstoneMostellerPart"

    /// Creates the model. `epsilon` applies to the Thurstone–Mosteller models and `windowSize`
    /// to the partial-pairing models; they are ignored by the others.
    public func makeModel(
        parameters: ModelParameters = ModelParameters(),
        epsilon: Double = 0.1,
        windowSize: Int = 4,
        math: MathFunctions = .portable
    ) -> any RatingModel {
        switch self {
        case .plackettLuce:
            return PlackettLuce(parameters: parameters, math: math)
        case .bradleyTerryFull:
            return BradleyTerryFull(parameters: parameters, math: math)
        case .bradleyTerryPart:
            return BradleyTerryPart(parameters: parameters, windowSize: windowSize, math: math)
        case .thurstoneMostellerFull:
            return ThurstoneMostellerFull(parameters: parameters, epsilon: epsilon, math: math)
        case .thurstoneMostellerPart:
            return ThurstoneMostellerPart(
                parameters: parameters, epsilon: epsilon, windowSize: windowSize, math: math)
        }
    }
}
