import CairnCore
import Foundation

/// Measures how the output hash of an evaluation moves (ARCHITECTURE §6): between honest
/// validators whose arithmetic differs only in summation order, and between an honest evaluation
/// and wrong ones — lazy (Δ not applied), another trainer's Δ, a noise Δ of the same norm — plus
/// Δ scaled ×2 and ×0.5, which SimHash cannot see and the losses must expose. `bits` and
/// `hamming_threshold` in genesis come from these distributions.
public struct NoiseBench {
    public let task: ReferenceTask
    public let base: [Float]
    public let honest: PseudoGradient
    public let other: PseudoGradient
    public let noise: PseudoGradient
    public let probeContexts: Int
    public let reference: SummationPath = .blas(threads: 1)
    public let paths: [SummationPath]

    public enum Wrong: String, CaseIterable, Sendable {
        case lazy = "lazy (Δ not applied)"
        case other = "another trainer's Δ"
        case noise = "noise Δ of the same norm"
        case doubled = "Δ × 2"
        case halved = "Δ × 0.5"

        /// Whether a correct threshold must reject it (the scaled ones hash alike by design).
        public var mustReject: Bool { self == .lazy || self == .other || self == .noise }
    }

    /// Hamming distances to the reference evaluation, one per probe.
    public struct Distances: Sendable {
        public var honest: [SummationPath: [Int]] = [:]
        public var wrong: [Wrong: [Int]] = [:]
        public var probes = 0
    }

    public init(task: ReferenceTask, base: [Float], honest: PseudoGradient, other: PseudoGradient, probeContexts: Int,
                paths: [SummationPath], noiseSeed: UInt64) {
        self.task = task
        self.base = base
        self.honest = honest
        self.other = other
        self.probeContexts = probeContexts
        self.paths = paths
        self.noise = Self.noise(like: honest, seed: noiseSeed)
    }

    /// A Δ on random coordinates of each chunk with random values, scaled to `like`'s L2 norm.
    static func noise(like delta: PseudoGradient, seed: UInt64) -> PseudoGradient {
        var rng = SplitMix64(seed: seed)
        let dense = (0..<delta.parameterCount).map { _ in rng.approximateNormal() }
        let topK = delta.chunks.map(\.indices.count).max() ?? 1
        let sparse = PseudoGradient.compress(dense, chunkSize: delta.chunkSize, topK: max(1, topK))
        let scale = Float(delta.l2Norm / max(sparse.l2Norm, 1e-30))
        return PseudoGradient.compress(sparse.dense().map { $0 * scale }, chunkSize: delta.chunkSize, topK: max(1, topK))
    }

    public func scaled(_ factor: Float) -> PseudoGradient {
        let topK = honest.chunks.map(\.indices.count).max() ?? 1
        return PseudoGradient.compress(honest.dense().map { $0 * factor }, chunkSize: honest.chunkSize, topK: max(1, topK))
    }

    /// Runs probes `range`: each probe draws its own probe contexts and hyperplanes from a seed;
    /// each Δy is computed once and hashed at every width in `widths`.
    public func run(probes range: Range<Int>, widths: [Int], progress: (Int) -> Void = { _ in }) -> [Int: Distances] {
        let evaluator = Evaluator(task: task, parameters: EvaluationParameters(ownContexts: 1, randomContexts: 1, step: 1, probeContexts: probeContexts, bits: 64))
        let workspace = ByteMLP.Workspace(layout: task.layout, capacity: probeContexts)
        let updated = evaluator.apply(honest, to: base)
        let wrongModels: [(Wrong, [Float]?)] = [(.lazy, nil), (.other, evaluator.apply(other, to: base)), (.noise, evaluator.apply(noise, to: base)),
                                                (.doubled, evaluator.apply(scaled(2), to: base)), (.halved, evaluator.apply(scaled(0.5), to: base))]
        var result: [Int: Distances] = [:]
        for probe in range {
            let seed = DataSplit.seed("noise-probe", [], [], UInt64(probe))
            let positions = evaluator.probePositions(seed: seed)
            let planes = evaluator.hyperplaneSeed(seed)
            func change(_ path: SummationPath, _ before: [Float], _ theta: [Float]?) -> [Float] {
                guard let theta else { return [Float](repeating: 0, count: before.count) }
                let after = path.logits(task: task, theta: theta, positions: positions, workspace: workspace)
                return zip(after, before).map { $0 - $1 }
            }
            let referenceBefore = reference.logits(task: task, theta: base, positions: positions, workspace: workspace)
            let referenceChange = change(reference, referenceBefore, updated)
            let honestChanges = paths.map { path in
                (path, change(path, path.logits(task: task, theta: base, positions: positions, workspace: workspace), updated))
            }
            let wrongChanges = wrongModels.map { ($0.0, change(reference, referenceBefore, $0.1)) }
            for width in widths {
                let referenceHash = SimHash.hash(referenceChange, bits: width, seed: planes)
                var distances = result[width] ?? Distances()
                for (path, delta) in honestChanges {
                    distances.honest[path, default: []].append(SimHash.distance(referenceHash, SimHash.hash(delta, bits: width, seed: planes)))
                }
                for (kind, delta) in wrongChanges {
                    distances.wrong[kind, default: []].append(SimHash.distance(referenceHash, SimHash.hash(delta, bits: width, seed: planes)))
                }
                distances.probes += 1
                result[width] = distances
            }
            progress(probe - range.lowerBound + 1)
        }
        return result
    }

    /// Mean random-data loss before and after applying Δ at ×0.5, ×1 and ×2 (what exposes a scaled Δ).
    public func scaledLosses(contexts: Int, seed: Digest) -> (before: Double, half: Double, full: Double, double: Double) {
        let positions = task.split.trainingPositions(seed: DataSplit.seed("noise-losses", seed.bytes), count: contexts)
        let evaluator = Evaluator(task: task, parameters: EvaluationParameters(ownContexts: 1, randomContexts: 1, step: 1, probeContexts: 1, bits: 64))
        let workspace = ByteMLP.Workspace(layout: task.layout, capacity: ReferenceTask.batchCapacity)
        return (task.loss(base, positions: positions, workspace: workspace),
                task.loss(evaluator.apply(scaled(0.5), to: base), positions: positions, workspace: workspace),
                task.loss(evaluator.apply(honest, to: base), positions: positions, workspace: workspace),
                task.loss(evaluator.apply(scaled(2), to: base), positions: positions, workspace: workspace))
    }
}

/// Binomial tails for the threshold choice: bits of a SimHash flip independently with probability
/// p (the angle over π), so the distance is Binomial(bits, p).
public enum HammingModel {
    /// P(X > t) for X ~ Binomial(n, p).
    public static func above(_ t: Int, bits n: Int, flip p: Double) -> Double {
        guard t < n else { return 0 }
        return ((t + 1)...n).reduce(0.0) { $0 + term($1, n, p) }
    }

    /// P(X ≤ t).
    public static func atMost(_ t: Int, bits n: Int, flip p: Double) -> Double {
        (0...max(0, t)).reduce(0.0) { $0 + term($1, n, p) }
    }

    static func term(_ k: Int, _ n: Int, _ p: Double) -> Double {
        if p <= 0 { return k == 0 ? 1 : 0 }
        if p >= 1 { return k == n ? 1 : 0 }
        let logChoose = lgamma(Double(n + 1)) - lgamma(Double(k + 1)) - lgamma(Double(n - k + 1))
        return exp(logChoose + Double(k) * log(p) + Double(n - k) * log1p(-p))
    }

    /// Smallest t whose honest false-reject rate stays ≤ `target` even if the per-bit flip rate is
    /// `margin` times the measured one. A measured rate of 0 is replaced by the rule-of-three bound
    /// 3 / (samples × bits), the largest rate consistent with seeing no flip.
    public static func threshold(bits: Int, honestFlip: Double, samples: Int, margin: Double, target: Double) -> Int {
        let p = min(0.5, margin * max(honestFlip, 3 / Double(max(1, samples) * bits)))
        var t = 0
        while t < bits && above(t, bits: bits, flip: p) > target { t += 1 }
        return t
    }
}
