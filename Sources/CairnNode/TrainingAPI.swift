import CairnCore
import CairnLedger
import CairnStorage
import Foundation
import Hummingbird

/// The training part of the API (ARCHITECTURE §9, issue 15): what trainers need to plan and submit
/// work, and what anyone needs to see how a window was judged. Everything is read from ledger
/// state, so every honest validator answers the same.
extension NodeAPI {
    struct ModelReply: Encodable {
        var window: UInt64
        var model_hash: String
        var blob: String
        var window_opened_at_ms: UInt64
        var window_ms: UInt64
        var consensus_time_ms: UInt64
    }

    struct AssignmentReply: Encodable {
        var window: UInt64
        var trainer: String
        var beacon: String
        /// Contexts in the shard: inner steps × batch size (genesis `task.training`).
        var contexts: Int
    }

    struct EvaluationReply: Encodable {
        var validator: Int
        var committed: Bool
        var revealed: Bool
        var flags: UInt32?
        var own_before: Float?
        var own_after: Float?
        var random_before: Float?
        var random_after: Float?
        var sim_hash: String?
    }

    struct OutcomeReply: Encodable {
        var members: [Int]
        /// Fixed point, parts per 10^9 of the loss before (the accepted score).
        var score_ppb: Int64?
        var own_score_ppb: Int64?
        var indicator: Int
        var no_score: String?
        /// The earlier contribution of the window this one copies (D51); left out of the outer step.
        var copycat_of: String?
        var flags: UInt32
    }

    struct ContributionReply: Encodable {
        var id: String
        var author: String
        var base_window: UInt64
        var blob: String
        var blob_size: UInt64
        var beacon: String
        var evaluations: [EvaluationReply]
        /// Null until the close of the next window finalizes it.
        var outcome: OutcomeReply?
    }

    struct FlagReply: Encodable {
        var validator: Int
        var unrevealed: UInt32
        var outside_quorum: UInt32
        /// Reveals inside a quorum whose losses were off the accepted ones (D53).
        var deviant: UInt32
    }

    /// A trainer's result in a finalized window (D53); ratings as decimals, fixed point in state.
    struct TrainerResultReply: Encodable {
        var trainer: String
        var name: String?
        var contribution: String?
        var score_ppb: Int64?
        /// The score it was ranked by (sync-scaled, capped at 0 without the indicator; D53); null: ranked at −2000.
        var rank_score_ppb: Int64?
        var rank: UInt32
        /// Ratings in 10^-9 units exactly as state holds them (the decimals below are for reading).
        var mu_before_nano: Int64
        var sigma_before_nano: Int64
        var mu_after_nano: Int64
        var sigma_after_nano: Int64
        var mu_before: Double
        var sigma_before: Double
        var mu_after: Double
        var sigma_after: Double
        var ordinal_after: Double
        var bma: Double
        var final: Double
        var penalties: [String]
        var payout: UInt64
    }

    struct RewardsReply: Encodable {
        var emitted: UInt64
        var trainers_paid: UInt64
        var validators_paid: UInt64
        var burned: UInt64
        /// Each paid validator with the evaluations it was paid for (D59).
        var validators: [ValidatorPayoutReply]
    }

    struct ValidatorPayoutReply: Encodable {
        var validator: Int
        var evaluations: Int
        var payout: UInt64
    }

    struct RatingReply: Encodable {
        var trainer: String
        var name: String?
        var mu: Double
        var sigma: Double
        var ordinal: Double
        var bma: Double
        var final: Double
        var last_payout: UInt64
        var total_payout: UInt64
        var rated_windows: UInt32
        var active: Bool
    }

    struct WindowReply: Encodable {
        var window: UInt64
        var status: String
        var model_hash: String?
        var closing_beacon: String?
        var contributions: [ContributionReply]
        var validator_flags: [FlagReply]
        /// Held-out loss of the model this window trains from, as this validator measured it (null
        /// until measured, or when it does not evaluate).
        var heldout_loss: Double?
        /// Set when the outer step that should have produced this window's model was skipped (D59):
        /// `non_finite` or `out_of_bounds`; the model is the previous one.
        var model_step_skipped: String?
        /// Per trainer once the window is finalized (empty before): rank, ratings, penalties, payout.
        var trainers: [TrainerResultReply]
        /// The window's emission and where it went (null before finalization).
        var rewards: RewardsReply?
    }

    /// State entries under `prefix`, in key order, at most `limit` (an answer stays bounded).
    static func stateEntries(_ database: Database, prefix: [UInt8], limit: Int) throws -> [(key: [UInt8], value: [UInt8])] {
        var entries: [(key: [UInt8], value: [UInt8])] = []
        try database.scan(ColumnFamily.state.rawValue, prefix: prefix) { key, value in
            entries.append((key, value))
            return entries.count < limit
        }
        return entries
    }

    static func trainerName(_ key: PublicKey, database: Database) throws -> String? {
        try database.get(Trainer.self, .state, StateKey.trainer(key))?.name
    }

    static func addTrainingRoutes(to router: Router<APIRequestContext>, validator: Validator) {
        let database = validator.database
        let windowMs = UInt64(validator.genesis.consensus.windowMs)

        router.get("/v1/task") { _, _ -> Response in
            json(validator.genesis.task)
        }

        router.get("/v1/model") { _, _ -> Response in
            let window = try database.get(WindowState.self, .state, StateKey.window) ?? WindowState()
            guard let model = try database.get(ModelRecord.self, .state, StateKey.model(window.current)) else {
                return NodeAPI.error(.notFound, "no_model", "state holds no model for window \(window.current) (a chain whose genesis state has none)")
            }
            return json(ModelReply(window: window.current, model_hash: model.hash.hex, blob: model.blob.hex,
                                   window_opened_at_ms: window.openedAtMs, window_ms: windowMs, consensus_time_ms: window.clockMs))
        }

        router.get("/v1/assignment/{trainer}") { request, context -> Response in
            guard let text = context.parameters.get("trainer"), let bytes = Hex.decode(text), bytes.count == 32 else {
                return NodeAPI.error(.badRequest, "bad_request", "trainer must be a 64-hex-character Ed25519 public key")
            }
            let current = (try database.get(WindowState.self, .state, StateKey.window) ?? WindowState()).current
            var window = current
            if let query = request.uri.queryParameters.get("window") {
                guard let value = UInt64(query) else { return NodeAPI.error(.badRequest, "bad_request", "window must be a non-negative integer") }
                window = value
            }
            guard window <= current else {
                return NodeAPI.error(.notFound, "not_open", "window \(window) has not opened yet (current window \(current)); its beacon is drawn when window \(window - 1) closes")
            }
            let beacon = try EvaluationService.assignmentBeacon(window: window, chain: validator.genesisHash, database: database)
            let training = validator.genesis.task.training
            return json(AssignmentReply(window: window, trainer: Hex.encode(bytes), beacon: beacon.hex,
                                        contexts: Int(training.maxInnerSteps) * Int(training.batchSize)))
        }

        router.get("/v1/windows/{window}") { _, context -> Response in
            guard let text = context.parameters.get("window"), let window = UInt64(text) else {
                return NodeAPI.error(.badRequest, "bad_request", "window must be a non-negative integer")
            }
            let state = try database.get(WindowState.self, .state, StateKey.window) ?? WindowState()
            guard window <= state.current else {
                return NodeAPI.error(.notFound, "not_open", "window \(window) has not opened yet (current window \(state.current))")
            }
            // Written without `window + 1` (D38): a request for window 2^64 − 1 must not trap.
            let status = window == state.current ? "open" : (window == state.current - 1 ? "closed" : "finalized")
            var contributions: [ContributionReply] = []
            let prefix = StateKey.contributionPrefix(window: window)
            for (key, value) in try stateEntries(database, prefix: prefix, limit: 10_000) {  // a window's answer stays bounded
                guard key.count == prefix.count + Digest.byteCount, let id = try? Digest(bytes: key.suffix(Digest.byteCount)),
                      let stored = try? StoredContribution(canonicalBytes: value) else { continue }
                var evaluations: [EvaluationReply] = []
                for v in validator.genesis.validators.indices {
                    let index = UInt32(v)
                    let committed = try database.get(ColumnFamily.state.rawValue, StateKey.evaluationCommitment(contribution: id, validator: index)) != nil
                    let revealed = try database.get(StoredEvaluation.self, .state, StateKey.evaluation(contribution: id, validator: index))?.evaluation
                    guard committed || revealed != nil else { continue }
                    evaluations.append(EvaluationReply(validator: v, committed: committed, revealed: revealed != nil, flags: revealed?.flags.rawValue,
                                                       own_before: revealed?.own.before, own_after: revealed?.own.after,
                                                       random_before: revealed?.random.before, random_after: revealed?.random.after,
                                                       sim_hash: revealed.map { Hex.encode($0.simHash) }))
                }
                let outcome = try database.get(EvaluationQuorum.Outcome.self, .state, StateKey.contributionOutcome(id)).map {
                    OutcomeReply(members: $0.members.map(Int.init), score_ppb: $0.score, own_score_ppb: $0.ownScore, indicator: Int($0.indicator),
                                 no_score: $0.noScore?.name, copycat_of: $0.copycatOf?.hex, flags: $0.flags.rawValue)
                }
                contributions.append(ContributionReply(id: id.hex, author: stored.author.hex, base_window: stored.contribution.baseWindow,
                                                       blob: stored.contribution.blob.hex, blob_size: stored.contribution.blobSize,
                                                       beacon: stored.beacon.hex, evaluations: evaluations, outcome: outcome))
            }
            var flags: [FlagReply] = []
            for v in validator.genesis.validators.indices {
                if let f = try database.get(ValidatorFlags.self, .state, StateKey.validatorFlags(window: window, validator: UInt32(v))) {
                    flags.append(FlagReply(validator: v, unrevealed: f.unrevealed, outside_quorum: f.outsideQuorum, deviant: f.deviant))
                }
            }
            let model = try database.get(ModelRecord.self, .state, StateKey.model(window))
            let beacon = try database.get(ColumnFamily.state.rawValue, StateKey.windowBeacon(window)).map { Hex.encode($0) }
            let heldOut = try database.get(ColumnFamily.meta.rawValue, EvaluationService.heldOutKey(window))
                .flatMap { try? UInt64(canonicalBytes: $0) }.map(Double.init(bitPattern:)).flatMap { $0.isFinite ? $0 : nil }
            var trainers: [TrainerResultReply] = []
            let resultsPrefix = StateKey.trainerWindows(window)
            for (key, value) in try stateEntries(database, prefix: resultsPrefix, limit: 10_000) {
                guard key.count == resultsPrefix.count + PublicKey.byteCount, let trainer = try? PublicKey(bytes: key.suffix(PublicKey.byteCount)),
                      let r = try? TrainerWindowResult(canonicalBytes: value) else { continue }
                trainers.append(TrainerResultReply(
                    trainer: trainer.hex, name: try trainerName(trainer, database: database), contribution: r.contribution?.hex,
                    score_ppb: r.scorePPB, rank_score_ppb: r.rankScorePPB, rank: r.rank, mu_before_nano: r.muBeforeNano,
                    sigma_before_nano: r.sigmaBeforeNano, mu_after_nano: r.muAfterNano, sigma_after_nano: r.sigmaAfterNano, mu_before: TrainerRating.double(r.muBeforeNano),
                    sigma_before: TrainerRating.double(r.sigmaBeforeNano), mu_after: TrainerRating.double(r.muAfterNano),
                    sigma_after: TrainerRating.double(r.sigmaAfterNano),
                    ordinal_after: TrainerRating.double(r.muAfterNano) - 3 * TrainerRating.double(r.sigmaAfterNano),
                    bma: Double(r.bmaPPM) / 1e6, final: TrainerRating.double(r.finalNano), penalties: r.penalties.names, payout: r.payout))
            }
            let rewards = try database.get(WindowRewards.self, .state, StateKey.windowRewards(window)).map {
                RewardsReply(emitted: $0.emitted, trainers_paid: $0.trainersPaid, validators_paid: $0.validatorsPaid, burned: $0.burned,
                             validators: $0.validators.map { ValidatorPayoutReply(validator: Int($0.validator), evaluations: Int($0.evaluations), payout: $0.payout) })
            }
            return json(WindowReply(window: window, status: status, model_hash: model?.hash.hex, closing_beacon: beacon,
                                    contributions: contributions, validator_flags: flags, heldout_loss: heldOut,
                                    model_step_skipped: model?.skippedStep?.name,
                                    trainers: trainers, rewards: rewards))
        }

        // The leaderboard (D53): every rated trainer by ordinal, best first (ties: key order).
        router.get("/v1/ratings") { _, _ -> Response in
            var ratings: [RatingReply] = []
            let prefix = StateKey.trainerRatings
            for (key, value) in try stateEntries(database, prefix: prefix, limit: 100_000) {
                guard key.count == prefix.count + PublicKey.byteCount, let trainer = try? PublicKey(bytes: key.suffix(PublicKey.byteCount)),
                      let r = try? TrainerRating(canonicalBytes: value) else { continue }
                ratings.append(RatingReply(trainer: trainer.hex, name: try trainerName(trainer, database: database), mu: r.mu, sigma: r.sigma,
                                           ordinal: TrainerRating.double(r.ordinalNano), bma: Double(r.bmaPPM) / 1e6,
                                           final: TrainerRating.double(r.finalNano), last_payout: r.lastPayout, total_payout: r.totalPayout,
                                           rated_windows: r.ratedWindows, active: r.active))
            }
            ratings.sort { $0.ordinal != $1.ordinal ? $0.ordinal > $1.ordinal : $0.trainer < $1.trainer }
            let state = try database.get(WindowState.self, .state, StateKey.window) ?? WindowState()
            struct Parameters: Encodable { var mu: Double; var sigma: Double; var beta: Double; var tau: Double }
            struct Leaderboard: Encodable { var window: UInt64; var rating: Parameters; var trainers: [RatingReply] }
            let p = validator.genesis.rewards.rating
            return json(Leaderboard(window: state.current, rating: Parameters(mu: p.mu, sigma: p.sigma, beta: p.beta, tau: p.tau), trainers: ratings))
        }
    }
}
