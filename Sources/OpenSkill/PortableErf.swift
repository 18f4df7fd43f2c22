// erf and erfc ported from fdlibm's s_erf.c as shipped (with Shimizu's pipelining edit) in
// glibc 2.36 — the library CPython's math.erf calls on the platform that produced the
// reference vectors. With the same operation order and constants, the portable results equal
// glibc's whenever the two inner exp() calls agree, which PortableMath.exp makes near-certain.
//
// Original notice, preserved as its licence requires:
// ====================================================
// Copyright (C) 1993 by Sun Microsystems, Inc. All rights reserved.
//
// Developed at SunPro, a Sun Microsystems, Inc. business.
// Permission to use, copy, modify, and distribute this
// software is freely granted, provided that this notice
// is preserved.
// ====================================================

extension PortableMath {
    private static let tiny = 1e-300
    /// c = (float)0.84506291151
    private static let erx = 8.45062911510467529297e-01  // 0x3FEB0AC1, 0x60000000
    private static let efx = 1.28379167095512586316e-01  // 0x3FC06EBA, 0x8214DB69

    // erf on [0, 0.84375]
    private static let pp0 = 1.28379167095512558561e-01
    private static let pp1 = -3.25042107247001499370e-01
    private static let pp2 = -2.84817495755985104766e-02
    private static let pp3 = -5.77027029648944159157e-03
    private static let pp4 = -2.37630166566501626084e-05
    private static let qq1 = 3.97917223959155352819e-01
    private static let qq2 = 6.50222499887672944485e-02
    private static let qq3 = 5.08130628187576562776e-03
    private static let qq4 = 1.32494738004321644526e-04
    private static let qq5 = -3.96022827877536812320e-06

    // erf on [0.84375, 1.25]
    private static let pa0 = -2.36211856075265944077e-03
    private static let pa1 = 4.14856118683748331666e-01
    private static let pa2 = -3.72207876035701323847e-01
    private static let pa3 = 3.18346619901161753674e-01
    private static let pa4 = -1.10894694282396677476e-01
    private static let pa5 = 3.54783043256182359371e-02
    private static let pa6 = -2.16637559486879084300e-03
    private static let qa1 = 1.06420880400844228286e-01
    private static let qa2 = 5.40397917702171048937e-01
    private static let qa3 = 7.18286544141962662868e-02
    private static let qa4 = 1.26171219808761642112e-01
    private static let qa5 = 1.36370839120290507362e-02
    private static let qa6 = 1.19844998467991074170e-02

    // erfc on [1.25, 1/0.35]
    private static let ra0 = -9.86494403484714822705e-03
    private static let ra1 = -6.93858572707181764372e-01
    private static let ra2 = -1.05586262253232909814e+01
    private static let ra3 = -6.23753324503260060396e+01
    private static let ra4 = -1.62396669462573470355e+02
    private static let ra5 = -1.84605092906711035994e+02
    private static let ra6 = -8.12874355063065934246e+01
    private static let ra7 = -9.81432934416914548592e+00
    private static let sa1 = 1.96512716674392571292e+01
    private static let sa2 = 1.37657754143519042600e+02
    private static let sa3 = 4.34565877475229228821e+02
    private static let sa4 = 6.45387271733267880336e+02
    private static let sa5 = 4.29008140027567833386e+02
    private static let sa6 = 1.08635005541779435134e+02
    private static let sa7 = 6.57024977031928170135e+00
    private static let sa8 = -6.04244152148580987438e-02

    // erfc on [1/0.35, 28]
    private static let rb0 = -9.86494292470009928597e-03
    private static let rb1 = -7.99283237680523006574e-01
    private static let rb2 = -1.77579549177547519889e+01
    private static let rb3 = -1.60636384855821916062e+02
    private static let rb4 = -6.37566443368389627722e+02
    private static let rb5 = -1.02509513161107724954e+03
    private static let rb6 = -4.83519191608651397019e+02
    private static let sb1 = 3.03380607434824582924e+01
    private static let sb2 = 3.25792512996573918826e+02
    private static let sb3 = 1.53672958608443695994e+03
    private static let sb4 = 3.19985821950859553908e+03
    private static let sb5 = 2.55305040643316442583e+03
    private static let sb6 = 4.74528541206955367215e+02
    private static let sb7 = -2.24409524465858183362e+01

    /// erf(x) − x·... on |x| < 0.84375: y such that erf(x) = x + x·y.
    @inline(__always)
    private static func erfSmallRatio(_ z: Double) -> Double {
        let r1 = pp0 + z * pp1
        let z2 = z * z
        let r2 = pp2 + z * pp3
        let z4 = z2 * z2
        let s1 = 1.0 + z * qq1
        let s2 = qq2 + z * qq3
        let s3 = qq4 + z * qq5
        let r = r1 + z2 * r2 + z4 * pp4
        let s = s1 + z2 * s2 + z4 * s3
        return r / s
    }

    /// P/Q with erf(1 + s) ≈ erx + P/Q on 0.84375 ≤ |x| < 1.25, s = |x| − 1.
    @inline(__always)
    private static func erfNearOne(_ s: Double) -> Double {
        let p1 = pa0 + s * pa1
        let s2 = s * s
        let q1 = 1.0 + s * qa1
        let s4 = s2 * s2
        let p2 = pa2 + s * pa3
        let s6 = s4 * s2
        let q2 = qa2 + s * qa3
        let p3 = pa4 + s * pa5
        let q3 = qa4 + s * qa5
        let p = p1 + s2 * p2 + s4 * p3 + s6 * pa6
        let q = q1 + s2 * q2 + s4 * q3 + s6 * qa6
        return p / q
    }

    /// R/S of the asymptotic erfc fit, s = 1/x²; `nearRange` selects [1.25, 1/0.35).
    @inline(__always)
    private static func erfcTailRatio(_ s: Double, nearRange: Bool) -> Double {
        if nearRange {
            let r1 = ra0 + s * ra1
            let s2 = s * s
            let q1 = 1.0 + s * sa1
            let s4 = s2 * s2
            let r2 = ra2 + s * ra3
            let s6 = s4 * s2
            let q2 = sa2 + s * sa3
            let s8 = s4 * s4
            let r3 = ra4 + s * ra5
            let q3 = sa4 + s * sa5
            let r4 = ra6 + s * ra7
            let q4 = sa6 + s * sa7
            let r = r1 + s2 * r2 + s4 * r3 + s6 * r4
            let q = q1 + s2 * q2 + s4 * q3 + s6 * q4 + s8 * sa8
            return r / q
        }
        let r1 = rb0 + s * rb1
        let s2 = s * s
        let q1 = 1.0 + s * sb1
        let s4 = s2 * s2
        let r2 = rb2 + s * rb3
        let s6 = s4 * s2
        let q2 = sb2 + s * sb3
        let r3 = rb4 + s * rb5
        let q3 = sb4 + s * sb5
        let q4 = sb6 + s * sb7
        let r = r1 + s2 * r2 + s4 * r3 + s6 * rb6
        let q = q1 + s2 * q2 + s4 * q3 + s6 * q4
        return r / q
    }

    /// exp(−x² − 0.5625 + R/S) with −x² split exactly through a 21-bit copy of x.
    @inline(__always)
    private static func erfcExpFactor(_ x: Double, _ ratio: Double) -> Double {
        let z = clearingLowWord(x)
        return exp(-z * z - 0.5625) * exp((z - x) * (z + x) + ratio)
    }

    /// The error function, < 1 ulp (fdlibm).
    public static func erf(_ x: Double) -> Double {
        let hx = highWord(x)
        let ix = hx & 0x7fff_ffff
        if ix >= 0x7ff0_0000 {  // erf(nan) = nan, erf(±inf) = ±1
            let i = Int32(bitPattern: UInt32(bitPattern: hx) >> 31) << 1
            return Double(1 - i) + 1.0 / x
        }
        if ix < 0x3feb_0000 {  // |x| < 0.84375
            if ix < 0x3e30_0000 {  // |x| < 2^-28
                if ix < 0x0080_0000 {  // avoid spurious underflow
                    return 0.0625 * (16.0 * x + (16.0 * efx) * x)
                }
                return x + efx * x
            }
            return x + x * erfSmallRatio(x * x)
        }
        if ix < 0x3ff4_0000 {  // 0.84375 <= |x| < 1.25
            let ratio = erfNearOne(abs(x) - 1.0)
            return hx >= 0 ? erx + ratio : -erx - ratio
        }
        if ix >= 0x4018_0000 {  // |x| >= 6
            return hx >= 0 ? 1.0 - tiny : tiny - 1.0
        }
        let ax = abs(x)
        let s = 1.0 / (ax * ax)
        let r = erfcExpFactor(ax, erfcTailRatio(s, nearRange: ix < 0x4006_DB6E))
        return hx >= 0 ? 1.0 - r / ax : r / ax - 1.0
    }

    /// The complementary error function 1 − erf(x), < 1 ulp (fdlibm).
    public static func erfc(_ x: Double) -> Double {
        let hx = highWord(x)
        let ix = hx & 0x7fff_ffff
        if ix >= 0x7ff0_0000 {  // erfc(nan) = nan, erfc(+inf) = 0, erfc(−inf) = 2
            return Double(Int32(bitPattern: (UInt32(bitPattern: hx) >> 31) << 1)) + 1.0 / x
        }
        if ix < 0x3feb_0000 {  // |x| < 0.84375
            if ix < 0x3c70_0000 { return 1.0 - x }  // |x| < 2^-56
            let y = erfSmallRatio(x * x)
            if hx < 0x3fd0_0000 {  // x < 1/4
                return 1.0 - (x + x * y)
            }
            var r = x * y
            r += x - 0.5
            return 0.5 - r
        }
        if ix < 0x3ff4_0000 {  // 0.84375 <= |x| < 1.25
            let ratio = erfNearOne(abs(x) - 1.0)
            if hx >= 0 {
                let z = 1.0 - erx
                return z - ratio
            }
            let z = erx + ratio
            return 1.0 + z
        }
        if ix < 0x403c_0000 {  // |x| < 28
            let ax = abs(x)
            let s = 1.0 / (ax * ax)
            let nearRange = ix < 0x4006_DB6D
            if !nearRange && hx < 0 && ix >= 0x4018_0000 { return 2.0 - tiny }  // x < −6
            let r = erfcExpFactor(ax, erfcTailRatio(s, nearRange: nearRange))
            return hx > 0 ? r / ax : 2.0 - r / ax
        }
        return hx > 0 ? tiny * tiny : 2.0 - tiny
    }
}
