import CairnCore
import CairnTraining
import Foundation
import Testing

/// A tiny network: a pretrained model, two trainers' Δs on their own shards, and an evaluator.
struct EvaluationFixture {
    let task: ReferenceTask
    let base: [Float]
    let beacon = DataSplit.seed("beacon", [1])
    let alice: PublicKey
    let bob: PublicKey
    let settings = TrainingParameters(innerSteps: 20, batchSize: 16, learningRate: 1e-2, learningRateFloor: 1e-2, warmupSteps: 0,
                                      weightDecay: 0, outerRate: 1, maxAggregated: 8)
    let compression = CompressionSpec(chunkSize: 4096, topK: 1024)
    let evaluator: Evaluator
    let workspace: ByteMLP.Workspace

    init() throws {
        let task = try Tiny.task(bytes: Tiny.corpus(count: 40_000, seed: 5))
        var pre = LocalTraining(task: task, parameters: task.initialParameters(seed: DataSplit.seed("fixture", [])), batchSize: 32, weightDecay: 0)
        var rng = SplitMix64(seed: 11)
        let count = UInt64(task.split.trainingCount)
        for _ in 0..<150 {
            let batch = (0..<32).map { _ in Int(rng.below(count)) }
            _ = pre.step(positions: batch[...], rate: 1e-2)
        }
        self.task = task
        base = pre.parameters
        alice = try PublicKey(bytes: [UInt8](repeating: 0xa1, count: 32))
        bob = try PublicKey(bytes: [UInt8](repeating: 0xb0, count: 32))
        evaluator = Evaluator(task: task, parameters: EvaluationParameters(ownContexts: 320, randomContexts: 2048, step: 1, probeContexts: 64, bits: 256))
        workspace = ByteMLP.Workspace(layout: task.layout, capacity: 512)
    }

    func delta(of trainer: PublicKey) -> PseudoGradient {
        var t = WindowTrainer(key: trainer, task: task, initial: base, settings: settings, compression: compression)
        return t.train(window: 0, beacon: beacon, global: base, schedule: LearningSchedule(peak: 1e-2, floor: 1e-2, warmupSteps: 0, total: 100)).delta
    }

    func shard(of trainer: PublicKey) -> [Int] {
        task.split.shard(beacon: beacon, trainer: trainer, window: 0, count: settings.shardContexts)
    }

    func evaluate(_ delta: PseudoGradient, own trainer: PublicKey, seed: Digest = DataSplit.seed("coin", [1])) -> CairnTraining.Evaluation {
        evaluator.evaluate(base: base, delta: delta, ownPositions: shard(of: trainer), seed: seed, workspace: workspace)
    }

    /// A Δ with the same kept indices and L2 norm as `like` but random signs and magnitudes.
    func noise(like delta: PseudoGradient, seed: UInt64) -> PseudoGradient {
        var rng = SplitMix64(seed: seed)
        var dense = [Float](repeating: 0, count: task.parameterCount)
        delta.forEachEntry { index, _ in dense[index] = rng.approximateNormal() }
        let norm = dense.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
        let scale = Float(delta.l2Norm / norm)
        return PseudoGradient.compress(dense.map { $0 * scale }, chunkSize: 4096, topK: 1024)
    }

    func scaled(_ delta: PseudoGradient, by factor: Float) -> PseudoGradient {
        PseudoGradient.compress(delta.dense().map { $0 * factor }, chunkSize: 4096, topK: 1024)
    }
}

@Suite("evaluator: scores, indicator and output hash")
struct EvaluatorTests {
    @Test("an honest Δ improves random data; a noise Δ, a negated Δ and another shard's Δ are scored as designed")
    func scoring() throws {
        let f = try EvaluationFixture()
        let honest = f.evaluate(f.delta(of: f.alice), own: f.alice)
        #expect(honest.flags.isEmpty)
        #expect(honest.score > 0, "honest score \(honest.score)")
        #expect(honest.indicator == 1, "own \(honest.ownImprovement) vs random \(honest.score)")
        // Paired: the before-losses are the same whatever Δ is evaluated.
        let noise = f.evaluate(f.noise(like: f.delta(of: f.alice), seed: 3), own: f.alice)
        #expect(noise.lossBeforeRandom == honest.lossBeforeRandom)
        #expect(noise.score < 0, "noise score \(noise.score)")
        let negated = f.evaluate(f.scaled(f.delta(of: f.alice), by: -1), own: f.alice)
        #expect(negated.score < 0 && negated.lossAfterRandom > negated.lossBeforeRandom)
        // Bob's Δ judged against Alice's shard: Bob never saw that data, so its own-data advantage
        // over random data is noise around 0 (the indicator is a coin flip, Templar's "oscillates
        // around 0"), far below the advantage of the trainer who did train on it.
        let other = f.evaluate(f.delta(of: f.bob), own: f.alice)
        let honestMargin = honest.ownImprovement - honest.score
        let otherMargin = other.ownImprovement - other.score
        #expect(otherMargin < honestMargin / 2, "margins: honest \(honestMargin), other \(otherMargin)")
    }

    @Test("the output hash separates lazy, other-trainer and noise evaluations; a scaled Δ hashes alike but its losses differ")
    func outputHash() throws {
        let f = try EvaluationFixture()
        let delta = f.delta(of: f.alice)
        let seed = DataSplit.seed("coin", [2])
        let honest = f.evaluate(delta, own: f.alice, seed: seed)
        #expect(f.evaluate(delta, own: f.alice, seed: seed) == honest)
        // Lazy: Δ never applied, so Δy = 0.
        let lazy = f.evaluator.evaluate(base: f.base, updated: f.base, ownPositions: f.shard(of: f.alice), seed: seed, workspace: f.workspace)
        let other = f.evaluate(f.delta(of: f.bob), own: f.alice, seed: seed)
        let noise = f.evaluate(f.noise(like: delta, seed: 5), own: f.alice, seed: seed)
        for wrong in [lazy, other, noise] {
            #expect(SimHash.distance(honest.outputHash, wrong.outputHash) > 32)
        }
        let half = f.evaluate(f.scaled(delta, by: 0.5), own: f.alice, seed: seed)
        #expect(SimHash.distance(honest.outputHash, half.outputHash) <= 8)
        #expect(abs(half.lossAfterRandom - honest.lossAfterRandom) > 1e-4, "the losses expose the scale")
    }

    @Test("a baseline computed once per (model, seed) gives bit-identical evaluations; one for another seed is ignored")
    func baseline() throws {
        let f = try EvaluationFixture()
        let seed = DataSplit.seed("c", [7]), other = DataSplit.seed("c", [8])
        let baseline = f.evaluator.baseline(base: f.base, seed: seed, workspace: f.workspace)
        for trainer in [f.alice, f.bob] {
            let delta = f.delta(of: trainer)
            let plain = f.evaluator.evaluate(base: f.base, delta: delta, ownPositions: f.shard(of: trainer), seed: seed, workspace: f.workspace)
            let cached = f.evaluator.evaluate(base: f.base, delta: delta, ownPositions: f.shard(of: trainer), seed: seed, workspace: f.workspace,
                                              baseline: baseline)
            #expect(plain.lossBeforeRandom.bitPattern == cached.lossBeforeRandom.bitPattern && plain.score.bitPattern == cached.score.bitPattern)
            #expect(plain == cached)
            let elsewhere = f.evaluator.evaluate(base: f.base, delta: delta, ownPositions: f.shard(of: trainer), seed: other, workspace: f.workspace,
                                                 baseline: baseline)
            #expect(elsewhere == f.evaluator.evaluate(base: f.base, delta: delta, ownPositions: f.shard(of: trainer), seed: other, workspace: f.workspace))
            #expect(elsewhere.lossBeforeRandom != plain.lossBeforeRandom)
        }
    }

    @Test("free-riding (issue 26, attack 5): a Δ that adds the previous window's published Δ to its own scores above its own Δ on θ_k, and loses most of that edge on θ_{k+1}, which already holds the published Δ (D59)")
    func freeride() throws {
        let f = try EvaluationFixture()
        let own = f.delta(of: f.alice), published = f.delta(of: f.bob)
        let summed = zip(own.dense(), published.dense()).map { $0 + $1 }
        let freeride = PseudoGradient.compress(summed, chunkSize: 4096, topK: 2048)
        // θ_{k+1}: θ_k after the outer step that applied the previous window's (published) Δ.
        let next = f.evaluator.apply(published, to: f.base)
        let seed = DataSplit.seed("coin", [3])
        func score(_ delta: PseudoGradient, on base: [Float]) -> Double {
            f.evaluator.evaluate(base: base, delta: delta, ownPositions: f.shard(of: f.alice), seed: seed, workspace: f.workspace).score
        }
        let edgeBefore = score(freeride, on: f.base) - score(own, on: f.base)
        let edgeAfter = score(freeride, on: next) - score(own, on: next)
        #expect(edgeBefore > 0, "on θ_k the published Δ's gain counts for the free-rider: edge \(edgeBefore)")
        #expect(edgeAfter < edgeBefore / 2, "on θ_{k+1} the edge is \(edgeAfter), on θ_k \(edgeBefore)")
    }

    @Test("a non-finite update is flagged")
    func nonFinite() throws {
        let f = try EvaluationFixture()
        var updated = f.base
        updated[5] = .nan
        let e = f.evaluator.evaluate(base: f.base, updated: updated, ownPositions: f.shard(of: f.alice), seed: DataSplit.seed("c", []), workspace: f.workspace)
        #expect(e.flags.contains(.nonFinite))
    }

    @Test("SimHash: equal vectors 0 bits apart, opposite ones all bits; distance tracks the angle over seeds")
    func simHash() {
        var rng = SplitMix64(seed: 1)
        let x = (0..<4096).map { _ in rng.approximateNormal() }
        #expect(SimHash.distance(SimHash.hash(x, bits: 256, seed: 9), SimHash.hash(x, bits: 256, seed: 9)) == 0)
        #expect(SimHash.distance(SimHash.hash(x, bits: 256, seed: 9), SimHash.hash(x.map { -$0 }, bits: 256, seed: 9)) == 256)
        // y at 60° from x: expected distance 256/3 per hash.
        let z = (0..<4096).map { _ in rng.approximateNormal() }
        let y = zip(x, z).map { 0.5 * $0 + Float(3.0.squareRoot() / 2) * $1 }
        let distances = (0..<16).map { SimHash.distance(SimHash.hash(x, bits: 256, seed: UInt64($0)), SimHash.hash(y, bits: 256, seed: UInt64($0))) }
        let mean = Double(distances.reduce(0, +)) / 16
        #expect(abs(mean - 256.0 / 3) < 8, "mean distance \(mean)")
    }
}

@Suite("outer step and copycat measure")
struct AggregationTests {
    @Test("aggregation is independent of input order and clips each Δ to the median norm; the median and the mean are weighted by score")
    func aggregation() throws {
        let f = try EvaluationFixture()
        let a = f.delta(of: f.alice), b = f.delta(of: f.bob)
        let big = f.scaled(a, by: 100)
        let contributions = [Aggregation.Contribution(id: DataSplit.seed("id", [1]), delta: a),
                             Aggregation.Contribution(id: DataSplit.seed("id", [2]), delta: b),
                             Aggregation.Contribution(id: DataSplit.seed("id", [3]), delta: big)]
        let one = Aggregation.apply(contributions, to: f.base, rate: 1, maxContributions: 8)
        let two = Aggregation.apply(contributions.reversed(), to: f.base, rate: 1, maxContributions: 8)
        #expect(one.parameters.map(\.bitPattern) == two.parameters.map(\.bitPattern))
        #expect(one.applied == two.applied)
        let norms = [a.l2Norm, b.l2Norm, big.l2Norm].sorted()
        #expect(one.clipNorm == norms[1])
        // The 100× Δ moves the model no further than a median-norm Δ would.
        let moved = zip(one.parameters, f.base).reduce(0.0) { $0 + Double($1.0 - $1.1) * Double($1.0 - $1.1) }.squareRoot()
        #expect(moved <= norms[1] * 1.0001)
        // Only the first maxContributions by id are applied.
        #expect(Aggregation.apply(contributions, to: f.base, rate: 1, maxContributions: 2).applied == one.applied.prefix(2).map { $0 })
        // No contributions: the model is unchanged.
        #expect(Aggregation.apply([], to: f.base, rate: 1, maxContributions: 8).parameters == f.base)
        // The clip is held within [clipFloor, clipBound] (D59) whatever the median says.
        let median = one.clipNorm
        #expect(Aggregation.apply(contributions, to: f.base, rate: 1, maxContributions: 8, clipBound: median / 2).clipNorm == median / 2)
        #expect(Aggregation.apply(contributions, to: f.base, rate: 1, maxContributions: 8, clipFloor: median * 2).clipNorm == median * 2)
        #expect(Aggregation.apply(contributions, to: f.base, rate: 1, maxContributions: 8, clipBound: median * 4, clipFloor: median / 4).clipNorm == median)
        // Weighted by score: the median sits where half the weight is reached, so the smallest Δ
        // carrying most of the score sets the clip, and keys of tiny scores do not.
        let weighted = [Aggregation.Contribution(id: DataSplit.seed("id", [1]), delta: a, weight: a.l2Norm < b.l2Norm ? 1_000 : 1),
                        Aggregation.Contribution(id: DataSplit.seed("id", [2]), delta: b, weight: a.l2Norm < b.l2Norm ? 1 : 1_000),
                        Aggregation.Contribution(id: DataSplit.seed("id", [3]), delta: big, weight: 1)]
        #expect(Aggregation.apply(weighted, to: f.base, rate: 1, maxContributions: 8).clipNorm == norms[0])
        // Equal weights, whatever their value, give the unweighted mean bit for bit.
        let equal = contributions.map { Aggregation.Contribution(id: $0.id, delta: $0.delta, weight: 37_000_000) }
        #expect(Aggregation.apply(equal, to: f.base, rate: 1, maxContributions: 8).parameters.map(\.bitPattern) == one.parameters.map(\.bitPattern))
        // The step is the score-weighted mean: a Δ carrying a millionth of the weight moves the
        // model a millionth as far as its share of an unweighted mean would.
        let heavy = Aggregation.Contribution(id: DataSplit.seed("id", [1]), delta: a, weight: 1_000_000)
        let light = Aggregation.Contribution(id: DataSplit.seed("id", [2]), delta: b, weight: 1)
        let mixed = Aggregation.apply([heavy, light], to: f.base, rate: 1, maxContributions: 8, clipBound: 1e9)
        let alone = Aggregation.apply([heavy], to: f.base, rate: 1, maxContributions: 8, clipBound: 1e9)
        let gap = zip(mixed.parameters, alone.parameters).map { Double($0 - $1).magnitude }.max()!
        let heavyMove = zip(alone.parameters, f.base).map { Double($0 - $1).magnitude }.max()!
        #expect(gap < heavyMove * 1e-3, "the light Δ moved the model by \(gap), the heavy one by \(heavyMove)")
    }

    @Test("copycat overlap: 1 for a copy or a lightly perturbed copy, low for another trainer's Δ")
    func copycat() throws {
        let f = try EvaluationFixture()
        let a = f.delta(of: f.alice), b = f.delta(of: f.bob)
        #expect(Copycat.overlap(a, a) == 1)
        #expect(Copycat.overlap(a, f.scaled(a, by: 1.01)) > 0.95)
        #expect(Copycat.overlap(a, b) < Copycat.overlap(a, f.scaled(a, by: 1.01)))
        #expect(Copycat.overlap(a, PseudoGradient.compress([Float](repeating: 0, count: f.task.parameterCount), chunkSize: 4096, topK: 1024)) == 0)
    }

    @Test("a model blob round-trips and every wrong header, shape, size or value is refused")
    func modelBlob() throws {
        let layout = try ModelLayout(Tiny.spec)
        let theta = InitialModel.parameters(layout: layout, seed: DataSplit.seed("m", []))
        let blob = try ModelBlob.encode(theta, task: "byte-lm-v1", spec: Tiny.spec)
        #expect(try ModelBlob.decode(blob, task: "byte-lm-v1", spec: Tiny.spec) == theta)
        #expect(throws: BlobError.self) { try ModelBlob.decode(blob, task: "other", spec: Tiny.spec) }
        #expect(throws: BlobError.self) { try ModelBlob.decode(blob, task: "byte-lm-v1", spec: ModelSpec(contextBytes: 3, embeddingDim: 4, hiddenUnits: [5, 7], vocabulary: 256)) }
        #expect(throws: BlobError.self) { try ModelBlob.decode(Array(blob.dropLast()), task: "byte-lm-v1", spec: Tiny.spec) }
        var nan = blob
        nan.replaceSubrange((nan.count - 4)..<nan.count, with: withUnsafeBytes(of: Float.nan.bitPattern.littleEndian, Array.init))
        let error = #expect(throws: BlobError.self) { try ModelBlob.decode(nan, task: "byte-lm-v1", spec: Tiny.spec) }
        #expect(error?.field == "parameters[\(theta.count - 1)]")
        #expect(ModelBlob.hash(blob) != ModelBlob.hash(try ModelBlob.encode(theta.map { $0 + 1 }, task: "byte-lm-v1", spec: Tiny.spec)))
    }
}
