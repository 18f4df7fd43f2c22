extension PortableMath {
    /// e^x, correctly rounded except within ~2^-16 ulp of a rounding midpoint.
    ///
    /// Method: x = k·ln2/128 + r with |r| ≤ ln2/256 (Cody–Waite reduction with a 35-bit high part
    /// so k·hi is exact), e^x = 2^(k>>7) · T[k & 127] · e^r where T[j] = 2^(j/128) is stored as a
    /// double-double. e^r − 1 = r + q(r) with a degree-6 Taylor tail (truncation < 2^-71).
    /// The leading product T·r is formed exactly (Dekker), so the only sizeable rounding is the
    /// final one. Subnormal results are rounded once, directly onto the subnormal grid.
    public static func exp(_ x: Double) -> Double {
        if x.isNaN { return x }
        // e^x > DBL_MAX beyond ln(DBL_MAX) rounded down; e^x < 2^-1075 (rounds to 0) below −745.14.
        if x > 0x1.62e42fefa39efp9 { return .infinity }
        if x < -746.0 { return 0.0 }

        // k = round(x·128/ln2) with the 1.5·2^52 shifter (exact for |z| < 2^51, no libm rint).
        let z = PortableMathTables.expInvLn2N * x
        let shifter = 0x1.8p52
        let kd = (z + shifter) - shifter
        let k = Int(kd)

        // r = x − k·ln2/128 as an unevaluated sum r + dr (x − kd·hi is exact by Sterbenz).
        let rHigh = x - kd * PortableMathTables.expLn2HiN
        let rLow = -(kd * PortableMathTables.expLn2LoN)
        // |rLow| < 2^-24 is below |rHigh| except when x is within 2^-24 of k·ln2/128; there r is
        // tiny (< 2^-23) and Fast2Sum's possible error (< 2^-75 relative to e^x) is irrelevant.
        let (r, dr) = fastTwoSum(rHigh, rLow)

        // e^r − 1 − r ≈ q, |q| < 3.7e-6.
        let q = r * r * (0.5 + r * (1.0 / 6.0 + r * (1.0 / 24.0 + r * (1.0 / 120.0 + r * (1.0 / 720.0)))))

        let entry = PortableMathTables.expTable[k & 127]
        let e = k >> 7  // arithmetic shift: floor(k / 128)

        // T·(1 + r + dr + q) = T.hi + T.hi·r + [T.hi·(q + dr) + T.lo·(1 + r + q)]
        // Dekker's product T.hi·r = ph + pl exactly, with T.hi's halves precomputed.
        let ph = entry.hi * r
        let (rh, rl) = veltkampSplit(r)
        let pl = ((entry.hiHigh * rh - ph) + entry.hiHigh * rl + entry.hiLow * rh) + entry.hiLow * rl
        let (s, es) = fastTwoSum(entry.hi, ph)
        let tail = (es + pl) + (entry.hi * (q + dr) + entry.lo * (1.0 + (r + q)))
        let y = s + tail  // in [0.997, 1.995)

        if e >= -1021 || (e == -1022 && y >= 1.0) {
            // Normal result: scaling by a power of two is exact.
            if e <= 1023 {
                return y * powerOfTwo(e)
            }
            return y * 0x1p1023 * powerOfTwo(e - 1023)  // e == 1024 near the overflow threshold
        }

        // Subnormal (or zero) result: round s + tail once to a multiple of quantum = 2^(-1074-e).
        // Adding big = 2^52·quantum places that grid at the last bit of the sum (y < big holds).
        let big = powerOfTwo(-1022 - e)  // 2^52 · 2^(-1074-e)
        let (h, eh) = twoSum(big, s)
        let rounded = h + (eh + tail)
        let m = rounded - big  // exact: a multiple of quantum below big
        return m * powerOfTwo(e + 64) * 0x1p-64  // both products exact
    }

    /// 2^n for −1022 ≤ n ≤ 1023, from its bit pattern.
    @inline(__always)
    static func powerOfTwo(_ n: Int) -> Double {
        Double(bitPattern: UInt64(n + 1023) << 52)
    }
}
