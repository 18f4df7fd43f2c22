import CairnCore

/// The outer step (ARCHITECTURE §6): the next global model from the accepted pseudo-gradients of a
/// window. Its result enters ledger state by hash, so it must be bit-identical on every validator:
/// no BLAS, no Dictionary iteration, no transcendental function, no fused multiply-add (Swift never
/// contracts `a * b + c`), and the order of every sum is fixed here:
///
/// 1. Contributions are sorted by id (byte order) and the first `maxContributions` kept.
/// 2. Each Δ's L2 norm is `PseudoGradient.l2Norm` (Double, index order). The clipping norm is the
///    lower median of those norms weighted by the contributions' scores (`ClipReference`), but at
///    most `clipBound` and at least `clipFloor` (D59: bounds the contributions do not set, so a
///    majority of inflated Δs cannot raise it nor one of tiny Δs collapse it, and weights that
///    only work earns, so many keys of near-zero scores do not set it); Δ_i is scaled by
///    c_i = min(1, clip / norm_i), computed in Double and rounded once to Float (1 when the norm
///    is 0).
/// 3. Each Δ's share s_i = w_i / max w (in (0, 1]; 1 for every Δ when the weights are equal).
///    For each contribution in id order and each entry in index order, in Double:
///    acc[j] += (c_i · s_i) · value and den[j] += s_i.
/// 4. θ_next[j] = θ[j] − Float(rate · acc[j] / d_j), for every j some Δ kept, where d_j is
///    Σ_i s_i over all applied Δs (`.overAll`, genesis `averaging` 0: the score-weighted mean of
///    the zero-filled Δs) or max(den[j], 1) (`.perCoordinate`, 1: the mean over the Δs that kept
///    index j).
///
/// Genesis uses `.overAll` (D60): with error feedback every trainer eventually delivers all of its
/// progress, and the per-coordinate mean — the anchors' recipe — delivered an index kept by one
/// trainer at full value and then the same progress again from the others' residuals; it
/// oscillated in every simulator run. In `.perCoordinate` the denominator's floor of 1 keeps score
/// weighting meaningful (D59): a Δ alone on an index moves it by s_i of its value. Either way each
/// coordinate's step is a sub-convex combination of the clipped values there, so one Δ's part of
/// the step is at most rate · clip.
///
/// Clipping to the median bounds what one Byzantine Δ can move the model by the norm of a typical
/// honest one (Templar clips the same way).
public enum Aggregation {
    /// What each index's weighted sum is divided by (genesis `task.training.averaging`, D60).
    public enum Averaging: UInt8, Sendable, Hashable {
        /// The sum of the shares of all applied Δs (G when the weights are equal): the zero-filled
        /// mean, where an index kept by m of G Δs moves by m/G of their mean.
        case overAll = 0
        /// The sum of the shares of the Δs that kept the index (at least 1): Templar's and
        /// SparseLoCo's per-coordinate mean.
        case perCoordinate = 1
    }

    public struct Contribution: Sendable {
        public var id: Digest
        public var delta: PseudoGradient
        /// Its weight in the clip median: the accepted score (1 where there is none, as in the
        /// simulator, which gives the plain lower median).
        public var weight: Int64
        public init(id: Digest, delta: PseudoGradient, weight: Int64 = 1) {
            self.id = id
            self.delta = delta
            self.weight = weight
        }
    }

    public struct Result: Sendable {
        public var parameters: [Float]
        /// Ids of the contributions applied, in the order applied.
        public var applied: [Digest]
        public var clipNorm: Double
        public var clipFactors: [Float]
    }

    public static func apply(_ contributions: [Contribution], to base: [Float], rate: Float, maxContributions: Int,
                             clipBound: Double = .infinity, clipFloor: Double = 0, averaging: Averaging = .overAll) -> Result {
        precondition(maxContributions > 0)
        let ordered = Array(contributions.sorted { $0.id.bytes.lexicographicallyPrecedes($1.id.bytes) }.prefix(maxContributions))
        guard !ordered.isEmpty else { return Result(parameters: base, applied: [], clipNorm: 0, clipFactors: []) }
        for c in ordered { precondition(c.delta.parameterCount == base.count, "contribution for another model") }
        let norms = ordered.map(\.delta.l2Norm)
        // A non-finite norm (values near Float's limit) sorts last and is scaled to 0 below.
        let median = ClipReference.clip(zip(norms, ordered).map { ($0, $1.weight) }, floor: clipFloor, bound: clipBound)
        // Shares relative to the heaviest Δ: w_i / w_max is correctly rounded in Double, so every
        // validator gets the same bits; equal weights give exactly 1.
        let weights = ordered.map { max(1, $0.weight) }
        let heaviest = Double(weights.max()!)
        let shares = weights.map { Double($0) / heaviest }
        let factors = zip(norms, shares).map { norm, share -> Double in
            guard norm.isFinite else { return 0 }
            return (norm > median ? median / norm : 1) * share
        }
        var accumulator = [Double](repeating: 0, count: base.count)
        var denominator = [Double](repeating: 0, count: base.count)
        for (contribution, (factor, share)) in zip(ordered, zip(factors, shares)) {
            contribution.delta.forEachEntry { index, value in
                accumulator[index] += factor * Double(value)
                denominator[index] += share
            }
        }
        let outer = Double(rate)
        // `.overAll`: every index divided by the sum of all shares (G when the weights are equal).
        let whole = shares.reduce(0, +)
        var next = base
        for j in next.indices where denominator[j] > 0 {
            next[j] = base[j] - Float(outer * accumulator[j] / (averaging == .perCoordinate ? max(denominator[j], 1) : whole))
        }
        return Result(parameters: next, applied: ordered.map(\.id), clipNorm: median, clipFactors: factors.map { Float($0) })
    }
}

extension Copycats {
    /// `overlapPPM` of two Δs' kept index sets, as a fraction (for reports and trainers' checks).
    public static func overlap(_ a: PseudoGradient, _ b: PseudoGradient) -> Double {
        Double(overlapPPM(a.flatIndices.map { UInt32(truncatingIfNeeded: $0) }, b.flatIndices.map { UInt32(truncatingIfNeeded: $0) })) / 1_000_000
    }
}
