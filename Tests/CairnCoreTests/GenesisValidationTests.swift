import CairnCore
import CairnTestKit
import Foundation
import Testing

/// A structurally valid genesis with `n` validators (keys are random bytes: crypto checks are in
/// CairnCryptoTests).
func structurallyValidGenesis(validators n: Int, seed: UInt64 = 1) -> Genesis {
    var g = SeededGenerator(seed: seed)
    let f = (n - 1) / 3
    return Genesis(
        chainID: "test-chain", consensus: .defaults,
        validators: (0 ..< n).map {
            GenesisValidator(name: "node\($0)", publicKey: g.fixed(PublicKey.self), address: "127.0.0.1:\(30000 + $0)",
                             coinPublicShare: g.fixed(CurvePoint.self))
        },
        coin: CoinSetup(threshold: UInt32(f + 1), commitments: (0 ... f).map { _ in g.fixed(CurvePoint.self) }),
        accounts: [GenesisAccount(name: "trainer0", publicKey: g.fixed(PublicKey.self), balance: 100)],
        task: TrainingTaskSpec(
            name: "byte-lm-v1", corpus: CorpusSpec(source: "synthetic", sha256: g.fixed(Digest.self), byteCount: 10),
            model: ModelSpec(contextBytes: 16, embeddingDim: 32, hiddenUnits: [512, 512], vocabulary: 256),
            compression: CompressionSpec(chunkSize: 4096, topK: 64), lsh: LSHSpec(bits: 256, hammingThreshold: 8),
            training: TrainingSpec(maxInnerSteps: 1000, batchSize: 256, learningRate: 2e-3, learningRateFloor: 2e-4, warmupSteps: 100,
                                   weightDecay: 0, feedbackDecay: 0.95, outerLearningRate: 1, maxAggregated: 20),
            evaluation: EvaluationSpec(ownContexts: 2048, randomContexts: 2048, step: 1, probeContexts: 64, heldOutContexts: 16_384)),
        rewards: RewardParameters(registrationFee: 1, emissionPerWindow: 1000, validatorShareBps: 1000, payoutExponent: 2,
                                  rating: RatingParameters(mu: 25, sigma: 25.0 / 3, beta: 25.0 / 6, tau: 25.0 / 300)),
        placeholders: ["rewards.penalties"])
}

@Suite("Genesis structure")
struct GenesisValidationTests {
    @Test("3f+1 validator counts are accepted", arguments: [4, 7, 10, 13])
    func validCounts(n: Int) throws {
        try structurallyValidGenesis(validators: n).validate()
        #expect(validatorCountProblem(n) == nil)
    }

    @Test("other counts are refused with an explanation", arguments: [0, 1, 3, 5, 6, 8, 9])
    func invalidCounts(n: Int) throws {
        let problem = try #require(validatorCountProblem(n))
        #expect(problem.contains("3f+1"))
        if n >= 4 { #expect(problem.contains("use")) }
    }

    @Test("each structural problem is named")
    func problems() throws {
        var genesis = structurallyValidGenesis(validators: 4)
        genesis.chainID = "Bad Chain"
        genesis.validators[1].name = genesis.validators[0].name
        genesis.validators[2].address = "localhost"
        genesis.coin.threshold = 3
        genesis.accounts.append(GenesisAccount(name: "rich", publicKey: genesis.validators[0].publicKey, balance: .max))
        genesis.rewards.validatorShareBps = 20_000
        let error = try #require(throws: GenesisError.self) { try genesis.validate() }
        let text = error.description
        for fragment in ["chain_id", "validator name 'node0' appears at index 0 and 1", "host:port",
                         "coin.threshold is 3", "overflow", "basis points"] {
            #expect(text.contains(fragment), "missing '\(fragment)' in \(text)")
        }
    }

    @Test("the D59 and D60 bounds are refused at 0 and beyond their maxima, accepted at their edges, each problem named")
    func issue26Bounds() throws {
        let valid = structurallyValidGenesis(validators: 4)
        var edges = valid
        edges.task.training.initialClipNorm = 1e6
        edges.task.training.clipGrowth = 1
        edges.task.training.maxParameterMagnitude = 1
        edges.task.training.maxContributionsPerWindow = 100_000
        edges.task.training.blobRetentionWindows = 1
        // The D60 fields: the inner steps a contribution may claim, the schedule, β, the averaging.
        edges.task.training.maxInnerSteps = 65_536
        edges.task.training.decayStartWindow = .max
        edges.task.training.decayWindows = 1
        edges.task.training.feedbackDecay = 0
        edges.task.training.averaging = 1
        edges.rewards.contributionFee = .max  // legal: then no contribution can pay it
        try edges.validate()
        let cases: [(String, (inout Genesis) -> Void)] = [
            ("initial_clip_norm", { $0.task.training.initialClipNorm = 0 }),
            ("initial_clip_norm", { $0.task.training.initialClipNorm = .infinity }),
            ("clip_growth", { $0.task.training.clipGrowth = 0.5 }),
            ("clip_growth", { $0.task.training.clipGrowth = 17 }),
            ("max_parameter_magnitude", { $0.task.training.maxParameterMagnitude = 0 }),
            ("max_parameter_magnitude", { $0.task.training.maxParameterMagnitude = .nan }),
            ("max_contributions_per_window", { $0.task.training.maxContributionsPerWindow = 0 }),
            ("max_contributions_per_window", { $0.task.training.maxContributionsPerWindow = 100_001 }),
            ("blob_retention_windows", { $0.task.training.blobRetentionWindows = 0 }),
            ("blob_retention_windows", { $0.task.training.blobRetentionWindows = 10_001 }),
            ("max_inner_steps", { $0.task.training.maxInnerSteps = 0 }),
            ("max_inner_steps", { $0.task.training.maxInnerSteps = 100_001 }),
            ("max_inner_steps", { $0.task.training.maxInnerSteps = 65_537 }),  // × 256 contexts > 2^24
            ("decay_windows", { $0.task.training.decayStartWindow = 5; $0.task.training.decayWindows = 0 }),
            ("decay_windows", { $0.task.training.decayWindows = 1_000_001 }),
            ("feedback_decay", { $0.task.training.feedbackDecay = -0.1 }),
            ("feedback_decay", { $0.task.training.feedbackDecay = 1.5 }),
            ("feedback_decay", { $0.task.training.feedbackDecay = .nan }),
            ("averaging", { $0.task.training.averaging = 2 }),
        ]
        for (field, breakIt) in cases {
            var genesis = valid
            breakIt(&genesis)
            let error = try #require(throws: GenesisError.self, "\(field) was accepted") { try genesis.validate() }
            #expect(error.description.contains(field), "\(error)")
        }
        // The cap for a window: ⌊(¾ · window − 6 s) / 1.25 s⌋, at least 4 (also for windows whose
        // commit phase is shorter than 6 s, and at u32's largest window).
        #expect(TrainingSpec.contributionCap(windowMs: 30_000) == 13 && TrainingSpec.contributionCap(windowMs: 40_000) == 19
                && TrainingSpec.contributionCap(windowMs: 1_000) == 4 && TrainingSpec.contributionCap(windowMs: 8_000) == 4
                && TrainingSpec.contributionCap(windowMs: 86_400_000) == 51_835 && TrainingSpec.contributionCap(windowMs: .max) == 2_576_975)
        // The clip bound: growth × the base's clip norm, the initial one without it (or for a non-finite one).
        #expect(valid.task.training.clipBound(baseClipNorm: nil) == valid.task.training.initialClipNorm)
        #expect(valid.task.training.clipBound(baseClipNorm: 3) == 3 * valid.task.training.clipGrowth)
        #expect(TrainingSpec.clipBound(baseClipNorm: .greatestFiniteMagnitude, initial: 2, growth: 16) == 2)
    }

    @Test("JSON round trip keeps the value and the canonical bytes")
    func jsonRoundTrip() throws {
        let genesis = structurallyValidGenesis(validators: 7)
        let parsed = try Genesis.parseJSON(try genesis.jsonData())
        #expect(parsed == genesis)
        #expect(parsed.canonicalBytes == genesis.canonicalBytes)
    }

    @Test("unknown or misspelt keys are refused, naming the key")
    func unknownKeys() throws {
        let json = String(decoding: try structurallyValidGenesis(validators: 4).jsonData(), as: UTF8.self)
        let misspelt = json.replacingOccurrences(of: "\"gc_depth\"", with: "\"gc_dpeth\"")
        let error = try #require(throws: StrictJSON.Error.self) { try Genesis.parseJSON(Data(misspelt.utf8)) }
        #expect(error.description.contains("gc_dpeth") || error.description.contains("gc_depth"))
        let extra = json.replacingOccurrences(of: "\"chain_id\"", with: "\"surprise\": 1, \"chain_id\"")
        let extraError = try #require(throws: StrictJSON.Error.self) { try Genesis.parseJSON(Data(extra.utf8)) }
        #expect(extraError.description.contains("unknown key 'surprise'"))
    }

    @Test("bad hex and missing fields give the JSON path")
    func badFields() throws {
        let json = String(decoding: try structurallyValidGenesis(validators: 4).jsonData(), as: UTF8.self)
        let badHex = json.replacingOccurrences(of: "\"public_key\" : \"", with: "\"public_key\" : \"zz")
        let error = try #require(throws: StrictJSON.Error.self) { try Genesis.parseJSON(Data(badHex.utf8)) }
        #expect(error.description.contains("public_key"))
        #expect(throws: StrictJSON.Error.self) { try Genesis.parseJSON(Data("{\"chain_id\": \"x\"}".utf8)) }
        #expect(throws: (any Error).self) { try Genesis.parseJSON(Data("not json".utf8)) }
    }
}
