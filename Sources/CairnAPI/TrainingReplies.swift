/// `GET /v1/model`: the model the open window trains from, and the window's clock.
public struct ModelReply: Codable, Sendable {
    public var window: UInt64
    public var modelHash: String
    public var blob: String
    public var windowOpenedAtMs: UInt64
    public var windowMs: UInt64
    public var consensusTimeMs: UInt64

    public init(window: UInt64, modelHash: String, blob: String, windowOpenedAtMs: UInt64, windowMs: UInt64, consensusTimeMs: UInt64) {
        self.window = window
        self.modelHash = modelHash
        self.blob = blob
        self.windowOpenedAtMs = windowOpenedAtMs
        self.windowMs = windowMs
        self.consensusTimeMs = consensusTimeMs
    }

    enum CodingKeys: String, CodingKey {
        case window, modelHash = "model_hash", blob, windowOpenedAtMs = "window_opened_at_ms"
        case windowMs = "window_ms", consensusTimeMs = "consensus_time_ms"
    }
}

/// `GET /v1/assignment/{trainer}`: the trainer's data for the open window.
public struct AssignmentReply: Codable, Sendable {
    public var window: UInt64
    public var trainer: String
    public var beacon: String
    /// Contexts in the shard: inner steps × batch size (genesis `task.training`).
    public var contexts: Int

    public init(window: UInt64, trainer: String, beacon: String, contexts: Int) {
        self.window = window
        self.trainer = trainer
        self.beacon = beacon
        self.contexts = contexts
    }
}

/// One validator's evaluation of a contribution (its commitment and, once revealed, its values).
public struct EvaluationReply: Codable, Sendable {
    public var validator: Int
    public var committed: Bool
    public var revealed: Bool
    public var flags: UInt32?
    public var ownBefore: Float?
    public var ownAfter: Float?
    public var randomBefore: Float?
    public var randomAfter: Float?
    public var simHash: String?

    public init(validator: Int, committed: Bool, revealed: Bool, flags: UInt32? = nil, ownBefore: Float? = nil, ownAfter: Float? = nil, randomBefore: Float? = nil, randomAfter: Float? = nil, simHash: String? = nil) {
        self.validator = validator
        self.committed = committed
        self.revealed = revealed
        self.flags = flags
        self.ownBefore = ownBefore
        self.ownAfter = ownAfter
        self.randomBefore = randomBefore
        self.randomAfter = randomAfter
        self.simHash = simHash
    }

    enum CodingKeys: String, CodingKey {
        case validator, committed, revealed, flags, ownBefore = "own_before", ownAfter = "own_after"
        case randomBefore = "random_before", randomAfter = "random_after", simHash = "sim_hash"
    }
}

/// A contribution's finalized outcome (D53).
public struct OutcomeReply: Codable, Sendable {
    public var members: [Int]
    /// Fixed point, parts per 10^9 of the loss before (the accepted score).
    public var scorePpb: Int64?
    public var ownScorePpb: Int64?
    public var indicator: Int
    public var noScore: String?
    /// The earlier contribution of the window this one copies (D51); left out of the outer step.
    public var copycatOf: String?
    public var flags: UInt32

    public init(members: [Int], scorePpb: Int64? = nil, ownScorePpb: Int64? = nil, indicator: Int, noScore: String? = nil, copycatOf: String? = nil, flags: UInt32) {
        self.members = members
        self.scorePpb = scorePpb
        self.ownScorePpb = ownScorePpb
        self.indicator = indicator
        self.noScore = noScore
        self.copycatOf = copycatOf
        self.flags = flags
    }

    enum CodingKeys: String, CodingKey {
        case members, scorePpb = "score_ppb", ownScorePpb = "own_score_ppb", indicator, noScore = "no_score"
        case copycatOf = "copycat_of", flags
    }
}

/// One contribution of a window, with every validator's evaluation and the outcome.
public struct ContributionReply: Codable, Sendable {
    public var id: String
    public var author: String
    public var baseWindow: UInt64
    public var blob: String
    public var blobSize: UInt64
    public var beacon: String
    /// Inner steps the trainer claims: the evaluator's own-data sample is drawn from the contexts
    /// of that many steps of its shard, so a second implementation of the evaluation needs it.
    public var innerSteps: UInt32
    public var evaluations: [EvaluationReply]
    /// Null until the close of the next window finalizes it.
    public var outcome: OutcomeReply?

    public init(id: String, author: String, baseWindow: UInt64, blob: String, blobSize: UInt64, beacon: String, innerSteps: UInt32,
                evaluations: [EvaluationReply], outcome: OutcomeReply? = nil) {
        self.id = id
        self.author = author
        self.baseWindow = baseWindow
        self.blob = blob
        self.blobSize = blobSize
        self.beacon = beacon
        self.innerSteps = innerSteps
        self.evaluations = evaluations
        self.outcome = outcome
    }

    enum CodingKeys: String, CodingKey {
        case id, author, baseWindow = "base_window", blob, blobSize = "blob_size", beacon, innerSteps = "inner_steps", evaluations, outcome
    }
}

/// A validator's counted faults in a window.
public struct FlagReply: Codable, Sendable {
    public var validator: Int
    public var unrevealed: UInt32
    public var outsideQuorum: UInt32
    /// Reveals inside a quorum whose losses were off the accepted ones (D53).
    public var deviant: UInt32

    public init(validator: Int, unrevealed: UInt32, outsideQuorum: UInt32, deviant: UInt32) {
        self.validator = validator
        self.unrevealed = unrevealed
        self.outsideQuorum = outsideQuorum
        self.deviant = deviant
    }

    enum CodingKeys: String, CodingKey {
        case validator, unrevealed, outsideQuorum = "outside_quorum", deviant
    }
}

/// A trainer's result in a finalized window (D53); ratings as decimals, fixed point in state.
public struct TrainerResultReply: Codable, Sendable {
    public var trainer: String
    public var name: String?
    public var contribution: String?
    public var scorePpb: Int64?
    /// The score it was ranked by (sync-scaled, capped at 0 without the indicator; D53); null: ranked at −2000.
    public var rankScorePpb: Int64?
    public var rank: UInt32
    /// Ratings in 10^-9 units exactly as state holds them (the decimals below are for reading).
    public var muBeforeNano: Int64
    public var sigmaBeforeNano: Int64
    public var muAfterNano: Int64
    public var sigmaAfterNano: Int64
    public var muBefore: Double
    public var sigmaBefore: Double
    public var muAfter: Double
    public var sigmaAfter: Double
    public var ordinalAfter: Double
    public var bma: Double
    public var finalScore: Double
    public var penalties: [String]
    public var payout: UInt64

    public init(trainer: String, name: String? = nil, contribution: String? = nil, scorePpb: Int64? = nil, rankScorePpb: Int64? = nil, rank: UInt32, muBeforeNano: Int64, sigmaBeforeNano: Int64, muAfterNano: Int64, sigmaAfterNano: Int64, muBefore: Double, sigmaBefore: Double, muAfter: Double, sigmaAfter: Double, ordinalAfter: Double, bma: Double, finalScore: Double, penalties: [String], payout: UInt64) {
        self.trainer = trainer
        self.name = name
        self.contribution = contribution
        self.scorePpb = scorePpb
        self.rankScorePpb = rankScorePpb
        self.rank = rank
        self.muBeforeNano = muBeforeNano
        self.sigmaBeforeNano = sigmaBeforeNano
        self.muAfterNano = muAfterNano
        self.sigmaAfterNano = sigmaAfterNano
        self.muBefore = muBefore
        self.sigmaBefore = sigmaBefore
        self.muAfter = muAfter
        self.sigmaAfter = sigmaAfter
        self.ordinalAfter = ordinalAfter
        self.bma = bma
        self.finalScore = finalScore
        self.penalties = penalties
        self.payout = payout
    }

    enum CodingKeys: String, CodingKey {
        case trainer, name, contribution, scorePpb = "score_ppb", rankScorePpb = "rank_score_ppb", rank
        case muBeforeNano = "mu_before_nano", sigmaBeforeNano = "sigma_before_nano", muAfterNano = "mu_after_nano"
        case sigmaAfterNano = "sigma_after_nano", muBefore = "mu_before", sigmaBefore = "sigma_before"
        case muAfter = "mu_after", sigmaAfter = "sigma_after", ordinalAfter = "ordinal_after", bma
        case finalScore = "final", penalties, payout
    }
}

/// A window's emission and where it went.
public struct RewardsReply: Codable, Sendable {
    public var emitted: UInt64
    public var trainersPaid: UInt64
    public var validatorsPaid: UInt64
    public var burned: UInt64
    /// Each paid validator with the evaluations it was paid for (D59).
    public var validators: [ValidatorPayoutReply]

    public init(emitted: UInt64, trainersPaid: UInt64, validatorsPaid: UInt64, burned: UInt64, validators: [ValidatorPayoutReply]) {
        self.emitted = emitted
        self.trainersPaid = trainersPaid
        self.validatorsPaid = validatorsPaid
        self.burned = burned
        self.validators = validators
    }

    enum CodingKeys: String, CodingKey {
        case emitted, trainersPaid = "trainers_paid", validatorsPaid = "validators_paid", burned, validators
    }
}

public struct ValidatorPayoutReply: Codable, Sendable {
    public var validator: Int
    public var evaluations: Int
    public var payout: UInt64

    public init(validator: Int, evaluations: Int, payout: UInt64) {
        self.validator = validator
        self.evaluations = evaluations
        self.payout = payout
    }
}

/// `GET /v1/windows/{k}`: how window k was judged.
public struct WindowReply: Codable, Sendable {
    public var window: UInt64
    public var status: String
    public var modelHash: String?
    /// Blob id of this window's model (`GET /v1/blobs/{id}`) and the norm the outer step that made
    /// it clipped every Δ to (0 for the genesis model): with `contribution_count`, what an
    /// independent evaluator needs to score window k − 1's contributions on this model (D65).
    public var modelBlob: String?
    public var clipNorm: Double?
    /// Contributions the ledger accepted in this window (the evaluation step divides by it, D60).
    public var contributionCount: UInt64
    public var closingBeacon: String?
    public var contributions: [ContributionReply]
    public var validatorFlags: [FlagReply]
    /// Held-out loss of the model this window trains from, as this validator measured it (null
    /// until measured, or when it does not evaluate).
    public var heldoutLoss: Double?
    /// Set when the outer step that should have produced this window's model was skipped (D59):
    /// `non_finite` or `out_of_bounds`; the model is the previous one.
    public var modelStepSkipped: String?
    /// Per trainer once the window is finalized (empty before): rank, ratings, penalties, payout.
    public var trainers: [TrainerResultReply]
    /// The window's emission and where it went (null before finalization).
    public var rewards: RewardsReply?

    public init(window: UInt64, status: String, modelHash: String? = nil, modelBlob: String? = nil, clipNorm: Double? = nil, contributionCount: UInt64 = 0,
                closingBeacon: String? = nil, contributions: [ContributionReply], validatorFlags: [FlagReply], heldoutLoss: Double? = nil,
                modelStepSkipped: String? = nil, trainers: [TrainerResultReply], rewards: RewardsReply? = nil) {
        self.window = window
        self.status = status
        self.modelHash = modelHash
        self.modelBlob = modelBlob
        self.clipNorm = clipNorm
        self.contributionCount = contributionCount
        self.closingBeacon = closingBeacon
        self.contributions = contributions
        self.validatorFlags = validatorFlags
        self.heldoutLoss = heldoutLoss
        self.modelStepSkipped = modelStepSkipped
        self.trainers = trainers
        self.rewards = rewards
    }

    enum CodingKeys: String, CodingKey {
        case window, status, modelHash = "model_hash", modelBlob = "model_blob", clipNorm = "clip_norm", contributionCount = "contribution_count"
        case closingBeacon = "closing_beacon", contributions
        case validatorFlags = "validator_flags", heldoutLoss = "heldout_loss"
        case modelStepSkipped = "model_step_skipped", trainers, rewards
    }
}

/// One trainer on the leaderboard.
public struct RatingReply: Codable, Sendable {
    public var trainer: String
    public var name: String?
    public var mu: Double
    public var sigma: Double
    public var ordinal: Double
    public var bma: Double
    public var finalScore: Double
    public var lastPayout: UInt64
    public var totalPayout: UInt64
    public var ratedWindows: UInt32
    public var active: Bool

    public init(trainer: String, name: String? = nil, mu: Double, sigma: Double, ordinal: Double, bma: Double, finalScore: Double, lastPayout: UInt64, totalPayout: UInt64, ratedWindows: UInt32, active: Bool) {
        self.trainer = trainer
        self.name = name
        self.mu = mu
        self.sigma = sigma
        self.ordinal = ordinal
        self.bma = bma
        self.finalScore = finalScore
        self.lastPayout = lastPayout
        self.totalPayout = totalPayout
        self.ratedWindows = ratedWindows
        self.active = active
    }

    enum CodingKeys: String, CodingKey {
        case trainer, name, mu, sigma, ordinal, bma, finalScore = "final", lastPayout = "last_payout"
        case totalPayout = "total_payout", ratedWindows = "rated_windows", active
    }
}

/// Genesis' rating model parameters.
public struct RatingParameters: Codable, Sendable {
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
}

/// `GET /v1/ratings`: every rated trainer, best ordinal first.
public struct Leaderboard: Codable, Sendable {
    public var window: UInt64
    public var rating: RatingParameters
    public var trainers: [RatingReply]

    public init(window: UInt64, rating: RatingParameters, trainers: [RatingReply]) {
        self.window = window
        self.rating = rating
        self.trainers = trainers
    }
}
