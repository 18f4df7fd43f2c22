import ArgumentParser
import CairnCore
import CairnCrypto
import CairnTraining
import Foundation

extension EagerStart: ExpressibleByArgument {}

struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train the reference task's model on this machine (no network).",
        discussion: """
            `cairn train --steps S` trains one byte-level model with AdamW on the corpus, from the \
            genesis initial model, and prints the held-out loss (nats per byte, on the last 5% of the \
            corpus, never trained on) as it goes. A progress line (step, loss, tokens/s, ETA) is \
            redrawn on a terminal; otherwise a line is printed at each held-out evaluation. \
            --curve FILE writes step, seconds, training and held-out loss as CSV.

            `cairn train --local --trainers N --windows W` simulates the network's training in one \
            process, as the ledger runs it: each window, N honest trainers start from the window's \
            model less the step the ledger has not applied yet (--eager, D60, D67, D68), train --inner-steps on their \
            assigned shards, send top-k compressed pseudo-gradients (with error feedback), and the \
            ledger's outer step (median-norm clipping, fixed order) applies window k's Δs to the \
            model of window k+2 (--synchronous: of window k+1). Defaults are genesis's. It prints the \
            held-out loss per window, then trains one model for the same total inner steps (N × H × \
            W) and prints the ratio of the two final losses (goal ≤ 1.05); --ceiling also trains one \
            model with N× the batch for H × W steps.

            `cairn train noise` measures the output hash's Hamming distances between honest \
            evaluations that differ in summation order and wrong ones (see its --help).
            """,
        subcommands: [TrainNoise.self])

    @Option(help: "Optimizer steps (single-model mode).")
    var steps = 12_000

    @Flag(help: "Simulate N trainers and the outer step (see --trainers, --windows).")
    var local = false

    @Option(help: "Trainers in --local mode.")
    var trainers = 3

    @Option(help: "Windows in --local mode.")
    var windows = 20

    @Option(help: "Inner steps per window (H) in --local mode.")
    var innerSteps = TrainCommandDefaults.innerSteps

    @Option(help: "Outer learning rate: θ ← θ − rate · per-coordinate mean of the clipped Δs (default: genesis's, measured in BENCHMARKS.md).")
    var outerLr = Float(ReferenceSpec.training.outerLearningRate)

    @Option(help: "In --local mode, the outer rate reached after --outer-lr-windows windows, linearly from --outer-lr (default: --outer-lr, constant).")
    var outerLrFinal: Float?

    @Option(help: "In --local mode, windows over which the outer rate goes from --outer-lr to --outer-lr-final.")
    var outerLrWindows = 0

    /// The outer rate applied to window `window`'s Δs.
    func outerRate(window: Int) -> Float {
        guard let outerLrFinal, outerLrWindows > 0 else { return outerLr }
        let progress = min(1, Float(window) / Float(outerLrWindows))
        return outerLr + (outerLrFinal - outerLr) * progress
    }

    @Option(help: "In --local mode, outer Nesterov momentum μ over the aggregated step (0: none).")
    var outerMomentum: Float = 0

    @Option(help: "Error-feedback decay β: each window compresses Δ + β · residual (default: genesis's).")
    var feedbackDecay = Float(ReferenceSpec.training.feedbackDecay)

    @Flag(help: "In --local mode, apply each window's Δs to the next window's model at once, instead of as the ledger does (to the model of the window after next).")
    var synchronous = false

    @Option(help: "In --local mode, divide each index's sum by the number of Δs that kept it (coordinate) or by all Δs (all).")
    var averaging = ReferenceSpec.training.averaging == 1 ? "coordinate" : "all"

    @Option(help: "In --local mode, where each trainer starts (D67, D68): all (the window's model less the step every pending Δ will make, as `cairn submit` does by default), own (less its own pending Δ only) or none (the window's model).")
    var eager: EagerStart = .all

    @Option(help: "In --local mode, decay the inner rate linearly to --lr-floor over the last N windows (0: constant after the warm-up, as genesis).")
    var decayWindows = 0

    @Flag(help: "In --local mode, also train the synchronous ceiling: one model with --trainers × --batch contexts a step, --windows × --inner-steps steps.")
    var ceiling = false

    @Option(help: "Pseudo-gradient chunk size.")
    var chunkSize = 4096

    @Option(help: "Entries kept per chunk.")
    var topK = Int(ReferenceSpec.compression.topK)

    @Flag(help: "In --local mode, skip the single-model baseline.")
    var noBaseline = false

    @Option(help: "Contexts per step.")
    var batch = 256

    @Option(help: "Peak learning rate (cosine decay to --lr-floor).")
    var lr: Float = 2e-3

    @Option(help: "Learning rate at the last step.")
    var lrFloor: Float = 2e-4

    @Option(help: "Linear warm-up steps (default 100, at most the run).")
    var warmup: Int?

    /// Warm-up steps of a schedule over `total` steps: --warmup (default 100, genesis's value), at most the run.
    func warmupSteps(total: Int) -> Int { min(warmup ?? 100, total) }

    @Option(help: "AdamW decoupled weight decay.")
    var weightDecay: Float = 0

    @Option(help: "Held-out contexts per evaluation.")
    var heldOut = 16_384

    @Option(help: "Steps between held-out evaluations (default: steps/12).")
    var evalEvery: Int?

    @Option(help: "Seed of the initial model and the batch order (any text).")
    var seed = "cairn"

    @Option(help: "OpenBLAS threads (default: every core).")
    var threads: Int?

    @Option(help: "Corpus directory (Debian's fortunes files).")
    var corpus = CorpusFiles.defaultDirectory

    @Option(help: "Write the loss curve as CSV to this file.")
    var curve: String?

    func validate() throws {
        guard (1...10_000_000).contains(steps) else { throw ValidationError("--steps must be in 1…10000000") }
        guard (1...4096).contains(batch) else { throw ValidationError("--batch must be in 1…4096") }
        guard lr.isFinite, lr > 0, lr < 1, lrFloor.isFinite, lrFloor >= 0, lrFloor <= lr else {
            throw ValidationError("--lr must be in (0, 1) and --lr-floor in [0, --lr]")
        }
        guard weightDecay.isFinite, (0..<1).contains(weightDecay) else { throw ValidationError("--weight-decay must be in [0, 1)") }
        if let warmup, !(0...1_000_000).contains(warmup) { throw ValidationError("--warmup must be in 0…1000000") }
        guard (1...1_000_000).contains(heldOut) else { throw ValidationError("--held-out must be in 1…1000000") }
        if let evalEvery, !(1...steps).contains(evalEvery) { throw ValidationError("--eval-every must be in 1…--steps") }
        if let threads, !(1...256).contains(threads) { throw ValidationError("--threads must be in 1…256") }
        guard (1...1000).contains(trainers), (1...100_000).contains(windows), (1...100_000).contains(innerSteps) else {
            throw ValidationError("--trainers must be in 1…1000, --windows and --inner-steps in 1…100000")
        }
        guard outerLr.isFinite, outerLr > 0, outerLr <= 4 else { throw ValidationError("--outer-lr must be in (0, 4]") }
        guard outerMomentum.isFinite, (0..<1).contains(outerMomentum) else { throw ValidationError("--outer-momentum must be in [0, 1)") }
        guard feedbackDecay.isFinite, (0...1).contains(feedbackDecay) else { throw ValidationError("--feedback-decay must be in [0, 1]") }
        if ceiling, trainers * batch > 65_536 { throw ValidationError("--ceiling trains one model with --trainers × --batch contexts a step: at most 65536") }
        guard ["coordinate", "all"].contains(averaging) else { throw ValidationError("--averaging must be coordinate or all") }
        guard (0...windows).contains(decayWindows) else { throw ValidationError("--decay-windows must be in 0…--windows") }
        guard (1...65536).contains(chunkSize), (1...chunkSize).contains(topK) else {
            throw ValidationError("--chunk-size must be in 1…65536 and --top-k in 1…--chunk-size")
        }
    }

    /// The reference task on the corpus in `directory`, measured as it is (a local run has no
    /// genesis to check it against).
    static func loadTask(corpus directory: String) throws -> ReferenceTask {
        let bytes = try CorpusText.read(directory: directory)
        let text = try CorpusText(bytes: bytes, expected: CorpusText.spec(of: bytes, source: CorpusFiles.source), origin: directory)
        return try ReferenceTask(corpus: text, model: ReferenceSpec.model)
    }

    func run() throws {
        let task = try Self.loadTask(corpus: corpus)
        BLASThreads.set(threads ?? ProcessInfo.processInfo.activeProcessorCount)
        if local {
            try runLocal(task: task)
            return
        }
        _ = try trainSingle(task: task, steps: steps, label: "")
    }

    /// Trains one model for `steps` steps, printing held-out losses; returns the final held-out loss.
    func trainSingle(task: ReferenceTask, steps: Int, label: String, batch: Int? = nil) throws -> Double {
        let batch = batch ?? self.batch
        let text = task.corpus
        let seedDigest = DataSplit.seed("cairn-train", Array(seed.utf8))
        var training = LocalTraining(task: task, parameters: task.initialParameters(seed: seedDigest),
                                     batchSize: batch, weightDecay: weightDecay)
        let schedule = LearningSchedule(peak: lr, floor: lrFloor, warmupSteps: warmupSteps(total: steps), total: steps)
        let every = evalEvery ?? max(1, steps / 12)
        let evaluation = ByteMLP.Workspace(layout: task.layout, capacity: ReferenceTask.batchCapacity)
        let heldOutPositions = task.split.heldOutPositions(count: heldOut)
        var batches = SplitMix64(digest: DataSplit.seed("batches", seedDigest.bytes))
        var batchPositions = [Int](repeating: 0, count: batch)

        say("cairn train\(label): \(task.layout.parameterCount) parameters, corpus \(text.bytes.count) bytes (\(task.split.trainingCount) training contexts, \(task.split.heldOutCount) held out), \(steps) steps of \(batch), AdamW lr \(lr) → \(lrFloor)")
        var rows = ["step,seconds,train_loss,held_out_loss"]
        let initial = task.loss(training.parameters, positions: heldOutPositions, workspace: evaluation)
        say(String(format: "step %6d  held-out %.4f nats/byte", 0, initial))
        rows.append("0,0,,\(initial)")
        let progress = ProgressLine(total: steps, unit: "tok/s")
        let start = ContinuousClock.now
        var recentLoss = 0.0, recentCount = 0
        var final = initial
        for step in 0..<steps {
            for i in 0..<batch { batchPositions[i] = Int(batches.below(UInt64(task.split.trainingCount))) }
            let loss = training.step(positions: batchPositions[...], rate: schedule.rate(at: step))
            guard loss.isFinite else { throw CLIError("training diverged at step \(step + 1) (loss \(loss)); lower --lr") }
            recentLoss += loss
            recentCount += 1
            let seconds = start.duration(to: .now).seconds
            progress.update(done: step + 1, rate: Double((step + 1) * batch) / max(seconds, 1e-9),
                            detail: String(format: "loss %.3f", loss))
            if (step + 1) % every == 0 || step + 1 == steps {
                final = task.loss(training.parameters, positions: heldOutPositions, workspace: evaluation)
                let trainLoss = recentLoss / Double(recentCount)
                progress.clear()
                say(String(format: "step %6d  train %.4f  held-out %.4f nats/byte  %.0f tokens/s  %@", step + 1, trainLoss, final,
                             Double((step + 1) * batch) / max(seconds, 1e-9), ProgressLine.clock(seconds)))
                rows.append(String(format: "%d,%.1f,%.5f,%.5f", step + 1, seconds, trainLoss, final))
                recentLoss = 0
                recentCount = 0
            }
        }
        progress.clear()
        let seconds = start.duration(to: .now).seconds
        say(String(format: "done: held-out %.4f nats/byte after %d steps (%@, %.0f tokens/s)", final, steps,
                     ProgressLine.clock(seconds), Double(steps * batch) / seconds))
        if let curve, label.isEmpty {
            try (rows.joined(separator: "\n") + "\n").write(toFile: curve, atomically: true, encoding: .utf8)
        }
        return final
    }

    /// The network in one process, as the ledger runs it (D60): window k's trainers start from
    /// θ_k, and window k's Δs are applied — by the ledger's `Aggregation`, with the ledger's clip
    /// bounds — to θ_{k+1}, giving θ_{k+2}; windows 0 and 1 both train from θ_0. `--synchronous`
    /// applies them to θ_k instead (no delay), for comparison.
    func runLocal(task: ReferenceTask) throws {
        let schedule = InnerSchedule(peak: lr, floor: lrFloor, warmupSteps: warmup ?? Int(ReferenceSpec.training.warmupSteps),
                                     decayStartWindow: decayWindows > 0 ? UInt64(windows - decayWindows) : nil, decayWindows: UInt64(decayWindows))
        let settings = TrainingParameters(innerSteps: innerSteps, batchSize: batch, schedule: schedule, weightDecay: weightDecay,
                                          outerRate: outerLr, maxAggregated: trainers, feedbackDecay: feedbackDecay)
        let compression = CompressionSpec(chunkSize: UInt32(chunkSize), topK: UInt32(topK))
        let seedDigest = DataSplit.seed("cairn-train", Array(seed.utf8))
        let initial = task.initialParameters(seed: seedDigest)
        // models[k]: what window k trains from; with the ledger's delay, models[0] = models[1] = θ_0.
        var models: [(parameters: [Float], clipNorm: Double?)] = synchronous ? [(initial, nil)] : [(initial, nil), (initial, nil)]
        var group = try (0..<trainers).map { i in
            WindowTrainer(key: try PublicKey(bytes: DataSplit.seed("local-trainer", seedDigest.bytes, [], UInt64(i)).bytes),
                          task: task, initial: initial, settings: settings, compression: compression)
        }
        var momentum = outerMomentum > 0 ? OuterMomentum(mu: outerMomentum, parameterCount: task.parameterCount) : nil
        let evaluation = ByteMLP.Workspace(layout: task.layout, capacity: ReferenceTask.batchCapacity)
        let heldOutPositions = task.split.heldOutPositions(count: heldOut)
        let dense = 4 * task.parameterCount
        let genesis = ReferenceSpec.training
        say("cairn train --local: \(trainers) trainers × \(windows) windows × \(innerSteps) inner steps of \(batch); top-\(topK)/\(chunkSize), error feedback β \(feedbackDecay); outer rate \(outerLr)\(outerLrFinal.map { " → \($0) over \(outerLrWindows) windows" } ?? "")\(outerMomentum > 0 ? ", Nesterov μ \(outerMomentum)" : ""), \(averaging == "all" ? "mean over all Δs" : "per-coordinate mean"); \(synchronous ? "synchronous" : "ledger pipeline (window k's Δs → θ_{k+2}), eager start \(eager.rawValue)"); inner rate \(lr)\(decayWindows > 0 ? " → \(lrFloor) over the last \(decayWindows) windows" : " constant") after \(schedule.warmupSteps) warm-up steps; seed \(seed)")
        var rows = ["window,seconds,trainer_loss,held_out_loss,blob_bytes,clip_norm,median_delta_norm,max_overlap"]
        var final = task.loss(initial, positions: heldOutPositions, workspace: evaluation)
        say(String(format: "window %4d  held-out %.4f nats/byte", 0, final))
        let start = ContinuousClock.now
        let progress = ProgressLine(total: windows * trainers, unit: "tok/s")
        var previous: [Aggregation.Contribution] = []
        for window in 0..<windows {
            let beacon = DataSplit.seed("local-beacon", seedDigest.bytes, [], UInt64(window))
            var contributions: [Aggregation.Contribution] = []
            var losses = 0.0, blobBytes = 0
            // Eager starts stand in for the pending step; a synchronous run has none pending.
            let pendingRate = outerRate(window: max(0, window - 1))
            let origin = eager == .all && !synchronous && !previous.isEmpty
                ? PendingStep.predict(global: models[window].parameters, clipNorm: models[window].clipNorm, pending: previous, rate: pendingRate,
                                      maxContributions: trainers, initialClipNorm: genesis.initialClipNorm, clipGrowth: genesis.clipGrowth,
                                      averaging: averaging == "all" ? .overAll : .perCoordinate)
                : nil
            for t in group.indices {
                let (delta, loss) = group[t].train(window: UInt64(window), beacon: beacon, global: models[window].parameters,
                                                   eager: eager == .own && !synchronous, pendingRate: pendingRate, origin: origin)
                guard loss.isFinite else { throw CLIError("trainer \(t) diverged in window \(window) (loss \(loss)); lower --lr") }
                let blob = PseudoGradientBlob.encode(delta, topK: topK)
                blobBytes = blob.count
                contributions.append(.init(id: Hashing.digest(.blob, blob), delta: delta))
                losses += loss
                let done = window * trainers + t + 1
                let seconds = start.duration(to: .now).seconds
                progress.update(done: done, rate: Double(done * innerSteps * batch) / max(seconds, 1e-9), detail: String(format: "loss %.3f", loss))
            }
            let base = models[models.count - 1]
            let result = Aggregation.apply(contributions, to: base.parameters, rate: outerRate(window: window), maxContributions: trainers,
                                           clipBound: TrainingSpec.clipBound(baseClipNorm: base.clipNorm, initial: genesis.initialClipNorm, growth: genesis.clipGrowth),
                                           clipFloor: TrainingSpec.clipFloor(baseClipNorm: base.clipNorm, growth: genesis.clipGrowth),
                                           averaging: averaging == "all" ? .overAll : .perCoordinate)
            previous = contributions
            let next = momentum?.step(base: base.parameters, aggregated: result.parameters) ?? result.parameters
            models.append((next, result.clipNorm))
            models[window] = ([], nil)  // no longer needed
            final = task.loss(next, positions: heldOutPositions, workspace: evaluation)
            let norms = contributions.map(\.delta.l2Norm).sorted()
            var overlap = 0.0
            for i in contributions.indices { for j in contributions.indices where j > i { overlap = max(overlap, Copycats.overlap(contributions[i].delta, contributions[j].delta)) } }
            let seconds = start.duration(to: .now).seconds
            progress.clear()
            say(String(format: "window %4d  trainers %.4f  held-out %.4f nats/byte  clip %.3f (Δ norms %.3f…%.3f)  overlap ≤ %.2f  blob %d bytes (%.0f× smaller than dense)  %@",
                         window, losses / Double(trainers), final, result.clipNorm, norms.first ?? 0, norms.last ?? 0, overlap, blobBytes,
                         Double(dense) / Double(blobBytes), ProgressLine.clock(seconds)))
            rows.append(String(format: "%d,%.1f,%.5f,%.5f,%d,%.5f,%.5f,%.4f", window, seconds, losses / Double(trainers), final, blobBytes,
                               result.clipNorm, norms[norms.count / 2], overlap))
        }
        progress.clear()
        if let curve {
            try (rows.joined(separator: "\n") + "\n").write(toFile: curve, atomically: true, encoding: .utf8)
        }
        say(String(format: "network: held-out %.4f nats/byte after %d windows (the model window %d trains from)", final, windows, windows + (synchronous ? 0 : 1)))
        if !noBaseline {
            let baseline = try trainSingle(task: task, steps: trainers * windows * innerSteps, label: " (baseline, same total inner steps)")
            say(String(format: "ratio network / single model: %.4f / %.4f = %.3f (goal ≤ 1.05)", final, baseline, final / baseline))
        }
        if ceiling {
            let synchronousCeiling = try trainSingle(task: task, steps: windows * innerSteps, label: " (ceiling: \(trainers)× batch, \(windows * innerSteps) steps)",
                                                     batch: trainers * batch)
            say(String(format: "ratio network / synchronous ceiling: %.4f / %.4f = %.3f", final, synchronousCeiling, final / synchronousCeiling))
        }
    }
}

/// Defaults of `cairn train --local` that genesis does not hold.
enum TrainCommandDefaults {
    /// Inner steps per window of the simulator: about what one localnet trainer takes in a
    /// 30-second window (BENCHMARKS.md, D60).
    static let innerSteps = 100
}
