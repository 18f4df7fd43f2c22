import ArgumentParser
import CairnCore
import CairnCrypto
import CairnTraining
import Foundation

struct TrainNoise: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "noise",
        abstract: "Measure output-hash distances: honest summation orders against lazy, copied and noise evaluations.",
        discussion: """
            Pretrains the reference model for --pretrain-steps, lets two trainers each train one \\
            window (--inner-steps) on their shards, and then, for each of --probes probes (own probe \\
            contexts and hyperplanes per probe), hashes the change of the logits Δy = y(θ+Δ) − y(θ) \\
            computed by OpenBLAS with 1 thread (the reference), OpenBLAS with 2 threads and three \\
            plain-loop summation orders, and by wrong evaluations: lazy (Δ not applied), the other \\
            trainer's Δ, a noise Δ of the same norm, and Δ × 2 and × 0.5. It prints each \\
            distribution, the threshold T it recommends for each width (honest false reject ≤ \\
            --target even at --margin times the measured flip rate) and the measured and modelled \\
            false-accept rates. Scaled Δs hash alike by design; their losses are printed to show \\
            that the losses expose them.
            """)

    @Option(help: "Probes (each with its own probe contexts and hyperplanes).")
    var probes = 10_000

    @Option(help: "SimHash widths to report, comma-separated multiples of 64.")
    var bits = "64,128,256"

    @Option(help: "Contexts whose logits are hashed per probe.")
    var probeContexts = 64

    @Option(help: "Steps that train the base model first.")
    var pretrainSteps = 1500

    @Option(help: "Inner steps of each trainer's window.")
    var innerSteps = 30

    @Option(help: "Contexts per step.")
    var batch = 256

    @Option(help: "Safety factor on the measured honest flip rate when choosing T.")
    var margin = 100.0

    @Option(help: "Largest acceptable modelled honest false-reject rate.")
    var target = 1e-9

    @Option(help: "Corpus directory (Debian's fortunes files).")
    var corpus = CorpusFiles.defaultDirectory

    func validate() throws {
        guard (1...10_000_000).contains(probes), (1...4096).contains(probeContexts), (0...1_000_000).contains(pretrainSteps),
              (1...100_000).contains(innerSteps), (1...4096).contains(batch) else {
            throw ValidationError("--probes 1…10000000, --probe-contexts 1…4096, --pretrain-steps 0…1000000, --inner-steps 1…100000, --batch 1…4096")
        }
        guard margin.isFinite, margin >= 1, target.isFinite, target > 0, target < 1 else {
            throw ValidationError("--margin must be ≥ 1 and --target in (0, 1)")
        }
        _ = try widths()
    }

    func widths() throws -> [Int] {
        let values = bits.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !values.isEmpty, values.allSatisfy({ $0 != nil && $0! > 0 && $0! % 64 == 0 && $0! <= 4096 }) else {
            throw ValidationError("--bits must list multiples of 64 up to 4096, e.g. 64,128,256")
        }
        return values.map { $0! }
    }

    func run() throws {
        let widths = try widths()
        let task = try Train.loadTask(corpus: corpus)
        BLASThreads.set(1)
        let seed = DataSplit.seed("cairn-noise", [])
        say("cairn train noise: pretraining \(pretrainSteps) steps of \(batch)…")
        var base = LocalTraining(task: task, parameters: task.initialParameters(seed: seed), batchSize: batch, weightDecay: 0)
        var rng = SplitMix64(digest: DataSplit.seed("noise-batches", seed.bytes))
        let schedule = LearningSchedule(peak: 2e-3, floor: 2e-4, warmupSteps: 100, total: max(1, pretrainSteps))
        var positions = [Int](repeating: 0, count: batch)
        for step in 0..<pretrainSteps {
            for i in 0..<batch { positions[i] = Int(rng.below(UInt64(task.split.trainingCount))) }
            _ = base.step(positions: positions[...], rate: schedule.rate(at: step))
        }
        let theta = base.parameters
        let held = task.loss(theta, positions: task.split.heldOutPositions(count: 8192))
        let settings = TrainingParameters(innerSteps: innerSteps, batchSize: batch, schedule: InnerSchedule(peak: 2e-4, floor: 2e-4, warmupSteps: 0),
                                          weightDecay: 0, outerRate: 1, maxAggregated: 8)
        let compression = CompressionSpec(chunkSize: 4096, topK: 64)
        let beacon = DataSplit.seed("noise-beacon", [])
        func delta(_ name: String) throws -> PseudoGradient {
            var trainer = WindowTrainer(key: try PublicKey(bytes: DataSplit.seed("noise-trainer", Array(name.utf8)).bytes), task: task,
                                        initial: theta, settings: settings, compression: compression)
            return trainer.train(window: 0, beacon: beacon, global: theta).delta
        }
        let honest = try delta("alice"), other = try delta("bob")
        say(String(format: "base model: held-out %.4f nats/byte; Δ: %d entries, L2 norm %.4g (other trainer's %.4g); index overlap %.3f",
                     held, honest.entryCount, honest.l2Norm, other.l2Norm, Copycats.overlap(honest, other)))
        let paths: [SummationPath] = [.blas(threads: 2), .forwardLoops, .reverseLoops, .blockedLoops]
        let bench = NoiseBench(task: task, base: theta, honest: honest, other: other, probeContexts: probeContexts, paths: paths, noiseSeed: 7)
        let progress = ProgressLine(total: probes, unit: "probes/s")
        let start = ContinuousClock.now
        var lastLine = ContinuousClock.now
        let results = bench.run(probes: 0..<probes, widths: widths) { done in
            let seconds = start.duration(to: .now).seconds
            progress.update(done: done, rate: Double(done) / max(seconds, 1e-9), detail: "probe")
            // Without a terminal, a line every minute shows the run is alive.
            if !progress.enabled, lastLine.duration(to: .now) >= .seconds(60) {
                lastLine = .now
                say("probe \(done)/\(probes) after \(ProgressLine.clock(seconds))")
            }
        }
        progress.clear()
        let seconds = start.duration(to: .now).seconds
        for width in widths { report(results[width]!, bits: width, seconds: seconds) }
        let losses = bench.scaledLosses(contexts: 8192, seed: seed)
        say(String(format: "\nlosses on 8,192 random contexts: before %.5f; after Δ × 0.5 %.5f, Δ %.5f, Δ × 2 %.5f — the step size shows in the losses, not the hash",
                     losses.before, losses.half, losses.full, losses.double))
    }

    func report(_ result: NoiseBench.Distances, bits: Int, seconds: Double) {
        func stats(_ values: [Int]) -> (mean: Double, p50: Int, p99: Int, max: Int, min: Int) {
            let sorted = values.sorted()
            return (Double(values.reduce(0, +)) / Double(max(1, values.count)), sorted[sorted.count / 2],
                    sorted[min(sorted.count - 1, sorted.count * 99 / 100)], sorted.last!, sorted.first!)
        }
        let honestSamples = result.honest.values.reduce(0) { $0 + $1.count }
        let honestMean = result.honest.values.map { Double($0.reduce(0, +)) }.reduce(0, +) / Double(max(1, honestSamples))
        let worstHonestRate = result.honest.values.map { Double($0.reduce(0, +)) / Double(max(1, $0.count)) / Double(bits) }.max() ?? 0
        let t = HammingModel.threshold(bits: bits, honestFlip: worstHonestRate, samples: honestSamples, margin: margin, target: target)
        say("\n\(bits) bits, \(result.probes) probes (\(String(format: "%.0f", seconds)) s); recommended T = \(t)")
        say("| evaluation | mean | p50 | p99 | max | min | within T |")
        say("|---|---|---|---|---|---|---|")
        for (path, values) in result.honest.sorted(by: { $0.key.description < $1.key.description }) {
            let s = stats(values)
            let within = values.filter { $0 <= t }.count
            say(String(format: "| honest: %@ | %.3f | %d | %d | %d | %d | %.4f%% |", path.description, s.mean, s.p50, s.p99, s.max, s.min,
                         100 * Double(within) / Double(values.count)))
        }
        for kind in NoiseBench.Wrong.allCases {
            guard let values = result.wrong[kind] else { continue }
            let s = stats(values)
            let within = values.filter { $0 <= t }.count
            say(String(format: "| wrong: %@ | %.1f | %d | %d | %d | %d | %.4f%% |", kind.rawValue, s.mean, s.p50, s.p99, s.max, s.min,
                         100 * Double(within) / Double(values.count)))
        }
        let wrongRates = NoiseBench.Wrong.allCases.filter(\.mustReject).compactMap { result.wrong[$0] }
            .map { Double($0.reduce(0, +)) / Double($0.count) / Double(bits) }
        let falseReject = HammingModel.above(t, bits: bits, flip: min(0.5, margin * max(worstHonestRate, 3 / Double(max(1, honestSamples) * bits))))
        let falseAccept = HammingModel.atMost(t, bits: bits, flip: wrongRates.min() ?? 0.5)
        say(String(format: "honest mean distance %.4f bits (worst path's flip rate %.2e); modelled false reject at %.0f× that rate: %.1e; modelled false accept of the closest wrong evaluation: %.1e",
                     honestMean, worstHonestRate, margin, falseReject, falseAccept))
    }
}
