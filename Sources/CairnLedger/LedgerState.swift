import CairnCore

/// Keys and values of the ledger state (ARCHITECTURE §5: the RocksDB `state` column family). Every
/// value is canonical bytes, so the state root — SHA-256 over the entries in key order — is the
/// same on every validator.
///
/// | key | value |
/// |---|---|
/// | `a/` ‖ public key | `Account` |
/// | `t/` ‖ public key | `Trainer` |
/// | `c/` ‖ window ‖ record id | `StoredContribution` |
/// | `ec/` ‖ contribution id ‖ validator index | `StoredCommitment` |
/// | `e/` ‖ contribution id ‖ validator index | `StoredEvaluation` (a revealed evaluation) |
/// | `cr/` ‖ contribution id | `EvaluationQuorum.Outcome` (written when its window is finalized) |
/// | `vf/` ‖ window ‖ validator index | `ValidatorFlags` (only validators flagged for that window's evaluations) |
/// | `v/` ‖ window ‖ validator index | `StoredCheckpointVote` |
/// | `k/` ‖ window | `CheckpointCertificate` |
/// | `wb/` ‖ window | beacon (32 bytes) of the wave that closed it |
/// | `m/` ‖ window | `ModelRecord` of the model that window's trainers start from |
/// | `ci/` ‖ contribution id | window it was made in |
/// | `bn/` ‖ blob id | the contribution that named it (one per blob ever, D59) |
/// | `supply` | `Supply` |
/// | `window` | `WindowState` |
public enum StateKey {
    public static func account(_ key: PublicKey) -> [UInt8] { accounts + key.bytes }
    public static let accounts = Array("a/".utf8)
    public static func trainer(_ key: PublicKey) -> [UInt8] { Array("t/".utf8) + key.bytes }
    public static func contribution(window: UInt64, id: Digest) -> [UInt8] { Array("c/".utf8) + window.canonicalBytes + id.bytes }
    public static func evaluation(contribution: Digest, validator: UInt32) -> [UInt8] {
        Array("e/".utf8) + contribution.bytes + validator.canonicalBytes
    }
    public static func evaluationCommitment(contribution: Digest, validator: UInt32) -> [UInt8] {
        Array("ec/".utf8) + contribution.bytes + validator.canonicalBytes
    }
    public static func contributionPrefix(window: UInt64) -> [UInt8] { Array("c/".utf8) + window.canonicalBytes }
    public static func evaluations(contribution: Digest) -> [UInt8] { Array("e/".utf8) + contribution.bytes }
    public static func evaluationCommitments(contribution: Digest) -> [UInt8] { Array("ec/".utf8) + contribution.bytes }
    public static func contributionOutcome(_ id: Digest) -> [UInt8] { Array("cr/".utf8) + id.bytes }
    /// One contribution per trainer per window (D51): the id of the trainer's contribution.
    public static func trainerContribution(window: UInt64, trainer: PublicKey) -> [UInt8] {
        Array("tc/".utf8) + window.canonicalBytes + trainer.bytes
    }
    /// Ratings and rewards (D53).
    public static let trainerPrefix = Array("t/".utf8)
    public static func trainerRating(_ key: PublicKey) -> [UInt8] { Array("rt/".utf8) + key.bytes }
    public static func trainerWindow(window: UInt64, trainer: PublicKey) -> [UInt8] { Array("tw/".utf8) + window.canonicalBytes + trainer.bytes }
    public static func trainerWindows(_ window: UInt64) -> [UInt8] { Array("tw/".utf8) + window.canonicalBytes }
    public static let trainerRatings = Array("rt/".utf8)
    public static func windowRewards(_ window: UInt64) -> [UInt8] { Array("wr/".utf8) + window.canonicalBytes }
    /// How many contributions window k took so far (the next one's ordinal).
    public static func contributionCount(window: UInt64) -> [UInt8] { Array("cn/".utf8) + window.canonicalBytes }
    public static func validatorFlags(window: UInt64, validator: UInt32) -> [UInt8] {
        Array("vf/".utf8) + window.canonicalBytes + validator.canonicalBytes
    }
    public static func checkpointVote(window: UInt64, validator: UInt32) -> [UInt8] {
        Array("v/".utf8) + window.canonicalBytes + validator.canonicalBytes
    }
    public static func checkpointVotes(window: UInt64) -> [UInt8] { Array("v/".utf8) + window.canonicalBytes }
    public static func checkpoint(_ window: UInt64) -> [UInt8] { Array("k/".utf8) + window.canonicalBytes }
    /// Which window a contribution was made in (to find it from an evaluation, which names only its id).
    public static func contributionWindow(_ id: Digest) -> [UInt8] { Array("ci/".utf8) + id.bytes }
    /// The contribution that named a blob (D59: a blob is named once).
    public static func blobContribution(_ blob: Digest) -> [UInt8] { Array("bn/".utf8) + blob.bytes }
    /// The beacon of the wave whose leader closed window k: the window's public randomness.
    public static func windowBeacon(_ window: UInt64) -> [UInt8] { Array("wb/".utf8) + window.canonicalBytes }
    public static func model(_ window: UInt64) -> [UInt8] { Array("m/".utf8) + window.canonicalBytes }
    public static let supply = Array("supply".utf8)
    /// Bound on a state key from outside (a proof request); the longest real key is under 50 bytes.
    public static let maxLength = 256
    public static let window = Array("window".utf8)

    /// A key for a human reader: its prefix and what it names (window numbers decoded, keys and
    /// digests in hex), e.g. `wr/ window 7` or `a/ 5f3c…`; unknown keys in hex.
    public static func describe(_ key: [UInt8]) -> String {
        let names: [(prefix: String, meaning: String, window: Bool)] = [
            ("supply", "the supply", false), ("window", "the current window", false),
            ("a/", "account", false), ("t/", "trainer", false), ("c/", "contribution", true), ("e/", "evaluation", false),
            ("ec/", "evaluation commitment", false), ("cr/", "contribution outcome", false), ("tc/", "trainer's contribution", true),
            ("rt/", "trainer rating", false), ("tw/", "trainer window result", true), ("wr/", "window rewards", true),
            ("cn/", "contribution count", true), ("vf/", "validator flags", true), ("v/", "checkpoint vote", true),
            ("k/", "checkpoint certificate", true), ("ci/", "contribution window", false), ("wb/", "window beacon", true),
            ("m/", "model", true), ("bn/", "blob's contribution", false),
        ]
        // Longest prefix first ("ec/" before "e/").
        for name in names.sorted(by: { $0.prefix.count > $1.prefix.count }) where key.starts(with: Array(name.prefix.utf8)) {
            let rest = Array(key.dropFirst(name.prefix.utf8.count))
            guard !rest.isEmpty else { return "\(name.prefix) (\(name.meaning))" }
            if name.window, rest.count >= 8, let window = try? UInt64(canonicalBytes: Array(rest.prefix(8))) {
                let tail = rest.dropFirst(8)
                return "\(name.prefix) (\(name.meaning)) window \(window)" + (tail.isEmpty ? "" : " \(Hex.encode(Array(tail)))")
            }
            return "\(name.prefix) (\(name.meaning)) \(Hex.encode(rest))"
        }
        return Hex.encode(key)
    }
}

public struct Account: Hashable, Sendable, CanonicalCodable {
    /// Integer base units.
    public var balance: UInt64
    /// The lowest nonce the author's next record may carry (one more than the last one used).
    public var nonce: UInt64

    public init(balance: UInt64, nonce: UInt64 = 0) {
        self.balance = balance
        self.nonce = nonce
    }

    public func encode(to writer: inout CanonicalWriter) {
        writer.write(UInt8(1))
        writer.write(balance)
        writer.write(nonce)
    }

    public init(from reader: inout CanonicalReader) throws {
        try reader.expectVersion(1)
        balance = try reader.field("balance") { try $0.read(UInt64.self) }
        nonce = try reader.field("nonce") { try $0.read(UInt64.self) }
    }
}

public struct Trainer: Hashable, Sendable, CanonicalCodable {
    public var name: String
    public var registeredInWindow: UInt64

    public init(name: String, registeredInWindow: UInt64) {
        self.name = name
        self.registeredInWindow = registeredInWindow
    }

    public func encode(to writer: inout CanonicalWriter) {
        writer.write(UInt8(1))
        writer.write(name)
        writer.write(registeredInWindow)
    }

    public init(from reader: inout CanonicalReader) throws {
        try reader.expectVersion(1)
        name = try reader.field("name") { try $0.read(String.self, maxLength: Register.maxNameBytes) }
        registeredInWindow = try reader.field("registered_in_window") { try $0.read(UInt64.self) }
    }
}

/// Base units in existence: what genesis and each window's emission created, and what fees and
/// payout remainders burned (D53). Balances always add up to `created − burned`; audits check
/// exactly that.
public struct Supply: Hashable, Sendable, CanonicalCodable {
    public var created: UInt64
    public var burned: UInt64

    public init(created: UInt64, burned: UInt64 = 0) {
        self.created = created
        self.burned = burned
    }

    public var circulating: UInt64 { created >= burned ? created - burned : 0 }  // burned ≤ created unless state is damaged

    public func encode(to writer: inout CanonicalWriter) {
        writer.write(UInt8(1))
        writer.write(created)
        writer.write(burned)
    }

    public init(from reader: inout CanonicalReader) throws {
        try reader.expectVersion(1)
        created = try reader.field("created") { try $0.read(UInt64.self) }
        burned = try reader.field("burned") { try $0.read(UInt64.self) }
    }
}

/// The open window and the consensus clock (ARCHITECTURE §5, DECISIONS D46).
///
/// The clock is the largest consensus time of any committed leader so far (`ConsensusTime`), so it
/// never goes back. Window 0 opens at the first nonzero clock; window k closes at the first
/// committed leader at which the clock is ≥ its opening time + `windowMs`. The next window opens at
/// that boundary, so a late close does not lengthen the windows after it — unless the clock is
/// already a whole window past it (the network stalled), when the next window opens at the clock
/// instead of closing a string of empty windows. At most one window closes per leader.
public struct WindowState: Hashable, Sendable, CanonicalCodable {
    public var current: UInt64
    /// Sequence position at which the current window opened (0 for window 0).
    public var openedAtPosition: UInt64
    /// Consensus time at which the current window opened; 0 until the clock first moves.
    public var openedAtMs: UInt64
    /// The consensus clock: the largest leader time committed so far.
    public var clockMs: UInt64
    /// Round of the last committed leader whose time moved the clock bound (D59); 0 before any.
    public var lastLeaderRound: UInt64
    /// Committed leaders executed in the current window since its clock reached the commit
    /// deadline (saturating; D59).
    public var revealLeaders: UInt32
    /// Leaders of reveal phase after which a window closes even without every reveal (D59).
    public static let revealFallbackLeaders: UInt32 = 12

    public init(current: UInt64 = 0, openedAtPosition: UInt64 = 0, openedAtMs: UInt64 = 0, clockMs: UInt64 = 0, lastLeaderRound: UInt64 = 0,
                revealLeaders: UInt32 = 0) {
        self.current = current
        self.openedAtPosition = openedAtPosition
        self.openedAtMs = openedAtMs
        self.clockMs = clockMs
        self.lastLeaderRound = lastLeaderRound
        self.revealLeaders = revealLeaders
    }

    /// The state after a committed leader of round `leaderRound` with consensus time
    /// `leaderTimeMs`, and the window it closed, if any. `nextPosition` is the sequence position
    /// after the leader's vertices. Every sum is overflow-checked (D38): a boundary past 2^64 − 1
    /// is never reached.
    ///
    /// With `phased` (every chain built from genesis; D59) three rules keep a clock jump from
    /// skipping a window or its reveal phase:
    /// - **per round**: the leader's time counts for at most 8 × `maxRoundIntervalMs` per round
    ///   since the previous committed leader — an honest validator proposes at least every max round
    ///   interval, so only a stalled network's time exceeds it;
    /// - **per phase**: one leader moves the clock across at most one boundary of the open window —
    ///   up to its commit deadline, then up to its end;
    /// - **reveals landed**: past its end, the window closes only once `revealsComplete` (every
    ///   contribution of the window before has as many reveals as commitments, or a quorum of them:
    ///   honest committers always reveal, so f silent ones cannot hold it) — or, as a fallback,
    ///   after `revealFallbackLeaders` leaders of reveal phase. A reveal is submitted when a
    ///   validator sees the reveal phase begin and is delivered by the second leader after; no count
    ///   of leaders or of time guarantees that when several leaders commit in one step (a late
    ///   leader committed recursively), but the reveals in state do.
    /// Measured without them (BENCHMARKS.md, D59): on localnets the clock stepped from before
    /// the commit deadline past the window's end in one leader, or in a few leaders of fast rounds
    /// after a catch-up, and no reveal of that window landed. The next window then opens at the
    /// closing leader's (per-round bounded) time, which also covers a stalled network.
    public func advanced(leaderTimeMs: UInt64, leaderRound: UInt64? = nil, maxRoundIntervalMs: UInt64? = nil, windowMs: UInt64,
                         nextPosition: UInt64, phased: Bool = false, revealsComplete: Bool = true) -> (state: WindowState, closed: UInt64?) {
        var next = self
        var time = leaderTimeMs
        if phased, let leaderRound, let maxRoundIntervalMs, clockMs > 0 {
            let rounds = leaderRound > lastLeaderRound ? leaderRound - lastLeaderRound : 0
            let (perRound, o0) = maxRoundIntervalMs.multipliedReportingOverflow(by: 8)
            let (allowance, o1) = rounds.multipliedReportingOverflow(by: perRound)
            let (limit, o2) = clockMs.addingReportingOverflow(allowance)
            if !o0 && !o1 && !o2 { time = min(time, limit) }
        }
        if let leaderRound { next.lastLeaderRound = max(lastLeaderRound, leaderRound) }
        guard openedAtMs != 0 else {
            next.clockMs = max(clockMs, time)
            next.openedAtMs = next.clockMs  // window 0 opens with the first consensus time
            return (next, nil)
        }
        let deadline = commitDeadlineMs(windowMs: windowMs)
        let (end, overflow) = openedAtMs.addingReportingOverflow(windowMs)
        let bounded = time
        if phased { time = min(time, clockMs < deadline ? deadline : (overflow ? .max : end)) }
        next.clockMs = max(clockMs, time)
        if next.clockMs >= deadline, next.revealLeaders < .max { next.revealLeaders += 1 }
        let revealed = !phased || (next.revealLeaders >= 1 && revealsComplete) || next.revealLeaders >= Self.revealFallbackLeaders
        guard windowMs > 0, !overflow, next.clockMs >= end, current < .max, revealed else { return (next, nil) }
        let (restart, late) = end.addingReportingOverflow(windowMs)
        next.current = current + 1
        next.openedAtPosition = nextPosition
        if phased {
            // The next window opens at the closing leader's (per-round bounded) time, not on the
            // grid: its commit phase — the validators' whole evaluation budget for this window's
            // contributions, which they start only now — is then ¾ of a window from this close
            // however late the close came (the reveal-leader minimum and idle waves make closes
            // late by seconds). Windows drift by that lateness; a stall needs no special case.
            next.openedAtMs = max(end, bounded)
        } else {
            // A stalled network: the clock is already a whole window past the end.
            next.openedAtMs = !late && next.clockMs >= restart ? next.clockMs : end
        }
        next.clockMs = max(next.clockMs, next.openedAtMs)
        next.revealLeaders = 0
        return (next, current)
    }

    /// The commit deadline inside the current window: its opening time + ¾ windowMs (2^64 − 1 if
    /// that overflows, so the reveal phase never opens rather than trapping). Three quarters (D59,
    /// was a half): honest validators evaluate window k's contributions on θ_{k+1}, known only at
    /// window k's close, so the commit phase is their whole evaluation time. Under D46's clock a
    /// quarter of a 30-second window (7.5 s) was too short a reveal phase — the clock stepped over
    /// it in one leader and no reveal landed — and ⅔ was used; the phased rules (`advanced`) since
    /// stop a leader from crossing more than one boundary and keep a window open until the
    /// previous window's reveals are in, so the reveal phase only has to be long enough for the
    /// reveals to commit (2–3 s measured), and at ⅔ a `spam` localnet at the contribution cap
    /// left 1–6 of 20 contributions a window without a quorum for lack of evaluation time.
    public func commitDeadlineMs(windowMs: UInt64) -> UInt64 {
        let (deadline, overflow) = openedAtMs.addingReportingOverflow(windowMs / 4 * 3 + windowMs % 4 * 3 / 4)
        return overflow ? .max : deadline
    }

    /// The evaluation phase for contributions made in `window` (ARCHITECTURE §6, D47, D59):
    /// commitments during that window and the first three quarters of the next; reveals in the
    /// last quarter of the next; nothing before or after (finalization at the next window's close).
    public func evaluationPhase(contributionWindow window: UInt64, windowMs: UInt64) -> EvaluationPhase {
        if current == window { return .commit }
        // Written without `window + 1` (D38): the window comes from state, but stays unbounded.
        guard current > 0, current - 1 == window else { return current < window ? .commit : .closed }
        return clockMs < commitDeadlineMs(windowMs: windowMs) ? .commit : .reveal
    }

    public func encode(to writer: inout CanonicalWriter) {
        writer.write(UInt8(3))
        writer.write(current)
        writer.write(openedAtPosition)
        writer.write(openedAtMs)
        writer.write(clockMs)
        writer.write(lastLeaderRound)
        writer.write(revealLeaders)
    }

    public init(from reader: inout CanonicalReader) throws {
        try reader.expectVersion(3)
        current = try reader.field("current") { try $0.read(UInt64.self) }
        openedAtPosition = try reader.field("opened_at_position") { try $0.read(UInt64.self) }
        openedAtMs = try reader.field("opened_at_ms") { try $0.read(UInt64.self) }
        clockMs = try reader.field("clock_ms") { try $0.read(UInt64.self) }
        lastLeaderRound = try reader.field("last_leader_round") { try $0.read(UInt64.self) }
        revealLeaders = try reader.field("reveal_leaders") { try $0.read(UInt32.self) }
    }
}

/// Where the evaluations of one window's contributions stand (`WindowState.evaluationPhase`).
public enum EvaluationPhase: Hashable, Sendable {
    case commit, reveal, closed
}

public struct StoredContribution: Hashable, Sendable, CanonicalCodable {
    public var author: PublicKey
    public var contribution: Contribution
    /// Beacon of the wave that committed it: the seed of its random evaluation batches (ARCHITECTURE §6).
    public var beacon: Digest
    /// Its place among the window's contributions in committed order, from 0 (the copycat rule,
    /// D51, penalizes the later of two).
    public var ordinal: UInt64

    public init(author: PublicKey, contribution: Contribution, beacon: Digest, ordinal: UInt64 = 0) {
        self.author = author
        self.contribution = contribution
        self.beacon = beacon
        self.ordinal = ordinal
    }

    public func encode(to writer: inout CanonicalWriter) {
        writer.write(UInt8(2))
        writer.write(author)
        writer.write(contribution)
        writer.write(beacon)
        writer.write(ordinal)
    }

    public init(from reader: inout CanonicalReader) throws {
        try reader.expectVersion(2)
        author = try reader.field("author") { try $0.read(PublicKey.self) }
        contribution = try reader.field("contribution") { try $0.read(Contribution.self) }
        beacon = try reader.field("beacon") { try $0.read(Digest.self) }
        ordinal = try reader.field("ordinal") { try $0.read(UInt64.self) }
    }
}

/// How a validator's evaluations of one window's contributions went, when anything went wrong:
/// commitments never revealed (or revealed wrongly), and reveals outside a quorum that formed.
public struct ValidatorFlags: Hashable, Sendable, CanonicalCodable {
    public var unrevealed: UInt32
    public var outsideQuorum: UInt32
    /// Reveals inside a quorum whose losses differ from the accepted score by more than genesis
    /// `rewards.penalties.validator_loss_tolerance_ppb` (D53).
    public var deviant: UInt32

    public init(unrevealed: UInt32 = 0, outsideQuorum: UInt32 = 0, deviant: UInt32 = 0) {
        self.unrevealed = unrevealed
        self.outsideQuorum = outsideQuorum
        self.deviant = deviant
    }

    public func encode(to writer: inout CanonicalWriter) {
        writer.write(UInt8(2))
        writer.write(unrevealed)
        writer.write(outsideQuorum)
        writer.write(deviant)
    }

    public init(from reader: inout CanonicalReader) throws {
        try reader.expectVersion(2)
        unrevealed = try reader.field("unrevealed") { try $0.read(UInt32.self) }
        outsideQuorum = try reader.field("outside_quorum") { try $0.read(UInt32.self) }
        deviant = try reader.field("deviant") { try $0.read(UInt32.self) }
    }
}

/// A validator's commitment to its evaluation of a contribution made in `window`.
public struct StoredCommitment: Hashable, Sendable, CanonicalCodable {
    public var commitment: Digest
    public var window: UInt64

    public init(commitment: Digest, window: UInt64) {
        self.commitment = commitment
        self.window = window
    }

    public func encode(to writer: inout CanonicalWriter) {
        writer.write(UInt8(1))
        writer.write(commitment)
        writer.write(window)
    }

    public init(from reader: inout CanonicalReader) throws {
        try reader.expectVersion(1)
        commitment = try reader.field("commitment") { try $0.read(Digest.self) }
        window = try reader.field("window") { try $0.read(UInt64.self) }
    }
}

public struct StoredEvaluation: Hashable, Sendable, CanonicalCodable {
    public var evaluation: Evaluation
    public var window: UInt64

    public init(evaluation: Evaluation, window: UInt64) {
        self.evaluation = evaluation
        self.window = window
    }

    public func encode(to writer: inout CanonicalWriter) {
        writer.write(UInt8(1))
        writer.write(evaluation)
        writer.write(window)
    }

    public init(from reader: inout CanonicalReader) throws {
        try reader.expectVersion(1)
        evaluation = try reader.field("evaluation") { try $0.read(Evaluation.self) }
        window = try reader.field("window") { try $0.read(UInt64.self) }
    }
}

/// A checkpoint vote as executed, with what anyone needs to check its signature again: the
/// signed bytes are rebuilt from the chain, the validator's key, `nonce` and the vote.
public struct StoredCheckpointVote: Hashable, Sendable, CanonicalCodable {
    public var vote: CheckpointVote
    public var nonce: UInt64
    public var signature: Signature

    public init(vote: CheckpointVote, nonce: UInt64, signature: Signature) {
        self.vote = vote
        self.nonce = nonce
        self.signature = signature
    }

    public func encode(to writer: inout CanonicalWriter) {
        writer.write(UInt8(1))
        writer.write(vote)
        writer.write(nonce)
        writer.write(signature)
    }

    public init(from reader: inout CanonicalReader) throws {
        try reader.expectVersion(1)
        vote = try reader.field("vote") { try $0.read(CheckpointVote.self) }
        nonce = try reader.field("nonce") { try $0.read(UInt64.self) }
        signature = try reader.field("signature") { try $0.read(Signature.self) }
    }
}

/// 2f+1 validators' matching checkpoint votes for one window (ARCHITECTURE §5): the ledger as of that
/// window's close, certified.
public struct CheckpointCertificate: Hashable, Sendable, CanonicalCodable {
    public struct Signer: Hashable, Sendable, CanonicalCodable {
        public var validator: UInt32
        public var nonce: UInt64
        public var signature: Signature

        public init(validator: UInt32, nonce: UInt64, signature: Signature) {
            self.validator = validator
            self.nonce = nonce
            self.signature = signature
        }

        public func encode(to writer: inout CanonicalWriter) {
            writer.write(validator)
            writer.write(nonce)
            writer.write(signature)
        }

        public init(from reader: inout CanonicalReader) throws {
            validator = try reader.field("validator") { try $0.read(UInt32.self) }
            nonce = try reader.field("nonce") { try $0.read(UInt64.self) }
            signature = try reader.field("signature") { try $0.read(Signature.self) }
        }
    }

    public var vote: CheckpointVote
    /// Sorted by validator index.
    public var signers: [Signer]

    public init(vote: CheckpointVote, signers: [Signer]) {
        self.vote = vote
        self.signers = signers
    }

    public func encode(to writer: inout CanonicalWriter) {
        writer.write(UInt8(1))
        writer.write(vote)
        writer.write(signers)
    }

    public init(from reader: inout CanonicalReader) throws {
        try reader.expectVersion(1)
        vote = try reader.field("vote") { try $0.read(CheckpointVote.self) }
        signers = try reader.field("signers") { try $0.read([Signer].self, maxCount: Genesis.maxValidators) }
    }
}
