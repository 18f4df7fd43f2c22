/// Bounds into which each team's weights are rescaled before rating (openskill `weight_bounds`).
public struct WeightBounds: Sendable, Hashable {
    public var lower: Double
    public var upper: Double

    public init(lower: Double, upper: Double) {
        self.lower = lower
        self.upper = upper
    }

    /// openskill's default (1, 2).
    public static let standard = WeightBounds(lower: 1.0, upper: 2.0)
}

/// Hyper-parameters shared by every Weng–Lin model, with openskill.py 6.2.0's defaults.
public struct ModelParameters: Sendable, Hashable {
    /// Prior mean of a new player.
    public var mu: Double
    /// Prior standard deviation of a new player.
    public var sigma: Double
    /// Performance noise: the spread of a single game's outcome around skill.
    public var beta: Double
    /// Floor for the variance-shrink factor, keeping σ positive.
    public var kappa: Double
    /// Dynamics: added in quadrature to every σ before each update. `rate(tau: 0)` or
    /// `rate(tau: nil)` uses this value.
    public var tau: Double
    /// Score margin below which a win counts as ordinary (0 disables margins).
    public var margin: Double
    /// When true, `rate` never lets a σ grow. A `limitSigma` passed to `rate` replaces this
    /// value for that call and all later ones (as openskill does).
    public var limitSigma: Bool
    /// When true, team sums up-weight players far below the team's best ordinal.
    public var balance: Bool
    /// Per-team rescaling range for weights; nil uses raw weights.
    public var weightBounds: WeightBounds?

    public init(
        mu: Double = 25.0,
        sigma: Double = 25.0 / 3.0,
        beta: Double = 25.0 / 6.0,
        kappa: Double = 0.0001,
        tau: Double = 25.0 / 300.0,
        margin: Double = 0.0,
        limitSigma: Bool = false,
        balance: Bool = false,
        weightBounds: WeightBounds? = .standard
    ) {
        self.mu = mu
        self.sigma = sigma
        self.beta = beta
        self.kappa = kappa
        self.tau = tau
        self.margin = margin
        self.limitSigma = limitSigma
        self.balance = balance
        self.weightBounds = weightBounds
    }
}
