import CairnCore

/// Inner-loop settings of a trainer (genesis `task.training`).
public struct TrainingParameters: Hashable, Sendable {
    /// Inner AdamW steps per window (H).
    public var innerSteps: Int
    /// Contexts per inner step.
    public var batchSize: Int
    /// Inner learning rate: peak, floor and warm-up of the cosine schedule over `totalWindows`.
    public var learningRate: Float
    public var learningRateFloor: Float
    public var warmupSteps: Int
    public var weightDecay: Float
    /// Outer step: θ_next = θ − outerRate · mean(clipped Δ).
    public var outerRate: Float
    /// At most this many accepted contributions are aggregated per window (top-G).
    public var maxAggregated: Int

    public init(innerSteps: Int, batchSize: Int, learningRate: Float, learningRateFloor: Float, warmupSteps: Int,
                weightDecay: Float, outerRate: Float, maxAggregated: Int) {
        self.innerSteps = innerSteps
        self.batchSize = batchSize
        self.learningRate = learningRate
        self.learningRateFloor = learningRateFloor
        self.warmupSteps = warmupSteps
        self.weightDecay = weightDecay
        self.outerRate = outerRate
        self.maxAggregated = maxAggregated
    }

    /// Positions one trainer trains on per window.
    public var shardContexts: Int { innerSteps * batchSize }
}

/// One honest trainer across windows: adopts the global model, trains H inner steps on its
/// assigned shard, and returns the compressed Δ = θ_k − θ_local with error feedback. Its AdamW
/// state carries over between windows (DiLoCo's inner optimizer).
public struct WindowTrainer {
    public let key: PublicKey
    public private(set) var training: LocalTraining
    public private(set) var feedback: ErrorFeedback
    let settings: TrainingParameters
    let compression: CompressionSpec

    public init(key: PublicKey, task: ReferenceTask, initial: [Float], settings: TrainingParameters, compression: CompressionSpec) {
        self.key = key
        self.settings = settings
        self.compression = compression
        training = LocalTraining(task: task, parameters: initial, batchSize: settings.batchSize, weightDecay: settings.weightDecay)
        feedback = ErrorFeedback(parameterCount: task.parameterCount)
    }

    /// Trains window `window` from `global` on the shard `beacon` assigns; `schedule` maps the
    /// trainer's global inner step (window × H + h) to a learning rate. Returns Δ and the mean loss.
    public mutating func train(window: UInt64, beacon: Digest, global: [Float], schedule: LearningSchedule) -> (delta: PseudoGradient, loss: Double) {
        training.adopt(global, resetOptimizer: false)
        let shard = training.task.split.shard(beacon: beacon, trainer: key, window: window, count: settings.shardContexts)
        var total = 0.0
        for h in 0..<settings.innerSteps {
            let batch = shard[(h * settings.batchSize)..<((h + 1) * settings.batchSize)]
            total += training.step(positions: batch, rate: schedule.rate(at: Int(window) * settings.innerSteps + h))
        }
        var delta = global
        for i in delta.indices { delta[i] -= training.parameters[i] }
        let compressed = feedback.compress(delta, chunkSize: Int(compression.chunkSize), topK: Int(compression.topK))
        return (compressed, total / Double(settings.innerSteps))
    }
}
