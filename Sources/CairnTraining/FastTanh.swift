/// tanh for the model's hidden layers, vectorised: a rational minimax approximation
/// x · P(x²) / Q(x²) on x clamped to ±7.9053 (beyond which Float32 tanh is ±1), with Eigen's
/// coefficients for `ptanh_float`. Its error is below 2.3e-7 absolute (measured against libm in
/// Double over ±9, and by `FastTanhTests`), i.e. a few Float32 ulps.
///
/// Plain Swift arithmetic (never fused), so it gives the same bits on every machine — unlike glibc's
/// `tanhf`, which is not correctly rounded and may change between library versions — and it runs
/// 8 lanes at a time instead of one libm call per value.
enum FastTanh {
    static let clamp: Float = 7.90531110763549805
    static let a1: Float = 4.89352455891786e-03, a3: Float = 6.37261928875436e-04, a5: Float = 1.48572235717979e-05
    static let a7: Float = 5.12229709037114e-08, a9: Float = -8.60467152213735e-11, a11: Float = 2.00018790482477e-13
    static let a13: Float = -2.76076847742355e-16
    static let b0: Float = 4.89352518554385e-03, b2: Float = 2.26843463243900e-03, b4: Float = 1.18534705686654e-04
    static let b6: Float = 1.19825839466702e-06

    /// One value, through the same lane arithmetic as `vector` (so scalar tails and vector bodies agree).
    @inline(__always)
    static func value(_ x: Float) -> Float { vector(SIMD8(repeating: x))[0] }

    @inline(__always)
    static func vector(_ x: SIMD8<Float>) -> SIMD8<Float> {
        let c = x.clamped(lowerBound: SIMD8(repeating: -clamp), upperBound: SIMD8(repeating: clamp))
        let x2 = c * c
        var p = SIMD8<Float>(repeating: a13)
        p = p * x2 + a11
        p = p * x2 + a9
        p = p * x2 + a7
        p = p * x2 + a5
        p = p * x2 + a3
        p = p * x2 + a1
        var q = SIMD8<Float>(repeating: b6)
        q = q * x2 + b4
        q = q * x2 + b2
        q = q * x2 + b0
        return (c * p) / q
    }

    /// Replaces each of `count` values by its tanh (lane-wise identical to `value`).
    static func apply(_ values: UnsafeMutablePointer<Float>, count: Int) {
        let raw = UnsafeMutableRawPointer(values)
        var i = 0
        while i + 8 <= count {
            let v = raw.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self)
            raw.storeBytes(of: vector(v), toByteOffset: 4 * i, as: SIMD8<Float>.self)
            i += 8
        }
        while i < count {
            values[i] = value(values[i])
            i += 1
        }
    }
}

public enum ModelMath {
    /// The model's tanh (see `FastTanh`), exposed for tests and reference implementations.
    public static func tanh(_ x: Float) -> Float { FastTanh.value(x) }
}
