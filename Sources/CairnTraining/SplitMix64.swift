import CairnCore

/// A seeded 64-bit generator (SplitMix64, Steele et al. 2014): integer-only, so every platform
/// draws the same sequence. Used wherever training or evaluation needs randomness that every
/// validator must reproduce: initial weights, data positions, probe batches, hyperplanes.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    /// Seeds from the first 8 bytes of a digest, little-endian.
    public init(digest: Digest) {
        var seed: UInt64 = 0
        for (i, byte) in digest.bytes.prefix(8).enumerated() { seed |= UInt64(byte) << (8 * UInt64(i)) }
        state = seed
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in `0..<bound` by Lemire's multiply-and-reject, so the result never depends on
    /// the standard library's algorithm (which may change between Swift versions).
    public mutating func below(_ bound: UInt64) -> UInt64 {
        precondition(bound > 0)
        var product = next().multipliedFullWidth(by: bound)
        if product.low < bound {
            let threshold = (0 &- bound) % bound
            while product.low < threshold { product = next().multipliedFullWidth(by: bound) }
        }
        return product.high
    }

    /// Uniform in [-1, 1) on a grid of 2^-23: exact in Float32, so identical everywhere.
    public mutating func symmetricUnit() -> Float {
        Float(next() >> 40) * 0x1p-23 - 1
    }

    /// A standard-normal-like value without transcendental functions: the sum of 4 uniforms in
    /// [-1, 1) scaled to unit variance (Irwin–Hall). Exact basic operations only.
    public mutating func approximateNormal() -> Float {
        let sum = (symmetricUnit() + symmetricUnit()) + (symmetricUnit() + symmetricUnit())
        return sum * 0.8660254  // √(3/4): each uniform has variance 1/3
    }
}
