import CairnCore
import CairnCrypto
@testable import CairnLedger
import CairnTestKit
import Foundation
import Testing

/// One window of contributions taken through commit, reveal and finalization (D47, D53).
struct SettlementScenario {
    var world: World
    var runner: LeaderRunner
    let transition = RecordingTransition()
    var ids: [Int: Digest] = [:]
    /// With a 10-window bma warm-up (Templar's), so that one window's mechanics show in payouts.
    static let rewards: RewardParameters = {
        var penalties = PenaltyParameters()
        penalties.bmaWarmupWindows = 10
        return RewardParameters(registrationFee: 100, emissionPerWindow: 1_000_003, validatorShareBps: 1_000, payoutExponent: 2,
                                rating: RatingParameters(mu: 25, sigma: 25.0 / 3, beta: 25.0 / 6, tau: 25.0 / 300), penalties: penalties)
    }()

    /// `users` trainers registered; `ratings` preset standings by user index.
    init(seed: UInt64, users: Int, rewards: RewardParameters = Self.rewards, ratings: [Int: TrainerRating] = [:], clipNorm: Double = 1) throws {
        world = World(seed: seed, users: users, windowMs: 8)
        var parameters = world.ledger.parameters
        parameters.rewards = rewards
        let ledger = Ledger(parameters: parameters, transition: transition)
        // A clip norm as if an outer step had run (trainer payouts wait for one, D53).
        let theta0 = ModelRecord(hash: Hashing.digest(.model, [0]), blob: Hashing.digest(.blob, [0]), clipNorm: clipNorm)
        var genesis = try Ledger.genesisState(accounts: world.users.map { ($0.publicKey, 10_000) }, validators: world.validators.map(\.publicKey), model: theta0)
        for (user, rating) in ratings { genesis.append((StateKey.trainerRating(world.users[user].publicKey), rating.canonicalBytes)) }
        runner = LeaderRunner(ledger, MemoryStore(entries: genesis), verify: world.verify)
        _ = try runner.run(world.users.enumerated().map { world.record($1, .register(Register(name: "t\($0)"))) }, time: 1)
    }

    /// Trainer `user` improves the random-data loss by `gain` (own data by twice that: indicator +1),
    /// revealed by each validator; `skew` maps a validator to a factor on its revealed random loss after.
    /// `skips` maps a validator to the users whose contributions it neither commits to nor reveals;
    /// `flags` marks every validator's evaluation of a user's contribution with those flags.
    mutating func run(gains: [Int: Float], copies: [Int: Int] = [:], baseWindow: [Int: UInt64] = [:], skew: [Int: Float] = [:],
                      skips: [Int: Set<Int>] = [:], flags: [Int: Evaluation.Flags] = [:]) throws {
        var records: [[UInt8]] = []
        for user in gains.keys.sorted() {
            // A copy is re-valued (another blob id: one blob is named once, D59) but keeps the
            // original's indices.
            let blob = Hashing.digest(.blob, [UInt8(user)] + (copies[user] == nil ? [] : [0xcc]))
            let source = copies[user] ?? user
            transition.indices[blob] = Array(UInt32(source) * 1000 ..< UInt32(source) * 1000 + 100)
            let record = world.record(world.users[user], .contribution(Contribution(
                baseWindow: baseWindow[user] ?? 0, blob: blob, blobSize: 100,
                compression: CompressionParameters(chunkSize: 4096, topK: 64, valueBits: 8, indexBits: 16), assignment: .zero)))
            records.append(record)
            ids[user] = Hashing.digest(.record, record)
        }
        _ = try runner.run(records, time: 2)
        let users = gains.keys.sorted()
        let evaluations = users.map { user in
            (0 ..< 4).map { v in
                let gain = gains[user]!
                if let flagged = flags[user] {
                    return Evaluation(contribution: ids[user]!, own: LossPair(before: 0, after: 0), random: LossPair(before: 0, after: 0), simHash: [],
                                      flags: flagged, salt: Hashing.digest(.evaluationCommitment, [UInt8(user), UInt8(v)]))
                }
                return Evaluation(contribution: ids[user]!, own: LossPair(before: 2, after: 2 - 2 * gain),
                                  random: LossPair(before: 2, after: (2 - gain) * (skew[v] ?? 1)),
                                  simHash: [UInt8](repeating: 0x3c, count: 32), flags: [], salt: Hashing.digest(.evaluationCommitment, [UInt8(user), UInt8(v)]))
            }
        }
        let evaluating = { (i: Int) in (0 ..< 4).filter { !(skips[$0] ?? []).contains(users[i]) } }
        _ = try runner.run(users.indices.flatMap { i in evaluating(i).map { v in
            world.record(world.validators[v], .evaluationCommit(EvaluationCommit(contribution: ids[users[i]]!, commitment: world.commitment(evaluations[i][v], by: v)))) } }, time: 3)
        _ = try runner.run([], time: 9)
        _ = try runner.run([], time: 15)
        _ = try runner.run(users.indices.flatMap { i in evaluating(i).map { v in world.record(world.validators[v], .evaluation(evaluations[i][v])) } }, time: 16)
        let closed = try runner.run([], time: 17).closedWindows
        #expect(closed == [1])
    }

    func read<T: CanonicalDecodable>(_ type: T.Type, _ key: [UInt8]) throws -> T? { try runner.store.state[key].map { try T(canonicalBytes: $0) } }
    func result(_ user: Int) throws -> TrainerWindowResult? { try read(TrainerWindowResult.self, StateKey.trainerWindow(window: 0, trainer: world.users[user].publicKey)) }
    func rating(_ user: Int) throws -> TrainerRating? { try read(TrainerRating.self, StateKey.trainerRating(world.users[user].publicKey)) }

    /// Σ balances + burned = created, exactly.
    func supplyHolds() throws -> Bool {
        let supply = try #require(try read(Supply.self, StateKey.supply))
        var total: UInt64 = supply.burned
        for (key, value) in runner.store.state where key.starts(with: Array("a/".utf8)) {
            total += try Account(canonicalBytes: value).balance
        }
        return total == supply.created
    }
}

@Suite("Ledger: ratings, penalties and payouts (D53)")
struct SettlementTests {
    @Test("trainers ranked by accepted score (a missing one last), rated with Plackett–Luce, paid by final^p; validators share their part; supply is conserved")
    func ratingsAndPayouts() throws {
        var s = try SettlementScenario(seed: 41, users: 4)
        try s.run(gains: [0: 0.1, 1: 0.3, 2: 0.2])
        let results = try (0 ..< 4).map { try #require(try s.result($0)) }
        #expect(results.map(\.rank) == [3, 1, 2, 4])
        #expect(results[3].penalties == [.missing] && results[3].contribution == nil)
        #expect(results[1].muAfterNano > results[2].muAfterNano && results[2].muAfterNano > results[0].muAfterNano
                && results[0].muAfterNano > results[3].muAfterNano)
        #expect(results.allSatisfy { $0.muBeforeNano == 25_000_000_000 })
        // bma after one +1 indicator: α = 0.05.
        #expect(results[0 ... 2].allSatisfy { $0.bmaPPM == 50_000 })
        let rewards = try #require(try s.read(WindowRewards.self, StateKey.windowRewards(0)))
        #expect(rewards.emitted == 1_000_003 && rewards.emitted == rewards.trainersPaid + rewards.validatorsPaid + rewards.burned)
        #expect(rewards.validators == (0 ..< 4).map { WindowRewards.ValidatorPayout(validator: $0, evaluations: 3, payout: 100_000 / 4) })
        // Paid in proportion to final², only to positive finals.
        // The three contributors have positive finals after one window (ordinal μ − 3σ rose above 0
        // for each, bma 0.05); paid in proportion to final², in rank order; at most one base unit
        // per payee is lost to rounding down, and it is burned.
        #expect(results[0 ... 2].allSatisfy { $0.finalNano > 0 && $0.payout > 0 } && results[3].payout == 0)
        #expect(results[1].payout > results[2].payout && results[2].payout > results[0].payout)
        let trainerPart: UInt64 = 1_000_003 - 100_000
        #expect(rewards.trainersPaid == results.map(\.payout).reduce(0, +) && rewards.trainersPaid + 3 >= trainerPart)
        let ratio = Double(results[1].payout) / Double(results[2].payout)
        let expected = pow(Double(results[1].finalNano) / Double(results[2].finalNano), 2)
        #expect(abs(ratio - expected) < 1e-4 * expected)
        #expect(try s.supplyHolds())
        #expect(try s.rating(1)?.totalPayout == results[1].payout)
    }

    @Test("validators are paid in proportion to the contributions they evaluated inside quorums; a quorum that only flagged an invalid blob pays nothing (D59, attack 6)")
    func validatorsPaidByEvaluations() throws {
        // Validator 3 evaluates only user 0's contribution; user 3's blob is invalid (every validator flags it).
        var s = try SettlementScenario(seed: 44, users: 4)
        try s.run(gains: [0: 0.1, 1: 0.3, 2: 0.2, 3: 0.1], skips: [3: [1, 2, 3]], flags: [3: .invalidBlob])
        let rewards = try #require(try s.read(WindowRewards.self, StateKey.windowRewards(0)))
        // 3 + 3 + 3 + 1 evaluations that cost one: 100,000 × 3/10 each and 100,000 × 1/10.
        #expect(rewards.validators.map(\.evaluations) == [3, 3, 3, 1])
        #expect(rewards.validators.map(\.payout) == [30_000, 30_000, 30_000, 10_000])
        #expect(rewards.emitted == rewards.trainersPaid + rewards.validatorsPaid + rewards.burned)
        // The flagged blob had a quorum of three (validators 0–2), which counts for nothing.
        let flagged = try #require(try s.read(EvaluationQuorum.Outcome.self, StateKey.contributionOutcome(s.ids[3]!)))
        #expect(flagged.noScore == .flagged && flagged.members == [0, 1, 2])

        // A window whose only quorum flagged a blob pays no validator: the part is burned.
        var only = try SettlementScenario(seed: 45, users: 1)
        try only.run(gains: [0: 0.1], flags: [0: .invalidBlob])
        let burned = try #require(try only.read(WindowRewards.self, StateKey.windowRewards(0)))
        #expect(burned.validators.isEmpty && burned.validatorsPaid == 0)
    }

    @Test("a validator revealing skewed losses inside the hash quorum changes no score, is flagged deviant and is not paid")
    func skewedValidator() throws {
        var s = try SettlementScenario(seed: 42, users: 3)
        try s.run(gains: [0: 0.2, 1: 0.1], skew: [3: 0.9])
        let outcome = try #require(try s.read(EvaluationQuorum.Outcome.self, StateKey.contributionOutcome(s.ids[0]!)))
        #expect(outcome.members == [0, 1, 2, 3])
        #expect(outcome.score == EvaluationQuorum.improvement(LossPair(before: 2, after: 1.8)), "the skewed reveal moved the score")
        let flags = try #require(try s.read(ValidatorFlags.self, StateKey.validatorFlags(window: 0, validator: 3)))
        #expect(flags.deviant == 2)
        let rewards = try #require(try s.read(WindowRewards.self, StateKey.windowRewards(0)))
        #expect(rewards.validators.map(\.validator) == [0, 1, 2])
        #expect(try s.supplyHolds())
    }

    @Test("penalties: copycat and invalid windows slash bma, misses escalate, a negative streak keeps a positive contribution out of the step, inactivity resets")
    func penalties() throws {
        var prior = TrainerRating(prior: SettlementScenario.rewards.rating)
        prior.bmaPPM = 800_000
        var streak = prior
        streak.negativeStreak = 3
        var missedOnce = prior
        missedOnce.consecutiveMisses = 1
        var idle = prior
        idle.windowsWithout = 24
        var s = try SettlementScenario(seed: 43, users: 5, ratings: [0: streak, 1: prior, 2: missedOnce, 3: idle])
        // 0: positive after a streak; 1: copies 4's blob (4 is earlier in committed order? no: users run in key order, so 1 copies 4 and 4 lands later)
        try s.run(gains: [0: 0.3, 1: 0.2, 4: 0.1], copies: [4: 1])
        let r0 = try #require(try s.result(0)), r4 = try #require(try s.result(4))
        #expect(r0.penalties.contains(.excluded))
        #expect(try s.rating(0)?.negativeStreak == 0)
        #expect(r4.penalties.contains(.copycat) && r4.finalNano == 0 && r4.payout == 0)
        let call = try #require(s.transition.calls.first)
        #expect(!call.applied.map(\.id).contains(s.ids[0]!), "the excluded contribution was aggregated")
        #expect(!call.applied.map(\.id).contains(s.ids[4]!), "the copycat was aggregated")
        #expect(call.applied.map(\.id) == [s.ids[1]!])
        // 2 missed a second time: 0.8 × 0.5.
        #expect(try s.rating(2)?.bmaPPM == 400_000 && s.result(2)?.penalties == [.missing])
        // 3 reached 25 windows without a contribution: back to the prior, out of the ranking.
        let r3 = try #require(try s.result(3))
        #expect(r3.penalties.contains(.inactivityReset) && r3.rank == 0)
        #expect(try s.rating(3)?.active == false && s.rating(3)?.bmaPPM == 0 && s.rating(3)?.muNano == 25_000_000_000)
        #expect(try s.supplyHolds())
    }

    @Test("over many seeds: emitted = paid + burned, the supply identity holds, payouts go only to positive finals, and replaying gives the same state root")
    func conservation() throws {
        for seed in UInt64(100) ..< 130 {
            var g = SeededGenerator(seed: seed)
            let users = Int(g.next() % 5) + 2
            var gains: [Int: Float] = [:]
            for user in 0 ..< users where g.next() % 4 != 0 { gains[user] = Float(Int(g.next() % 200) - 50) / 1000 }
            var rewards = SettlementScenario.rewards
            rewards.emissionPerWindow = g.next() % 10_000_000_000
            rewards.validatorShareBps = UInt32(g.next() % 10_001)
            rewards.payoutExponent = [0.5, 1, 2, 3.7][Int(g.next() % 4)]
            let skew: [Int: Float] = g.next() % 2 == 0 ? [Int(g.next() % 4): 1.1] : [:]
            var a = try SettlementScenario(seed: seed, users: users, rewards: rewards)
            var b = try SettlementScenario(seed: seed, users: users, rewards: rewards)
            if gains.isEmpty { continue }
            try a.run(gains: gains, skew: skew)
            try b.run(gains: gains, skew: skew)
            #expect(a.runner.store.root == b.runner.store.root, "seed \(seed): not deterministic")
            let w = try #require(try a.read(WindowRewards.self, StateKey.windowRewards(0)))
            #expect(w.emitted == w.trainersPaid + w.validatorsPaid + w.burned, "seed \(seed)")
            #expect(try a.supplyHolds(), "seed \(seed)")
            for user in 0 ..< users {
                let r = try #require(try a.result(user))
                #expect(r.payout == 0 || r.finalNano > 0, "seed \(seed): paid a non-positive final")
                #expect(r.finalNano >= 0)
            }
        }
    }
}

extension SettlementTests {
    @Test("the ranking score: a stale contribution ranks by its sync-scaled score, one whose own data did not improve more ranks at most at 0, negatives are never scaled")
    func rankingScore() {
        #expect(Settlement.rankingScore(100_000_000, indicator: 1, sync: 10_000) == 100_000_000)
        #expect(Settlement.rankingScore(100_000_000, indicator: 1, sync: 5_000) == 50_000_000)
        #expect(Settlement.rankingScore(100_000_000, indicator: -1, sync: 10_000) == 0)
        #expect(Settlement.rankingScore(-3_000_000, indicator: -1, sync: 5_000) == -3_000_000)
        #expect(Settlement.rankingScore(1_000_000_000, indicator: 1, sync: 10_000) == 1_000_000_000)
        #expect(Settlement.rankingScore(-1_000_000_000_000, indicator: 1, sync: 0) == -1_000_000_000_000)
        #expect(Settlement.sync(window: 5, base: 5, table: [10_000, 5_000]) == 10_000)
        #expect(Settlement.sync(window: 5, base: 4, table: [10_000, 5_000]) == 5_000)
        #expect(Settlement.sync(window: 5, base: 0, table: [10_000, 5_000]) == 5_000)
        #expect(Settlement.sync(window: 0, base: .max, table: [10_000]) == 10_000)
        #expect(Settlement.sync(window: 9, base: 0, table: []) == 10_000)
    }

    @Test("a ranking score's share of the window's best: 0…10^6 ppm, 0 unless both positive, no overflow at the score bound")
    func share() {
        #expect(Settlement.sharePPM(5, best: 10) == 500_000)
        #expect(Settlement.sharePPM(10, best: 10) == 1_000_000)
        #expect(Settlement.sharePPM(0, best: 10) == 0 && Settlement.sharePPM(-5, best: 10) == 0 && Settlement.sharePPM(5, best: 0) == 0)
        #expect(Settlement.sharePPM(1_000_000_000_000, best: 1_000_000_000_000) == 1_000_000)
        #expect(Settlement.sharePPM(1, best: 1_000_000_000_000) == 0)
        #expect(Settlement.sharePPM(20, best: 10) == 1_000_000)  // never above the best's
    }

    @Test("one Δ split across two keys (each half the gain) earns less in all than the same Δ submitted whole; finals carry the share of the best")
    func splitEarnsLess() throws {
        // Established trainers (positive ordinals), so that every key is paid something.
        var established = TrainerRating(prior: SettlementScenario.rewards.rating)
        established.muNano = 40_000_000_000
        established.sigmaNano = 3_000_000_000
        established.bmaPPM = 600_000
        var s = try SettlementScenario(seed: 47, users: 4, ratings: [0: established, 1: established, 2: established, 3: established])
        try s.run(gains: [0: 0.3, 1: 0.15, 2: 0.15, 3: 0.3])
        let r = try (0 ..< 4).map { try #require(try s.result($0)) }
        #expect(r[1].rankScorePPB! * 2 == r[0].rankScorePPB!)
        #expect(r.allSatisfy { $0.payout > 0 })
        #expect(r[1].payout + r[2].payout < r[0].payout, "split \(r[1].payout) + \(r[2].payout), whole \(r[0].payout)")
        #expect(r[1].payout + r[2].payout < r[3].payout)
        // final ∝ ordinal × share (equal bma and sync): the half-gain keys carry half their ordinal.
        let after1 = try #require(try s.rating(1)), after0 = try #require(try s.rating(0))
        let expected1 = Double(after1.ordinalNano) * 0.5, expected0 = Double(after0.ordinalNano)
        #expect(abs(Double(r[1].finalNano) / Double(r[0].finalNano) - expected1 / expected0) < 1e-6)
        #expect(try s.supplyHolds())
    }

    @Test("an oversized Δ (norm above 3× the window's median) ranks as unscored, is slashed, not paid and not aggregated, whatever its score")
    func oversized() throws {
        var prior = TrainerRating(prior: SettlementScenario.rewards.rating)
        prior.bmaPPM = 500_000
        var s = try SettlementScenario(seed: 53, users: 4, ratings: [3: prior])
        s.transition.norms[Hashing.digest(.blob, [3])] = 10
        s.transition.norms[Hashing.digest(.blob, [2])] = 2.9  // within the limit
        try s.run(gains: [0: 0.1, 1: 0.2, 2: 0.2, 3: 0.5])
        let r3 = try #require(try s.result(3)), r2 = try #require(try s.result(2))
        #expect(r3.penalties.contains(.oversized) && r3.rank == 4 && r3.rankScorePPB == nil && r3.payout == 0 && r3.finalNano == 0)
        #expect(try s.rating(3)?.bmaPPM == 0)  // invalid_blob_slash_bps 0
        #expect(!r2.penalties.contains(.oversized) && r2.payout > 0)
        let call = try #require(s.transition.calls.first)
        #expect(!call.applied.map(\.id).contains(s.ids[3]!) && call.applied.count == 3)
        // The same network with the rule off: the scaled Δ ranks first.
        var rewards = SettlementScenario.rewards
        rewards.penalties.oversizeNormPPM = 0
        var off = try SettlementScenario(seed: 53, users: 4, rewards: rewards, ratings: [3: prior])
        off.transition.norms[Hashing.digest(.blob, [3])] = 10
        try off.run(gains: [0: 0.1, 1: 0.2, 2: 0.2, 3: 0.5])
        #expect(try off.result(3)?.rank == 1)
        #expect(try s.supplyHolds() && off.supplyHolds())
    }

    @Test("an inflated Δ is oversized even when it is the window's only positive contribution: the limit is also 3× the step's clip bound, which no contribution sets (D59, attack 2)")
    func oversizedAlone() throws {
        // θ's clip norm is 1, so the step's bound is 2 (growth 2) and the limit 6; two references only.
        var s = try SettlementScenario(seed: 54, users: 2)
        s.transition.norms[Hashing.digest(.blob, [1])] = 7
        try s.run(gains: [0: 0.1, 1: 0.5])
        #expect(try s.result(1)?.penalties.contains(.oversized) == true)
        #expect(try s.result(0)?.penalties.contains(.oversized) == false)
        let call = try #require(s.transition.calls.first)
        #expect(call.applied.map(\.id) == [s.ids[0]!])
        // Alone in its window it is oversized all the same.
        var alone = try SettlementScenario(seed: 55, users: 1)
        alone.transition.norms[Hashing.digest(.blob, [0])] = 1e30
        try alone.run(gains: [0: 0.5])
        #expect(try alone.result(0)?.penalties.contains(.oversized) == true && alone.transition.calls.isEmpty)
    }

    @Test("when every Δ the step would take is oversized, the carried model takes the bound as its clip norm, so the next bound grows (D66): long windows cannot freeze the model")
    func oversizedEscalates() throws {
        func clipNorm(_ s: SettlementScenario, window: UInt64) throws -> Double? { try s.read(ModelRecord.self, StateKey.model(window))?.clipNorm }
        // θ's clip norm is 1: bound 2, limit 6. Every honest Δ has norm 7 (a whole window of inner steps).
        var s = try SettlementScenario(seed: 56, users: 3)
        for user in 0 ..< 3 { s.transition.norms[Hashing.digest(.blob, [UInt8(user)])] = 7 }
        try s.run(gains: [0: 0.1, 1: 0.2, 2: 0.3])
        #expect(try (0 ..< 3).allSatisfy { try s.result($0)?.penalties.contains(.oversized) == true })
        #expect(s.transition.calls.isEmpty)
        #expect(try clipNorm(s, window: 2) == 2, "the carried model keeps clip 1: the bound never grows and the model never moves")
        // A chain whose model never stepped (no clip norm): measured against genesis' initial clip, then escalated to it.
        var fresh = try SettlementScenario(seed: 57, users: 2, clipNorm: 0)
        for user in 0 ..< 2 { fresh.transition.norms[Hashing.digest(.blob, [UInt8(user)])] = 1e6 }
        try fresh.run(gains: [0: 0.1, 1: 0.2])
        let initial = fresh.runner.ledger.parameters.initialClipNorm
        #expect(initial > 0 && fresh.transition.calls.isEmpty)
        #expect(try clipNorm(fresh, window: 2) == initial)
        // One Δ within the limit: the step runs and sets the clip as before; nothing escalates.
        var mixed = try SettlementScenario(seed: 58, users: 2)
        mixed.transition.norms[Hashing.digest(.blob, [0])] = 7
        try mixed.run(gains: [0: 0.1, 1: 0.2])
        #expect(mixed.transition.calls.count == 1)
        // Nothing positive (a window of useless Δs) carries the clip unchanged.
        var useless = try SettlementScenario(seed: 59, users: 2)
        for user in 0 ..< 2 { useless.transition.norms[Hashing.digest(.blob, [UInt8(user)])] = 7 }
        try useless.run(gains: [0: -0.1, 1: -0.2])
        #expect(try clipNorm(useless, window: 2) == 1)
    }

    @Test("a majority of tiny positive Δs cannot make honest Δs oversized: the reference is held at or above the previous clip ÷ growth (D59)")
    func tinyMajority() throws {
        // θ's clip norm is 1: floor 0.5, bound 2. Users 2–5 submit Δs of norm 0.01; users 0–1 honest ones of norm 1.
        var s = try SettlementScenario(seed: 56, users: 6)
        for user in 2 ..< 6 { s.transition.norms[Hashing.digest(.blob, [UInt8(user)])] = 0.01 }
        try s.run(gains: [0: 0.2, 1: 0.2, 2: 0.01, 3: 0.01, 4: 0.01, 5: 0.01])
        for user in 0 ..< 6 { #expect(try s.result(user)?.penalties.contains(.oversized) == false, "user \(user) oversized") }
        let call = try #require(s.transition.calls.first)
        #expect(call.applied.count == 6)
    }

    @Test("many keys of tiny positive scores cannot set the oversize reference: the median is weighted by score (D59; a spam:17 localnet made every honest Δ oversized when each key counted once)")
    func spamMajority() throws {
        // θ's clip norm is 1: floor 0.5, bound 2. Six keys send Δs of norm 0.5 that moved the loss by
        // next to nothing; two honest ones have norm 1.8. Counted one each, the median is 0.5 and the
        // limit 1.5, under the honest norms.
        var s = try SettlementScenario(seed: 57, users: 8)
        for user in 2 ..< 8 { s.transition.norms[Hashing.digest(.blob, [UInt8(user)])] = 0.5 }
        for user in 0 ..< 2 { s.transition.norms[Hashing.digest(.blob, [UInt8(user)])] = 1.8 }
        var gains: [Int: Float] = [0: 0.2, 1: 0.2]
        for user in 2 ..< 8 { gains[user] = 0.0004 }
        try s.run(gains: gains)
        for user in 0 ..< 8 { #expect(try s.result(user)?.penalties.contains(.oversized) == false, "user \(user) oversized") }
        #expect(try s.result(0)!.payout > 0 && s.result(1)!.payout > 0)
        #expect(try s.supplyHolds())
    }

    @Test("a window whose base model has no clip norm (θ_0) is recorded but not rated: no rating, bma or final moves, the trainer part is burned")
    func unratedWindow() throws {
        var prior = TrainerRating(prior: SettlementScenario.rewards.rating)
        prior.bmaPPM = 300_000
        var s = try SettlementScenario(seed: 59, users: 3, ratings: [0: prior], clipNorm: 0)
        try s.run(gains: [0: 0.3, 1: 0.1])
        #expect(try s.result(2) == nil)  // no contribution in a window that rates nobody: nothing to record
        for user in 0 ..< 2 {
            let r = try #require(try s.result(user))
            #expect(r.penalties.contains(.unrated) && r.rank == 0 && r.payout == 0 && r.finalNano == 0, "user \(user): \(r)")
            #expect(r.muAfterNano == r.muBeforeNano && r.sigmaAfterNano == r.sigmaBeforeNano)
        }
        #expect(try s.rating(0)?.bmaPPM == 300_000 && s.rating(1)?.bmaPPM == 0 && s.rating(0)?.ratedWindows == 0)
        let rewards = try #require(try s.read(WindowRewards.self, StateKey.windowRewards(0)))
        #expect(rewards.trainersPaid == 0 && rewards.burned >= rewards.emitted - rewards.validatorsPaid)
        // The contributions still reach the outer step.
        #expect(s.transition.calls.first?.applied.count == 2)
        #expect(try s.supplyHolds())
    }

    @Test("without a bma warm-up (the default) a new trainer is not paid until its bma reaches the floor; an established one is")
    func probation() throws {
        var rewards = SettlementScenario.rewards
        rewards.penalties.bmaWarmupWindows = 0
        var established = TrainerRating(prior: rewards.rating)
        established.muNano = 40_000_000_000
        established.sigmaNano = 3_000_000_000
        established.bmaPPM = 600_000
        established.ratedWindows = 12
        var s = try SettlementScenario(seed: 61, users: 2, rewards: rewards, ratings: [0: established])
        try s.run(gains: [0: 0.2, 1: 0.3])
        let old = try #require(try s.result(0)), new = try #require(try s.result(1))
        #expect(new.rank == 1 && new.bmaPPM == 50_000 && new.penalties.contains(.bmaFloor) && new.finalNano == 0 && new.payout == 0)
        #expect(old.payout > 0 && old.finalNano > 0)
        #expect(try s.supplyHolds())
    }

    @Test("payout weights: final^p relative to the largest, 2^52 for it, 0 for finals ≤ 0; no overflow at the extremes")
    func payoutWeights() {
        #expect(Settlement.payoutWeights([2_000_000_000, 1_000_000_000, 0, -5], exponent: 2) == [1 << 52, 1 << 50, 0, 0])
        let extreme = Settlement.payoutWeights([.max, 1, 9_000_000_000_000_000_000], exponent: 16)
        #expect(extreme[0] == 1 << 52 && extreme[1] == 0 && extreme[2] > 0)
        #expect(Settlement.payoutWeights([], exponent: 2).isEmpty && Settlement.payoutWeights([0, 0], exponent: 2) == [0, 0])
        #expect(Settlement.payoutWeights([7, 7], exponent: 0.5) == [1 << 52, 1 << 52])
    }
}

extension SettlementTests {
    /// Runs `windows` consecutive windows of contributions from random trainers (some missing,
    /// some stale, some not improving their own data) and returns the per-window trainer results.
    static func history(seed: UInt64, users: Int, windows: Int) throws -> (SettlementScenario, [[(PublicKey, TrainerWindowResult)]]) {
        var s = try SettlementScenario(seed: seed, users: users)
        var g = SeededGenerator(seed: seed)
        var ids: [UInt64: [Digest]] = [:]
        var evaluations: [UInt64: [[Evaluation]]] = [:]
        for k in UInt64(0) ..< UInt64(windows) + 1 {
            let t = 8 * k
            // A leader past the boundary closes window k − 1 (records execute before the clock moves).
            if k > 0 { _ = try s.runner.run([], time: t + 1) }
            if k < UInt64(windows) {
                var records: [[UInt8]] = []
                var gains: [(Digest, Float, Float)] = []
                for user in 0 ..< users where g.next() % 5 != 0 {
                    let gain = Float(Int(g.next() % 300) - 60) / 1000
                    let own = g.next() % 4 == 0 ? gain / 2 : 2 * gain   // sometimes indicator −1
                    let base = k > 0 && g.next() % 5 == 0 ? k - 1 : k
                    let record = s.world.record(s.world.users[user], .contribution(Contribution(
                        baseWindow: base, blob: Hashing.digest(.blob, [UInt8(user), UInt8(k)]), blobSize: 100,
                        compression: CompressionParameters(chunkSize: 4096, topK: 64, valueBits: 8, indexBits: 16), assignment: .zero)))
                    records.append(record)
                    gains.append((Hashing.digest(.record, record), gain, own))
                }
                let landed = try s.runner.run(records, time: t + 2)
                #expect(landed.records.allSatisfy { $0.outcome == .accepted }, "window \(k): \(landed.records.map(\.outcome))")
                ids[k] = gains.map(\.0)
                evaluations[k] = gains.map { id, gain, own in
                    (0 ..< 4).map { v in Evaluation(contribution: id, own: LossPair(before: 2, after: 2 - own), random: LossPair(before: 2, after: 2 - gain),
                                                    simHash: [UInt8](repeating: 7, count: 32), flags: [],
                                                    salt: Hashing.digest(.evaluationCommitment, id.bytes + [UInt8(v)])) }
                }
                _ = try s.runner.run(evaluations[k]!.flatMap { $0.enumerated().map { v, e in
                    s.world.record(s.world.validators[v], .evaluationCommit(EvaluationCommit(contribution: e.contribution, commitment: s.world.commitment(e, by: v, window: k)))) } },
                                     time: t + 3)
            }
            if k > 0, let previous = evaluations[k - 1] {  // window k − 1's reveals, in the last quarter of k
                _ = try s.runner.run([], time: t + 7)  // the clock reaches the reveal quarter first (window k opened at t + 1)
                let revealed = try s.runner.run(previous.flatMap { $0.enumerated().map { v, e in s.world.record(s.world.validators[v], .evaluation(e)) } }, time: t + 8)
                #expect(revealed.records.allSatisfy { $0.outcome == .accepted }, "window \(k - 1)'s reveals: \(revealed.records.map(\.outcome))")
            }
        }
        _ = try s.runner.run([], time: 8 * UInt64(windows) + 9)
        var results: [[(PublicKey, TrainerWindowResult)]] = []
        for k in 0 ..< UInt64(windows) {
            results.append(try s.world.users.compactMap { user in
                try s.read(TrainerWindowResult.self, StateKey.trainerWindow(window: k, trainer: user.publicKey)).map { (user.publicKey, $0) }
            })
        }
        return (s, results)
    }

    @Test("openskill.py 6.2.0 recomputes every window's ratings from the exported results (tools/openskill/recompute.py; skipped without its virtualenv)")
    func recomputeWithOpenSkillPy() throws {
        let (s, results) = try Self.history(seed: 77, users: 6, windows: 8)
        #expect(results.allSatisfy { !$0.isEmpty } && results.flatMap { $0 }.contains { $0.1.rank > 2 })
        let all = results.flatMap { $0 }.map(\.1)
        #expect(all.contains { $0.penalties.contains(.stale) } && all.contains { $0.penalties.contains(.missing) } && all.contains { $0.payout > 0 })
        #expect(try s.supplyHolds())
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let python = root.appendingPathComponent(".venv-openskill/bin/python").path
        guard FileManager.default.isExecutableFile(atPath: python) else {
            print("recompute.py skipped: no \(python) (tools/openskill/setup_openskill_venv.sh creates it)")
            return
        }
        let p = SettlementScenario.rewards.rating
        var lines = ["{\"rating\": {\"mu\": \(p.mu), \"sigma\": \(p.sigma), \"beta\": \(p.beta), \"tau\": \(p.tau)}}"]
        for (k, window) in results.enumerated() {
            let trainers = window.map { key, r in
                "{\"trainer\": \"\(key.hex)\", \"rank\": \(r.rank), \"rank_score_ppb\": \(r.rankScorePPB.map(String.init) ?? "null"), "
                    + "\"mu_before_nano\": \(r.muBeforeNano), \"sigma_before_nano\": \(r.sigmaBeforeNano), "
                    + "\"mu_after_nano\": \(r.muAfterNano), \"sigma_after_nano\": \(r.sigmaAfterNano)}"
            }
            lines.append("{\"window\": \(k), \"trainers\": [\(trainers.joined(separator: ", "))]}")
        }
        let export = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-ratings-\(UInt64.random(in: 0 ... .max)).jsonl")
        try lines.joined(separator: "\n").write(to: export, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: export) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [root.appendingPathComponent("tools/openskill/recompute.py").path, export.path]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        print(output)
        #expect(process.terminationStatus == 0, "\(output)")
    }
}
