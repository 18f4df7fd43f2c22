import CairnCore

/// Inner-loop settings of a trainer (genesis `task.training`) and the outer step's rate.
public struct TrainingParameters: Hashable, Sendable {
    /// Inner AdamW steps per window: the simulator's fixed count; a live trainer takes as many as
    /// its window leaves time for, up to genesis `max_inner_steps`.
    public var innerSteps: Int
    /// Contexts per inner step.
    public var batchSize: Int
    public var schedule: InnerSchedule
    public var weightDecay: Float
    /// Outer step: θ_next = θ − outerRate · mean of the clipped Δs (D60).
    public var outerRate: Float
    /// At most this many accepted contributions are aggregated per window (top-G).
    public var maxAggregated: Int
    /// Error-feedback decay β (D60).
    public var feedbackDecay: Float

    public init(innerSteps: Int, batchSize: Int, schedule: InnerSchedule, weightDecay: Float, outerRate: Float, maxAggregated: Int,
                feedbackDecay: Float = 1) {
        self.innerSteps = innerSteps
        self.batchSize = batchSize
        self.schedule = schedule
        self.weightDecay = weightDecay
        self.outerRate = outerRate
        self.maxAggregated = maxAggregated
        self.feedbackDecay = feedbackDecay
    }

    /// Positions one trainer trains on per window.
    public var shardContexts: Int { innerSteps * batchSize }
}

/// One honest trainer across windows: adopts the window's model, trains its inner steps on its
/// assigned shard, and returns the compressed Δ = start − θ_local with error feedback. Its AdamW
/// state carries over between windows (DiLoCo's inner optimizer).
public struct WindowTrainer {
    public let key: PublicKey
    public private(set) var training: LocalTraining
    public private(set) var feedback: ErrorFeedback
    /// The Δ this trainer sent last window, not yet in the model it will be given next (the
    /// ledger applies window k's Δs to the model of window k+2): the eager variant starts from
    /// the model minus this, standing in for the pending step.
    public private(set) var pending: PseudoGradient?
    let settings: TrainingParameters
    let compression: CompressionSpec

    public init(key: PublicKey, task: ReferenceTask, initial: [Float], settings: TrainingParameters, compression: CompressionSpec) {
        self.key = key
        self.settings = settings
        self.compression = compression
        training = LocalTraining(task: task, parameters: initial, batchSize: settings.batchSize, weightDecay: settings.weightDecay)
        feedback = ErrorFeedback(parameterCount: task.parameterCount)
    }

    /// Trains window `window` from `global` on the shard `beacon` assigns, for `settings.innerSteps`
    /// steps at the genesis schedule. With `eager`, starts from global − outerRate · (its own
    /// pending Δ) instead (Eager updates, arXiv 2502.12996); with `origin` (`PendingStep.predict`
    /// of every pending Δ, `EagerStart.all`), from there. Returns Δ (origin − trained) and the
    /// mean loss.
    public mutating func train(window: UInt64, beacon: Digest, global: [Float], eager: Bool = false,
                               pendingRate: Float? = nil, origin: [Float]? = nil) -> (delta: PseudoGradient, loss: Double) {
        var start = origin ?? global
        if origin == nil, eager, let pending {
            start = PendingStep.own(global: global, pending: pending, rate: pendingRate ?? settings.outerRate)
        }
        training.adopt(start, resetOptimizer: false)
        let shard = training.task.split.shard(beacon: beacon, trainer: key, window: window, count: settings.shardContexts)
        var total = 0.0
        for h in 0..<settings.innerSteps {
            let batch = shard[(h * settings.batchSize)..<((h + 1) * settings.batchSize)]
            total += training.step(positions: batch, rate: settings.schedule.rate(window: window, optimizerStep: training.optimizer.step))
        }
        var delta = start
        for i in delta.indices { delta[i] -= training.parameters[i] }
        let compressed = feedback.compress(delta, chunkSize: Int(compression.chunkSize), topK: Int(compression.topK),
                                           decay: settings.feedbackDecay)
        pending = compressed
        return (compressed, total / Double(settings.innerSteps))
    }
}
