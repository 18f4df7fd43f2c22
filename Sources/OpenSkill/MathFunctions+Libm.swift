#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

// File-scope wrappers so the C functions are not shadowed by MathFunctions' properties.
private func cExp(_ x: Double) -> Double { exp(x) }
private func cLog(_ x: Double) -> Double { log(x) }
private func cLog1p(_ x: Double) -> Double { log1p(x) }
private func cErf(_ x: Double) -> Double { erf(x) }
private func cErfc(_ x: Double) -> Double { erfc(x) }
// Unoptimised on purpose: LLVM folds pow(x, 2.0) into x * x, which differs from glibc's pow in
// the last bit for rare inputs (σ = 5.573744: pow gives …5997, x * x …5994), and openskill.py
// computes `x ** 2` with the real pow. Found by the repository's own vectors (ThurstoneMostellerFull).
@_optimize(none)
private func cSquare(_ x: Double) -> Double { pow(x, 2.0) }

extension MathFunctions {
    /// The C library's functions. On glibc this reproduces openskill.py bit for bit (CPython's
    /// `math` module and `x ** 2` call the same libm); other C libraries may differ in last bits.
    public static let libm = MathFunctions(
        exp: { cExp($0) },
        log: { cLog($0) },
        log1p: { cLog1p($0) },
        erf: { cErf($0) },
        erfc: { cErfc($0) },
        square: { cSquare($0) },
        normalQuantile: { NormalDistribution.wichuraQuantile($0, log: { cLog($0) }) }
    )
}
