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
/// 3. For each contribution in id order and each entry in index order: acc[j] += f_i · value, with
///    f_i = c_i · G · w_i / Σw rounded once to Float (w_i its weight; = c_i when all are equal).
/// 4. θ_next[j] = θ[j] − (rate / G) · acc[j], with G the number of contributions kept: the
///    score-weighted mean of the clipped Δs.
///
/// Clipping to the median bounds what one Byzantine Δ can move the model by the norm of a typical
/// honest one (Templar clips the same way).
public enum Aggregation {
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
                             clipBound: Double = .infinity, clipFloor: Double = 0) -> Result {
        precondition(maxContributions > 0)
        let ordered = Array(contributions.sorted { $0.id.bytes.lexicographicallyPrecedes($1.id.bytes) }.prefix(maxContributions))
        guard !ordered.isEmpty else { return Result(parameters: base, applied: [], clipNorm: 0, clipFactors: []) }
        for c in ordered { precondition(c.delta.parameterCount == base.count, "contribution for another model") }
        let norms = ordered.map(\.delta.l2Norm)
        // A non-finite norm (values near Float's limit) sorts last and is scaled to 0 below.
        let median = ClipReference.clip(zip(norms, ordered).map { ($0, $1.weight) }, floor: clipFloor, bound: clipBound)
        // Each Δ's share of the step: G · weight / Σ weights, exactly 1 when the weights are equal
        // (G · w and Σ w stay below 2^53, so both are exact in Double), so an unweighted step is
        // the plain mean. Weighted by score, keys whose Δs did next to nothing — spam that scored
        // positive by chance — move the model next to nothing instead of diluting the others by
        // 1/G each (D59; a spam:17 localnet with an unweighted mean was at held-out 4.80 in
        // window 4, honest-only runs at 3.79).
        let weights = ordered.map { Int128(max(1, $0.weight)) }
        let total = Double(weights.reduce(0, +))
        let shares = weights.map { Double(ordered.count) * Double($0) / total }
        let factors = zip(norms, shares).map { norm, share -> Float in
            guard norm.isFinite else { return 0 }
            return Float((norm > median ? median / norm : 1) * share)
        }
        var accumulator = [Float](repeating: 0, count: base.count)
        for (contribution, factor) in zip(ordered, factors) {
            contribution.delta.forEachEntry { index, value in accumulator[index] += factor * value }
        }
        let step = rate / Float(ordered.count)
        var next = base
        for j in next.indices where accumulator[j] != 0 { next[j] = base[j] - step * accumulator[j] }
        return Result(parameters: next, applied: ordered.map(\.id), clipNorm: median, clipFactors: factors)
    }
}

/// Copycat measure (ARCHITECTURE §6): how much two contributions' kept index sets overlap,
/// |A ∩ B| / min(|A|, |B|), 0 when either is empty. Honest trainers on different shards overlap
/// little; a copied or lightly perturbed Δ overlaps almost fully.
public enum Copycat {
    public static func overlap(_ a: PseudoGradient, _ b: PseudoGradient) -> Double {
        let x = a.flatIndices, y = b.flatIndices
        guard !x.isEmpty, !y.isEmpty else { return 0 }
        var i = 0, j = 0, common = 0
        while i < x.count && j < y.count {
            if x[i] == y[j] { common += 1; i += 1; j += 1 } else if x[i] < y[j] { i += 1 } else { j += 1 }
        }
        return Double(common) / Double(min(x.count, y.count))
    }
}
