/// The standard normal distribution exactly as Python's `statistics.NormalDist()` (μ = 0, σ = 1)
/// evaluates it — openskill.py's `phi_major`, `phi_minor` and `phi_major_inverse`.
enum NormalDistribution {
    /// √2, as `statistics._SQRT2 = sqrt(2.0)`.
    static let sqrt2 = (2.0).squareRoot()
    /// √(2π), as `sqrt(tau * variance)` with variance 1.
    static let sqrtTwoPi = (2.0 * Double.pi).squareRoot()

    /// Φ(x) = ½(1 + erf(x/√2)) (`NormalDist.cdf`, openskill `phi_major`).
    @inline(__always)
    static func cdf(_ x: Double, _ math: MathFunctions) -> Double {
        0.5 * (1.0 + math.erf(x / sqrt2))
    }

    /// φ(x) = exp(x·x / −2) / √(2π) (`NormalDist.pdf`, openskill `phi_minor`).
    /// Multiplying by −0.5 is the same single rounding of the same exact value as dividing by
    /// −2 (a power of two), and cheaper.
    @inline(__always)
    static func pdf(_ x: Double, _ math: MathFunctions) -> Double {
        math.exp(x * x * -0.5) / sqrtTwoPi
    }

    /// Φ⁻¹(p) by Wichura's algorithm AS241 (PPND16), in the operation order of CPython's
    /// `_normal_dist_inv_cdf`, with an injectable `log`. Requires 0 < p < 1.
    static func wichuraQuantile(_ p: Double, log: (Double) -> Double) -> Double {
        let q = p - 0.5
        if abs(q) <= 0.425 {
            let r = 0.180625 - q * q
            let num = (((((((2.5090809287301226727e+3 * r +
                             3.3430575583588128105e+4) * r +
                             6.7265770927008700853e+4) * r +
                             4.5921953931549871457e+4) * r +
                             1.3731693765509461125e+4) * r +
                             1.9715909503065514427e+3) * r +
                             1.3314166789178437745e+2) * r +
                             3.3871328727963666080e+0) * q
            let den = (((((((5.2264952788528545610e+3 * r +
                             2.8729085735721942674e+4) * r +
                             3.9307895800092710610e+4) * r +
                             2.1213794301586595867e+4) * r +
                             5.3941960214247511077e+3) * r +
                             6.8718700749205790830e+2) * r +
                             4.2313330701600911252e+1) * r +
                             1.0)
            return 0.0 + (num / den) * 1.0  // mu + x*sigma with mu = 0, sigma = 1
        }
        var r = q <= 0.0 ? p : 1.0 - p
        r = (-log(r)).squareRoot()
        let num: Double
        let den: Double
        if r <= 5.0 {
            r = r - 1.6
            num = (((((((7.74545014278341407640e-4 * r +
                         2.27238449892691845833e-2) * r +
                         2.41780725177450611770e-1) * r +
                         1.27045825245236838258e+0) * r +
                         3.64784832476320460504e+0) * r +
                         5.76949722146069140550e+0) * r +
                         4.63033784615654529590e+0) * r +
                         1.42343711074968357734e+0)
            den = (((((((1.05075007164441684324e-9 * r +
                         5.47593808499534494600e-4) * r +
                         1.51986665636164571966e-2) * r +
                         1.48103976427480074590e-1) * r +
                         6.89767334985100004550e-1) * r +
                         1.67638483018380384940e+0) * r +
                         2.05319162663775882187e+0) * r +
                         1.0)
        } else {
            r = r - 5.0
            num = (((((((2.01033439929228813265e-7 * r +
                         2.71155556874348757815e-5) * r +
                         1.24266094738807843860e-3) * r +
                         2.65321895265761230930e-2) * r +
                         2.96560571828504891230e-1) * r +
                         1.78482653991729133580e+0) * r +
                         5.46378491116411436990e+0) * r +
                         6.65790464350110377720e+0)
            den = (((((((2.04426310338993978564e-15 * r +
                         1.42151175831644588870e-7) * r +
                         1.84631831751005468180e-5) * r +
                         7.86869131145613259100e-4) * r +
                         1.48753612908506148525e-2) * r +
                         1.36929880922735805310e-1) * r +
                         5.99832206555887937690e-1) * r +
                         1.0)
        }
        var x = num / den
        if q < 0.0 { x = -x }
        return 0.0 + x * 1.0
    }
}
