import CairnCore

/// A trainer's standing (ARCHITECTURE §7, D53), at `rt/` ‖ trainer. Fixed point throughout: the
/// OpenSkill rating in 10^-9 units, the binary moving average in parts per million.
public struct TrainerRating: Hashable, Sendable, CanonicalCodable {
    public var muNano: Int64
    public var sigmaNano: Int64
    /// Moving average of the binary indicator, −10^6 … 10^6.
    public var bmaPPM: Int64
    /// Windows in which this trainer was rated (the bma warm-up counts these).
    public var ratedWindows: UInt32
    /// Consecutive rated windows without a scored contribution (the missing slash escalates).
    public var consecutiveMisses: UInt32
    /// Consecutive scores ≤ 0 (the aggregation exclusion counts these).
    public var negativeStreak: UInt32
    /// Consecutive windows without any contribution (the inactivity reset counts these).
    public var windowsWithout: UInt32
    /// False after an inactivity reset, until the trainer contributes again.
    public var active: Bool
    /// The last window's final score, 10^-9 units, ≥ 0.
    public var finalNano: Int64
    public var lastPayout: UInt64
    public var totalPayout: UInt64

    public init(prior: RatingParameters) {
        muNano = Self.nano(prior.mu)
        sigmaNano = Self.nano(prior.sigma)
        bmaPPM = 0
        ratedWindows = 0
        consecutiveMisses = 0
        negativeStreak = 0
        windowsWithout = 0
        active = true
        finalNano = 0
        lastPayout = 0
        totalPayout = 0
    }

    /// A rating value in 10^-9 units, rounded to nearest-even, clamped to ±9·10^18 (genesis keeps
    /// the parameters below 10^6, and Plackett–Luce updates are bounded; the clamp only keeps a
    /// conversion from trapping).
    public static func nano(_ value: Double) -> Int64 {
        guard value.isFinite else { return 0 }
        let scaled = (value * 1e9).rounded(.toNearestOrEven)
        return Int64(max(-9e18, min(9e18, scaled)))
    }

    public static func double(_ nano: Int64) -> Double { Double(nano) / 1e9 }

    public var mu: Double { Self.double(muNano) }
    public var sigma: Double { Self.double(sigmaNano) }
    /// μ − 3σ in 10^-9 units (openskill's default ordinal), saturating.
    public var ordinalNano: Int64 {
        let (triple, o1) = sigmaNano.multipliedReportingOverflow(by: 3)
        let (value, o2) = muNano.subtractingReportingOverflow(triple)
        return o1 || o2 ? (muNano < 0 ? .min : .max) : value
    }

    public func encode(to writer: inout CanonicalWriter) {
        writer.write(UInt8(1))
        writer.write(UInt64(bitPattern: muNano))
        writer.write(UInt64(bitPattern: sigmaNano))
        writer.write(UInt64(bitPattern: bmaPPM))
        writer.write(ratedWindows)
        writer.write(consecutiveMisses)
        writer.write(negativeStreak)
        writer.write(windowsWithout)
        writer.write(active)
        writer.write(UInt64(bitPattern: finalNano))
        writer.write(lastPayout)
        writer.write(totalPayout)
    }

    public init(from reader: inout CanonicalReader) throws {
        try reader.expectVersion(1)
        muNano = Int64(bitPattern: try reader.field("mu") { try $0.read(UInt64.self) })
        sigmaNano = Int64(bitPattern: try reader.field("sigma") { try $0.read(UInt64.self) })
        bmaPPM = Int64(bitPattern: try reader.field("bma") { try $0.read(UInt64.self) })
        ratedWindows = try reader.field("rated_windows") { try $0.read(UInt32.self) }
        consecutiveMisses = try reader.field("consecutive_misses") { try $0.read(UInt32.self) }
        negativeStreak = try reader.field("negative_streak") { try $0.read(UInt32.self) }
        windowsWithout = try reader.field("windows_without") { try $0.read(UInt32.self) }
        active = try reader.field("active") { try $0.read(Bool.self) }
        finalNano = Int64(bitPattern: try reader.field("final") { try $0.read(UInt64.self) })
        lastPayout = try reader.field("last_payout") { try $0.read(UInt64.self) }
        totalPayout = try reader.field("total_payout") { try $0.read(UInt64.self) }
    }
}

/// What happened to one trainer in one finalized window, at `tw/` ‖ window ‖ trainer.
public struct TrainerWindowResult: Hashable, Sendable, CanonicalCodable {
    public struct Penalties: OptionSet, Hashable, Sendable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        /// No contribution this window.
        public static let missing = Penalties(rawValue: 1 << 0)
        /// A contribution without an accepted score (no quorum).
        public static let noQuorum = Penalties(rawValue: 1 << 1)
        public static let copycat = Penalties(rawValue: 1 << 2)
        /// Judged non-finite or malformed by its quorum.
        public static let invalidBlob = Penalties(rawValue: 1 << 3)
        /// Left out of the outer step after a streak of scores ≤ 0.
        public static let excluded = Penalties(rawValue: 1 << 4)
        /// Rating and bma returned to the prior after too long without contributing.
        public static let inactivityReset = Penalties(rawValue: 1 << 5)
        /// Its contribution's base was an earlier window (the sync multiplier fell below 1).
        public static let stale = Penalties(rawValue: 1 << 6)
        /// bma below the floor after the warm-up: counted as 0.
        public static let bmaFloor = Penalties(rawValue: 1 << 7)
        /// Its Δ's norm was far above the window's median (D55): ranked as unscored, not aggregated.
        public static let oversized = Penalties(rawValue: 1 << 8)
        /// The window was not rated: its base model had no clip norm yet (θ_0, D57).
        public static let unrated = Penalties(rawValue: 1 << 9)

        public static let names: [(Penalties, String)] = [
            (.missing, "missing"), (.noQuorum, "no_quorum"), (.copycat, "copycat"), (.invalidBlob, "invalid_blob"),
            (.excluded, "excluded"), (.inactivityReset, "inactivity_reset"), (.stale, "stale"), (.bmaFloor, "bma_floor"),
            (.oversized, "oversized"), (.unrated, "unrated_window"),
        ]
        public var names: [String] { Self.names.filter { contains($0.0) }.map(\.1) }

        /// Penalties that keep a contribution out of the outer step (`Context.finalizeEvaluations`):
        /// a trainer that predicts the step (`cairn submit --eager all`, D67) leaves their authors out.
        public static let outOfStep: Penalties = [.noQuorum, .copycat, .invalidBlob, .excluded, .stale, .oversized]
    }

    public var contribution: Digest?
    public var scorePPB: Int64?
    /// The score it was ranked by (`Settlement.rankingScore`), nil when ranked as unscored (−2000)
    /// or not ranked; with the ratings before, enough to recompute the update elsewhere.
    public var rankScorePPB: Int64?
    /// Competition rank among the window's rated trainers, 1 best; 0 when not ranked.
    public var rank: UInt32
    public var muBeforeNano: Int64
    public var sigmaBeforeNano: Int64
    public var muAfterNano: Int64
    public var sigmaAfterNano: Int64
    public var bmaPPM: Int64
    public var finalNano: Int64
    public var penalties: Penalties
    public var payout: UInt64

    public init(contribution: Digest?, scorePPB: Int64?, rankScorePPB: Int64?, rank: UInt32, before: TrainerRating, after: TrainerRating,
                penalties: Penalties, payout: UInt64) {
        self.contribution = contribution
        self.scorePPB = scorePPB
        self.rankScorePPB = rankScorePPB
        self.rank = rank
        muBeforeNano = before.muNano
        sigmaBeforeNano = before.sigmaNano
        muAfterNano = after.muNano
        sigmaAfterNano = after.sigmaNano
        bmaPPM = after.bmaPPM
        finalNano = after.finalNano
        self.penalties = penalties
        self.payout = payout
    }

    public func encode(to writer: inout CanonicalWriter) {
        writer.write(UInt8(1))
        writer.write(contribution)
        writer.write(scorePPB.map { UInt64(bitPattern: $0) })
        writer.write(rankScorePPB.map { UInt64(bitPattern: $0) })
        writer.write(rank)
        for value in [muBeforeNano, sigmaBeforeNano, muAfterNano, sigmaAfterNano, bmaPPM, finalNano] {
            writer.write(UInt64(bitPattern: value))
        }
        writer.write(penalties.rawValue)
        writer.write(payout)
    }

    public init(from reader: inout CanonicalReader) throws {
        try reader.expectVersion(1)
        contribution = try reader.field("contribution") { try $0.read(Digest?.self) }
        scorePPB = try reader.field("score") { try $0.read(UInt64?.self) }.map { Int64(bitPattern: $0) }
        rankScorePPB = try reader.field("rank_score") { try $0.read(UInt64?.self) }.map { Int64(bitPattern: $0) }
        rank = try reader.field("rank") { try $0.read(UInt32.self) }
        muBeforeNano = Int64(bitPattern: try reader.read(UInt64.self))
        sigmaBeforeNano = Int64(bitPattern: try reader.read(UInt64.self))
        muAfterNano = Int64(bitPattern: try reader.read(UInt64.self))
        sigmaAfterNano = Int64(bitPattern: try reader.read(UInt64.self))
        bmaPPM = Int64(bitPattern: try reader.read(UInt64.self))
        finalNano = Int64(bitPattern: try reader.read(UInt64.self))
        penalties = Penalties(rawValue: try reader.field("penalties") { try $0.read(UInt32.self) })
        payout = try reader.field("payout") { try $0.read(UInt64.self) }
    }
}

/// One finalized window's emission and where it went, at `wr/` ‖ window:
/// emitted = trainersPaid + validatorsPaid + burned, exactly.
public struct WindowRewards: Hashable, Sendable, CanonicalCodable {
    /// One validator's part of the window's validator emission (D59): paid in proportion to the
    /// contributions it evaluated inside their quorums.
    public struct ValidatorPayout: Hashable, Sendable, CanonicalCodable {
        public var validator: UInt32
        /// Contributions whose quorum it sat in and that cost an evaluation (not flagged as an
        /// invalid, unavailable or out-of-sync blob).
        public var evaluations: UInt32
        public var payout: UInt64

        public init(validator: UInt32, evaluations: UInt32, payout: UInt64) {
            self.validator = validator
            self.evaluations = evaluations
            self.payout = payout
        }

        public func encode(to writer: inout CanonicalWriter) {
            writer.write(validator)
            writer.write(evaluations)
            writer.write(payout)
        }

        public init(from reader: inout CanonicalReader) throws {
            validator = try reader.field("validator") { try $0.read(UInt32.self) }
            evaluations = try reader.field("evaluations") { try $0.read(UInt32.self) }
            payout = try reader.field("payout") { try $0.read(UInt64.self) }
        }

        public static var minimumEncodedSize: Int { 16 }
    }

    public var emitted: UInt64
    public var trainersPaid: UInt64
    public var validatorsPaid: UInt64
    public var burned: UInt64
    /// Validators paid, by increasing index (flagged ones and those that evaluated nothing are absent).
    public var validators: [ValidatorPayout]

    public init(emitted: UInt64, trainersPaid: UInt64, validatorsPaid: UInt64, burned: UInt64, validators: [ValidatorPayout]) {
        self.emitted = emitted
        self.trainersPaid = trainersPaid
        self.validatorsPaid = validatorsPaid
        self.burned = burned
        self.validators = validators
    }

    public func encode(to writer: inout CanonicalWriter) {
        writer.write(UInt8(2))
        writer.write(emitted)
        writer.write(trainersPaid)
        writer.write(validatorsPaid)
        writer.write(burned)
        writer.write(validators)
    }

    public init(from reader: inout CanonicalReader) throws {
        try reader.expectVersion(2)
        emitted = try reader.field("emitted") { try $0.read(UInt64.self) }
        trainersPaid = try reader.field("trainers_paid") { try $0.read(UInt64.self) }
        validatorsPaid = try reader.field("validators_paid") { try $0.read(UInt64.self) }
        burned = try reader.field("burned") { try $0.read(UInt64.self) }
        validators = try reader.field("validators") { try $0.read([ValidatorPayout].self, maxCount: Genesis.maxValidators) }
    }
}
