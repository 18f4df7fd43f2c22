import CairnCore
import OpenSkill

/// Ratings, penalties and payouts at the finalization of a window (ARCHITECTURE §7, D53). Every
/// number that enters state is an integer; the OpenSkill update and the payout weights run on
/// the portable math (bit-identical on every platform) in a fixed order, and are rounded to fixed
/// point before they are stored.
/// One contribution of the window being finalized, as the quorum decided it.
struct Decided {
    var id: Digest
    var stored: StoredContribution
    var outcome: EvaluationQuorum.Outcome
}

/// One trainer through a window's settlement.
struct Standing {
    var key: PublicKey
    var before: TrainerRating
    var after: TrainerRating
    var contribution: Decided?
    var score: Int64?
    var rankScore: Int64?
    var penalties: TrainerWindowResult.Penalties = []
    var ranked = false
    var rank: UInt32 = 0
    var payout: UInt64 = 0
}

enum Settlement {
    /// Below every score a contribution can get (scores are clamped to −1000): the place of a
    /// trainer without a scored contribution in the ranking (Templar enters −99).
    static let unscoredRankScore = -2000.0

    /// The sync multiplier (basis points) of a contribution with base window `base` finalized for
    /// `window`: `table[staleness]`, the last entry repeating.
    static func sync(window: UInt64, base: UInt64, table: [UInt32]) -> Int64 {
        guard !table.isEmpty else { return 10_000 }  // genesis requires 1…16 entries
        let staleness = window >= base ? window - base : 0
        return Int64(table[Int(min(staleness, UInt64(table.count - 1)))])
    }

    /// The score a trainer is ranked by (ppb): a positive accepted score scaled by its sync, and
    /// capped at 0 when the quorum's indicator says it did not train on its assignment (its own
    /// data improved no more than random data). A trainer earns its place with work on its own
    /// assignment at the current model; negative scores are never scaled (a slash must not raise
    /// a negative).
    static func rankingScore(_ score: Int64, indicator: Int8, sync: Int64) -> Int64 {
        var ranked = score > 0 ? score * sync / 10_000 : score  // |score| ≤ 10^12, sync ≤ 10^4
        if indicator < 0 { ranked = min(ranked, 0) }
        return ranked
    }

    /// A score's share of the window's best, in ppm (0…10^6; 0 unless both are positive).
    /// The final score carries it (D55): ordinals follow ranks, not the size of the improvement,
    /// so without it a key holding a third of an honest Δ ranks just below the honest trainers and
    /// is paid nearly as much; with it, and payouts by final^p (p > 1), splitting one Δ across keys
    /// earns less than submitting it whole.
    static func sharePPM(_ score: Int64, best: Int64) -> Int64 {
        guard score > 0, best > 0 else { return 0 }
        // Scores are clamped to ≤ 10^12 ppb: the product stays below 2^63.
        return min(1_000_000, min(score, 1_000_000_000_000) * 1_000_000 / best)
    }

    /// Integer payout weights: final^p by the portable exp and log, normalized to the largest and
    /// scaled to 2^52, rounded down (0 for finals ≤ 0). Dividing the trainer part by these is
    /// then exact integer arithmetic.
    static func payoutWeights(_ finals: [Int64], exponent: Double) -> [UInt64] {
        let math = MathFunctions.portable
        // In logarithms, relative to the largest: exp(p·(log f − log f_max)) ∈ (0, 1] cannot
        // overflow whatever p (≤ 16) and the finals are.
        let logs = finals.map { nano -> Double? in nano > 0 ? math.log(Double(nano) / 1e9) : nil }
        guard let largest = logs.compactMap({ $0 }).max() else { return finals.map { _ in 0 } }
        return logs.map { log in
            guard let log else { return 0 }
            let relative = math.exp(exponent * (log - largest))
            return relative.isFinite && relative > 0 ? UInt64((min(1, relative) * 4_503_599_627_370_496).rounded(.down)) : 0
        }
    }

}

extension Context {
    /// Rates the window's trainers, applies penalties, pays the window's emission and returns
    /// the contributions left out of the outer step (negative streaks). Nothing happens on a
    /// chain without `rewards` parameters.
    mutating func settle(window: UInt64, decided: [Decided], flags: [UInt32: ValidatorFlags], oversized: Set<Digest> = []) throws -> Set<Digest> {
        guard let rewards = parameters.rewards else { return [] }
        // Until an outer step has set a clip norm, evaluations cannot clip Δ to what the step would
        // apply (a Δ scaled up scores as better), and on θ_0 the own-versus-random comparison is
        // noise for everyone: such a window is recorded but not rated — no rating, bma or final
        // moves, and its trainer part is burned (D53, D57).
        let baseModel = try read(ModelRecord.self, StateKey.model(window))
        let clipped = ledger.transition == nil || baseModel?.clipNorm != nil

        var standings = try standings(window: window, decided: decided, oversized: oversized, clipped: clipped, rewards: rewards)
        Self.rank(&standings, window: window, rewards: rewards)
        // The window's best accepted score among those paid for it (positive ranking score): a
        // trainer's share of it scales its final score (D55). Raw scores, not ranking scores, so
        // that sync enters the final once.
        let best = standings.compactMap { $0.ranked && ($0.rankScore ?? 0) > 0 ? $0.score : nil }.max() ?? 0

        let excluded = Self.applyFinals(&standings, window: window, best: best, penalties: rewards.penalties)
        try pay(&standings, window: window, decided: decided, flags: flags, clipped: clipped, rewards: rewards)
        return excluded
    }

    /// Each trainer registered by this window with what it did in it: its contribution's outcome
    /// or the penalty for having none, and whether it is ranked.
    mutating func standings(window: UInt64, decided: [Decided], oversized: Set<Digest>, clipped: Bool,
                            rewards: RewardParameters) throws -> [Standing] {
        let penalties = rewards.penalties
        let byAuthor = Dictionary(decided.map { ($0.stored.author, $0) }, uniquingKeysWith: { first, _ in first })
        // The trainers registered by this window, in key order.
        let prefix = StateKey.trainerPrefix
        var trainers: [PublicKey] = []
        for entry in try overlay.entries(prefix: prefix, in: store) {
            guard entry.key.count == prefix.count + PublicKey.byteCount,
                  let key = try? PublicKey(bytes: entry.key.suffix(PublicKey.byteCount)),
                  let trainer = try? Trainer(canonicalBytes: entry.value), trainer.registeredInWindow <= window else { continue }
            trainers.append(key)
        }

        var standings: [Standing] = []
        for key in trainers {
            let before = try read(TrainerRating.self, StateKey.trainerRating(key)) ?? TrainerRating(prior: rewards.rating)
            var standing = Standing(key: key, before: before, after: before, contribution: byAuthor[key])
            if let contribution = standing.contribution {
                standing.after.windowsWithout = 0
                standing.after.active = true
                let outcome = contribution.outcome
                if outcome.copycatOf != nil {
                    standing.penalties.insert(.copycat)
                } else if oversized.contains(contribution.id) {
                    standing.penalties.insert(.oversized)
                } else if let score = outcome.score {
                    standing.score = score
                } else if outcome.noScore == .flagged, !outcome.flags.isDisjoint(with: [.invalidBlob, .nonFinite]) {
                    standing.penalties.insert(.invalidBlob)
                } else {
                    standing.penalties.insert(.noQuorum)
                }
            } else {
                standing.penalties.insert(.missing)
                standing.after.windowsWithout.saturatingIncrement()
                if standing.after.active, standing.after.windowsWithout >= penalties.inactivityResetWindows {
                    var reset = TrainerRating(prior: rewards.rating)
                    reset.active = false
                    reset.windowsWithout = standing.after.windowsWithout
                    reset.totalPayout = standing.after.totalPayout
                    standing.after = reset
                    standing.penalties.insert(.inactivityReset)
                }
            }
            standing.ranked = clipped && standing.after.active && !standing.penalties.contains(.inactivityReset)
            if !clipped {
                standing.penalties.insert(.unrated)
                standing.after.finalNano = 0
            }
            standings.append(standing)
        }

        return standings
    }

    /// Ranking scores and ranks of the ranked trainers, then OpenSkill Plackett–Luce over them.
    static func rank(_ standings: inout [Standing], window: UInt64, rewards: RewardParameters) {
        let penalties = rewards.penalties
        // One-player teams in key order.
        let ranked = standings.indices.filter { standings[$0].ranked }
        for i in ranked {
            guard let score = standings[i].score, let contribution = standings[i].contribution else { continue }
            standings[i].rankScore = Settlement.rankingScore(score, indicator: contribution.outcome.indicator,
                                                             sync: Settlement.sync(window: window, base: contribution.stored.contribution.baseWindow,
                                                                                   table: penalties.syncBps))
        }
        let scores = ranked.map { standings[$0].rankScore.map { Double($0) / 1e9 } ?? Settlement.unscoredRankScore }
        for (n, i) in ranked.enumerated() {
            standings[i].rank = UInt32(1 + scores.filter { $0 > scores[n] }.count)
        }
        if ranked.count >= 2 {
            var model = PlackettLuce(parameters: ModelParameters(mu: rewards.rating.mu, sigma: rewards.rating.sigma,
                                                                 beta: rewards.rating.beta, tau: rewards.rating.tau),
                                     math: .portable)
            var teams = ranked.map { [Rating(mu: standings[$0].after.mu, sigma: standings[$0].after.sigma)] }
            // A model error (it reports overflow rather than produce NaN) leaves the ratings as they
            // were: every validator gets the same error from the same inputs.
            if (try? model.rate(&teams, options: RateOptions(scores: scores))) != nil {
                for (n, i) in ranked.enumerated() {
                    standings[i].after.muNano = TrainerRating.nano(teams[n][0].mu)
                    standings[i].after.sigmaNano = TrainerRating.nano(teams[n][0].sigma)
                }
            }
        }

    }

    /// Moving average, slashes (positive values only), streaks and final scores of the ranked
    /// trainers; returns the contributions excluded by a negative streak.
    static func applyFinals(_ standings: inout [Standing], window: UInt64, best: Int64, penalties: PenaltyParameters) -> Set<Digest> {
        var excluded: Set<Digest> = []
        let alpha = Int64(penalties.bmaAlphaPPM)
        for i in standings.indices where standings[i].ranked {
            var s = standings[i]
            s.after.ratedWindows.saturatingIncrement()
            func slash(_ bps: UInt32) {
                if s.after.bmaPPM > 0 { s.after.bmaPPM = s.after.bmaPPM * Int64(bps) / 10_000 }
            }
            if let score = s.score, let contribution = s.contribution {
                let indicator: Int64 = contribution.outcome.indicator > 0 ? 1_000_000 : -1_000_000
                // |bma| ≤ 10^6 and α ≤ 10^6: products below 10^12.
                s.after.bmaPPM = (s.after.bmaPPM * (1_000_000 - alpha) + indicator * alpha) / 1_000_000
                s.after.consecutiveMisses = 0
                if s.before.negativeStreak >= penalties.negativeStreakExclusion {
                    s.penalties.insert(.excluded)
                    excluded.insert(contribution.id)
                }
                if score > 0 { s.after.negativeStreak = 0 } else { s.after.negativeStreak.saturatingIncrement() }
            } else {
                s.after.consecutiveMisses.saturatingIncrement()
                if s.penalties.contains(.copycat) {
                    slash(penalties.copycatSlashBps)
                } else if !s.penalties.isDisjoint(with: [.invalidBlob, .oversized]) {
                    slash(penalties.invalidBlobSlashBps)
                } else {
                    let list = penalties.missingSlashesBps  // genesis requires 1…16 entries
                    if !list.isEmpty { slash(list[max(0, min(Int(s.after.consecutiveMisses) - 1, list.count - 1))]) }
                }
            }
            s.after.finalNano = 0
            // Paid only for a window whose own work ranked above 0: a trainer with a good rating is
            // not paid for a contribution that made the model worse, or one not on its assignment.
            if let rankScore = s.rankScore, rankScore > 0, let contribution = s.contribution {
                var bma = max(0, s.after.bmaPPM)
                if s.after.ratedWindows > penalties.bmaWarmupWindows, bma < Int64(penalties.bmaFloorPPM) {
                    bma = 0
                    s.penalties.insert(.bmaFloor)
                }
                if contribution.stored.contribution.baseWindow < window { s.penalties.insert(.stale) }
                let sync = Settlement.sync(window: window, base: contribution.stored.contribution.baseWindow, table: penalties.syncBps)
                let share = Settlement.sharePPM(s.score ?? 0, best: best)
                // ordinal ≤ 9·10^18, bma ≤ 10^6, sync ≤ 10^4, share ≤ 10^6: the product < 10^35 fits an Int128.
                let product = Int128(max(0, s.after.ordinalNano)) * Int128(bma) * Int128(sync) * Int128(share) / 10_000_000_000_000_000
                s.after.finalNano = Int64(product)
            }
            standings[i] = s
        }

        return excluded
    }

    /// The window's emission: the trainer part by final^p over positive finals, the validator part
    /// by evaluations done inside quorums; remainders are burned. Writes the ratings, the window's
    /// rewards and each trainer's result.
    mutating func pay(_ standings: inout [Standing], window: UInt64, decided: [Decided], flags: [UInt32: ValidatorFlags], clipped: Bool,
                      rewards: RewardParameters) throws {
        var supply = try read(Supply.self, StateKey.supply) ?? Supply(created: 0)
        let (created, emissionOverflow) = supply.created.addingReportingOverflow(rewards.emissionPerWindow)
        let emitted = emissionOverflow ? 0 : rewards.emissionPerWindow
        if !emissionOverflow { supply.created = created }
        let validatorPart = UInt64(UInt128(emitted) * UInt128(rewards.validatorShareBps) / 10_000)
        let trainerPart = clipped ? emitted - validatorPart : 0
        var trainersPaid: UInt64 = 0
        let weights = Settlement.payoutWeights(standings.map { $0.ranked ? $0.after.finalNano : 0 }, exponent: rewards.payoutExponent)
        let totalWeight = weights.reduce(UInt128(0)) { $0 + UInt128($1) }
        if totalWeight > 0 {
            for i in standings.indices where weights[i] > 0 {
                let payout = UInt64(UInt128(trainerPart) * UInt128(weights[i]) / totalWeight)
                if try credit(standings[i].key, payout) {
                    standings[i].payout = payout
                    trainersPaid += payout
                }
            }
        }
        // The validator part in proportion to the evaluations each validator did inside quorums
        // (D59): a membership counts when the quorum had to evaluate (a score, non-finite losses),
        // not when it only flagged a blob as invalid, unavailable or out of sync — such a flag
        // costs no model evaluation, so committing to one must not earn a full share. Flagged
        // validators (unrevealed, outside a quorum, deviant) earn nothing for the window.
        var evaluations: [UInt32: UInt32] = [:]
        for d in decided where d.outcome.flags.isDisjoint(with: [.invalidBlob, .unavailable, .outOfSync]) {
            for validator in d.outcome.members { evaluations[validator, default: 0].saturatingIncrement() }
        }
        let eligible = evaluations.keys.filter { validator in
            let f = flags[validator] ?? ValidatorFlags()
            return f.unrevealed == 0 && f.outsideQuorum == 0 && f.deviant == 0 && Int(validator) < parameters.validators.count
        }.sorted()
        let totalEvaluations = eligible.reduce(UInt64(0)) { $0 + UInt64(evaluations[$1]!) }
        var validatorsPaid: UInt64 = 0
        var paid: [WindowRewards.ValidatorPayout] = []
        if totalEvaluations > 0 {
            for validator in eligible {
                let count = evaluations[validator]!
                // validatorPart < 2^64 and count ≤ total: the quotient fits a UInt64.
                let payout = UInt64(UInt128(validatorPart) * UInt128(count) / UInt128(totalEvaluations))
                if try credit(parameters.validators[Int(validator)], payout) {
                    paid.append(WindowRewards.ValidatorPayout(validator: validator, evaluations: count, payout: payout))
                    validatorsPaid += payout
                }
            }
        }
        let burned = emitted - trainersPaid - validatorsPaid
        // burned ≤ created always holds (balances + burned = created), so this cannot overflow.
        supply.burned += burned
        write(StateKey.supply, supply)
        write(StateKey.windowRewards(window), WindowRewards(emitted: emitted, trainersPaid: trainersPaid, validatorsPaid: validatorsPaid,
                                                            burned: burned, validators: paid))
        for s in standings {
            var after = s.after
            after.lastPayout = s.payout
            let (total, overflow) = after.totalPayout.addingReportingOverflow(s.payout)
            after.totalPayout = overflow ? .max : total
            write(StateKey.trainerRating(s.key), after)
            guard s.ranked || s.contribution != nil || s.penalties.contains(.inactivityReset) else { continue }
            write(StateKey.trainerWindow(window: window, trainer: s.key),
                  TrainerWindowResult(contribution: s.contribution?.id, scorePPB: s.score, rankScorePPB: s.rankScore, rank: s.rank, before: s.before, after: after,
                                      penalties: s.penalties, payout: s.payout))
        }
    }

    /// Adds `amount` to `key`'s balance; false (nothing credited: the caller burns it) if that
    /// would pass 2^64 − 1.
    mutating func credit(_ key: PublicKey, _ amount: UInt64) throws -> Bool {
        guard amount > 0 else { return true }
        var account = try read(Account.self, StateKey.account(key)) ?? Account(balance: 0)
        let (sum, overflow) = account.balance.addingReportingOverflow(amount)
        guard !overflow else { return false }
        account.balance = sum
        write(StateKey.account(key), account)
        return true
    }
}
