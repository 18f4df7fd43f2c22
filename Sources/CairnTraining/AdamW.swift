/// AdamW with decoupled weight decay, written down to the order of operations so that two
/// machines running the same steps from the same state differ only by the BLAS gradient's bits:
///
///     m ← β1·m + (1 − β1)·g
///     v ← β2·v + (1 − β2)·g·g
///     m̂ = m / (1 − β1^t),  v̂ = v / (1 − β2^t)
///     θ ← θ − lr·(m̂ / (√v̂ + ε) + λ·θ)
///
/// β^t is kept as a running product instead of calling `pow`. Decay applies to every parameter.
public struct AdamW: Sendable {
    public var beta1: Float = 0.9
    public var beta2: Float = 0.999
    public var epsilon: Float = 1e-8
    public var weightDecay: Float
    public private(set) var step = 0
    private var beta1Power: Float = 1
    private var beta2Power: Float = 1
    private var m: [Float]
    private var v: [Float]

    public init(parameterCount: Int, weightDecay: Float) {
        self.weightDecay = weightDecay
        m = [Float](repeating: 0, count: parameterCount)
        v = [Float](repeating: 0, count: parameterCount)
    }

    /// One update of `parameters` with `gradient` at learning rate `rate`.
    public mutating func update(_ parameters: UnsafeMutableBufferPointer<Float>, gradient: UnsafeBufferPointer<Float>,
                                rate: Float) {
        precondition(parameters.count == m.count && gradient.count == m.count)
        step += 1
        beta1Power *= beta1
        beta2Power *= beta2
        let b1 = beta1, b2 = beta2, eps = epsilon, decay = weightDecay
        let c1 = 1 / (1 - beta1Power), c2 = 1 / (1 - beta2Power)
        m.withUnsafeMutableBufferPointer { m in
            v.withUnsafeMutableBufferPointer { v in
                for i in 0..<parameters.count {
                    let g = gradient[i]
                    m[i] = b1 * m[i] + (1 - b1) * g
                    v[i] = b2 * v[i] + (1 - b2) * (g * g)
                    let mHat = m[i] * c1
                    let vHat = v[i] * c2
                    parameters[i] -= rate * (mHat / (vHat.squareRoot() + eps) + decay * parameters[i])
                }
            }
        }
    }
}
