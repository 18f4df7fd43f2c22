// log1p ported from fdlibm's s_log1p.c as shipped (with Shimizu's pipelining edit) in glibc 2.36,
// so that the portable path reproduces glibc's log1p bit for bit. Used by openskill.py for the
// score-margin factor (math.log1p(score_diff / margin)).
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
    private static let log1pLn2Hi = 6.93147180369123816490e-01  // 3fe62e42 fee00000
    private static let log1pLn2Lo = 1.90821492927058770002e-10  // 3dea39ef 35793c76
    private static let lp1 = 6.666666666666735130e-01  // 3FE55555 55555593
    private static let lp2 = 3.999999999940941908e-01  // 3FD99999 9997FA04
    private static let lp3 = 2.857142874366239149e-01  // 3FD24924 94229359
    private static let lp4 = 2.222219843214978396e-01  // 3FCC71C5 1D8E78AF
    private static let lp5 = 1.818357216161805012e-01  // 3FC74664 96CB03DE
    private static let lp6 = 1.531383769920937332e-01  // 3FC39A09 D078C69F
    private static let lp7 = 1.479819860511658591e-01  // 3FC2F112 DF3E5244

    /// log(1 + x), < 1 ulp (fdlibm). Reduction 1 + x = 2^k·(1 + f) with √½ < 1 + f < √2, a
    /// correction term for the rounding of 1 + x, and log1p(f) = 2s + s·R(s²), s = f/(2 + f).
    public static func log1p(_ x: Double) -> Double {
        let hx = highWord(x)
        let ax = hx & 0x7fff_ffff

        var k: Int32 = 1
        var f = 0.0
        var c = 0.0
        var hu: Int32 = 0
        if hx < 0x3FDA_827A {  // x < 0.41422
            if ax >= 0x3ff0_0000 {  // x <= -1.0
                return x == -1.0 ? -.infinity : .nan
            }
            if ax < 0x3e20_0000 {  // |x| < 2^-29
                if ax < 0x3c90_0000 { return x }  // |x| < 2^-54
                return x - x * x * 0.5
            }
            if hx > 0 || hx <= Int32(bitPattern: 0xbfd2_bec3) {  // −0.2929 < x < 0.41422
                k = 0
                f = x
                hu = 1
            }
        } else if hx >= 0x7ff0_0000 {
            return x + x  // +inf or NaN
        }
        if k != 0 {
            var u: Double
            if hx < 0x4340_0000 {
                u = 1.0 + x
                hu = highWord(u)
                k = (hu >> 20) - 1023
                c = (k > 0) ? 1.0 - (u - x) : x - (u - 1.0)  // correction term
                c /= u
            } else {
                u = x
                hu = highWord(u)
                k = (hu >> 20) - 1023
                c = 0
            }
            hu &= 0x000f_ffff
            if hu < 0x6a09e {
                u = withHighWord(u, hu | 0x3ff0_0000)  // normalize u
            } else {
                k += 1
                u = withHighWord(u, hu | 0x3fe0_0000)  // normalize u/2
                hu = (0x0010_0000 - hu) >> 2
            }
            f = u - 1.0
        }
        let hfsq = 0.5 * f * f
        let kd = Double(k)
        if hu == 0 {  // |f| < 2^-20
            if f == 0 {
                if k == 0 { return 0 }
                c += kd * log1pLn2Lo
                return kd * log1pLn2Hi + c
            }
            let r = hfsq * (1.0 - 0.66666666666666666 * f)
            if k == 0 { return f - r }
            return kd * log1pLn2Hi - ((r - (kd * log1pLn2Lo + c)) - f)
        }
        let s = f / (2.0 + f)
        let z = s * s
        let r1 = z * lp1
        let z2 = z * z
        let r2 = lp2 + z * lp3
        let z4 = z2 * z2
        let r3 = lp4 + z * lp5
        let z6 = z4 * z2
        let r4 = lp6 + z * lp7
        let r = r1 + z2 * r2 + z4 * r3 + z6 * r4
        if k == 0 { return f - (hfsq - s * (hfsq + r)) }
        return kd * log1pLn2Hi - ((hfsq - (s * (hfsq + r) + (kd * log1pLn2Lo + c))) - f)
    }

    /// The upper 32 bits of a double's representation, as fdlibm's GET_HIGH_WORD.
    @inline(__always)
    static func highWord(_ x: Double) -> Int32 {
        Int32(truncatingIfNeeded: x.bitPattern >> 32)
    }

    /// `x` with its upper 32 bits replaced, as fdlibm's SET_HIGH_WORD.
    @inline(__always)
    static func withHighWord(_ x: Double, _ high: Int32) -> Double {
        let low = x.bitPattern & 0xffff_ffff
        return Double(bitPattern: (UInt64(UInt32(bitPattern: high)) << 32) | low)
    }

    /// `x` with its lower 32 bits cleared, as fdlibm's SET_LOW_WORD(x, 0).
    @inline(__always)
    static func clearingLowWord(_ x: Double) -> Double {
        Double(bitPattern: x.bitPattern & 0xffff_ffff_0000_0000)
    }
}
