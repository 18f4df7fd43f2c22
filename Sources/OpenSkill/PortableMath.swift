/// Cairn's own elementary functions, built only from IEEE-754 binary64 `+ − × ÷` and `sqrt`
/// (all correctly rounded, hence identical on every conforming machine) plus bit manipulation.
/// No libm call, no FMA.
///
/// Accuracy as measured (PortableMathTests, and offline against 60-digit `decimal` values):
/// - `exp` on [−745.14, 709.78] and `log` on all positive normals and subnormals: designed to be
///   correctly rounded except within ~2^-16 ulp of a rounding midpoint. No misrounding was found
///   in 1.2 million inputs checked against high-precision values (glibc 2.36 misrounds ~0.04%
///   of them); against glibc: ≤ 1 ulp, equal in 99.95% (exp) and 99.98% (log) of 2 million.
/// - `log1p`: fdlibm's algorithm (< 1 ulp), bit-identical to fdlibm compiled without FMA
///   (300 000 inputs). glibc 2.36 runs an FMA-contracted build of the same code on CPUs with
///   FMA, which differs by 1 ulp in ~0.01% of inputs.
/// - `erf`, `erfc`: fdlibm's algorithm as in glibc 2.36, calling the portable `exp`. Against
///   glibc: erf equal on 999 997 of 1 million inputs (≤ 1 ulp), erfc equal on 99.95% (≤ 2 ulp,
///   where glibc's own exp misrounded). Against high-precision values both implementations
///   have the same error distribution: erf ≤ 1 ulp, erfc ≤ 3 ulp.
/// - Φ⁻¹ (`MathFunctions.portable.normalQuantile`): Wichura's AS241 in CPython's operation
///   order, with the portable `log` in the tails.
public enum PortableMath {}
