/// A player's skill belief: a Gaussian with mean `mu` and standard deviation `sigma`.
public struct Rating: Sendable, Hashable {
    public var mu: Double
    public var sigma: Double

    public init(mu: Double, sigma: Double) {
        self.mu = mu
        self.sigma = sigma
    }

    /// A conservative scalar skill: α·((μ − z·σ) + target/α), openskill's `Rating.ordinal`.
    /// With the defaults it is μ − 3σ, the skill the player exceeds with ~99.7% probability.
    public func ordinal(z: Double = 3.0, alpha: Double = 1.0, target: Double = 0.0) -> Double {
        alpha * ((mu - z * sigma) + (target / alpha))
    }
}
