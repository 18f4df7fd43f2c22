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
    let settings = TrainingParameters(innerSteps: 20, batchSize: 16, schedule: InnerSchedule(peak: 1e-2, floor: 1e-2, warmupSteps: 0),
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
        return t.train(window: 0, beacon: beacon, global: base).delta
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

    @Test("free-riding (D59, attack 5): a Δ that adds the previous window's published Δ to its own scores above its own Δ on θ_k, and loses most of that edge on θ_{k+1}, which already holds the published Δ (D59)")
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

    @Test("own-data sample (D60): drawn by the seed from the claimed steps' contexts; claiming ten times the steps trained dilutes the indicator")
    func overclaim() throws {
        let f = try EvaluationFixture()
        let seed = DataSplit.seed("coin", [4])
        let trained = f.shard(of: f.alice)  // the contexts of the 20 steps taken
        let claimedTen = f.task.split.shard(beacon: f.beacon, trainer: f.alice, window: 0, count: 10 * trained.count)
        #expect(Array(claimedTen.prefix(trained.count)) == trained, "a longer claim extends the same shard")
        let sample = f.evaluator.ownPositions(used: trained, seed: seed, trainer: f.alice)
        #expect(sample.count == f.evaluator.parameters.ownContexts)
        #expect(Set(sample).isSubset(of: Set(trained)))
        #expect(sample == f.evaluator.ownPositions(used: trained, seed: seed, trainer: f.alice))
        #expect(sample != f.evaluator.ownPositions(used: trained, seed: DataSplit.seed("coin", [5]), trainer: f.alice))
        #expect(f.evaluator.ownPositions(used: [], seed: seed, trainer: f.alice).isEmpty)
        let delta = f.delta(of: f.alice)
        func margin(_ used: [Int]) -> Double {
            let e = f.evaluator.evaluate(base: f.base, delta: delta, ownPositions: f.evaluator.ownPositions(used: used, seed: seed, trainer: f.alice),
                                         seed: seed, workspace: f.workspace)
            return e.ownImprovement - e.score
        }
        let honest = margin(trained), overclaimed = margin(claimedTen)
        #expect(honest > 0, "honest margin \(honest)")
        #expect(overclaimed < honest / 3, "claiming 10× the steps: margin \(overclaimed), honest \(honest)")
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
        // The 100× Δ moves the model no further than a median-norm Δ would: with it and without
        // it, the models differ by at most the clip (each coordinate's step is a sub-convex
        // combination of the clipped values there).
        let without = Aggregation.apply(Array(contributions.prefix(2)), to: f.base, rate: 1, maxContributions: 8, clipBound: norms[1], clipFloor: norms[1])
        let gapBig = zip(one.parameters, without.parameters).reduce(0.0) { $0 + Double($1.0 - $1.1) * Double($1.0 - $1.1) }.squareRoot()
        #expect(gapBig <= norms[1] * 1.0001, "the 100× Δ moved the model by \(gapBig), the clip is \(norms[1])")
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

    @Test("averaging (D60): per coordinate, an index all kept moves by their mean, one only one kept by its value, one a light Δ kept alone by its share; over all, every index by its sum ÷ the total share")
    func perCoordinateMean() throws {
        func delta(_ entries: [Int: Float]) -> PseudoGradient {
            var dense = [Float](repeating: 0, count: 8)
            for (i, v) in entries { dense[i] = v }
            return PseudoGradient.compress(dense, chunkSize: 8, topK: 8)
        }
        let base = [Float](repeating: 0, count: 8)
        let a = delta([0: 1, 1: 0.5]), b = delta([0: 0.5, 2: -1])
        let ids = [DataSplit.seed("id", [1]), DataSplit.seed("id", [2])]
        let equal = Aggregation.apply([.init(id: ids[0], delta: a), .init(id: ids[1], delta: b)], to: base, rate: 1, maxContributions: 8, clipBound: 1e9,
                                      averaging: .perCoordinate)
        // Dequantized values: int8 steps of the chunk's scale, so compare with the decoded Δs.
        let da = a.dense(), db = b.dense()
        #expect(equal.parameters[0] == -(da[0] + db[0]) / 2)
        #expect(equal.parameters[1] == -da[1], "kept by one of two: moved by its value, not half of it")
        #expect(equal.parameters[2] == -db[2])
        #expect(equal.parameters[3] == 0)
        // Weighted: b carries a thousandth of a's score. Alone on index 2 it moves it by a
        // thousandth of its value (spam of near-zero score moves the model next to nothing);
        // on the shared index 0 the mean is weighted.
        let weighted = Aggregation.apply([.init(id: ids[0], delta: a, weight: 1000), .init(id: ids[1], delta: b, weight: 1)], to: base,
                                         rate: 1, maxContributions: 8, clipBound: 1e9, averaging: .perCoordinate)
        #expect(abs(Double(weighted.parameters[2]) - Double(-db[2]) / 1000) < 1e-7)
        #expect(weighted.parameters[1] == -da[1])
        #expect(abs(Double(weighted.parameters[0]) + (1000 * Double(da[0]) + Double(db[0])) / 1001) < 1e-6)
        // The rate scales the step.
        let doubled = Aggregation.apply([.init(id: ids[0], delta: a), .init(id: ids[1], delta: b)], to: base, rate: 2, maxContributions: 8, clipBound: 1e9,
                                        averaging: .perCoordinate)
        #expect(doubled.parameters[1] == -2 * da[1])
        // Over all (genesis, D60): every index divided by G, the zero-filled mean; a light Δ's
        // index moves by its share of the total weight.
        let overAll = Aggregation.apply([.init(id: ids[0], delta: a), .init(id: ids[1], delta: b)], to: base, rate: 1, maxContributions: 8, clipBound: 1e9)
        #expect(overAll.parameters[0] == -(da[0] + db[0]) / 2 && overAll.parameters[1] == -da[1] / 2 && overAll.parameters[2] == -db[2] / 2)
        let lightOverAll = Aggregation.apply([.init(id: ids[0], delta: a, weight: 1000), .init(id: ids[1], delta: b, weight: 1)], to: base,
                                             rate: 1, maxContributions: 8, clipBound: 1e9)
        #expect(abs(Double(lightOverAll.parameters[2]) - Double(-db[2]) / 1001) < 1e-7)
    }

    @Test("error feedback: β = 1 keeps all of what compression dropped, β = 0 none, β = ½ half (D60)")
    func feedbackDecay() {
        let delta: [Float] = [4, 3, 2, 1]
        for (decay, expected) in [(Float(1), Float(3)), (0, 0), (0.5, 1.5)] {
            var feedback = ErrorFeedback(parameterCount: 4)
            _ = feedback.compress(delta, chunkSize: 4, topK: 1, decay: decay)
            #expect(feedback.residual == [0, 3, 2, 1])
            // Second window with Δ = 0: what is sent is the largest decayed residual entry.
            let second = feedback.compress([0, 0, 0, 0], chunkSize: 4, topK: 1, decay: decay)
            #expect(abs((second.dense().max() ?? 0) - expected) <= expected / 100, "β \(decay): sent \(second.dense())")
        }
    }

    @Test("the inner schedule: warm-up over an optimizer's first steps, then constant, or a linear decay by window; no window traps")
    func innerSchedule() {
        let constant = InnerSchedule(peak: 1e-3, floor: 1e-4, warmupSteps: 10)
        #expect(abs(constant.rate(window: 0, optimizerStep: 0) - 1e-4) < 1e-9)
        #expect(constant.rate(window: 0, optimizerStep: 9) == 1e-3)
        #expect(constant.rate(window: 5, optimizerStep: 1_000) == 1e-3)
        #expect(constant.rate(window: .max, optimizerStep: .max) == 1e-3)
        // A trainer that joins at window 50 warms its fresh optimizer up too.
        #expect(abs(constant.rate(window: 50, optimizerStep: 4) - 5e-4) < 1e-9)
        let wsd = InnerSchedule(peak: 1e-3, floor: 1e-4, warmupSteps: 0, decayStartWindow: 10, decayWindows: 4)
        #expect(wsd.windowRate(9) == 1e-3)
        #expect(abs(wsd.windowRate(10) - (1e-4 + 0.9e-3 * 0.75)) < 1e-9)
        #expect(wsd.windowRate(13) == 1e-4)
        #expect(wsd.windowRate(.max) == 1e-4)
        #expect(InnerSchedule(peak: 1e-3, floor: 1e-4, warmupSteps: 0, decayStartWindow: 3, decayWindows: 0).windowRate(3) == 1e-4)
        #expect(InnerSchedule(peak: 1e-3, floor: 1e-4, warmupSteps: 0, decayStartWindow: 0, decayWindows: .max).windowRate(.max) == 1e-4)
    }

    @Test("copycat overlap: 1 for a copy or a lightly perturbed copy, low for another trainer's Δ")
    func copycat() throws {
        let f = try EvaluationFixture()
        let a = f.delta(of: f.alice), b = f.delta(of: f.bob)
        #expect(Copycats.overlap(a, a) == 1)
        #expect(Copycats.overlap(a, f.scaled(a, by: 1.01)) > 0.95)
        #expect(Copycats.overlap(a, b) < Copycats.overlap(a, f.scaled(a, by: 1.01)))
        #expect(Copycats.overlap(a, PseudoGradient.compress([Float](repeating: 0, count: f.task.parameterCount), chunkSize: 4096, topK: 1024)) == 0)
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
