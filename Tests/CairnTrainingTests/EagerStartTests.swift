import CairnCore
import CairnTraining
import Testing

/// Three honest trainers on the tiny task, run as the ledger runs them (window k's Δs applied to
/// the model of window k+2) or synchronously (to the model of window k+1).
struct EagerNetwork {
    let task: ReferenceTask
    let settings = TrainingParameters(innerSteps: 6, batchSize: 16, schedule: InnerSchedule(peak: 1e-2, floor: 1e-2, warmupSteps: 0),
                                      weightDecay: 0, outerRate: 1, maxAggregated: 3, feedbackDecay: 0.8)
    let compression = CompressionSpec(chunkSize: 4096, topK: 256)
    let initialClip = 8.0, growth = 2.0

    init() throws { task = try Tiny.task(bytes: Tiny.corpus(count: 20_000, seed: 7)) }

    /// The model after each window's step.
    func run(windows: Int, synchronous: Bool, eager: EagerStart) throws -> [[Float]] {
        let initial = task.initialParameters(seed: DataSplit.seed("eager-test", []))
        var models: [(parameters: [Float], clipNorm: Double?)] = synchronous ? [(initial, nil)] : [(initial, nil), (initial, nil)]
        var group = try (0..<3).map { i in
            WindowTrainer(key: try PublicKey(bytes: [UInt8](repeating: UInt8(i + 1), count: 32)), task: task, initial: initial,
                          settings: settings, compression: compression)
        }
        var previous: [Aggregation.Contribution] = []
        var steps: [[Float]] = []
        for window in 0..<windows {
            let beacon = DataSplit.seed("eager-beacon", [], [], UInt64(window))
            let global = models[window]
            let origin = eager == .all && !synchronous && !previous.isEmpty
                ? PendingStep.predict(global: global.parameters, clipNorm: global.clipNorm, pending: previous, rate: settings.outerRate,
                                      maxContributions: 3, initialClipNorm: initialClip, clipGrowth: growth, averaging: .overAll)
                : nil
            var contributions: [Aggregation.Contribution] = []
            for t in group.indices {
                let delta = group[t].train(window: UInt64(window), beacon: beacon, global: global.parameters,
                                           eager: eager == .own && !synchronous, origin: origin).delta
                contributions.append(.init(id: DataSplit.seed("eager-id", [], [], UInt64(window * 8 + t)), delta: delta))
            }
            let base = models[models.count - 1]
            let result = Aggregation.apply(contributions, to: base.parameters, rate: settings.outerRate, maxContributions: 3,
                                           clipBound: TrainingSpec.clipBound(baseClipNorm: base.clipNorm, initial: initialClip, growth: growth),
                                           clipFloor: TrainingSpec.clipFloor(baseClipNorm: base.clipNorm, growth: growth))
            models.append((result.parameters, result.clipNorm))
            previous = contributions
            steps.append(result.parameters)
        }
        return steps
    }
}

@Suite("eager starts (D67)")
struct EagerStartTests {
    @Test("full eager starts on the ledger's pipeline train exactly as a synchronous network; own-Δ starts do not")
    func fullEagerIsSynchronous() throws {
        let network = try EagerNetwork()
        let synchronous = try network.run(windows: 4, synchronous: true, eager: .none)
        let all = try network.run(windows: 4, synchronous: false, eager: .all)
        let own = try network.run(windows: 4, synchronous: false, eager: .own)
        // Bit for bit: the predicted origin is the model the ledger reaches, built by the same code.
        #expect(all == synchronous)
        #expect(own != synchronous)
        // Window 0 trains from θ_0 either way; the difference starts with window 1's start.
        #expect(own[0] == synchronous[0])
    }

    @Test("the prediction is the ledger's step with the weights given, and θ itself when nothing is pending")
    func predictionMatchesAggregation() throws {
        let network = try EagerNetwork()
        let theta = network.task.initialParameters(seed: DataSplit.seed("eager-theta", []))
        #expect(PendingStep.predict(global: theta, clipNorm: nil, pending: [], rate: 1, maxContributions: 3, initialClipNorm: 8,
                                    clipGrowth: 2, averaging: .overAll) == theta)
        var rng = SplitMix64(seed: 3)
        let pending = (0..<4).map { i -> Aggregation.Contribution in
            let dense = (0..<network.task.parameterCount).map { _ in Float(rng.approximateNormal()) * 0.01 }
            return .init(id: DataSplit.seed("id", [], [], UInt64(i)), delta: PseudoGradient.compress(dense, chunkSize: 4096, topK: 256),
                         weight: Int64(i + 1))
        }
        let predicted = PendingStep.predict(global: theta, clipNorm: 0.05, pending: pending, rate: 1, maxContributions: 3, initialClipNorm: 8,
                                            clipGrowth: 2, averaging: .overAll)
        #expect(predicted == Aggregation.apply(pending, to: theta, rate: 1, maxContributions: 3, clipBound: 0.1, clipFloor: 0.025).parameters)
        let equal = pending.map { Aggregation.Contribution(id: $0.id, delta: $0.delta) }
        #expect(predicted != Aggregation.apply(equal, to: theta, rate: 1, maxContributions: 3, clipBound: 0.1, clipFloor: 0.025).parameters)
    }
}
