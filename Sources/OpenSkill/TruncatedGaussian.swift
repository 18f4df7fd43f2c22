/// The truncated-Gaussian correction functions V, W, Ṽ, W̃ of Weng & Lin (2011), exactly as
/// openskill.py's `weng_lin/common.py` (`v`, `w`, `vt`, `wt`) evaluates them, including its
/// branch thresholds: DBL_EPSILON for V, W and W̃, and 1e-5 for Ṽ.
///
/// The expensive parts (Φ and φ) depend only on x − t (V, W) or on |x| (Ṽ, W̃). They are
/// evaluated once into these small structs, so V and W — and both teams of a pair, which use
/// the same arguments — share them. Φ and φ are pure, so sharing changes no bit of the result.
enum TruncatedGaussian {
    /// `sys.float_info.epsilon`
    static let epsilon = 0x1p-52

    /// Φ(x − t) and, when V and W need it, φ(x − t).
    struct WinLoss {
        let xt: Double
        let cdf: Double
        let pdf: Double

        @inline(__always)
        init(xt: Double, _ math: MathFunctions) {
            self.xt = xt
            cdf = NormalDistribution.cdf(xt, math)
            pdf = cdf < TruncatedGaussian.epsilon ? 0 : NormalDistribution.pdf(xt, math)
        }

        /// V(x, t) = φ(x − t)/Φ(x − t), or t − x when Φ(x − t) < ε.
        @inline(__always)
        var v: Double { cdf < TruncatedGaussian.epsilon ? -xt : pdf / cdf }

        /// W(x, t) = V·(V + x − t), or 1 (x < 0) / 0 when Φ(x − t) < ε.
        @inline(__always)
        func w(x: Double) -> Double {
            if cdf < TruncatedGaussian.epsilon { return x < 0 ? 1.0 : 0.0 }
            let vValue = pdf / cdf
            return vValue * (vValue + xt)
        }
    }

    /// Φ and φ at t − |x| and −t − |x| for the draw functions.
    struct Draw {
        let xx: Double
        let t: Double
        /// Φ(t − |x|) − Φ(−t − |x|)
        let b: Double
        let pdfUpper: Double  // φ(t − |x|)
        let pdfLower: Double  // φ(−t − |x|)

        @inline(__always)
        init(xx: Double, t: Double, _ math: MathFunctions) {
            self.xx = xx
            self.t = t
            b = NormalDistribution.cdf(t - xx, math) - NormalDistribution.cdf(-t - xx, math)
            if b < TruncatedGaussian.epsilon {  // neither Ṽ nor W̃ looks at φ then
                pdfUpper = 0
                pdfLower = 0
            } else {
                pdfUpper = NormalDistribution.pdf(t - xx, math)
                pdfLower = NormalDistribution.pdf(-t - xx, math)
            }
        }

        /// Ṽ(x, t) = ±(φ(−t−|x|) − φ(t−|x|))/b, or −x ∓ t when b < 1e-5.
        @inline(__always)
        func vt(x: Double) -> Double {
            if b < 1e-5 { return x < 0 ? -x - t : -x + t }
            let a = pdfLower - pdfUpper
            return (x < 0 ? -a : a) / b
        }

        /// W̃(x, t) = ((t−|x|)·φ(t−|x|) + (t+|x|)·φ(−t−|x|))/b + Ṽ², or 1 when b < ε.
        @inline(__always)
        func wt(x: Double) -> Double {
            if b < TruncatedGaussian.epsilon { return 1.0 }
            let vtValue = vt(x: x)
            return ((t - xx) * pdfUpper + (t + xx) * pdfLower) / b + vtValue * vtValue
        }
    }
}
