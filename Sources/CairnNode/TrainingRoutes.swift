import CairnAPI
import CairnChain
import CairnCore
import CairnLedger
import CairnStorage
import Foundation
import Hummingbird

/// The training part of the API (ARCHITECTURE §9, D47–D49): what trainers need to plan and submit
/// work, and what anyone needs to see how a window was judged. Everything is read from ledger
/// state, so every honest validator answers the same.
extension NodeAPI {
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

    /// Window `window`'s contributions, each with every validator's commitment and reveal and
    /// the finalized outcome (at most 10,000: an answer stays bounded).
    static func windowContributions(_ window: UInt64, validator: Validator) throws -> [ContributionReply] {
        let database = validator.database
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
                                                   ownBefore: revealed?.own.before, ownAfter: revealed?.own.after,
                                                   randomBefore: revealed?.random.before, randomAfter: revealed?.random.after,
                                                   simHash: revealed.map { Hex.encode($0.simHash) }))
            }
            let outcome = try database.get(EvaluationQuorum.Outcome.self, .state, StateKey.contributionOutcome(id)).map {
                OutcomeReply(members: $0.members.map(Int.init), scorePpb: $0.score, ownScorePpb: $0.ownScore, indicator: Int($0.indicator),
                             noScore: $0.noScore?.name, copycatOf: $0.copycatOf?.hex, flags: $0.flags.rawValue)
            }
            contributions.append(ContributionReply(id: id.hex, author: stored.author.hex, baseWindow: stored.contribution.baseWindow,
                                                   blob: stored.contribution.blob.hex, blobSize: stored.contribution.blobSize,
                                                   beacon: stored.beacon.hex, innerSteps: stored.contribution.innerSteps,
                                                   evaluations: evaluations, outcome: outcome))
        }
        return contributions
    }

    /// Each trainer's result in finalized window `window` (D53).
    static func trainerResults(_ window: UInt64, database: Database) throws -> [TrainerResultReply] {
        var trainers: [TrainerResultReply] = []
        let resultsPrefix = StateKey.trainerWindows(window)
        for (key, value) in try stateEntries(database, prefix: resultsPrefix, limit: 10_000) {
            guard key.count == resultsPrefix.count + PublicKey.byteCount, let trainer = try? PublicKey(bytes: key.suffix(PublicKey.byteCount)),
                  let r = try? TrainerWindowResult(canonicalBytes: value) else { continue }
            trainers.append(TrainerResultReply(
                trainer: trainer.hex, name: try trainerName(trainer, database: database), contribution: r.contribution?.hex,
                scorePpb: r.scorePPB, rankScorePpb: r.rankScorePPB, rank: r.rank, muBeforeNano: r.muBeforeNano,
                sigmaBeforeNano: r.sigmaBeforeNano, muAfterNano: r.muAfterNano, sigmaAfterNano: r.sigmaAfterNano, muBefore: TrainerRating.double(r.muBeforeNano),
                sigmaBefore: TrainerRating.double(r.sigmaBeforeNano), muAfter: TrainerRating.double(r.muAfterNano),
                sigmaAfter: TrainerRating.double(r.sigmaAfterNano),
                ordinalAfter: TrainerRating.double(r.muAfterNano) - 3 * TrainerRating.double(r.sigmaAfterNano),
                bma: Double(r.bmaPPM) / 1e6, finalScore: TrainerRating.double(r.finalNano), penalties: r.penalties.names, payout: r.payout))
        }
        return trainers
    }

    static func addTrainingRoutes(to router: Router<APIRequestContext>, validator: Validator) {
        let database = validator.database
        let windowMs = validator.windowMs

        router.get("/v1/task") { _, _ -> Response in
            json(validator.genesis.task)
        }

        router.get("/v1/model") { _, _ -> Response in
            let window = try database.get(WindowState.self, .state, StateKey.window) ?? WindowState()
            guard let model = try database.get(ModelRecord.self, .state, StateKey.model(window.current)) else {
                return NodeAPI.error(.notFound, .noModel, "state holds no model for window \(window.current) (a chain whose genesis state has none)")
            }
            return json(ModelReply(window: window.current, modelHash: model.hash.hex, blob: model.blob.hex,
                                   windowOpenedAtMs: window.openedAtMs, windowMs: windowMs, consensusTimeMs: window.clockMs))
        }

        router.get("/v1/assignment/{trainer}") { request, context -> Response in
            guard let text = context.parameters.get("trainer"), let bytes = Hex.decode(text), bytes.count == 32 else {
                return NodeAPI.error(.badRequest, .badRequest, "trainer must be a 64-hex-character Ed25519 public key")
            }
            let current = (try database.get(WindowState.self, .state, StateKey.window) ?? WindowState()).current
            var window = current
            if let query = request.uri.queryParameters.get("window") {
                guard let value = UInt64(query) else { return NodeAPI.error(.badRequest, .badRequest, "window must be a non-negative integer") }
                window = value
            }
            guard window <= current else {
                return NodeAPI.error(.notFound, .notOpen, "window \(window) has not opened yet (current window \(current)); its beacon is drawn when window \(window - 1) closes")
            }
            let beacon = try ContributionEvaluation.assignmentBeacon(window: window, chain: validator.genesisHash, database: database)
            let training = validator.genesis.task.training
            return json(AssignmentReply(window: window, trainer: Hex.encode(bytes), beacon: beacon.hex,
                                        contexts: Int(training.maxInnerSteps) * Int(training.batchSize)))
        }

        router.get("/v1/windows/{window}") { _, context -> Response in
            guard let text = context.parameters.get("window"), let window = UInt64(text) else {
                return NodeAPI.error(.badRequest, .badRequest, "window must be a non-negative integer")
            }
            let state = try database.get(WindowState.self, .state, StateKey.window) ?? WindowState()
            guard window <= state.current else {
                return NodeAPI.error(.notFound, .notOpen, "window \(window) has not opened yet (current window \(state.current))")
            }
            // Written without `window + 1` (D38): a request for window 2^64 − 1 must not trap.
            let status = window == state.current ? "open" : (window == state.current - 1 ? "closed" : "finalized")
            let contributions = try windowContributions(window, validator: validator)
            var flags: [FlagReply] = []
            for v in validator.genesis.validators.indices {
                if let f = try database.get(ValidatorFlags.self, .state, StateKey.validatorFlags(window: window, validator: UInt32(v))) {
                    flags.append(FlagReply(validator: v, unrevealed: f.unrevealed, outsideQuorum: f.outsideQuorum, deviant: f.deviant))
                }
            }
            let model = try database.get(ModelRecord.self, .state, StateKey.model(window))
            let beacon = try database.get(ColumnFamily.state.rawValue, StateKey.windowBeacon(window)).map { Hex.encode($0) }
            let heldOut = try database.get(ColumnFamily.meta.rawValue, ContributionEvaluation.heldOutKey(window))
                .flatMap { try? UInt64(canonicalBytes: $0) }.map(Double.init(bitPattern:)).flatMap { $0.isFinite ? $0 : nil }
            let trainers = try trainerResults(window, database: database)
            let rewards = try database.get(WindowRewards.self, .state, StateKey.windowRewards(window)).map {
                RewardsReply(emitted: $0.emitted, trainersPaid: $0.trainersPaid, validatorsPaid: $0.validatorsPaid, burned: $0.burned,
                             validators: $0.validators.map { ValidatorPayoutReply(validator: Int($0.validator), evaluations: Int($0.evaluations), payout: $0.payout) })
            }
            let count = try database.get(UInt64.self, .state, StateKey.contributionCount(window: window)) ?? 0
            return json(WindowReply(window: window, status: status, modelHash: model?.hash.hex, modelBlob: model?.blob.hex,
                                    clipNorm: model.map { $0.clipNorm ?? 0 }, contributionCount: count, closingBeacon: beacon,
                                    contributions: contributions, validatorFlags: flags, heldoutLoss: heldOut,
                                    modelStepSkipped: model?.skippedStep?.name,
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
                                           finalScore: TrainerRating.double(r.finalNano), lastPayout: r.lastPayout, totalPayout: r.totalPayout,
                                           ratedWindows: r.ratedWindows, active: r.active))
            }
            ratings.sort { $0.ordinal != $1.ordinal ? $0.ordinal > $1.ordinal : $0.trainer < $1.trainer }
            let state = try database.get(WindowState.self, .state, StateKey.window) ?? WindowState()
            let p = validator.genesis.rewards.rating
            return json(Leaderboard(window: state.current, rating: RatingParameters(mu: p.mu, sigma: p.sigma, beta: p.beta, tau: p.tau), trainers: ratings))
        }
    }
}
