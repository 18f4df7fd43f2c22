/// The transcendental functions the rating models use, injected so that a caller can choose
/// between bit-compatibility with the Python reference on glibc (`.libm`) and a
/// platform-independent implementation (`.portable`, no libm at all).
///
/// Everything else in the models is IEEE-754 `+ − × ÷ sqrt`, which is identical everywhere.
///
/// The functions are plain function pointers (`@convention(c)`): they capture no context, so
/// models stay trivially copyable and calls involve no reference counting — this matters
/// because `rate` calls them dozens of times per game. Any non-capturing closure or C function
/// can be injected; a function that needs state must keep it in a global.
public struct MathFunctions: Sendable {
    public typealias Function = @convention(c) (Double) -> Double

    /// e^x (`math.exp`).
    public var exp: Function
    /// Natural logarithm (`math.log`); used by Φ⁻¹ in its tails.
    public var log: Function
    /// log(1 + x) (`math.log1p`); used for the score-margin factor.
    public var log1p: Function
    /// The error function (`math.erf`); Φ(x) = ½(1 + erf(x/√2)) as in `statistics.NormalDist.cdf`.
    public var erf: Function
    /// The complementary error function (`math.erfc`). Not used by openskill.py's formulas;
    /// provided for callers that want accurate upper tails.
    public var erfc: Function
    /// Python's `x ** 2`, which CPython evaluates with libm `pow(x, 2.0)`; glibc's pow is not
    /// always the correctly rounded `x * x`, so `.libm` calls pow to stay bit-compatible.
    public var square: Function
    /// Φ⁻¹(p), the standard normal quantile (`statistics.NormalDist().inv_cdf`), for 0 < p < 1.
    public var normalQuantile: Function

    public init(
        exp: Function,
        log: Function,
        log1p: Function,
        erf: Function,
        erfc: Function,
        square: Function,
        normalQuantile: Function
    ) {
        self.exp = exp
        self.log = log
        self.log1p = log1p
        self.erf = erf
        self.erfc = erfc
        self.square = square
        self.normalQuantile = normalQuantile
    }

    /// Cairn's own implementation (see `PortableMath`): no libm, no FMA, so results are the same
    /// on every IEEE-754 machine. `square` is the correctly rounded `x * x`.
    public static let portable = MathFunctions(
        exp: { PortableMath.exp($0) },
        log: { PortableMath.log($0) },
        log1p: { PortableMath.log1p($0) },
        erf: { PortableMath.erf($0) },
        erfc: { PortableMath.erfc($0) },
        square: { $0 * $0 },
        normalQuantile: { NormalDistribution.wichuraQuantile($0, log: { PortableMath.log($0) }) }
    )
}
