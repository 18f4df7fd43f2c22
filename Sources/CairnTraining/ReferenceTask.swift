import CairnCore

/// What a training task offers the node (ARCHITECTURE §6): another task (or an external GPU
/// evaluator) plugs in by conforming. Parameters are one flat Float32 buffer whose layout the task
/// fixes; positions index the task's data.
public protocol TrainingTask: Sendable {
    var parameterCount: Int { get }
    var split: DataSplit { get }
    func initialParameters(seed: Digest) -> [Float]
    /// Mean loss over `positions`.
    func loss(_ parameters: [Float], positions: [Int]) -> Double
}

/// `byte-lm-v1`: the byte MLP on the genesis corpus.
public struct ReferenceTask: TrainingTask {
    public let corpus: CorpusText
    public let layout: ModelLayout
    public let model: ByteMLP
    public let split: DataSplit

    public init(corpus: CorpusText, model spec: ModelSpec) throws {
        layout = try ModelLayout(spec)
        // DataSplit needs room for the held-out slice and training contexts; a genesis with a
        // context longer than the corpus allows is refused here rather than trapping there.
        guard corpus.bytes.count > 40 * (layout.contextBytes + 1) else {
            throw ModelLayout.Error(description: "task.model.context_bytes \(layout.contextBytes) is too long for a corpus of \(corpus.bytes.count) bytes (needs more than \(40 * (layout.contextBytes + 1)))")
        }
        model = ByteMLP(layout: layout)
        self.corpus = corpus
        split = DataSplit(textCount: corpus.bytes.count, contextBytes: layout.contextBytes)
    }

    public var parameterCount: Int { layout.parameterCount }

    public func initialParameters(seed: Digest) -> [Float] { InitialModel.parameters(layout: layout, seed: seed) }

    public func loss(_ parameters: [Float], positions: [Int]) -> Double {
        let workspace = ByteMLP.Workspace(layout: layout, capacity: min(positions.count, Self.batchCapacity))
        return loss(parameters, positions: positions, workspace: workspace)
    }

    /// Largest batch one forward pass takes; longer position lists are evaluated in slices.
    public static let batchCapacity = 512

    /// Mean loss over `positions`, sliced into batches of the workspace's capacity.
    public func loss(_ parameters: [Float], positions: [Int], workspace: ByteMLP.Workspace) -> Double {
        guard !positions.isEmpty else { return 0 }
        var total = 0.0
        parameters.withUnsafeBufferPointer { theta in
            corpus.bytes.withUnsafeBufferPointer { text in
                var start = 0
                while start < positions.count {
                    let end = min(start + workspace.capacity, positions.count)
                    let slice = positions[start..<end]
                    total += model.loss(theta, text: text, positions: slice, workspace: workspace) * Double(slice.count)
                    start = end
                }
            }
        }
        return total / Double(positions.count)
    }

    /// Held-out loss on the task's fixed held-out batch.
    public func heldOutLoss(_ parameters: [Float], count: Int, workspace: ByteMLP.Workspace) -> Double {
        loss(parameters, positions: split.heldOutPositions(count: count), workspace: workspace)
    }
}

/// One model trained with AdamW on batches of positions: the trainer's inner loop and the
/// single-machine baseline.
public struct LocalTraining {
    public let task: ReferenceTask
    public private(set) var parameters: [Float]
    public private(set) var optimizer: AdamW
    private var gradient: [Float]
    private let workspace: ByteMLP.Workspace

    public init(task: ReferenceTask, parameters: [Float], batchSize: Int, weightDecay: Float) {
        precondition(parameters.count == task.parameterCount)
        self.task = task
        self.parameters = parameters
        optimizer = AdamW(parameterCount: parameters.count, weightDecay: weightDecay)
        gradient = [Float](repeating: 0, count: parameters.count)
        workspace = ByteMLP.Workspace(layout: task.layout, capacity: batchSize)
    }

    /// One AdamW step on `positions`; returns the batch's loss before the step.
    public mutating func step(positions: ArraySlice<Int>, rate: Float) -> Double {
        let task = task, workspace = workspace
        for i in gradient.indices { gradient[i] = 0 }
        let loss = parameters.withUnsafeBufferPointer { theta in
            task.corpus.bytes.withUnsafeBufferPointer { text in
                gradient.withUnsafeMutableBufferPointer { g in
                    task.model.lossAndGradient(theta, text: text, positions: positions, workspace: workspace, gradient: g)
                }
            }
        }
        parameters.withUnsafeMutableBufferPointer { theta in
            gradient.withUnsafeBufferPointer { g in optimizer.update(theta, gradient: g, rate: rate) }
        }
        return loss
    }

    /// Moves the model being trained by `to − from`, keeping the progress made since `from`
    /// (θ_local − from) and the optimizer state: a trainer that learns mid-window where its
    /// training should have started (D67) continues from there without losing its steps.
    public mutating func rebase(from old: [Float], to new: [Float]) {
        precondition(old.count == parameters.count && new.count == parameters.count)
        for i in parameters.indices { parameters[i] += new[i] - old[i] }
    }

    /// Replaces the model (the trainer adopts a new global model at a window boundary) and,
    /// optionally, resets the optimizer state.
    public mutating func adopt(_ parameters: [Float], resetOptimizer: Bool) {
        precondition(parameters.count == task.parameterCount)
        self.parameters = parameters
        if resetOptimizer { optimizer = AdamW(parameterCount: parameters.count, weightDecay: optimizer.weightDecay) }
    }
}
