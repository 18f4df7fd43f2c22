#if canImport(Glibc)
import Glibc
#endif
import OpenSkill
import Testing

/// The portable functions against glibc's libm. Inputs are random but seeded, so every run
/// checks the same values; the histograms are printed for the record.
@Suite("Portable math against libm")
struct PortableMathTests {
    @Test("exp: ≤ 1 ulp from libm over 2 million inputs in [-745, 709.78]")
    func expAccuracy() {
        var rng = SplitMix64(seed: 0x0E_C0DE)
        var histogram = UlpHistogram()
        for k in 0..<2_000_000 {
            let x: Double
            if k % 2 == 0 {
                x = Double.random(in: -745.0...709.78, using: &rng)  // the whole finite range
            } else {
                // log-uniform magnitudes 2^-60 … 2^9.47: small arguments matter most to ratings
                let magnitude = Double.random(in: -60.0...9.47, using: &rng)
                let value = PortableMath.exp(magnitude * 0.6931471805599453)
                x = min(Bool.random(using: &rng) ? value : -value, 709.78)
            }
            histogram.add(ulpDistance(PortableMath.exp(x), exp(x)), input: x)
        }
        print("exp  vs glibc: \(histogram)")
        #expect(histogram.maximum <= 1)
    }

    @Test("log: ≤ 1 ulp from libm over 2 million positive normals and subnormals")
    func logAccuracy() {
        var rng = SplitMix64(seed: 0x10_6000)
        var histogram = UlpHistogram()
        for k in 0..<2_000_000 {
            let x: Double
            switch k % 4 {
            case 0, 1:  // uniform over all positive finite bit patterns (normals + subnormals)
                x = Double(bitPattern: UInt64.random(in: 1..<0x7FF0_0000_0000_0000, using: &rng))
            case 2:  // subnormals specifically
                x = Double(bitPattern: UInt64.random(in: 1..<0x0010_0000_0000_0000, using: &rng))
            default:  // near 1, where log is small and cancellation-prone
                x = 1.0 + Double.random(in: -0.05...0.05, using: &rng)
            }
            histogram.add(ulpDistance(PortableMath.log(x), log(x)), input: x)
        }
        print("log  vs glibc: \(histogram)")
        #expect(histogram.maximum <= 1)
    }

    @Test("exp and log special values")
    func specialValues() {
        #expect(PortableMath.exp(0) == 1)
        #expect(PortableMath.exp(-.infinity) == 0)
        #expect(PortableMath.exp(.infinity) == .infinity)
        #expect(PortableMath.exp(709.79) == .infinity)
        #expect(PortableMath.exp(-746) == 0)
        #expect(PortableMath.exp(.nan).isNaN)
        #expect(PortableMath.exp(-745.1332191019411) == exp(-745.1332191019411))  // 2^-1074
        #expect(PortableMath.exp(0x1.62e42fefa39efp9) == exp(0x1.62e42fefa39efp9))  // near DBL_MAX
        #expect(PortableMath.log(1) == 0)
        #expect(PortableMath.log(0) == -.infinity)
        #expect(PortableMath.log(-1).isNaN)
        #expect(PortableMath.log(.infinity) == .infinity)
        #expect(PortableMath.log(.leastNonzeroMagnitude) == log(Double.leastNonzeroMagnitude))
        #expect(PortableMath.log(.greatestFiniteMagnitude) == log(Double.greatestFiniteMagnitude))
        #expect(PortableMath.log1p(-1) == -.infinity)
        #expect(PortableMath.erf(.infinity) == 1 && PortableMath.erf(-.infinity) == -1)
        #expect(PortableMath.erfc(.infinity) == 0 && PortableMath.erfc(-.infinity) == 2)
    }

    @Test("log1p, erf, erfc follow glibc (fdlibm ports)")
    func fdlibmPorts() {
        var rng = SplitMix64(seed: 0xE4F)
        var log1pHistogram = UlpHistogram()
        var erfHistogram = UlpHistogram()
        var erfcHistogram = UlpHistogram()
        for k in 0..<1_000_000 {
            let wide = Double.random(in: -1.0...1.0, using: &rng)
                * PortableMath.exp(Double.random(in: -40.0...6.0, using: &rng))
            let y = k % 2 == 0 ? Double.random(in: -0.999...60.0, using: &rng) : max(wide, -0.999)
            log1pHistogram.add(ulpDistance(PortableMath.log1p(y), log1p(y)), input: y)
            let x = k % 2 == 0 ? Double.random(in: -7.0...7.0, using: &rng) : wide
            erfHistogram.add(ulpDistance(PortableMath.erf(x), erf(x)), input: x)
            let z = k % 2 == 0 ? Double.random(in: -7.0...28.0, using: &rng) : wide
            erfcHistogram.add(ulpDistance(PortableMath.erfc(z), erfc(z)), input: z)
        }
        print("log1p vs glibc: \(log1pHistogram)")
        print("erf   vs glibc: \(erfHistogram)")
        print("erfc  vs glibc: \(erfcHistogram)")
        #expect(log1pHistogram.maximum <= 1)
        #expect(erfHistogram.maximum <= 1)
        #expect(erfcHistogram.maximum <= 2)
    }

    @Test("normal quantile (AS241) with portable log matches the libm build")
    func quantile() {
        var rng = SplitMix64(seed: 0x9A)
        var histogram = UlpHistogram()
        for _ in 0..<200_000 {
            let p = Double.random(in: 1e-300..<1.0, using: &rng)
            let tail = PortableMath.exp(Double.random(in: -700.0 ... -1.0, using: &rng))
            for value in [p, tail, 1 - tail] where value > 0 && value < 1 {
                histogram.add(ulpDistance(MathFunctions.portable.normalQuantile(value),
                                          MathFunctions.libm.normalQuantile(value)), input: value)
            }
        }
        print("Φ⁻¹  portable vs libm-log build: \(histogram)")
        #expect(histogram.maximum <= 2)
        // Values from Python 3.11: statistics.NormalDist().inv_cdf(p)
        let python: [(Double, Double)] = [
            (0.975, 1.9599639845400536), (0.6, 0.2533471031357998), (0.55, 0.12566134685507413),
            (1e-10, -6.361340902404056), (0.02, -2.0537489106318225),
            (0.999999999999, 7.0344869100478356), (0.3, -0.5244005127080407),
            (1e-300, -37.0470962993612),
        ]
        for (p, expected) in python {
            #expect(MathFunctions.portable.normalQuantile(p) == expected)
            #expect(MathFunctions.libm.normalQuantile(p) == expected)
        }
    }

    @Test("x*x versus glibc pow(x, 2) (what Python's x**2 calls)")
    func squareVersusPow() {
        var rng = SplitMix64(seed: 0x5A)
        var histogram = UlpHistogram()
        for _ in 0..<2_000_000 {
            let x = Double.random(in: 0.0...100.0, using: &rng)
            histogram.add(ulpDistance(x * x, pow(x, 2.0)), input: x)
        }
        print("x*x vs glibc pow(x,2): \(histogram)")
        #expect(histogram.maximum <= 1)
    }
}
