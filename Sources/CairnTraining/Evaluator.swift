import CairnCore

/// How a validator scores a contribution (genesis `task.evaluation`, ARCHITECTURE §6).
public struct EvaluationParameters: Hashable, Sendable {
    /// Contexts of the trainer's own shard used for the own-data losses.
    public var ownContexts: Int
    /// Contexts drawn from the evaluation seed for the random-data losses (the score).
    public var randomContexts: Int
    /// θ' = θ − step · Δ.
    public var step: Float
    /// Contexts whose logit change is hashed.
    public var probeContexts: Int
    /// SimHash width (genesis `task.lsh.bits`).
    public var bits: Int

    public init(ownContexts: Int, randomContexts: Int, step: Float, probeContexts: Int, bits: Int) {
        self.ownContexts = ownContexts
        self.randomContexts = randomContexts
        self.step = step
        self.probeContexts = probeContexts
        self.bits = bits
    }
}

/// One validator's evaluation of one contribution.
public struct Evaluation: Hashable, Sendable {
    public struct Flags: OptionSet, Hashable, Sendable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        /// A loss or an updated parameter was not finite.
        public static let nonFinite = Flags(rawValue: 1 << 0)
        /// The blob failed validation (set by the caller that decoded it; nothing else is computed).
        public static let invalidBlob = Flags(rawValue: 1 << 1)
    }

    public var lossBeforeOwn: Double
    public var lossAfterOwn: Double
    public var lossBeforeRandom: Double
    public var lossAfterRandom: Double
    /// Relative improvement on random data: (before − after) / before.
    public var score: Double
    /// +1 when the own-data relative improvement exceeds the random-data one, else −1.
    public var indicator: Int8
    /// SimHash of Δy = y(θ') − y(θ) on the probe contexts.
    public var outputHash: [UInt64]
    public var flags: Flags

    /// Relative improvement on the trainer's own data.
    public var ownImprovement: Double { (lossBeforeOwn - lossAfterOwn) / lossBeforeOwn }
}

/// The evaluator: a pure function of (base model θ, Δ, the trainer's shard, a seed). Losses before
/// and after are computed on identical contexts (paired), so the batch's sampling noise cancels
/// in the difference.
public struct Evaluator: Sendable {
    public let task: ReferenceTask
    public let parameters: EvaluationParameters

    public init(task: ReferenceTask, parameters: EvaluationParameters) {
        precondition(parameters.ownContexts > 0 && parameters.randomContexts > 0 && parameters.probeContexts > 0)
        self.task = task
        self.parameters = parameters
    }

    /// Random-data and probe positions for a seed (the coin of the wave that committed the
    /// contribution): the same on every validator, unknown to the trainer when it trained.
    public func randomPositions(seed: Digest) -> [Int] {
        task.split.trainingPositions(seed: DataSplit.seed("evaluation-random", seed.bytes), count: parameters.randomContexts)
    }

    /// The own-data sample (D60): `ownContexts` contexts drawn uniformly, with replacement, by the
    /// evaluation seed from `used` — the contexts of the inner steps the contribution claims. The
    /// seed is drawn after the contribution landed, so a trainer cannot know which of its contexts
    /// will be checked: one that trained fewer steps than it claims has untrained contexts in its
    /// sample in proportion, and its own-data gain falls toward its random-data gain.
    public func ownPositions(used: [Int], seed: Digest, trainer: PublicKey) -> [Int] {
        guard !used.isEmpty else { return [] }
        var rng = SplitMix64(digest: DataSplit.seed("evaluation-own", seed.bytes, trainer.bytes))
        return (0..<parameters.ownContexts).map { _ in used[Int(rng.below(UInt64(used.count)))] }
    }

    public func probePositions(seed: Digest) -> [Int] {
        task.split.trainingPositions(seed: DataSplit.seed("evaluation-probe", seed.bytes), count: parameters.probeContexts)
    }

    public func hyperplaneSeed(_ seed: Digest) -> UInt64 {
        var rng = SplitMix64(digest: DataSplit.seed("evaluation-hyperplanes", seed.bytes))
        return rng.next()
    }

    /// θ' = θ − step · c · Δ, touching only Δ's entries; c = min(1, clipNorm / ‖Δ‖) as the outer
    /// step clips (Δ's norm accumulated in Double in index order, so every validator gets the same c).
    public func apply(_ delta: PseudoGradient, to base: [Float], step: Float? = nil, clipNorm: Double? = nil) -> [Float] {
        precondition(delta.parameterCount == base.count)
        var s = step ?? parameters.step
        if let clipNorm, clipNorm > 0 {
            let norm = delta.l2Norm
            if norm > clipNorm { s *= Float(clipNorm / norm) }
        }
        var updated = base
        delta.forEachEntry { index, value in updated[index] = base[index] - s * value }
        return updated
    }

    /// Scores Δ on `base`, clipped to `clipNorm` when given (the norm the outer step that produced
    /// `base` clipped to, D53): a Δ scaled up scores as the outer step would apply it.
    public func evaluate(base: [Float], delta: PseudoGradient, ownPositions: [Int], seed: Digest,
                         workspace: ByteMLP.Workspace, clipNorm: Double? = nil, step: Float? = nil, baseline: Baseline? = nil) -> Evaluation {
        evaluate(base: base, updated: apply(delta, to: base, step: step, clipNorm: clipNorm), ownPositions: ownPositions, seed: seed,
                 workspace: workspace, baseline: baseline)
    }

    /// What an evaluation computes from the base model and the seed alone: the random-data loss
    /// and the probe logits of θ. Contributions committed in the same wave share a seed, so a
    /// validator computes these once per (model, seed) instead of once per contribution — a
    /// quarter of an evaluation's work. The same calls on the same inputs as inside `evaluate`,
    /// so the result is bit-identical with or without it.
    public struct Baseline: Sendable {
        public var seed: Digest
        public var lossRandom: Double
        public var probeLogits: [Float]
    }

    public func baseline(base: [Float], seed: Digest, workspace: ByteMLP.Workspace) -> Baseline {
        Baseline(seed: seed, lossRandom: task.loss(base, positions: randomPositions(seed: seed), workspace: workspace),
                 probeLogits: logits(base, positions: probePositions(seed: seed), workspace: workspace))
    }

    /// Scores an already-updated model θ' against θ (the noise bench uses this to evaluate wrong
    /// or differently computed updates the same way).
    /// `baseline` (for the same base and seed; ignored for another seed) saves recomputing what
    /// depends on θ alone.
    public func evaluate(base: [Float], updated: [Float], ownPositions: [Int], seed: Digest,
                         workspace: ByteMLP.Workspace, baseline: Baseline? = nil) -> Evaluation {
        let own = Array(ownPositions.prefix(parameters.ownContexts))
        let random = randomPositions(seed: seed)
        let baseline = baseline?.seed == seed ? baseline : nil
        var flags: Evaluation.Flags = updated.allSatisfy(\.isFinite) ? [] : .nonFinite
        let beforeOwn = own.isEmpty ? 0 : task.loss(base, positions: own, workspace: workspace)
        let afterOwn = own.isEmpty ? 0 : task.loss(updated, positions: own, workspace: workspace)
        let beforeRandom = baseline?.lossRandom ?? task.loss(base, positions: random, workspace: workspace)
        let afterRandom = task.loss(updated, positions: random, workspace: workspace)
        if ![beforeOwn, afterOwn, beforeRandom, afterRandom].allSatisfy(\.isFinite) { flags.insert(.nonFinite) }
        let score = (beforeRandom - afterRandom) / beforeRandom
        let ownImprovement = own.isEmpty ? -Double.infinity : (beforeOwn - afterOwn) / beforeOwn
        let change = outputChange(base: base, updated: updated, seed: seed, workspace: workspace, before: baseline?.probeLogits)
        let hash = SimHash.hash(change, bits: parameters.bits, seed: hyperplaneSeed(seed))
        return Evaluation(lossBeforeOwn: beforeOwn, lossAfterOwn: afterOwn, lossBeforeRandom: beforeRandom,
                          lossAfterRandom: afterRandom, score: score.isFinite ? score : 0,
                          indicator: ownImprovement > score ? 1 : -1, outputHash: hash, flags: flags)
    }

    /// Δy = y(θ') − y(θ): the change of the logits on the probe contexts, Float32.
    public func outputChange(base: [Float], updated: [Float], seed: Digest, workspace: ByteMLP.Workspace, before: [Float]? = nil) -> [Float] {
        let positions = probePositions(seed: seed)
        let before = before ?? logits(base, positions: positions, workspace: workspace)
        let after = logits(updated, positions: positions, workspace: workspace)
        return zip(after, before).map { $0 - $1 }
    }

    /// Logits `[positions × vocabulary]`, in batches of the workspace's capacity.
    public func logits(_ theta: [Float], positions: [Int], workspace: ByteMLP.Workspace) -> [Float] {
        var out: [Float] = []
        out.reserveCapacity(positions.count * task.layout.vocabulary)
        theta.withUnsafeBufferPointer { t in
            task.corpus.bytes.withUnsafeBufferPointer { text in
                var start = 0
                while start < positions.count {
                    let end = min(start + workspace.capacity, positions.count)
                    task.model.forward(t, text: text, positions: positions[start..<end], workspace: workspace)
                    out += task.model.logits(of: workspace, batch: end - start)
                    start = end
                }
            }
        }
        return out
    }
}
