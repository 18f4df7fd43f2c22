/// Every structural problem found in a genesis, each naming the field and the fix.
public struct GenesisError: Error, Hashable, Sendable, CustomStringConvertible {
    public var problems: [String]

    public init(problems: [String]) { self.problems = problems }

    public var description: String {
        problems.count == 1
            ? "invalid genesis: \(problems[0])"
            : "invalid genesis (\(problems.count) problems):\n" + problems.map { "  - \($0)" }.joined(separator: "\n")
    }
}

/// Why a validator count is not usable, or nil when n = 3f+1 with f ≥ 1.
public func validatorCountProblem(_ n: Int) -> String? {
    if n < 4 {
        return "\(n) validators cannot tolerate any fault: Byzantine agreement needs n = 3f+1 with f ≥ 1, so at least 4"
    }
    if (n - 1) % 3 != 0 {
        let f = (n - 1) / 3
        return "\(n) validators is not of the form 3f+1: it tolerates no more faults than \(3 * f + 1) "
            + "(f = \(f)) while needing larger quorums; use \(3 * f + 1) or \(3 * f + 4)"
    }
    if n > Genesis.maxValidators {
        return "\(n) validators is more than \(Genesis.maxValidators), the most a certificate or checkpoint can encode"
    }
    return nil
}

extension Genesis {
    /// Checks everything that needs no cryptography. CairnCrypto's `verifyGenesis` adds key and
    /// coin checks (point validity, commitments matching public shares).
    public func validate() throws {
        var problems: [String] = []
        if formatVersion != Self.formatVersion {
            problems.append("format_version is \(formatVersion); this build reads version \(Self.formatVersion)")
        }
        if !Self.isValidChainID(chainID) {
            problems.append("chain_id '\(chainID)' must be 1–64 characters of a–z, 0–9 and '-'")
        }
        if let countProblem = validatorCountProblem(validators.count) {
            problems.append(countProblem)
        }
        problems += uniquenessProblems(validators.map(\.name), what: "validator name")
        problems += uniquenessProblems(validators.map(\.publicKey.hex), what: "validator public_key")
        problems += uniquenessProblems(validators.map(\.address), what: "validator address")
        problems += uniquenessProblems(validators.map(\.coinPublicShare.hex), what: "validator coin_public_share")
        for (index, validator) in validators.enumerated() {
            if !Self.isValidName(validator.name) {
                problems.append("validators[\(index)].name '\(validator.name)' must be 1–64 characters of letters, digits, '-', '_' or '.'")
            }
            if let problem = Self.addressProblem(validator.address) {
                problems.append("validators[\(index)].address: \(problem)")
            }
        }
        let f = faultTolerance
        if coin.threshold != UInt32(f + 1) {
            problems.append("coin.threshold is \(coin.threshold) but \(validators.count) validators (f = \(f)) need f+1 = \(f + 1)")
        }
        if coin.commitments.count != f + 1 {
            problems.append("coin.commitments has \(coin.commitments.count) entries; a degree-f polynomial has f+1 = \(f + 1)")
        }
        problems += uniquenessProblems(accounts.map(\.publicKey.hex), what: "account public_key")
        // The canonical decoder's caps hold for JSON too: a genesis that validates must encode
        // into something every node can decode back (its checkpoint certificates included).
        if accounts.count > Self.maxAccounts { problems.append("accounts has \(accounts.count) entries; at most \(Self.maxAccounts)") }
        if placeholders.count > 64 { problems.append("placeholders has \(placeholders.count) entries; at most 64") }
        problems += uniquenessProblems(accounts.map(\.name), what: "account name")
        var total: UInt64 = 0
        for (index, account) in accounts.enumerated() {
            if !Self.isValidName(account.name) {
                problems.append("accounts[\(index)].name '\(account.name)' must be 1–64 characters of letters, digits, '-', '_' or '.'")
            }
            let (sum, overflow) = total.addingReportingOverflow(account.balance)
            if overflow {
                problems.append("account balances overflow 2^64−1 base units at accounts[\(index)]")
                break
            }
            total = sum
        }
        problems += consensus.problems()
        problems += task.problems()
        problems += rewards.problems()
        if !problems.isEmpty { throw GenesisError(problems: problems) }
    }

    static func isValidChainID(_ id: String) -> Bool {
        !id.isEmpty && id.utf8.count <= 64
            && id.utf8.allSatisfy { (0x61 ... 0x7a).contains($0) || (0x30 ... 0x39).contains($0) || $0 == 0x2d }
    }

    static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 64 && name.utf8.allSatisfy {
            (0x61 ... 0x7a).contains($0) || (0x41 ... 0x5a).contains($0) || (0x30 ... 0x39).contains($0)
                || $0 == 0x2d || $0 == 0x5f || $0 == 0x2e
        }
    }

    /// `host:port` with a non-empty host of at most 253 characters and a port 1–65535.
    public static func addressProblem(_ address: String) -> String? {
        guard let colon = address.lastIndex(of: ":") else {
            return "'\(address)' must be host:port"
        }
        let host = address[..<colon]
        let port = address[address.index(after: colon)...]
        if host.isEmpty || host.utf8.count > 253 || host.contains(where: { $0.isWhitespace }) {
            return "'\(address)' has no valid host"
        }
        guard let number = UInt16(port), number > 0 else {
            return "'\(address)' has port '\(port)'; it must be 1–65535"
        }
        return nil
    }

    private func uniquenessProblems(_ values: [String], what: String) -> [String] {
        var seen: [String: Int] = [:]
        var problems: [String] = []
        for (index, value) in values.enumerated() {
            if let first = seen[value] {
                problems.append("\(what) '\(value)' appears at index \(first) and \(index); each must be unique")
            } else {
                seen[value] = index
            }
        }
        return problems
    }
}

extension ConsensusParameters {
    public static let maxVertexBytesLimit: UInt32 = 4 << 20
    /// Windows shorter than a commit close at every leader; longer than a day is surely a typo.
    public static let windowMsRange: ClosedRange<UInt32> = 100...86_400_000

    func problems() -> [String] {
        var problems: [String] = []
        if !(Self.windowMsRange).contains(windowMs) {
            problems.append("consensus.window_ms is \(windowMs); it must be between \(Self.windowMsRange.lowerBound) (0.1 s) and \(Self.windowMsRange.upperBound) (one day)")
        }
        if gcDepth < 8 {
            problems.append("consensus.gc_depth is \(gcDepth); keep at least 8 rounds (two waves) below the last commit")
        }
        if minRoundIntervalMs > maxRoundIntervalMs || maxRoundIntervalMs == 0 {
            problems.append("consensus.min_round_interval_ms (\(minRoundIntervalMs)) must be ≤ max_round_interval_ms (\(maxRoundIntervalMs)), and the maximum > 0")
        }
        if maxRecordsPerVertex == 0 || maxRecordsPerVertex > Vertex.maxRecords {
            problems.append("consensus.max_records_per_vertex is \(maxRecordsPerVertex); it must be between 1 and \(Vertex.maxRecords)")
        }
        // A certificate (vertex + votes) must fit one fetch answer and one 16 MiB frame (D39).
        if maxVertexBytes < 1024 || maxVertexBytes > Self.maxVertexBytesLimit {
            problems.append("consensus.max_vertex_bytes is \(maxVertexBytes); it must be between 1 KiB and 4 MiB")
        }
        if futureRoundWindow < 4 { problems.append("consensus.future_round_window must be ≥ 4") }
        return problems
    }
}

extension TrainingTaskSpec {
    /// What is wrong with this task as genesis would judge it (empty when nothing): `cairn submit`
    /// checks the task a node serves before it trains with it.
    public func problems() -> [String] {
        var problems: [String] = []
        if name.isEmpty { problems.append("task.name must not be empty") }
        if corpus.byteCount == 0 { problems.append("task.corpus.byte_count must be > 0") }
        if model.contextBytes == 0 || model.embeddingDim == 0 || model.hiddenUnits.isEmpty
            || model.hiddenUnits.contains(0) || model.vocabulary == 0 {
            problems.append("task.model dimensions must all be > 0 with at least one hidden layer")
        }
        let dimensions = [model.contextBytes, model.embeddingDim, model.vocabulary] + model.hiddenUnits
        if dimensions.contains(where: { $0 > 65_536 }) || model.hiddenUnits.count > 16 || model.parameterCount > 1 << 32 {
            problems.append("task.model is too large: every dimension ≤ 65536, at most 16 hidden layers, at most 2^32 parameters (has \(model.parameterCount == .max ? "more than 2^63" : String(model.parameterCount)))")
        }
        if compression.chunkSize == 0 || compression.chunkSize > 65536 || compression.topK == 0
            || compression.topK > compression.chunkSize {
            problems.append("task.compression needs 0 < top_k ≤ chunk_size ≤ 65536 (indices are uint16)")
        }
        if compression.copycatOverlapPPM == 0 || compression.copycatOverlapPPM > 1_000_000 {
            problems.append("task.compression.copycat_overlap_ppm must be 1…1000000 (parts per million of the smaller index set; 0 would make every pair copycats)")
        }
        if lsh.bits == 0 || lsh.bits % 64 != 0 || lsh.bits > 4096 || lsh.hammingThreshold >= lsh.bits {
            problems.append("task.lsh needs bits a positive multiple of 64 up to 4096 and hamming_threshold < bits")
        }
        let t = training
        if !(1...100_000).contains(t.maxInnerSteps) || !(1...4096).contains(t.batchSize) || UInt64(t.maxInnerSteps) * UInt64(t.batchSize) > 1 << 24 {
            problems.append("task.training needs max_inner_steps 1…100000, batch_size 1…4096 and max_inner_steps × batch_size ≤ 2^24 contexts per shard")
        }
        if t.decayStartWindow > 0 && t.decayWindows == 0 || t.decayWindows > 1_000_000 {
            problems.append("task.training.decay_windows must be 1…1000000 when decay_start_window is set (0: the inner rate stays constant after the warm-up)")
        }
        if t.averaging > 1 {
            problems.append("task.training.averaging must be 0 (divide by all applied Δs) or 1 (by the Δs that kept the index)")
        }
        if !(t.feedbackDecay.isFinite && t.feedbackDecay >= 0 && t.feedbackDecay <= 1) {
            problems.append("task.training.feedback_decay must be in [0, 1] (the share of the error-feedback residual a trainer keeps a window)")
        }
        if !(t.learningRate.isFinite && t.learningRate > 0 && t.learningRate < 1)
            || !(t.learningRateFloor.isFinite && t.learningRateFloor >= 0 && t.learningRateFloor <= t.learningRate) {
            problems.append("task.training needs 0 < learning_rate < 1 and 0 ≤ learning_rate_floor ≤ learning_rate")
        }
        if t.warmupSteps > 1_000_000 || !(t.weightDecay.isFinite && t.weightDecay >= 0 && t.weightDecay < 1)
            || !(t.outerLearningRate.isFinite && t.outerLearningRate > 0 && t.outerLearningRate <= 4) || !(1...1000).contains(t.maxAggregated) {
            problems.append("task.training needs warmup_steps ≤ 1000000, 0 ≤ weight_decay < 1, 0 < outer_learning_rate ≤ 4 and max_aggregated 1…1000")
        }
        if !(t.initialClipNorm.isFinite && t.initialClipNorm > 0 && t.initialClipNorm <= 1e6)
            || !(t.clipGrowth.isFinite && t.clipGrowth >= 1 && t.clipGrowth <= 16) {
            problems.append("task.training needs 0 < initial_clip_norm ≤ 10^6 and 1 ≤ clip_growth ≤ 16 (the clip bound of the outer step grows at most this factor a window)")
        }
        if !(t.maxParameterMagnitude.isFinite && t.maxParameterMagnitude >= 1 && t.maxParameterMagnitude <= 1e30) {
            problems.append("task.training.max_parameter_magnitude must be in [1, 10^30] (a model with a larger parameter is not adopted)")
        }
        if !(1...100_000).contains(t.maxContributionsPerWindow) {
            problems.append("task.training.max_contributions_per_window must be 1…100000 (size it so a validator evaluates them all within the commit phase)")
        }
        if !(1...10_000).contains(t.blobRetentionWindows) {
            problems.append("task.training.blob_retention_windows must be 1…10000 (windows an uploaded blob that no record names is kept)")
        }
        let e = evaluation
        if !(1...65_536).contains(e.ownContexts) || !(1...65_536).contains(e.randomContexts) || !(1...4096).contains(e.probeContexts)
            || !(1...1_000_000).contains(e.heldOutContexts) {
            problems.append("task.evaluation needs own_contexts and random_contexts 1…65536, probe_contexts 1…4096, held_out_contexts 1…1000000")
        }
        if !(e.step.isFinite && e.step > 0 && e.step <= 16) {
            problems.append("task.evaluation.step must be finite and in (0, 16]")
        }
        return problems
    }
}

extension RewardParameters {
    func problems() -> [String] {
        var problems: [String] = []
        if validatorShareBps > 10_000 {
            problems.append("rewards.validator_share_bps is \(validatorShareBps); basis points cannot exceed 10000")
        }
        if !(payoutExponent > 0 && payoutExponent <= 16) {
            problems.append("rewards.payout_exponent is \(payoutExponent); it must be in (0, 16]")
        }
        if !(rating.sigma > 0 && rating.beta > 0 && rating.tau >= 0 && rating.mu.isFinite) {
            problems.append("rewards.rating needs sigma > 0, beta > 0, tau ≥ 0")
        }
        if !(rating.mu.magnitude < 1e6 && rating.sigma < 1e6 && rating.beta < 1e6 && rating.tau < 1e6) {
            problems.append("rewards.rating values must stay below 10^6 (ratings are stored as fixed point, 10^-9 units in an int64)")
        }
        let p = penalties
        if p.bmaAlphaPPM == 0 || p.bmaAlphaPPM > 1_000_000 { problems.append("rewards.penalties.bma_alpha_ppm must be 1…1000000") }
        if p.bmaFloorPPM > 1_000_000 { problems.append("rewards.penalties.bma_floor_ppm must be ≤ 1000000") }
        for (name, list) in [("missing_slashes_bps", p.missingSlashesBps), ("sync_bps", p.syncBps)] {
            if list.isEmpty || list.count > 16 || list.contains(where: { $0 > 10_000 }) {
                problems.append("rewards.penalties.\(name) needs 1…16 multipliers of at most 10000 basis points")
            }
        }
        for (name, value) in [("copycat_slash_bps", p.copycatSlashBps), ("invalid_blob_slash_bps", p.invalidBlobSlashBps)] where value > 10_000 {
            problems.append("rewards.penalties.\(name) is \(value); a multiplier cannot exceed 10000 basis points")
        }
        if p.inactivityResetWindows == 0 { problems.append("rewards.penalties.inactivity_reset_windows must be at least 1") }
        if p.indicatorMarginPPM > 1_000_000 { problems.append("rewards.penalties.indicator_margin_ppm must be ≤ 1000000") }
        if p.oversizeNormPPM != 0 && p.oversizeNormPPM < 1_500_000 {
            problems.append("rewards.penalties.oversize_norm_ppm is \(p.oversizeNormPPM); below 1500000 (1.5× the median) it would call ordinary honest contributions oversized (0 turns the rule off)")
        }
        if p.validatorLossTolerancePPB > 1_000_000_000 { problems.append("rewards.penalties.validator_loss_tolerance_ppb must be ≤ 10^9") }
        return problems
    }
}
