extension PortableMath {
    /// Natural logarithm, correctly rounded except within ~2^-16 ulp of a rounding midpoint.
    ///
    /// Method: x = 2^k · m with m reduced to [√½, √2); m = c·(1 + r) where c is the centre of one
    /// of 128 sub-intervals, so |r| ≤ 2^-8; log x = k·ln2 + log c + log1p(r). r = (m − c)/c is
    /// computed with its exact division residual, log c and ln2 are double-doubles, r² is formed
    /// exactly, and the large terms are summed error-free, leaving one final rounding.
    /// Near 1 (|x − 1| < 2^-7), log1p(f) with f = x − 1 exact is evaluated with f²/2 formed
    /// exactly (Dekker).
    public static func log(_ x: Double) -> Double {
        if !(x > 0) { return x == 0 ? -.infinity : .nan }  // also NaN → NaN
        if x == .infinity { return x }

        let f = x - 1.0
        if abs(f) < 0x1p-7 { return logNearOne(f) }

        var bits = x.bitPattern
        var k = Int(bits >> 52) - 1023
        if bits >> 52 == 0 {  // subnormal: scale into the normal range first
            bits = (x * 0x1p54).bitPattern
            k = Int(bits >> 52) - 1023 - 54
        }
        let i = Int((bits >> 45) & 127)  // top 7 mantissa bits pick the sub-interval
        let m = Double(bitPattern: (bits & 0x000F_FFFF_FFFF_FFFF) | 0x3FF0_0000_0000_0000)  // [1, 2)
        let c = Double(2 * i + 257) * 0x1p-8  // centre 1 + (i + ½)/128, 9 significant bits
        if i >= 53 { k += 1 }  // table holds log(c/2) there: m/2 ∈ [0.707, 1)

        let d = m - c  // exact (Sterbenz)
        let r = d / c
        // Exact residual d − r·c (representable); r·c is exact as two products since c has 9 bits.
        let (rh, rl) = veltkampSplit(r)
        let residual = (d - rh * c) - rl * c
        let rLow = residual / c

        // log1p(r) = r − r²/2 + r³·(1/3 − r/4 + … + r⁶/9) for |r| ≤ 2^-8 (truncation < 2^-88).
        // r² is split exactly so that the −r²/2 term (up to 2^-17) carries no rounding error.
        let (r2, r2Error) = twoProduct(r, r)
        let cubic = r * r2 * (1.0 / 3.0 + r * (-0.25 + r * (0.2 + r * (-1.0 / 6.0
            + r * (1.0 / 7.0 + r * (-0.125 + r * (1.0 / 9.0)))))))
        // log1p(r + rLow) ≈ log1p(r) + rLow·(1 − r).
        let correction = rLow * (1.0 - r)

        let entry = PortableMathTables.logTable[i]
        let kd = Double(k)
        let (s1, e1) = twoSum(kd * PortableMathTables.logLn2Hi, entry.hi)  // k·hi exact
        let (s2, e2) = twoSum(s1, r)
        let (s3, e3) = twoSum(s2, -0.5 * r2)
        let low = ((e1 + e2) + e3)
            + ((cubic - 0.5 * r2Error) + (correction + (entry.lo + kd * PortableMathTables.logLn2Lo)))
        return s3 + low
    }

    /// log(1 + f) for |f| < 2^-7 where f = x − 1 is exact.
    static func logNearOne(_ f: Double) -> Double {
        if f == 0 { return 0 }
        // log1p(f) = f − f²/2 + f³·(1/3 − f/4 + …); f² is split exactly so f − f²/2 loses nothing.
        let (f2, f2Error) = twoProduct(f, f)
        let half = 0.5 * f2
        let halfError = 0.5 * f2Error
        let cubicTail = f * f2 * (1.0 / 3.0 + f * (-0.25 + f * (0.2 + f * (-1.0 / 6.0 + f * (1.0 / 7.0
            + f * (-0.125 + f * (1.0 / 9.0 + f * (-0.1))))))))
        let (s, e) = fastTwoSum(f, -half)
        return s + ((e - halfError) + cubicTail)
    }
}
