import CairnCore
import CairnTraining
import Foundation

extension Benchmarks {
    /// The reference task's speed next to OpenBLAS's sgemm measured in the same run (the
    /// evaluator's ceiling on one thread): forward passes on the evaluation path, whole evaluations,
    /// training steps on one and on every core, and the compressed blob's size.
    public func training(task: ReferenceTask, threads: Int) -> [BenchmarkResult] {
        var results = compute()
        let peak = results[0].value
        let layout = task.layout
        let flopsPerContext = 2 * Double(layout.forwardMultiplyAdds)
        BLASThreads.set(1)
        let theta = task.initialParameters(seed: DataSplit.seed("bench", []))
        let positions = task.split.trainingPositions(seed: DataSplit.seed("bench-positions", []), count: 512)
        let workspace = ByteMLP.Workspace(layout: layout, capacity: 512)
        let (forwards, forwardSeconds) = theta.withUnsafeBufferPointer { t in
            task.corpus.bytes.withUnsafeBufferPointer { text in
                measure { task.model.forward(t, text: text, positions: positions[...], workspace: workspace) }
            }
        }
        let forwardContexts = Double(forwards * 512) / forwardSeconds
        results.append(BenchmarkResult(name: "evaluation forward, batch 512 (1 thread): contexts/s", value: forwardContexts,
                                       unit: "tokens/s", reference: nil, lowerIsBetter: false, iterations: forwards))
        results.append(BenchmarkResult(name: "evaluation forward GFLOP/s (reference: sgemm peak above)", value: forwardContexts * flopsPerContext / 1e9,
                                       unit: "GFLOP/s", reference: peak, lowerIsBetter: false, iterations: forwards))

        let parameters = EvaluationParameters(ownContexts: 2048, randomContexts: 2048, step: 1, probeContexts: 64, bits: 256)
        let evaluator = Evaluator(task: task, parameters: parameters)
        var delta = [Float](repeating: 0, count: theta.count)
        var rng = SplitMix64(seed: 5)
        for i in delta.indices { delta[i] = rng.approximateNormal() * 1e-3 }
        let compressed = PseudoGradient.compress(delta, chunkSize: 4096, topK: 64)
        let own = task.split.trainingPositions(seed: DataSplit.seed("bench-own", []), count: 2048)
        let (evaluations, evaluationSeconds) = measure {
            _ = evaluator.evaluate(base: theta, delta: compressed, ownPositions: own, seed: DataSplit.seed("bench-seed", []), workspace: workspace)
        }
        // Losses before and after on own and random contexts, plus two probe forwards.
        let contextsPerEvaluation = Double(2 * 2048 + 2 * 2048 + 2 * 64)
        results.append(BenchmarkResult(name: "one evaluation (2×2048 own + 2×2048 random contexts, 64-context probe, 256-bit hash)",
                                       value: evaluationSeconds / Double(evaluations) * 1000, unit: "ms", reference: nil,
                                       lowerIsBetter: true, iterations: evaluations))
        results.append(BenchmarkResult(name: "evaluation path GFLOP/s incl. losses and hash (reference: sgemm peak)",
                                       value: Double(evaluations) * contextsPerEvaluation * flopsPerContext / evaluationSeconds / 1e9,
                                       unit: "GFLOP/s", reference: peak, lowerIsBetter: false, iterations: evaluations))

        for threadCount in Array(Set([1, threads])).sorted() {
            BLASThreads.set(threadCount)
            var training = LocalTraining(task: task, parameters: theta, batchSize: 256, weightDecay: 0)
            let batch = positions.prefix(256)
            let (steps, stepSeconds) = measure { _ = training.step(positions: batch, rate: 1e-4) }
            let tokens = Double(steps * 256) / stepSeconds
            results.append(BenchmarkResult(name: "training step, batch 256 (\(threadCount) thread\(threadCount == 1 ? "" : "s")): tokens/s", value: tokens,
                                           unit: "tokens/s", reference: nil, lowerIsBetter: false, iterations: steps))
            results.append(BenchmarkResult(name: "training GFLOP/s, \(threadCount) thread\(threadCount == 1 ? "" : "s") (forward + backward = 3× forward; reference: sgemm peak × threads)",
                                           value: tokens * 3 * flopsPerContext / 1e9, unit: "GFLOP/s", reference: peak * Double(threadCount),
                                           lowerIsBetter: false, iterations: steps))
        }
        BLASThreads.set(1)
        let blob = PseudoGradientBlob.encode(compressed, topK: 64)
        results.append(BenchmarkResult(name: "pseudo-gradient blob, top-64/4096 (reference: dense Float32)", value: Double(blob.count),
                                       unit: "bytes", reference: Double(4 * theta.count), lowerIsBetter: true, iterations: 1))
        return results
    }
}
