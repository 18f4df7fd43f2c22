import CairnAPI
import CairnCore
import CairnCrypto
import CairnTraining
import Foundation
import Testing

/// The vectors the Python client's tests read (`Tests/Interop/vectors.json`): every format, seed
/// and computation a second implementation must reproduce, as the Swift code produces them. The
/// test rebuilds the file and fails when it differs, so a change of a format, a seed rule or the
/// model's arithmetic breaks this suite and the Python one together. After an intended change:
/// `CAIRN_WRITE_INTEROP=1 swift test --filter InteropVectorTests`, then run pytest.
@Suite struct InteropVectorTests {
    static var path: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().path + "/Interop/vectors.json"
    }

    @Test func vectorsFileMatchesTheSwiftImplementation() throws {
        let built = try InteropVectors.build()
        let data = try JSONSerialization.data(withJSONObject: built, options: [.prettyPrinted, .sortedKeys]) + Data("\n".utf8)
        if ProcessInfo.processInfo.environment["CAIRN_WRITE_INTEROP"] == "1" {
            try data.write(to: URL(fileURLWithPath: Self.path), options: .atomic)
        }
        let stored = try #require(FileManager.default.contents(atPath: Self.path), "Tests/Interop/vectors.json is missing")
        let file = try #require(try JSONSerialization.jsonObject(with: stored) as? [String: Any])
        let fix = "after an intended format change run `CAIRN_WRITE_INTEROP=1 swift test --filter InteropVectorTests` and the Python tests"
        // Sections computed through OpenBLAS matrix products differ in their last bits between CPU
        // kernels (found on a host whose kernel was not the one that wrote the file): they must keep
        // their shape here — the Python tests compare their values, with tolerances, against PyTorch.
        // Everything else (formats, seeds, draws, hashes, signatures) must match bit for bit.
        for key in Set(built.keys).union(file.keys).sorted() {
            let mine = built[key].map(Self.canonical), theirs = file[key].map(Self.canonical)
            if Self.blasDependent.contains(key) {
                #expect(mine.map(Self.shape) == theirs.map(Self.shape), "vectors.json section \(key) has another shape than the Swift code produces; \(fix)")
            } else {
                #expect(mine == theirs, "vectors.json section \(key) differs from what the Swift code produces; \(fix)")
            }
        }
    }

    /// Sections whose values depend on the BLAS kernel (matrix products in the forward pass).
    static let blasDependent: Set<String> = ["forward", "training", "evaluation", "compression"]

    /// A JSON value as text with sorted keys (comparable across builds).
    static func canonical(_ value: Any) -> String {
        guard JSONSerialization.isValidJSONObject([value]),
              let data = try? JSONSerialization.data(withJSONObject: [value], options: [.sortedKeys]) else { return "\(value)" }
        return String(decoding: data, as: UTF8.self)
    }

    /// The text with every hex digit and decimal digit replaced: keys, nesting and lengths only.
    static func shape(_ text: String) -> String {
        String(text.map { $0.isHexDigit ? "x" : $0 })
    }

    /// The vectors are deterministic: two builds give the same bytes (no dictionary order, clock or
    /// random key leaks into them).
    @Test func buildIsDeterministic() throws {
        let a = try JSONSerialization.data(withJSONObject: try InteropVectors.build(), options: [.sortedKeys])
        let b = try JSONSerialization.data(withJSONObject: try InteropVectors.build(), options: [.sortedKeys])
        #expect(a == b)
    }
}

/// Builds the vectors. Bytes are lowercase hex, UInt64s decimal strings, Float32/Float64 values
/// the hex of their IEEE bit patterns (big-endian digits, as `String(bits, radix: 16)` padded), so
/// no JSON number formatting can change a bit.
enum InteropVectors {
    static func f32(_ x: Float) -> String { hexBits(UInt64(x.bitPattern), digits: 8) }
    static func f64(_ x: Double) -> String { hexBits(x.bitPattern, digits: 16) }
    static func hexBits(_ value: UInt64, digits: Int) -> String {
        let s = String(value, radix: 16)
        return String(repeating: "0", count: digits - s.count) + s
    }
    static func u64(_ x: UInt64) -> String { String(x) }
    /// A Float32 vector as little-endian bytes in hex (the blobs' own layout).
    static func f32LE(_ values: [Float]) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(4 * values.count)
        for v in values { let b = v.bitPattern; for i in 0..<4 { bytes.append(UInt8(truncatingIfNeeded: b >> (8 * UInt32(i)))) } }
        return Hex.encode(bytes)
    }
    static func seedBytes(_ label: String) -> [UInt8] { Hashing.digest(.training, Array(label.utf8)).bytes }
    static func digest(_ label: String) -> Digest { Hashing.digest(.training, Array(label.utf8)) }

    /// The small model the numeric vectors use: two hidden layers, so layer order is exercised.
    static let spec = ModelSpec(contextBytes: 4, embeddingDim: 8, hiddenUnits: [16, 12], vocabulary: 256)
    static let chunkSize = 256, topK = 8

    static func corpus() -> [UInt8] {
        var rng = SplitMix64(seed: 7)
        let phrase = Array("a stranger trains the shared model and is paid for useful work. ".utf8)
        return (0..<6000).map { i in rng.below(10) == 0 ? UInt8(truncatingIfNeeded: rng.next()) : phrase[i % phrase.count] }
    }

    static func build() throws -> [String: Any] {
        var out: [String: Any] = [:]
        out["comment"] = "Written by Tests/InteropTests/InteropVectorTests.swift; read by python/tests. Bytes are hex, u64 decimal strings, floats the hex of their bit patterns."
        out["splitmix64"] = splitMix()
        out["hashing"] = hashing()
        out["seeds"] = seeds()
        try numeric(into: &out)
        try formats(into: &out)
        return out
    }

    static func splitMix() -> [[String: Any]] {
        [0, 1, 0x9E37_79B9_7F4A_7C15, .max].map { (seed: UInt64) -> [String: Any] in
            var a = SplitMix64(seed: seed), b = SplitMix64(seed: seed), c = SplitMix64(seed: seed), d = SplitMix64(seed: seed)
            let bound: UInt64 = seed == .max ? 3 : 1_000_003
            return ["seed": u64(seed), "next": (0..<5).map { _ in u64(a.next()) },
                    "below_bound": u64(bound), "below": (0..<5).map { _ in u64(b.below(bound)) },
                    "symmetric_unit": (0..<5).map { _ in f32(c.symmetricUnit()) },
                    "approximate_normal": (0..<5).map { _ in f32(d.approximateNormal()) }]
        }
    }

    static func hashing() -> [[String: Any]] {
        [(DomainTag.training, [UInt8]()), (.record, Array("record".utf8)), (.blob, [0, 1, 2, 255]), (.model, Array(repeating: 7, count: 100)),
         (.corpus, Array("fortune".utf8))].map { tag, data in
            ["tag": Int(tag.rawValue), "data": Hex.encode(data), "digest": Hashing.digest(tag, data).hex]
        }
    }

    static func seeds() -> [[String: Any]] {
        [("shard", seedBytes("beacon"), seedBytes("trainer"), UInt64(3)), ("evaluation-random", seedBytes("x"), [], 0),
         ("initial-model", [], [], .max)].map { label, first, second, number in
            ["label": label, "first": Hex.encode(first), "second": Hex.encode(second), "number": u64(number),
             "digest": DataSplit.seed(label, first, second, number).hex]
        }
    }

    static func numeric(into out: inout [String: Any]) throws {
        let bytes = corpus()
        let text = try CorpusText(bytes: bytes, expected: CorpusText.spec(of: bytes, source: "interop"))
        let task = try ReferenceTask(corpus: text, model: spec)
        let split = task.split
        let beacon = digest("beacon"), trainerSeed = seedBytes("trainer-key")
        let trainer = try SigningKey(seed: trainerSeed).publicKey
        out["corpus"] = ["bytes": Hex.encode(bytes), "sha256": text.spec.sha256.hex]
        let spec = spec
        out["model_spec"] = ["context_bytes": Int(spec.contextBytes), "embedding_dim": Int(spec.embeddingDim),
                             "hidden_units": spec.hiddenUnits.map(Int.init), "vocabulary": Int(spec.vocabulary),
                             "parameter_count": task.parameterCount]
        out["split"] = ["text_count": split.textCount, "context_bytes": split.contextBytes, "held_out_start": split.heldOutStart,
                        "training_count": split.trainingCount, "held_out_count": split.heldOutCount,
                        "held_out_positions": ["count": 10, "positions": split.heldOutPositions(count: 10)],
                        "training_positions": ["seed": digest("positions").hex, "count": 20,
                                               "positions": split.trainingPositions(seed: digest("positions"), count: 20)],
                        "shard": ["beacon": beacon.hex, "trainer": trainer.hex, "window": u64(3), "count": 24,
                                  "positions": split.shard(beacon: beacon, trainer: trainer, window: 3, count: 24)]]

        let parameters = EvaluationParameters(ownContexts: 16, randomContexts: 32, step: 1, probeContexts: 4, bits: 256)
        let evaluator = Evaluator(task: task, parameters: parameters)
        let seed = digest("evaluation-seed")
        let used = split.shard(beacon: beacon, trainer: trainer, window: 3, count: 24)
        out["evaluation_positions"] = ["seed": seed.hex, "trainer": trainer.hex, "used": used, "own_contexts": parameters.ownContexts,
                                       "random_contexts": parameters.randomContexts, "probe_contexts": parameters.probeContexts,
                                       "random": evaluator.randomPositions(seed: seed),
                                       "own": evaluator.ownPositions(used: used, seed: seed, trainer: trainer),
                                       "probe": evaluator.probePositions(seed: seed), "hyperplane_seed": u64(evaluator.hyperplaneSeed(seed))]

        let initialSeed = digest("genesis")
        let theta0 = InitialModel.parameters(layout: task.layout, seed: initialSeed)
        out["initial_model"] = ["seed": initialSeed.hex, "parameters_f32": f32LE(theta0)]

        let grid: [Float] = [0, -0, 1e-8, -1e-8, 0.1, -0.5, 1, 2.5, -3.75, 7.9, 7.90531110763549805, 8, -9, 20, -1e10, 0.333]
        out["tanh"] = grid.map { ["x": f32($0), "y": f32(ModelMath.tanh($0))] }

        let workspace = ByteMLP.Workspace(layout: task.layout, capacity: ReferenceTask.batchCapacity)
        let forwardPositions = Array(split.trainingPositions(seed: digest("forward"), count: 6))
        out["forward"] = ["positions": forwardPositions,
                          "logits_f32": f32LE(evaluator.logits(theta0, positions: forwardPositions, workspace: workspace)),
                          "loss": f64(task.loss(theta0, positions: forwardPositions, workspace: workspace))]

        // Three AdamW steps of batch 8 on the shard at the warm-up schedule's first rates.
        var training = LocalTraining(task: task, parameters: theta0, batchSize: 8, weightDecay: 0.01)
        let schedule = InnerSchedule(peak: 2e-3, floor: 2e-4, warmupSteps: 2)
        var losses: [String] = [], rates: [String] = []
        for step in 0..<3 {
            let rate = schedule.rate(window: 0, optimizerStep: training.optimizer.step)
            rates.append(f32(rate))
            losses.append(f64(training.step(positions: used[(8 * step)..<(8 * step + 8)], rate: rate)))
        }
        // The inner schedule with a decay: warm-up, constant, linear decay, floor (and a window near 2^64).
        let decaying = InnerSchedule(peak: 2e-3, floor: 2e-4, warmupSteps: 5, decayStartWindow: 3, decayWindows: 4)
        out["schedule"] = ["peak": f32(2e-3), "floor": f32(2e-4), "warmup_steps": 5, "decay_start_window": u64(3), "decay_windows": u64(4),
                           "rates": [UInt64(0), 2, 3, 4, 6, 7, 50, .max].flatMap { w in [0, 4, 5, 1000].map { step in
                               ["window": u64(w), "step": step, "rate": f32(decaying.rate(window: w, optimizerStep: step))] as [String: Any] } }]
        out["training"] = ["batch_size": 8, "weight_decay": f32(0.01), "positions": used, "rates": rates, "losses": losses,
                           "parameters_f32": f32LE(training.parameters)]

        // Compression with error feedback of the trained Δ, twice (the second round carries a residual).
        let delta = zip(theta0, training.parameters).map { $0 - $1 }
        var feedback = ErrorFeedback(parameterCount: delta.count)
        let decay: Float = 0.8
        let first = feedback.compress(delta, chunkSize: chunkSize, topK: topK, decay: decay)
        let residual1 = feedback.residual
        let second = feedback.compress(delta.map { $0 * 0.5 }, chunkSize: chunkSize, topK: topK, decay: decay)
        out["compression"] = ["chunk_size": chunkSize, "top_k": topK, "decay": f32(decay), "delta_f32": f32LE(delta),
                              "first_blob": Hex.encode(PseudoGradientBlob.encode(first, topK: topK)), "residual_after_first_f32": f32LE(residual1),
                              "second_delta_scale": f32(0.5),
                              "second_blob": Hex.encode(PseudoGradientBlob.encode(second, topK: topK)),
                              "residual_after_second_f32": f32LE(feedback.residual), "first_l2_norm": f64(first.l2Norm)]

        // One evaluation as a validator computes it (clipped, at a step below 1).
        let clip = first.l2Norm / 2, step: Float = 0.5
        let measured = evaluator.evaluate(base: theta0, delta: first, ownPositions: evaluator.ownPositions(used: used, seed: seed, trainer: trainer),
                                          seed: seed, workspace: workspace, clipNorm: clip, step: step)
        let updated = evaluator.apply(first, to: theta0, step: step, clipNorm: clip)
        out["evaluation"] = ["seed": seed.hex, "trainer": trainer.hex, "used": used, "clip_norm": f64(clip), "step": f32(step),
                             "delta_blob": Hex.encode(PseudoGradientBlob.encode(first, topK: topK)),
                             "updated_f32": f32LE(updated),
                             "output_change_f32": f32LE(evaluator.outputChange(base: theta0, updated: updated, seed: seed, workspace: workspace)),
                             "loss_before_own": f64(measured.lossBeforeOwn), "loss_after_own": f64(measured.lossAfterOwn),
                             "loss_before_random": f64(measured.lossBeforeRandom), "loss_after_random": f64(measured.lossAfterRandom),
                             "score": f64(measured.score), "indicator": Int(measured.indicator),
                             "sim_hash": Hex.encode(SimHash.bytes(measured.outputHash))]

        // SimHash of fixed vectors: one a multiple of 64 long, one with a tail.
        var rng = SplitMix64(seed: 99)
        out["simhash"] = [1024, 200].map { (length: Int) -> [String: Any] in
            let vector = (0..<length).map { _ in rng.approximateNormal() * 1e-3 }
            let hyperplanes = UInt64(length) &* 0x1234_5678_9abc
            return ["vector_f32": f32LE(vector), "bits": 256, "seed": u64(hyperplanes),
                    "bytes": Hex.encode(SimHash.bytes(SimHash.hash(vector, bits: 256, seed: hyperplanes)))]
        }
    }

    static func formats(into out: inout [String: Any]) throws {
        let key = digest("key-a"), chain = digest("chain")
        let signer = try SigningKey(seed: key.bytes)
        let compression = CompressionParameters(chunkSize: 4096, topK: 512, valueBits: 8, indexBits: 16)
        let contributionID = digest("contribution")
        let bodies: [(String, RecordBody, [String: Any])] = [
            ("register", .register(Register(name: "py-trainer-1")), ["name": "py-trainer-1"]),
            ("transfer", .transfer(Transfer(to: signer.publicKey, amount: .max)), ["to": signer.publicKey.hex, "amount": u64(.max)]),
            ("contribution", .contribution(Contribution(baseWindow: 7, blob: digest("blob"), blobSize: 1234, compression: compression,
                                                        assignment: digest("assignment"), innerSteps: 500)),
             ["base_window": u64(7), "blob": digest("blob").hex, "blob_size": u64(1234),
              "compression": ["chunk_size": 4096, "top_k": 512, "value_bits": 8, "index_bits": 16],
              "assignment": digest("assignment").hex, "inner_steps": 500]),
            ("evaluation", .evaluation(CairnCore.Evaluation(contribution: contributionID, own: LossPair(before: 3.25, after: 3.125),
                                                            random: LossPair(before: 4.5, after: 4.25), simHash: Array(0..<32),
                                                            flags: [.outOfSync, .unavailable], salt: digest("salt"))),
             ["contribution": contributionID.hex, "own": ["before": f32(3.25), "after": f32(3.125)],
              "random": ["before": f32(4.5), "after": f32(4.25)], "sim_hash": Hex.encode(Array(UInt8(0)..<32)),
              "flags": 10, "salt": digest("salt").hex]),
            ("evaluation_commit", .evaluationCommit(EvaluationCommit(contribution: contributionID, commitment: digest("commitment"))),
             ["contribution": contributionID.hex, "commitment": digest("commitment").hex]),
            ("checkpoint_vote", .checkpointVote(CheckpointVote(window: 42, sequenceHash: digest("s"), stateRoot: digest("r"), modelHash: digest("m"))),
             ["window": u64(42), "sequence_hash": digest("s").hex, "state_root": digest("r").hex, "model_hash": digest("m").hex]),
        ]
        out["records"] = bodies.map { kind, body, fields in ["kind": kind, "fields": fields, "body": Hex.encode(body.canonicalBytes)] }

        var signed: [[String: Any]] = []
        var framed: [[UInt8]] = []
        for (nonce, (_, body, _)) in zip([UInt64(0), 1, .max], bodies.prefix(3)) {
            let bodyBytes = body.canonicalBytes
            let message = SignedRecord.signingBytes(chain: chain, author: signer.publicKey, nonce: nonce, body: bodyBytes)
            let record = SignedRecord(author: signer.publicKey, nonce: nonce, body: bodyBytes, signature: signer.sign(message))
            let bytes = record.canonicalBytes
            framed.append(bytes)
            signed.append(["seed": key.hex, "public_key": signer.publicKey.hex, "chain": chain.hex, "nonce": u64(nonce),
                           "body": Hex.encode(bodyBytes), "signing_bytes": Hex.encode(message), "signature": record.signature.hex,
                           "record": Hex.encode(bytes), "id": Hashing.digest(.record, bytes).hex])
        }
        out["signed"] = signed
        out["framing"] = ["records": framed.map { Hex.encode($0) }, "frame": Hex.encode(RecordFraming.frame(framed))]

        let blobID = digest("a blob"), time: UInt64 = 1_796_000_000_123
        let uploadBytes = BlobUpload.signingBytes(chain: chain, trainer: signer.publicKey, blob: blobID, timeMs: time)
        out["blob_upload"] = ["chain": chain.hex, "trainer_seed": key.hex, "trainer": signer.publicKey.hex, "blob_id": blobID.hex,
                              "time_ms": u64(time), "signing_bytes": Hex.encode(uploadBytes), "signature": signer.sign(uploadBytes).hex]

        // Pseudo-gradients: a dense Δ compressed at two shapes (the second with a short last chunk).
        var rng = SplitMix64(seed: 5)
        var gradients: [[String: Any]] = []
        for (count, chunk, k) in [(1000, 256, 8), (4100, 4096, 512)] {
            let delta = (0..<count).map { i in i % 7 == 0 ? 0 : rng.approximateNormal() }
            let pg = PseudoGradient.compress(delta, chunkSize: chunk, topK: k)
            gradients.append(["parameter_count": count, "chunk_size": chunk, "top_k": k, "blob": Hex.encode(PseudoGradientBlob.encode(pg, topK: k)),
                              "dense_f32": f32LE(pg.dense()), "l2_norm": f64(pg.l2Norm)])
        }
        out["pseudo_gradient"] = gradients
        out["bad_pseudo_gradients"] = try badPseudoGradients()

        let modelSpec = ModelSpec(contextBytes: 2, embeddingDim: 2, hiddenUnits: [3], vocabulary: 256)
        let layout = try ModelLayout(modelSpec)
        let theta = InitialModel.parameters(layout: layout, seed: digest("model-blob"))
        let modelBlob = try ModelBlob.encode(theta, task: "byte-lm-v1", spec: modelSpec)
        let specJSON: [String: Any] = ["context_bytes": 2, "embedding_dim": 2, "hidden_units": [3], "vocabulary": 256]
        out["model_blob"] = ["name": "byte-lm-v1", "spec": specJSON, "parameters_f32": f32LE(theta), "blob": Hex.encode(modelBlob),
                             "hash": ModelBlob.hash(modelBlob).hex]
        var badModels: [[String: Any]] = []
        func badModel(_ blob: [UInt8], name: String = "byte-lm-v1") {
            do {
                _ = try ModelBlob.decode(blob, task: name, spec: modelSpec)
                Issue.record("a bad model blob decoded")
            } catch {
                badModels.append(["name": name, "spec": specJSON, "blob": Hex.encode(blob), "field": error.field, "offset": error.offset])
            }
        }
        badModel(Array(modelBlob.dropLast()))
        badModel(modelBlob, name: "byte-lm-v2")
        var nan = modelBlob
        nan.replaceSubrange((nan.count - 4)..., with: [0, 0, 0xc0, 0x7f])
        badModel(nan)
        var shape = modelBlob
        shape[4 + 2 + 2 + 1 + 10] = 3  // context_bytes 2 → 3
        badModel(shape)
        var magic = modelBlob
        magic[0] = UInt8(ascii: "X")
        badModel(magic)
        out["bad_model_blobs"] = badModels

        let state = TrainerState(lastWindow: 12, feedback: ErrorFeedback(residual: [0.5, -0.25, 0, 1e-20]))
        let none = TrainerState(lastWindow: nil, feedback: ErrorFeedback(residual: [1]))
        out["trainer_state"] = [["last_window": u64(12), "residual_f32": f32LE([0.5, -0.25, 0, 1e-20]), "blob": Hex.encode(state.encode())],
                                ["last_window": NSNull(), "residual_f32": f32LE([1]), "blob": Hex.encode(none.encode())]]
    }

    /// One blob per refusal of `PseudoGradientBlob.decode`, with the field and offset Swift names.
    static func badPseudoGradients() throws -> [[String: Any]] {
        let count = 300, chunk = 256, k = 4
        var delta = [Float](repeating: 0, count: count)
        for (i, v) in [(3, 1.0), (10, -2.0), (200, 0.5), (260, 4.0), (299, -1.0)] { delta[i] = Float(v) }
        let good = PseudoGradientBlob.encode(PseudoGradient.compress(delta, chunkSize: chunk, topK: k), topK: k)
        // Layout: header 28 bytes; chunk 0 at 28: count u16 (3), scale f32, indices 3, 10, 200, values.
        var cases: [[UInt8]] = []
        func edit(_ body: (inout [UInt8]) -> Void) { var b = good; body(&b); cases.append(b) }
        edit { $0[0] = 0 }                                   // magic
        edit { $0[4] = 2 }                                   // version
        edit { $0[6] = 1 }                                   // reserved
        edit { $0[8] = 1 }                                   // parameter_count 301
        edit { $0[16] = 0; $0[17] = 2 }                      // chunk_size 512
        edit { $0[20] = 5 }                                  // top_k 5
        edit { $0[24] = 3 }                                  // chunk_count 3
        edit { $0[28] = 5 }                                  // chunk[0].count 5 > top_k
        edit { $0.replaceSubrange(30..<34, with: [0, 0, 0x80, 0x7f]) }  // scale +inf
        edit { $0.replaceSubrange(30..<34, with: [0, 0, 0, 0x80]) }     // scale -0
        edit { $0[34] = 0; $0[35] = 1 }                      // index[0] = 256 outside the chunk
        edit { $0[36] = 3; $0[37] = 0 }                      // index[1] = 3, duplicate
        edit { $0[36] = 2; $0[37] = 0 }                      // index[1] = 2 < 3
        edit { $0[40] = 0 }                                  // value[0] = 0
        edit { $0[40] = 0x80 }                               // value[0] = -128
        edit { $0[40] = 1; $0[41] = 1; $0[42] = 1 }          // no ±127
        edit { $0.append(0) }                                // trailing byte
        edit { $0.removeLast() }                             // truncated
        var empty = PseudoGradientBlob.encode(PseudoGradient(parameterCount: count, chunkSize: chunk, chunks: [
            .init(scale: 0, indices: [], values: []), .init(scale: 0, indices: [], values: [])]), topK: k)
        empty.replaceSubrange(30..<34, with: [0, 0, 0x80, 0x3f])  // scale 1 in a chunk without entries
        cases.append(empty)
        var oversized = good
        oversized += [UInt8](repeating: 0, count: PseudoGradientBlob.maxBytes(parameterCount: count, chunkSize: chunk, topK: k))
        cases.append(oversized)
        return cases.map { blob in
            do {
                _ = try PseudoGradientBlob.decode(blob, parameterCount: count, chunkSize: chunk, topK: k)
                Issue.record("a bad pseudo-gradient blob decoded: \(Hex.encode(blob))")
                return [:]
            } catch let error as BlobError {
                return ["parameter_count": count, "chunk_size": chunk, "top_k": k, "blob": Hex.encode(blob), "field": error.field, "offset": error.offset]
            } catch {
                Issue.record("unexpected error \(error)")
                return [:]
            }
        }
    }
}
