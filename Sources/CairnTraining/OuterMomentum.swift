/// Outer Nesterov momentum over the aggregated step (DiLoCo's outer optimizer, arXiv 2311.08105):
/// with u the step the aggregation would take (θ − θ_aggregated),
///   m ← μ·m + u,   θ_next = θ − (u + μ·m).
/// Float operations in index order, one rounding each: the same bytes on every machine.
public struct OuterMomentum: Sendable {
    public let mu: Float
    public private(set) var buffer: [Float]

    public init(mu: Float, parameterCount: Int) {
        precondition(mu >= 0 && mu < 1, "momentum must be in [0, 1)")
        self.mu = mu
        buffer = [Float](repeating: 0, count: parameterCount)
    }

    /// Returns θ_next from the base model and the aggregation's result on it.
    public mutating func step(base: [Float], aggregated: [Float]) -> [Float] {
        precondition(base.count == buffer.count && aggregated.count == buffer.count, "momentum layout mismatch")
        var next = base
        for i in base.indices {
            let u = base[i] - aggregated[i]
            let m = mu * buffer[i] + u
            buffer[i] = m
            next[i] = base[i] - (u + mu * m)
        }
        return next
    }
}
