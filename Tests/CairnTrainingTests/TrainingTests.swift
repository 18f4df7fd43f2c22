import CairnCore
import CairnCrypto
import CairnTraining
import Foundation
import Testing

@Suite("reference task: layout, data, optimizer, training")
struct TrainingTests {
    @Test("the genesis model has 664,832 parameters in the documented slot order")
    func referenceLayout() throws {
        let layout = try ModelLayout(ReferenceSpec.model)
        #expect(layout.parameterCount == 664_832)
        #expect(layout.slots.map(\.name) == ["embedding", "hidden0.weight", "hidden0.bias", "hidden1.weight", "hidden1.bias", "output.weight", "output.bias"])
        #expect(layout.slots.map(\.offset) == [0, 8192, 270_336, 270_848, 532_992, 533_504, 664_576])
        #expect(layout.hidden(0).weight.rows == 512 && layout.hidden(0).weight.columns == 512)
        #expect(layout.forwardMultiplyAdds == 655_360)
    }

    @Test("a model spec outside the bounds is refused with the field named")
    func badSpecs() {
        for spec in [ModelSpec(contextBytes: 0, embeddingDim: 32, hiddenUnits: [512], vocabulary: 256),
                     ModelSpec(contextBytes: 16, embeddingDim: 32, hiddenUnits: [], vocabulary: 256),
                     ModelSpec(contextBytes: 16, embeddingDim: 32, hiddenUnits: [512], vocabulary: 255),
                     ModelSpec(contextBytes: 16, embeddingDim: 32, hiddenUnits: [16384, 16384], vocabulary: 256),
                     ModelSpec(contextBytes: .max, embeddingDim: .max, hiddenUnits: [.max], vocabulary: 256)] {
            #expect(throws: ModelLayout.Error.self) { try ModelLayout(spec) }
        }
    }

    @Test("a context too long for the corpus is refused, not trapped on")
    func contextTooLong() throws {
        let bytes = Tiny.corpus()
        let text = try CorpusText(bytes: bytes, expected: CorpusText.spec(of: bytes, source: "synthetic"))
        #expect(throws: ModelLayout.Error.self) {
            try ReferenceTask(corpus: text, model: ModelSpec(contextBytes: 16384, embeddingDim: 1, hiddenUnits: [1], vocabulary: 256))
        }
    }

    @Test("the initial model is a pure function of the seed")
    func initialModel() throws {
        let layout = try ModelLayout(ReferenceSpec.model)
        let a = InitialModel.parameters(layout: layout, seed: DataSplit.seed("genesis", [1]))
        let b = InitialModel.parameters(layout: layout, seed: DataSplit.seed("genesis", [1]))
        let c = InitialModel.parameters(layout: layout, seed: DataSplit.seed("genesis", [2]))
        #expect(a == b)
        #expect(a != c)
        let bound = 1 / Float(512).squareRoot()
        #expect(a[layout.hidden(0).weight.range].allSatisfy { abs($0) <= bound })
        let embedding = a[layout.embedding.range]
        let variance = embedding.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(embedding.count)
        #expect(abs(variance - 1) < 0.05)
    }

    @Test("held-out positions never overlap training data; shards differ by trainer and window and are reproducible")
    func split() throws {
        let task = try Tiny.task()
        let split = task.split
        let heldOut = split.heldOutPositions(count: 100_000)
        #expect(heldOut.count == split.heldOutCount)
        #expect(heldOut.allSatisfy { $0 >= split.heldOutStart && $0 + 3 < split.textCount })
        // A training context and its target end before the held-out slice starts.
        #expect(split.trainingCount - 1 + 3 < split.heldOutStart)
        let beacon = DataSplit.seed("beacon", [7])
        let alice = try PublicKey(bytes: [UInt8](repeating: 1, count: 32))
        let bob = try PublicKey(bytes: [UInt8](repeating: 2, count: 32))
        let shard = split.shard(beacon: beacon, trainer: alice, window: 3, count: 512)
        #expect(shard == split.shard(beacon: beacon, trainer: alice, window: 3, count: 512))
        #expect(shard != split.shard(beacon: beacon, trainer: bob, window: 3, count: 512))
        #expect(shard != split.shard(beacon: beacon, trainer: alice, window: 4, count: 512))
        #expect(shard.allSatisfy(split.isTraining))
        // Each draw covers the training range: the mean lands near its middle.
        let mean = Double(shard.reduce(0, +)) / Double(shard.count)
        #expect(abs(mean / Double(split.trainingCount) - 0.5) < 0.06)
    }

    @Test("the corpus is refused when its bytes differ from the genesis hash, naming both")
    func corpusMismatch() {
        let bytes = Tiny.corpus()
        var other = bytes
        other[100] ^= 1
        let spec = CorpusText.spec(of: bytes, source: "synthetic")
        let error = #expect(throws: CorpusText.Error.self) { try CorpusText(bytes: other, expected: spec) }
        #expect(error?.description.contains("does not match genesis") == true)
    }

    @Test("a corpus directory is read in byte order of name, skipping names with extensions, and checked against genesis")
    func corpusDirectory() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-corpus-\(UInt32.random(in: 0 ... .max))").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let parts = [Array(Tiny.corpus(count: 3000, seed: 1)), Array(Tiny.corpus(count: 3000, seed: 2))]
        try Data(parts[1]).write(to: URL(fileURLWithPath: directory + "/b"))
        try Data(parts[0]).write(to: URL(fileURLWithPath: directory + "/a"))
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: directory + "/a.dat"))
        #expect(try CorpusText.read(directory: directory) == parts[0] + parts[1])
        let spec = CorpusText.spec(of: parts[0] + parts[1], source: "synthetic")
        #expect(try CorpusText(directory: directory, expected: spec).bytes.count == 6000)
        #expect(throws: CorpusText.Error.self) {
            try CorpusText(directory: directory, expected: CorpusText.spec(of: parts[1] + parts[0], source: "synthetic"))
        }
    }

    @Test("AdamW follows its documented expression for three steps")
    func adamW() {
        var optimizer = AdamW(parameterCount: 3, weightDecay: 0.1)
        var theta: [Float] = [1, -2, 0.5]
        let gradient: [Float] = [-5, 0.1, 0.2]
        var expected = theta.map(Double.init)
        var m = [0.0, 0, 0], v = [0.0, 0, 0]
        for t in 1...3 {
            theta.withUnsafeMutableBufferPointer { p in gradient.withUnsafeBufferPointer { optimizer.update(p, gradient: $0, rate: 0.01) } }
            for i in 0..<3 {
                let g = Double(gradient[i])
                m[i] = 0.9 * m[i] + 0.1 * g
                v[i] = 0.999 * v[i] + 0.001 * g * g
                let mHat = m[i] / (1 - pow(0.9, Double(t))), vHat = v[i] / (1 - pow(0.999, Double(t)))
                expected[i] -= 0.01 * (mHat / (vHat.squareRoot() + 1e-8) + 0.1 * expected[i])
            }
        }
        for i in 0..<3 { #expect(abs(Double(theta[i]) - expected[i]) < 1e-6, "parameter \(i)") }
    }

    @Test("training lowers the held-out loss of the tiny model on a learnable corpus")
    func trainingLearns() throws {
        let task = try Tiny.task(bytes: Tiny.corpus(count: 20_000))
        let theta = task.initialParameters(seed: DataSplit.seed("t", [1]))
        var training = LocalTraining(task: task, parameters: theta, batchSize: 64, weightDecay: 0)
        let heldOut = task.split.heldOutPositions(count: 2000)
        let before = task.loss(training.parameters, positions: heldOut)
        var rng = SplitMix64(seed: 3)
        for _ in 0..<300 {
            let batch = (0..<64).map { _ in Int(rng.below(UInt64(task.split.trainingCount))) }
            _ = training.step(positions: batch[...], rate: 1e-2)
        }
        let after = task.loss(training.parameters, positions: heldOut)
        // The phrase repeats with 10% noise: a learnt model gets far below uniform (5.55).
        #expect(before > 5)
        #expect(after < 2.5, "held-out loss \(before) → \(after)")
    }
}
