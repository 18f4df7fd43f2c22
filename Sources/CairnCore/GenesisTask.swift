/// The reference training task (ARCHITECTURE §6) as genesis fixes it (format version 2 added
/// `training` and `evaluation`).
public struct TrainingTaskSpec: Codable, Hashable, Sendable, CanonicalCodable {
    public var name: String
    public var corpus: CorpusSpec
    public var model: ModelSpec
    public var compression: CompressionSpec
    public var lsh: LSHSpec
    public var training: TrainingSpec
    public var evaluation: EvaluationSpec

    public init(name: String, corpus: CorpusSpec, model: ModelSpec, compression: CompressionSpec, lsh: LSHSpec,
                training: TrainingSpec, evaluation: EvaluationSpec) {
        self.name = name
        self.corpus = corpus
        self.model = model
        self.compression = compression
        self.lsh = lsh
        self.training = training
        self.evaluation = evaluation
    }

    public func encode(to writer: inout CanonicalWriter) {
        writer.write(name)
        writer.write(corpus)
        writer.write(model)
        writer.write(compression)
        writer.write(lsh)
        writer.write(training)
        writer.write(evaluation)
    }

    public init(from reader: inout CanonicalReader) throws {
        name = try reader.field("name") { try $0.read(String.self, maxLength: 64) }
        corpus = try reader.field("corpus") { try $0.read(CorpusSpec.self) }
        model = try reader.field("model") { try $0.read(ModelSpec.self) }
        compression = try reader.field("compression") { try $0.read(CompressionSpec.self) }
        lsh = try reader.field("lsh") { try $0.read(LSHSpec.self) }
        training = try reader.field("training") { try $0.read(TrainingSpec.self) }
        evaluation = try reader.field("evaluation") { try $0.read(EvaluationSpec.self) }
    }
}

/// How trainers train (ARCHITECTURE §6): the inner loop each window and the outer step.
public struct TrainingSpec: Codable, Hashable, Sendable, CanonicalCodable {
    /// The most inner AdamW steps a contribution may claim (D60): a trainer trains from the moment
    /// its window's model is known until its submission deadline, up to this many, and says how
    /// many it took; its assignment (shard) covers this many.
    public var maxInnerSteps: UInt32
    /// Contexts per inner step; a trainer's shard is max_inner_steps × batch_size contexts.
    public var batchSize: UInt32
    /// Inner learning rate (D60): a linear warm-up over an optimizer's first `warmupSteps` steps,
    /// then `learningRate`, constant — or, when `decayStartWindow` > 0, decaying linearly to
    /// `learningRateFloor` over `decayWindows` windows from that window.
    public var learningRate: Double
    public var learningRateFloor: Double
    public var warmupSteps: UInt32
    public var decayStartWindow: UInt64
    public var decayWindows: UInt32
    public var weightDecay: Double
    /// Error-feedback decay β: a trainer compresses Δ + β · residual (D60).
    public var feedbackDecay: Double
    /// θ_next = θ − outer_learning_rate · mean of the clipped accepted Δs (D60).
    public var outerLearningRate: Double
    /// What the mean of each index divides by (D60): 0 all applied Δs (the zero-filled mean),
    /// 1 the Δs that kept the index (the per-coordinate mean).
    public var averaging: UInt8
    /// At most this many accepted contributions are aggregated per window (top-G).
    public var maxAggregated: UInt32
    /// The clip bound of an outer step whose base model has no clip norm yet (θ_0 and its carry-
    /// over): every Δ it applies is clipped to at most this L2 norm (D59).
    public var initialClipNorm: Double
    /// An outer step clips every Δ to the lower median of the applied norms, but never above this
    /// factor times the clip norm of the step that produced its base model (D59): however many
    /// keys an attacker holds, the norm of what one step applies grows by at most this factor per
    /// window, and evaluations clip to the same bound.
    public var clipGrowth: Double
    /// A proposed model with a non-finite parameter or one of larger magnitude is not adopted: the
    /// step is skipped (the base model carries over) and the skip is recorded (D59).
    public var maxParameterMagnitude: Double
    /// At most this many contributions land per window (`window_full` after), sized so that a
    /// validator evaluates all of them within the commit phase (D59).
    public var maxContributionsPerWindow: UInt32
    /// A validator drops an uploaded blob that no committed record names this many windows after
    /// the upload (D59): uploads cannot fill its disk with blobs nobody uses.
    public var blobRetentionWindows: UInt32

    enum CodingKeys: String, CodingKey, CaseIterable {
        case maxInnerSteps = "max_inner_steps", batchSize = "batch_size", learningRate = "learning_rate",
             learningRateFloor = "learning_rate_floor", warmupSteps = "warmup_steps", decayStartWindow = "decay_start_window",
             decayWindows = "decay_windows", weightDecay = "weight_decay", feedbackDecay = "feedback_decay", averaging,
             outerLearningRate = "outer_learning_rate", maxAggregated = "max_aggregated", initialClipNorm = "initial_clip_norm",
             clipGrowth = "clip_growth", maxParameterMagnitude = "max_parameter_magnitude",
             maxContributionsPerWindow = "max_contributions_per_window", blobRetentionWindows = "blob_retention_windows"
    }

    /// Defaults of the D59 bounds (BENCHMARKS.md, D59): honest Δ norms on the reference task
    /// were 0.93 in window 0 and grew ≈ 1.3× a window; trained parameters stay below 10.
    public static let defaultInitialClipNorm = 2.0
    public static let defaultClipGrowth = 2.0
    public static let defaultMaxParameterMagnitude = 1000.0
    public static let defaultMaxContributionsPerWindow: UInt32 = 13

    /// The contribution cap for windows of `windowMs` (D59): the commit phase after a window's
    /// close (¾ of the next window) must hold every validator's evaluation of all the window's
    /// contributions and the commitments landing. Measured on the 4-validator localnet sharing two
    /// cores with the trainers (BENCHMARKS.md, D59): an evaluation takes 0.22 s of CPU but
    /// 0.95–1.1 s of wall time per validator at the cap (the two cores are saturated), and
    /// validators see a window open 5–6 s of consensus time after it opened (the closing leader's
    /// time is its parents' proposal times, committed a wave later), so ⌊(¾ · W − 6 s) / 1.25 s⌋,
    /// at least 4: 13 for 30-second windows (at 20 and 16 `spam` localnets left contributions,
    /// honest ones among them, without a quorum).
    public static func contributionCap(windowMs: UInt32) -> UInt32 {
        let phase = UInt64(windowMs) * 3 / 4
        return max(4, UInt32(phase > 6_000 ? (phase - 6_000) / 1_250 : 0))
    }
    public static let defaultBlobRetentionWindows: UInt32 = 4

    public init(maxInnerSteps: UInt32, batchSize: UInt32, learningRate: Double, learningRateFloor: Double, warmupSteps: UInt32,
                decayStartWindow: UInt64 = 0, decayWindows: UInt32 = 0, weightDecay: Double, feedbackDecay: Double,
                outerLearningRate: Double, averaging: UInt8 = 0, maxAggregated: UInt32, initialClipNorm: Double = Self.defaultInitialClipNorm,
                clipGrowth: Double = Self.defaultClipGrowth, maxParameterMagnitude: Double = Self.defaultMaxParameterMagnitude,
                maxContributionsPerWindow: UInt32 = Self.defaultMaxContributionsPerWindow,
                blobRetentionWindows: UInt32 = Self.defaultBlobRetentionWindows) {
        self.maxInnerSteps = maxInnerSteps
        self.batchSize = batchSize
        self.learningRate = learningRate
        self.learningRateFloor = learningRateFloor
        self.warmupSteps = warmupSteps
        self.decayStartWindow = decayStartWindow
        self.decayWindows = decayWindows
        self.weightDecay = weightDecay
        self.feedbackDecay = feedbackDecay
        self.averaging = averaging
        self.outerLearningRate = outerLearningRate
        self.maxAggregated = maxAggregated
        self.initialClipNorm = initialClipNorm
        self.clipGrowth = clipGrowth
        self.maxParameterMagnitude = maxParameterMagnitude
        self.maxContributionsPerWindow = maxContributionsPerWindow
        self.blobRetentionWindows = blobRetentionWindows
    }

    public func encode(to writer: inout CanonicalWriter) {
        writer.write(maxInnerSteps)
        writer.write(batchSize)
        writer.write(learningRate)
        writer.write(learningRateFloor)
        writer.write(warmupSteps)
        writer.write(decayStartWindow)
        writer.write(decayWindows)
        writer.write(weightDecay)
        writer.write(feedbackDecay)
        writer.write(averaging)
        writer.write(outerLearningRate)
        writer.write(maxAggregated)
        writer.write(initialClipNorm)
        writer.write(clipGrowth)
        writer.write(maxParameterMagnitude)
        writer.write(maxContributionsPerWindow)
        writer.write(blobRetentionWindows)
    }

    public init(from reader: inout CanonicalReader) throws {
        maxInnerSteps = try reader.field("max_inner_steps") { try $0.read(UInt32.self) }
        batchSize = try reader.field("batch_size") { try $0.read(UInt32.self) }
        learningRate = try reader.field("learning_rate") { try $0.read(Double.self) }
        learningRateFloor = try reader.field("learning_rate_floor") { try $0.read(Double.self) }
        warmupSteps = try reader.field("warmup_steps") { try $0.read(UInt32.self) }
        decayStartWindow = try reader.field("decay_start_window") { try $0.read(UInt64.self) }
        decayWindows = try reader.field("decay_windows") { try $0.read(UInt32.self) }
        weightDecay = try reader.field("weight_decay") { try $0.read(Double.self) }
        feedbackDecay = try reader.field("feedback_decay") { try $0.read(Double.self) }
        averaging = try reader.field("averaging") { try $0.read(UInt8.self) }
        outerLearningRate = try reader.field("outer_learning_rate") { try $0.read(Double.self) }
        maxAggregated = try reader.field("max_aggregated") { try $0.read(UInt32.self) }
        initialClipNorm = try reader.field("initial_clip_norm") { try $0.read(Double.self) }
        clipGrowth = try reader.field("clip_growth") { try $0.read(Double.self) }
        maxParameterMagnitude = try reader.field("max_parameter_magnitude") { try $0.read(Double.self) }
        maxContributionsPerWindow = try reader.field("max_contributions_per_window") { try $0.read(UInt32.self) }
        blobRetentionWindows = try reader.field("blob_retention_windows") { try $0.read(UInt32.self) }
    }

    public static var minimumEncodedSize: Int { 1 + 7 * 4 + 9 * 8 }

    /// The largest L2 norm the outer step on a base model with this clip norm may apply per Δ
    /// (D59): `clipGrowth` × that norm, or `initialClipNorm` while there is none. Evaluations
    /// clip to the same bound. Double arithmetic, correctly rounded: the same on every validator.
    public func clipBound(baseClipNorm: Double?) -> Double {
        Self.clipBound(baseClipNorm: baseClipNorm, initial: initialClipNorm, growth: clipGrowth)
    }

    /// The least clip norm the outer step on a base model with this clip norm may use (D59): that
    /// norm ÷ `clipGrowth`, 0 while there is none. A majority of tiny positive Δs could otherwise
    /// drag the median — and with it every honest Δ's clip and the next window's bound — down to
    /// nothing in one window.
    public func clipFloor(baseClipNorm: Double?) -> Double {
        Self.clipFloor(baseClipNorm: baseClipNorm, growth: clipGrowth)
    }

    public static func clipFloor(baseClipNorm: Double?, growth: Double) -> Double {
        guard let norm = baseClipNorm, norm.isFinite, norm > 0, growth >= 1 else { return 0 }
        return norm / growth
    }

    public static func clipBound(baseClipNorm: Double?, initial: Double, growth: Double) -> Double {
        guard let norm = baseClipNorm, norm.isFinite, norm > 0 else { return initial }
        let bound = norm * growth
        return bound.isFinite ? bound : initial
    }
}

/// How validators evaluate a contribution (ARCHITECTURE §6).
public struct EvaluationSpec: Codable, Hashable, Sendable, CanonicalCodable {
    /// Contexts of the trainer's shard for the own-data losses.
    public var ownContexts: UInt32
    /// Contexts drawn from the evaluation seed for the random-data losses (the score).
    public var randomContexts: UInt32
    /// θ' = θ − step · Δ.
    public var step: Double
    /// Contexts whose logit change is hashed.
    public var probeContexts: UInt32
    /// Held-out contexts for the model's reported loss.
    public var heldOutContexts: UInt32

    enum CodingKeys: String, CodingKey, CaseIterable {
        case ownContexts = "own_contexts", randomContexts = "random_contexts", step,
             probeContexts = "probe_contexts", heldOutContexts = "held_out_contexts"
    }

    public init(ownContexts: UInt32, randomContexts: UInt32, step: Double, probeContexts: UInt32, heldOutContexts: UInt32) {
        self.ownContexts = ownContexts
        self.randomContexts = randomContexts
        self.step = step
        self.probeContexts = probeContexts
        self.heldOutContexts = heldOutContexts
    }

    public func encode(to writer: inout CanonicalWriter) {
        writer.write(ownContexts)
        writer.write(randomContexts)
        writer.write(step)
        writer.write(probeContexts)
        writer.write(heldOutContexts)
    }

    public init(from reader: inout CanonicalReader) throws {
        ownContexts = try reader.field("own_contexts") { try $0.read(UInt32.self) }
        randomContexts = try reader.field("random_contexts") { try $0.read(UInt32.self) }
        step = try reader.field("step") { try $0.read(Double.self) }
        probeContexts = try reader.field("probe_contexts") { try $0.read(UInt32.self) }
        heldOutContexts = try reader.field("held_out_contexts") { try $0.read(UInt32.self) }
    }

    public static var minimumEncodedSize: Int { 4 * 4 + 8 }
}

/// Which text the model trains on, pinned by hash: a node refuses to evaluate with another corpus.
public struct CorpusSpec: Codable, Hashable, Sendable, CanonicalCodable {
    /// `debian-fortunes`: the extension-less files of /usr/share/games/fortunes in name order.
    public var source: String
    public var sha256: Digest
    public var byteCount: UInt64

    enum CodingKeys: String, CodingKey, CaseIterable {
        case source, sha256, byteCount = "byte_count"
    }

    public init(source: String, sha256: Digest, byteCount: UInt64) {
        self.source = source
        self.sha256 = sha256
        self.byteCount = byteCount
    }

    public func encode(to writer: inout CanonicalWriter) {
        writer.write(source)
        writer.write(sha256)
        writer.write(byteCount)
    }

    public init(from reader: inout CanonicalReader) throws {
        source = try reader.field("source") { try $0.read(String.self, maxLength: 64) }
        sha256 = try reader.field("sha256") { try $0.read(Digest.self) }
        byteCount = try reader.field("byte_count") { try $0.read(UInt64.self) }
    }
}

/// The byte-level language model's shape.
public struct ModelSpec: Codable, Hashable, Sendable, CanonicalCodable {
    public var contextBytes: UInt32
    public var embeddingDim: UInt32
    public var hiddenUnits: [UInt32]
    public var vocabulary: UInt32

    enum CodingKeys: String, CodingKey, CaseIterable {
        case contextBytes = "context_bytes", embeddingDim = "embedding_dim",
             hiddenUnits = "hidden_units", vocabulary
    }

    public init(contextBytes: UInt32, embeddingDim: UInt32, hiddenUnits: [UInt32], vocabulary: UInt32) {
        self.contextBytes = contextBytes
        self.embeddingDim = embeddingDim
        self.hiddenUnits = hiddenUnits
        self.vocabulary = vocabulary
    }

    /// Weights and biases of the MLP: embedding table, hidden layers, output layer; `Int.max`
    /// when that overflows (an unvalidated genesis may name any dimensions).
    public var parameterCount: Int {
        func product(_ a: Int, _ b: Int) -> Int? { let (p, o) = a.multipliedReportingOverflow(by: b); return o ? nil : p }
        func sum(_ a: Int, _ b: Int) -> Int? { let (s, o) = a.addingReportingOverflow(b); return o ? nil : s }
        guard var count = product(Int(vocabulary), Int(embeddingDim)),
              var width = product(Int(contextBytes), Int(embeddingDim)) else { return .max }
        for units in hiddenUnits.map(Int.init) {
            guard let weights = product(width, units), let next = sum(count, weights), let biased = sum(next, units) else { return .max }
            count = biased
            width = units
        }
        guard let output = product(width, Int(vocabulary)), let total = sum(count, output), let all = sum(total, Int(vocabulary)) else { return .max }
        return all
    }

    public func encode(to writer: inout CanonicalWriter) {
        writer.write(contextBytes)
        writer.write(embeddingDim)
        writer.write(hiddenUnits)
        writer.write(vocabulary)
    }

    public init(from reader: inout CanonicalReader) throws {
        contextBytes = try reader.field("context_bytes") { try $0.read(UInt32.self) }
        embeddingDim = try reader.field("embedding_dim") { try $0.read(UInt32.self) }
        hiddenUnits = try reader.field("hidden_units") { try $0.read([UInt32].self, maxCount: 16) }
        vocabulary = try reader.field("vocabulary") { try $0.read(UInt32.self) }
    }
}

/// Pseudo-gradient compression: per chunk keep the top-k values by magnitude.
public struct CompressionSpec: Codable, Hashable, Sendable, CanonicalCodable {
    public var chunkSize: UInt32
    public var topK: UInt32
    /// Copycat rule (D51): two contributions of one window whose kept index sets overlap at least
    /// this much, in parts per million of the smaller set, make the later one a copycat.
    public var copycatOverlapPPM: UInt32

    /// Honest trainers of one window overlap 33–55% on the reference task (they share the base
    /// model, and error feedback keeps the same large directions; D51), a resubmitted or re-valued
    /// Δ 100%.
    public static let defaultCopycatOverlapPPM: UInt32 = 900_000

    enum CodingKeys: String, CodingKey, CaseIterable {
        case chunkSize = "chunk_size", topK = "top_k", copycatOverlapPPM = "copycat_overlap_ppm"
    }

    public init(chunkSize: UInt32, topK: UInt32, copycatOverlapPPM: UInt32 = Self.defaultCopycatOverlapPPM) {
        self.chunkSize = chunkSize
        self.topK = topK
        self.copycatOverlapPPM = copycatOverlapPPM
    }

    public func encode(to writer: inout CanonicalWriter) {
        writer.write(chunkSize)
        writer.write(topK)
        writer.write(copycatOverlapPPM)
    }

    public init(from reader: inout CanonicalReader) throws {
        chunkSize = try reader.read(UInt32.self)
        topK = try reader.read(UInt32.self)
        copycatOverlapPPM = try reader.field("copycat_overlap_ppm") { try $0.read(UInt32.self) }
    }
}

/// LSH output consensus: SimHash width and the Hamming distance within which evaluations agree.
public struct LSHSpec: Codable, Hashable, Sendable, CanonicalCodable {
    public var bits: UInt32
    public var hammingThreshold: UInt32

    enum CodingKeys: String, CodingKey, CaseIterable {
        case bits, hammingThreshold = "hamming_threshold"
    }

    public init(bits: UInt32, hammingThreshold: UInt32) {
        self.bits = bits
        self.hammingThreshold = hammingThreshold
    }

    public func encode(to writer: inout CanonicalWriter) {
        writer.write(bits)
        writer.write(hammingThreshold)
    }

    public init(from reader: inout CanonicalReader) throws {
        bits = try reader.read(UInt32.self)
        hammingThreshold = try reader.read(UInt32.self)
    }
}

/// Fees, emission and rating parameters (ARCHITECTURE §7). Amounts are integer base units.
public struct RewardParameters: Codable, Hashable, Sendable, CanonicalCodable {
    /// Paid by a trainer's `register` record: the Sybil cost.
    public var registrationFee: UInt64
    /// Paid, and burned, with every contribution that lands (D59): each costs every validator an
    /// evaluation, so a window's worth of spam costs its sender.
    public var contributionFee: UInt64
    public var emissionPerWindow: UInt64
    /// Share of each window's emission paid to validators, in basis points (0…10000).
    public var validatorShareBps: UInt32
    /// p in payout_t ∝ final_t^p.
    public var payoutExponent: Double
    public var rating: RatingParameters
    /// Moving average, warm-up, slashes and exclusions (D53).
    public var penalties: PenaltyParameters

    enum CodingKeys: String, CodingKey, CaseIterable {
        case registrationFee = "registration_fee", contributionFee = "contribution_fee", emissionPerWindow = "emission_per_window",
             validatorShareBps = "validator_share_bps", payoutExponent = "payout_exponent", rating, penalties
    }

    public init(registrationFee: UInt64, contributionFee: UInt64 = 0, emissionPerWindow: UInt64, validatorShareBps: UInt32,
                payoutExponent: Double, rating: RatingParameters, penalties: PenaltyParameters = PenaltyParameters()) {
        self.registrationFee = registrationFee
        self.contributionFee = contributionFee
        self.emissionPerWindow = emissionPerWindow
        self.validatorShareBps = validatorShareBps
        self.payoutExponent = payoutExponent
        self.rating = rating
        self.penalties = penalties
    }

    public func encode(to writer: inout CanonicalWriter) {
        writer.write(registrationFee)
        writer.write(contributionFee)
        writer.write(emissionPerWindow)
        writer.write(validatorShareBps)
        writer.write(payoutExponent)
        writer.write(rating)
        writer.write(penalties)
    }

    public init(from reader: inout CanonicalReader) throws {
        registrationFee = try reader.field("registration_fee") { try $0.read(UInt64.self) }
        contributionFee = try reader.field("contribution_fee") { try $0.read(UInt64.self) }
        emissionPerWindow = try reader.field("emission_per_window") { try $0.read(UInt64.self) }
        validatorShareBps = try reader.field("validator_share_bps") { try $0.read(UInt32.self) }
        payoutExponent = try reader.field("payout_exponent") { try $0.read(Double.self) }
        rating = try reader.field("rating") { try $0.read(RatingParameters.self) }
        penalties = try reader.field("penalties") { try $0.read(PenaltyParameters.self) }
    }
}

/// `rewards.penalties` (D53): how a trainer's binary moving average, final score and place in the
/// outer step respond to what it did in a window. Multipliers are basis points and apply to
/// positive values only (a slash never turns a negative into a positive). Defaults follow
/// Templar's final rules where it has one.
public struct PenaltyParameters: Codable, Hashable, Sendable, CanonicalCodable {
    /// bma ← (1 − α)·bma + α·indicator, α in parts per million (Templar 0.05).
    public var bmaAlphaPPM: UInt32 = 50_000
    /// After this many rated windows a bma below `bmaFloorPPM` counts as 0 in the final score.
    /// Default 0 (D57): the floor applies from a trainer's first rated window, so a new key earns
    /// only after three windows in a row on its assignment — early passes of the noisy indicator
    /// (a lazy or sybil key's luck) are not paid. Templar's warm-up pays from the start.
    public var bmaWarmupWindows: UInt32 = 0
    public var bmaFloorPPM: UInt32 = 100_000
    /// Multipliers on bma for the 1st, 2nd, 3rd… consecutive window without a scored contribution
    /// (the last repeats): Templar's 0.75 → 0.5 → 0.
    public var missingSlashesBps: [UInt32] = [7_500, 5_000, 0]
    /// Multiplier on bma in a window whose contribution is a copycat (D51); 0 resets it.
    public var copycatSlashBps: UInt32 = 0
    /// Multiplier on bma in a window whose contribution was judged non-finite or malformed.
    public var invalidBlobSlashBps: UInt32 = 0
    /// After this many consecutive scores ≤ 0 a trainer's contributions are left out of the outer
    /// step until one scores > 0 (that one still is; the next ones count again).
    public var negativeStreakExclusion: UInt32 = 3
    /// Windows without a contribution after which a trainer's rating and bma return to the prior
    /// and it leaves the ranking until it contributes again.
    public var inactivityResetWindows: UInt32 = 25
    /// Sync multiplier by staleness (window landed − base window), index 0 fresh; the last repeats.
    public var syncBps: [UInt32] = [10_000, 5_000]
    /// A validator in a quorum whose revealed improvement differs from the accepted score by more
    /// than this (parts per 10^9 of the loss) is flagged and earns nothing for the window.
    public var validatorLossTolerancePPB: UInt64 = 10_000
    /// The binary indicator is +1 only when the accepted score is positive and the own-data score
    /// exceeds it by this fraction (ppm). On the 10-window adversarial localnet (D55) honest
    /// trainers' own-data gain ran 4–12% above their random-data gain in windows 1–4 and 24–128%
    /// later; a trainer on other data −9…+5.5%, below 3% in 8 windows of 10. 6% (D53) failed
    /// honest trainers in early windows and let luck decide the moving average.
    public var indicatorMarginPPM: UInt32 = 30_000
    /// A contribution whose Δ has an L2 norm above this multiple (ppm) of the lower median of the
    /// norms of the window's decodable contributions is oversized (D55): it is ranked as unscored,
    /// slashed like a malformed blob and left out of the outer step. Honest Δs of one window lie
    /// within a factor of ~2 of each other; 0 turns the rule off.
    public var oversizeNormPPM: UInt32 = 3_000_000

    enum CodingKeys: String, CodingKey, CaseIterable {
        case bmaAlphaPPM = "bma_alpha_ppm", bmaWarmupWindows = "bma_warmup_windows", bmaFloorPPM = "bma_floor_ppm",
             missingSlashesBps = "missing_slashes_bps", copycatSlashBps = "copycat_slash_bps",
             invalidBlobSlashBps = "invalid_blob_slash_bps", negativeStreakExclusion = "negative_streak_exclusion",
             inactivityResetWindows = "inactivity_reset_windows", syncBps = "sync_bps",
             validatorLossTolerancePPB = "validator_loss_tolerance_ppb", indicatorMarginPPM = "indicator_margin_ppm",
             oversizeNormPPM = "oversize_norm_ppm"
    }

    public init() {}

    public func encode(to writer: inout CanonicalWriter) {
        writer.write(bmaAlphaPPM)
        writer.write(bmaWarmupWindows)
        writer.write(bmaFloorPPM)
        writer.write(missingSlashesBps)
        writer.write(copycatSlashBps)
        writer.write(invalidBlobSlashBps)
        writer.write(negativeStreakExclusion)
        writer.write(inactivityResetWindows)
        writer.write(syncBps)
        writer.write(validatorLossTolerancePPB)
        writer.write(indicatorMarginPPM)
        writer.write(oversizeNormPPM)
    }

    public init(from reader: inout CanonicalReader) throws {
        bmaAlphaPPM = try reader.field("bma_alpha_ppm") { try $0.read(UInt32.self) }
        bmaWarmupWindows = try reader.field("bma_warmup_windows") { try $0.read(UInt32.self) }
        bmaFloorPPM = try reader.field("bma_floor_ppm") { try $0.read(UInt32.self) }
        missingSlashesBps = try reader.field("missing_slashes_bps") { try $0.read([UInt32].self, maxCount: 16) }
        copycatSlashBps = try reader.field("copycat_slash_bps") { try $0.read(UInt32.self) }
        invalidBlobSlashBps = try reader.field("invalid_blob_slash_bps") { try $0.read(UInt32.self) }
        negativeStreakExclusion = try reader.field("negative_streak_exclusion") { try $0.read(UInt32.self) }
        inactivityResetWindows = try reader.field("inactivity_reset_windows") { try $0.read(UInt32.self) }
        syncBps = try reader.field("sync_bps") { try $0.read([UInt32].self, maxCount: 16) }
        validatorLossTolerancePPB = try reader.field("validator_loss_tolerance_ppb") { try $0.read(UInt64.self) }
        indicatorMarginPPM = try reader.field("indicator_margin_ppm") { try $0.read(UInt32.self) }
        oversizeNormPPM = try reader.field("oversize_norm_ppm") { try $0.read(UInt32.self) }
    }
}

/// OpenSkill PlackettLuce parameters (openskill.py's names).
public struct RatingParameters: Codable, Hashable, Sendable, CanonicalCodable {
    public var mu: Double
    public var sigma: Double
    public var beta: Double
    public var tau: Double

    public init(mu: Double, sigma: Double, beta: Double, tau: Double) {
        self.mu = mu
        self.sigma = sigma
        self.beta = beta
        self.tau = tau
    }

    public func encode(to writer: inout CanonicalWriter) {
        for value in [mu, sigma, beta, tau] { writer.write(value) }
    }

    public init(from reader: inout CanonicalReader) throws {
        mu = try reader.field("mu") { try $0.read(Double.self) }
        sigma = try reader.field("sigma") { try $0.read(Double.self) }
        beta = try reader.field("beta") { try $0.read(Double.self) }
        tau = try reader.field("tau") { try $0.read(Double.self) }
    }

    public static var minimumEncodedSize: Int { 32 }
}
