import CairnCore

/// The reference task as `cairn testnet` writes it into genesis (ARCHITECTURE §6): 16 context bytes
/// → 32-d embeddings → 512 → 512 tanh → 256 logits (664,832 parameters), top-1024 of 4096 (D68), and the
/// training and evaluation values measured for it (BENCHMARKS.md, "Training task").
public enum ReferenceSpec {
    public static let name = "byte-lm-v1"
    public static let model = ModelSpec(contextBytes: 16, embeddingDim: 32, hiddenUnits: [512, 512], vocabulary: 256)
    public static let compression = CompressionSpec(chunkSize: 4096, topK: 1024)
    public static let lsh = LSHSpec(bits: 256, hammingThreshold: 7)
    public static let training = TrainingSpec(maxInnerSteps: 1000, batchSize: 256, learningRate: 2e-3, learningRateFloor: 2e-4, warmupSteps: 100,
                                              weightDecay: 0, feedbackDecay: 0.5, outerLearningRate: 1, averaging: 0, maxAggregated: 20,
                                              initialClipNorm: 8)
    public static let evaluation = EvaluationSpec(ownContexts: 2048, randomContexts: 2048, step: 1, probeContexts: 64, heldOutContexts: 16_384)
}

extension TrainingParameters {
    /// The genesis values, with `innerSteps` steps a window (at most genesis's maximum).
    public init(_ spec: TrainingSpec, innerSteps: Int) {
        self.init(innerSteps: min(innerSteps, Int(spec.maxInnerSteps)), batchSize: Int(spec.batchSize), schedule: InnerSchedule(spec),
                  weightDecay: Float(spec.weightDecay), outerRate: Float(spec.outerLearningRate), maxAggregated: Int(spec.maxAggregated),
                  feedbackDecay: Float(spec.feedbackDecay))
    }
}

extension InnerSchedule {
    /// Genesis's inner schedule (D60).
    public init(_ spec: TrainingSpec) {
        self.init(peak: Float(spec.learningRate), floor: Float(spec.learningRateFloor), warmupSteps: Int(spec.warmupSteps),
                  decayStartWindow: spec.decayStartWindow > 0 ? spec.decayStartWindow : nil, decayWindows: UInt64(spec.decayWindows))
    }
}

extension EvaluationParameters {
    /// The genesis values (`bits` from `task.lsh`).
    public init(_ spec: EvaluationSpec, lsh: LSHSpec) {
        self.init(ownContexts: Int(spec.ownContexts), randomContexts: Int(spec.randomContexts), step: Float(spec.step),
                  probeContexts: Int(spec.probeContexts), bits: Int(lsh.bits))
    }
}
