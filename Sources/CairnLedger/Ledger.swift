import CairnCore
import CairnCrypto

/// What the executor reads: the state and the record index as they were before the leader being
/// executed. The node backs it with RocksDB; auditors and tests with memory.
public protocol LedgerStore {
    func value(_ key: [UInt8]) throws -> [UInt8]?
    /// State entries whose keys start with `prefix`, in key order.
    func entries(prefix: [UInt8]) throws -> [(key: [UInt8], value: [UInt8])]
    /// Whether a record with this id was executed earlier in the sequence.
    func recordExecuted(_ id: Digest) throws -> Bool
}

/// State changes not yet written: what executing one or more leaders did, read back by the next
/// leader of the same batch before it reaches storage.
public struct Overlay: Sendable {
    /// New values (nil: deleted), by key.
    public private(set) var changes: [[UInt8]: [UInt8]?] = [:]
    /// Records executed in this overlay (for duplicate detection before they are stored).
    public private(set) var executed: Set<Digest> = []

    public init() {}

    public var isEmpty: Bool { changes.isEmpty && executed.isEmpty }

    mutating func set(_ key: [UInt8], _ value: [UInt8]?) { changes[key] = .some(value) }
    mutating func markExecuted(_ id: Digest) { executed.insert(id) }

    func value(_ key: [UInt8], in store: some LedgerStore) throws -> [UInt8]? {
        if let change = changes[key] { return change }
        return try store.value(key)
    }

    public func entries(prefix: [UInt8], in store: some LedgerStore) throws -> [(key: [UInt8], value: [UInt8])] {
        var merged: [[UInt8]: [UInt8]] = [:]
        for (key, value) in try store.entries(prefix: prefix) { merged[key] = value }
        for (key, change) in changes where key.starts(with: prefix) { merged[key] = change }
        return merged.sorted { $0.key.lexicographicallyPrecedes($1.key) }.map { (key: $0.key, value: $0.value) }
    }
}

/// Why a record was rejected; stored with it and returned by `GET /v1/records/{id}`.
public struct Rejection: Hashable, Sendable, Error, CustomStringConvertible {
    public enum Reason: String, Sendable, CaseIterable {
        case malformed
        case badSignature = "bad_signature"
        case unknownAccount = "unknown_account"
        case wrongNonce = "wrong_nonce"
        case insufficientBalance = "insufficient_balance"
        case invalidAmount = "invalid_amount"
        case balanceOverflow = "balance_overflow"
        case alreadyRegistered = "already_registered"
        case unknownTrainer = "unknown_trainer"
        case notValidator = "not_validator"
        case wrongWindow = "wrong_window"
        case oversize
        case invalidSteps = "invalid_steps"
        case unknownContribution = "unknown_contribution"
        case duplicateEvaluation = "duplicate_evaluation"
        case duplicateVote = "duplicate_vote"
        case wrongPhase = "wrong_phase"
        case duplicateCommitment = "duplicate_commitment"
        case noCommitment = "no_commitment"
        case revealMismatch = "reveal_mismatch"
        case duplicateContribution = "duplicate_contribution"
        case duplicateBlob = "duplicate_blob"
        case windowFull = "window_full"
    }

    public var reason: Reason
    public var detail: String

    public init(_ reason: Reason, _ detail: String) {
        self.reason = reason
        self.detail = detail
    }

    public var description: String { "\(reason.rawValue): \(detail)" }
}

public enum RecordOutcome: Hashable, Sendable {
    case accepted
    case rejected(Rejection)
}

public struct ExecutedRecord: Hashable, Sendable {
    public var id: Digest
    /// Sequence position of the vertex that carried it.
    public var position: UInt64
    public var kind: RecordBody.Kind?
    public var outcome: RecordOutcome
}

/// A vertex in the delivered sequence, as the ledger sees it.
public struct DeliveredVertex: Sendable {
    public var position: UInt64
    public var payload: [[UInt8]]

    public init(position: UInt64, payload: [[UInt8]]) {
        self.position = position
        self.payload = payload
    }
}

/// What executing one committed leader did, besides the state changes in the overlay.
public struct LeaderExecution: Sendable {
    /// Newly executed records in sequence order (duplicates of earlier records are ignored).
    public var records: [ExecutedRecord] = []
    /// Windows closed by this leader, oldest first.
    public var closedWindows: [UInt64] = []
    /// Checkpoints that reached 2f+1 matching votes.
    public var certified: [CheckpointCertificate] = []
}

/// The ledger's rules (ARCHITECTURE §5) as a pure executor: state in, changes and events out. Every
/// validator and auditor running it over the same sequence computes the same bytes.
public struct Ledger: Sendable {
    public struct Parameters: Sendable {
        public var chain: Digest
        public var validators: [PublicKey]
        public var registrationFee: UInt64
        /// Window length in consensus time (genesis `consensus.window_ms`).
        public var windowMs: UInt64
        /// Largest blob a contribution may name.
        public var maxContributionBytes: UInt64 = 64 << 20
        /// Genesis `task.lsh`: SimHash length and the agreement threshold of the evaluation quorum.
        public var lshBits: UInt32 = 256
        public var hammingThreshold: UInt32 = 7
        /// Genesis `task.training.max_aggregated`: at most this many contributions per outer step.
        public var maxAggregated: Int = 20
        /// Genesis `rewards` (ratings, penalties, emission; D53); nil: no settlement (ledger tests).
        public var rewards: RewardParameters?
        /// Genesis `task.compression.copycat_overlap_ppm` (D51).
        public var copycatOverlapPPM: UInt32 = CompressionSpec.defaultCopycatOverlapPPM
        /// Genesis `rewards.contribution_fee`: burned with every contribution that lands (D59).
        public var contributionFee: UInt64 = 0
        /// Genesis `task.training.max_contributions_per_window` (D59).
        public var maxContributionsPerWindow: UInt64 = UInt64(TrainingSpec.defaultMaxContributionsPerWindow)
        /// Genesis `consensus.max_round_interval_ms`: a leader's time counts for at most 8 × this per
        /// round since the previous committed leader (D59, with `phasedWindows`).
        public var maxRoundIntervalMs: UInt64?
        /// The phased window rules of D59 (`WindowState.advanced`: per-round and per-phase clock
        /// bounds, a window closes once the previous window's reveals have landed). Off: the plain
        /// rules of D46 (ledger tests); on for every chain built from genesis.
        public var phasedWindows = false
        /// Genesis `task.training`: the outer step's clip bound (D59), for the oversize rule.
        public var initialClipNorm: Double = TrainingSpec.defaultInitialClipNorm
        public var clipGrowth: Double = TrainingSpec.defaultClipGrowth
        /// Genesis `task.training.max_inner_steps`: the most inner steps a contribution may claim (D60).
        public var maxInnerSteps: UInt32 = 100_000

        public init(chain: Digest, validators: [PublicKey], registrationFee: UInt64, windowMs: UInt64) {
            self.chain = chain
            self.validators = validators
            self.registrationFee = registrationFee
            self.windowMs = windowMs
        }

        public var quorum: Int { 2 * ((validators.count - 1) / 3) + 1 }
    }

    public let parameters: Parameters
    let validatorIndex: [PublicKey: UInt32]
    /// How far past an account's next nonce a record may jump (so a typo cannot lock an account).
    public static let maxNonceGap: UInt64 = 1 << 20

    /// Computes the next model at finalization; nil where the state holds no model or none is
    /// computed (then the model carries over, which a validator that computes it would not accept).
    public let transition: (any ModelTransition)?

    public init(parameters: Parameters, transition: (any ModelTransition)? = nil) {
        self.parameters = parameters
        self.transition = transition
        var index: [PublicKey: UInt32] = [:]
        for (i, key) in parameters.validators.enumerated() { index[key] = UInt32(i) }
        validatorIndex = index
    }

    public init(genesis: Genesis, genesisHash: Digest, transition: (any ModelTransition)? = nil) {
        var parameters = Parameters(chain: genesisHash, validators: genesis.validators.map(\.publicKey),
                                    registrationFee: genesis.rewards.registrationFee, windowMs: UInt64(genesis.consensus.windowMs))
        parameters.lshBits = genesis.task.lsh.bits
        parameters.hammingThreshold = genesis.task.lsh.hammingThreshold
        parameters.maxAggregated = Int(genesis.task.training.maxAggregated)
        parameters.copycatOverlapPPM = genesis.task.compression.copycatOverlapPPM
        parameters.rewards = genesis.rewards
        parameters.contributionFee = genesis.rewards.contributionFee
        parameters.maxRoundIntervalMs = UInt64(genesis.consensus.maxRoundIntervalMs)
        parameters.phasedWindows = true
        parameters.maxContributionsPerWindow = UInt64(genesis.task.training.maxContributionsPerWindow)
        parameters.initialClipNorm = genesis.task.training.initialClipNorm
        parameters.clipGrowth = genesis.task.training.clipGrowth
        parameters.maxInnerSteps = genesis.task.training.maxInnerSteps
        self.init(parameters: parameters, transition: transition)
    }

    /// The state before the first record: genesis balances, an account (balance 0) for every
    /// validator that has none (their checkpoint votes need nonces), the supply, window 0.
    /// `model` is θ_0, the model window 0's trainers start from (the node derives it from genesis).
    public static func genesisState(_ genesis: Genesis, model: ModelRecord? = nil) throws -> [(key: [UInt8], value: [UInt8])] {
        try genesisState(accounts: genesis.accounts.map { ($0.publicKey, $0.balance) }, validators: genesis.validators.map(\.publicKey), model: model)
    }

    public static func genesisState(accounts: [(PublicKey, UInt64)], validators: [PublicKey], model: ModelRecord? = nil) throws -> [(key: [UInt8], value: [UInt8])] {
        var balances: [PublicKey: UInt64] = [:]
        var created: UInt64 = 0
        for (key, amount) in accounts {
            let (sum, overflow) = created.addingReportingOverflow(amount)
            guard !overflow else { throw Rejection(.balanceOverflow, "genesis balances exceed 2^64 − 1 base units") }
            created = sum
            balances[key, default: 0] += amount  // ≤ created, so no overflow
        }
        for validator in validators where balances[validator] == nil { balances[validator] = 0 }
        var entries = balances.map { (key: StateKey.account($0.key), value: Account(balance: $0.value).canonicalBytes) }
        entries.append((StateKey.supply, Supply(created: created).canonicalBytes))
        entries.append((StateKey.window, WindowState().canonicalBytes))
        if let model { entries.append((StateKey.model(0), model.canonicalBytes)) }
        return entries.sorted { $0.key.lexicographicallyPrecedes($1.key) }
    }

    /// Executes the vertices one committed leader delivered, in order, then advances the consensus
    /// clock to the leader's time (bounded per round since the previous leader when `leaderRound`
    /// is given, D59) and closes the open window if the clock passed its end
    /// (`WindowState.advanced`). `beacon` is the committing wave's coin beacon (stored with
    /// contributions as their evaluation seed, and with the window it closes). `verify` checks a
    /// record's signature (the node passes one that remembers records it already verified).
    public func execute(_ vertices: [DeliveredVertex], leaderTimeMs: UInt64, leaderRound: UInt64? = nil, beacon: Digest, store: some LedgerStore,
                        overlay: inout Overlay, verify: (SignedRecord) -> Bool) throws -> LeaderExecution {
        try execute(vertices, leaderTimeMs: leaderTimeMs, leaderRound: leaderRound, beacon: beacon, store: store, overlay: &overlay,
                    verifyRecord: { record, _ in verify(record) })
    }

    /// `execute` with a signature check that also receives the record's id (SHA-256 over 0x01 ‖ its
    /// canonical bytes, computed here once), so a cache of checked ids needs no second encoding.
    public func execute(_ vertices: [DeliveredVertex], leaderTimeMs: UInt64, leaderRound: UInt64? = nil, beacon: Digest, store: some LedgerStore,
                        overlay: inout Overlay, verifyRecord verify: (SignedRecord, Digest) -> Bool) throws -> LeaderExecution {
        var result = LeaderExecution()
        var context = Context(ledger: self, store: store, overlay: overlay, beacon: beacon)
        // The window cannot change while records execute (only the leader's clock below moves it),
        // so it is read once per leader, not once per record.
        context.recordWindow = try context.window()
        for vertex in vertices {
            for bytes in vertex.payload {
                let id = Hashing.digest(.record, bytes)
                if try context.overlay.executed.contains(id) || store.recordExecuted(id) { continue }  // duplicate: ignored
                context.overlay.markExecuted(id)
                let (kind, outcome) = try context.execute(bytes, verify: { verify($0, id) }, certified: &result.certified)
                result.records.append(ExecutedRecord(id: id, position: vertex.position, kind: kind, outcome: outcome))
            }
        }
        context.recordWindow = nil
        let window = try context.window()
        let nextPosition = (vertices.last?.position).map { $0 &+ 1 } ?? window.openedAtPosition
        // The reveals are counted (a scan of the previous window's contributions) only when this
        // leader could close the window: its clock cannot pass the window's end otherwise.
        let (end, endOverflow) = window.openedAtMs.addingReportingOverflow(parameters.windowMs)
        let mayClose = window.openedAtMs != 0 && !endOverflow && max(window.clockMs, leaderTimeMs) >= end
        let complete = parameters.phasedWindows && mayClose && window.current > 0 ? try context.revealsComplete(of: window.current - 1) : true
        let (advanced, closed) = window.advanced(leaderTimeMs: leaderTimeMs, leaderRound: leaderRound, maxRoundIntervalMs: parameters.maxRoundIntervalMs,
                                                 windowMs: parameters.windowMs, nextPosition: nextPosition, phased: parameters.phasedWindows,
                                                 revealsComplete: complete)
        if let closed {
            try context.closeWindow(closed)
            result.closedWindows.append(closed)
        }
        if advanced != window { context.overlay.set(StateKey.window, advanced.canonicalBytes) }
        overlay = context.overlay
        return result
    }

    /// The Merkle root over every state entry in key order (ARCHITECTURE §5, `StateMerkle`).
    public static func stateRoot(_ entries: some Sequence<(key: [UInt8], value: [UInt8])>) -> Digest {
        StateMerkle.root(entries)
    }
}

/// One leader's execution in progress: the store plus what this execution changed so far.
struct Context<Store: LedgerStore> {
    let ledger: Ledger
    let store: Store
    var overlay: Overlay
    let beacon: Digest
    /// The open window while one leader's records execute (set and cleared by `Ledger.execute`).
    var recordWindow: WindowState?
    var parameters: Ledger.Parameters { ledger.parameters }

    func read<T: CanonicalDecodable>(_ type: T.Type, _ key: [UInt8]) throws -> T? {
        guard let bytes = try overlay.value(key, in: store) else { return nil }
        return try T(canonicalBytes: bytes)
    }

    mutating func write(_ key: [UInt8], _ value: some CanonicalEncodable) { overlay.set(key, value.canonicalBytes) }

    func window() throws -> WindowState { try read(WindowState.self, StateKey.window) ?? WindowState() }

    /// The window-close hook, run in committed order before the next window opens: records the
    /// closing wave's beacon as the window's randomness and finalizes the evaluations of the
    /// previous window's contributions, whose reveal phase this close ends — ratings and payouts
    /// among them (ARCHITECTURE §7) — then computes the next model from the accepted ones (§6).
    mutating func closeWindow(_ window: UInt64) throws {
        overlay.set(StateKey.windowBeacon(window), beacon.bytes)
        let finalized = window > 0 ? try finalizeEvaluations(of: window - 1) : (accepted: [], escalateClipTo: nil)
        try advanceModel(closing: window, accepted: finalized.accepted, escalateClipTo: finalized.escalateClipTo)
    }

    /// Checks and applies one record. A rejected record changes nothing (its nonce is not used).
    mutating func execute(_ bytes: [UInt8], verify: (SignedRecord) -> Bool,
                          certified: inout [CheckpointCertificate]) throws -> (RecordBody.Kind?, RecordOutcome) {
        let record: SignedRecord
        let body: RecordBody
        do {
            record = try SignedRecord(canonicalBytes: bytes)
        } catch {
            return (nil, .rejected(Rejection(.malformed, "not a canonical SignedRecord: \(error)")))
        }
        do {
            body = try RecordBody(canonicalBytes: record.body)
        } catch {
            return (nil, .rejected(Rejection(.malformed, "body is not a canonical record body: \(error)")))
        }
        guard verify(record) else {
            return (body.kind, .rejected(Rejection(.badSignature, "signature does not verify for author \(record.author.short)… on this chain")))
        }
        let accountKey = StateKey.account(record.author)
        guard var account = try read(Account.self, accountKey) else {
            return (body.kind, .rejected(Rejection(.unknownAccount, "author \(record.author.short)… has no account")))
        }
        // Nonces only go up (gaps allowed): each is usable once, and a record overtaken by a later
        // one of the same author loses only itself, not every record after it.
        guard record.nonce >= account.nonce, record.nonce - account.nonce < Ledger.maxNonceGap else {
            return (body.kind, .rejected(Rejection(.wrongNonce, record.nonce < account.nonce
                ? "nonce \(record.nonce) was already passed; the next must be ≥ \(account.nonce)"
                : "nonce \(record.nonce) is more than \(Ledger.maxNonceGap) past the next (\(account.nonce))")))
        }
        // The account's next nonce is record.nonce + 1, which must exist.
        guard record.nonce < UInt64.max else {
            return (body.kind, .rejected(Rejection(.wrongNonce, "nonce 2^64 − 1 has no successor; this account can sign no more records")))
        }
        let snapshot = overlay
        do {
            try apply(body, record: record, account: &account, certified: &certified)
        } catch let rejection as Rejection {
            overlay = snapshot
            return (body.kind, .rejected(rejection))
        }
        // `apply` wrote the author's account if its balance changed; the nonce moves on either way.
        var updated = try read(Account.self, accountKey) ?? account
        updated.nonce = record.nonce + 1
        write(accountKey, updated)
        return (body.kind, .accepted)
    }

    /// The validator index of `author` and the window `contribution` was made in, or the rejection
    /// an evaluation record gets when either is missing.
    func evaluator(_ author: PublicKey, of contribution: Digest) throws -> (UInt32, UInt64) {
        guard let validator = ledger.validatorIndex[author] else {
            throw Rejection(.notValidator, "\(author.short)… is not a validator")
        }
        guard let windowBytes = try overlay.value(StateKey.contributionWindow(contribution), in: store),
              let contributionWindow = try? UInt64(canonicalBytes: windowBytes) else {
            throw Rejection(.unknownContribution, "no contribution \(contribution.short)…")
        }
        return (validator, contributionWindow)
    }

    /// Takes `fee` from the author's balance and burns it (registration and contribution fees).
    mutating func burnFee(_ fee: UInt64, what: String, author: PublicKey, account: inout Account) throws {
        guard account.balance >= fee else {
            throw Rejection(.insufficientBalance, "balance \(account.balance) < \(what) \(fee)")
        }
        guard fee > 0 else { return }
        account.balance -= fee
        var supply = try read(Supply.self, StateKey.supply) ?? Supply(created: 0)
        let (burned, overflow) = supply.burned.addingReportingOverflow(fee)
        guard !overflow else { throw Rejection(.balanceOverflow, "burned supply would exceed 2^64 − 1 base units") }
        supply.burned = burned
        write(StateKey.supply, supply)
        write(StateKey.account(author), account)
    }

    mutating func apply(_ body: RecordBody, record: SignedRecord, account: inout Account,
                        certified: inout [CheckpointCertificate]) throws {
        let window = try recordWindow ?? window()
        switch body {
        case let .transfer(transfer):
            guard transfer.amount > 0 else { throw Rejection(.invalidAmount, "amount must be at least 1 base unit") }
            guard account.balance >= transfer.amount else {
                throw Rejection(.insufficientBalance, "balance \(account.balance) < amount \(transfer.amount)")
            }
            guard transfer.to != record.author else { return }  // to oneself: only the nonce moves
            var recipient = try read(Account.self, StateKey.account(transfer.to)) ?? Account(balance: 0)
            let (sum, overflow) = recipient.balance.addingReportingOverflow(transfer.amount)
            guard !overflow else { throw Rejection(.balanceOverflow, "recipient balance would exceed 2^64 − 1") }
            recipient.balance = sum
            account.balance -= transfer.amount
            write(StateKey.account(record.author), account)
            write(StateKey.account(transfer.to), recipient)

        case let .register(register):
            guard try read(Trainer.self, StateKey.trainer(record.author)) == nil else {
                throw Rejection(.alreadyRegistered, "\(record.author.short)… is already a registered trainer")
            }
            try burnFee(parameters.registrationFee, what: "registration fee", author: record.author, account: &account)
            write(StateKey.trainer(record.author), Trainer(name: register.name, registeredInWindow: window.current))

        case let .contribution(contribution):
            guard try read(Trainer.self, StateKey.trainer(record.author)) != nil else {
                throw Rejection(.unknownTrainer, "\(record.author.short)… is not a registered trainer")
            }
            // Written without `baseWindow + 1`: a base window of 2^64 − 1 once trapped every
            // validator that executed it (DECISIONS D38).
            let previous = window.current > 0 ? window.current - 1 : nil
            guard contribution.baseWindow == window.current || contribution.baseWindow == previous else {
                throw Rejection(.wrongWindow, "base window \(contribution.baseWindow) is neither the current window \(window.current) nor the previous one")
            }
            guard contribution.blobSize <= parameters.maxContributionBytes else {
                throw Rejection(.oversize, "blob of \(contribution.blobSize) bytes exceeds \(parameters.maxContributionBytes)")
            }
            // The evaluator samples the own-data contexts from this many steps of the shard (D60).
            guard (1...parameters.maxInnerSteps).contains(contribution.innerSteps) else {
                throw Rejection(.invalidSteps, "the contribution claims \(contribution.innerSteps) inner steps; genesis allows 1…\(parameters.maxInnerSteps)")
            }
            let id = Hashing.digest(.record, record.canonicalBytes)
            // One per trainer per window (D51): each costs every validator an evaluation, and the
            // copycat rule compares a window's contributions pairwise.
            let slot = StateKey.trainerContribution(window: window.current, trainer: record.author)
            if let earlier = try read(Digest.self, slot) {
                throw Rejection(.duplicateContribution, "trainer \(record.author.short)… already contributed to window \(window.current) (record \(earlier.short)…); submit the next one in window \(window.current &+ 1)")
            }
            // A blob is named by one contribution ever (D59): resubmitting a Δ — one's own from an
            // earlier window, or another trainer's — would be evaluated and paid again, and applied
            // to the model twice. A re-valued copy has another id; the copycat rule compares its
            // indices with this window's and the previous window's contributions.
            if let earlier = try read(Digest.self, StateKey.blobContribution(contribution.blob)) {
                throw Rejection(.duplicateBlob, "blob \(contribution.blob.short)… is already named by contribution \(earlier.short)…; a blob counts once — train and submit your own Δ")
            }
            let ordinal = try read(UInt64.self, StateKey.contributionCount(window: window.current)) ?? 0
            // The cap and the fee (D59): every contribution costs every validator an evaluation in the
            // commit phase; the cap keeps a window's evaluations inside it, the burned fee prices them.
            guard ordinal < parameters.maxContributionsPerWindow else {
                throw Rejection(.windowFull, "window \(window.current) already holds \(ordinal) contributions, the genesis maximum; submit in window \(window.current &+ 1)")
            }
            try burnFee(parameters.contributionFee, what: "contribution fee", author: record.author, account: &account)
            write(StateKey.blobContribution(contribution.blob), id)
            write(slot, id)
            // ≤ one per registered trainer, so the count cannot reach 2^64 − 1.
            write(StateKey.contributionCount(window: window.current), ordinal + 1)
            write(StateKey.contribution(window: window.current, id: id),
                  StoredContribution(author: record.author, contribution: contribution, beacon: beacon, ordinal: ordinal))
            overlay.set(StateKey.contributionWindow(id), window.current.canonicalBytes)

        case let .evaluationCommit(commit):
            let (validator, contributionWindow) = try evaluator(record.author, of: commit.contribution)
            let phase = window.evaluationPhase(contributionWindow: contributionWindow, windowMs: parameters.windowMs)
            guard phase == .commit else {
                throw Rejection(.wrongPhase, "commitments for window \(contributionWindow)'s contributions closed at consensus time \(window.commitDeadlineMs(windowMs: parameters.windowMs)) of window \(contributionWindow &+ 1) (now window \(window.current), time \(window.clockMs))")
            }
            let key = StateKey.evaluationCommitment(contribution: commit.contribution, validator: validator)
            guard try overlay.value(key, in: store) == nil else {
                throw Rejection(.duplicateCommitment, "validator \(validator) already committed to an evaluation of \(commit.contribution.short)…")
            }
            write(key, StoredCommitment(commitment: commit.commitment, window: contributionWindow))

        case let .evaluation(evaluation):
            let (validator, contributionWindow) = try evaluator(record.author, of: evaluation.contribution)
            let phase = window.evaluationPhase(contributionWindow: contributionWindow, windowMs: parameters.windowMs)
            guard phase == .reveal else {
                throw Rejection(.wrongPhase, phase == .commit
                    ? "reveals for window \(contributionWindow)'s contributions open half-way through window \(contributionWindow &+ 1) (now window \(window.current), time \(window.clockMs))"
                    : "window \(contributionWindow)'s evaluations closed with window \(contributionWindow &+ 1)")
            }
            guard let committed = try read(StoredCommitment.self, StateKey.evaluationCommitment(contribution: evaluation.contribution, validator: validator)) else {
                throw Rejection(.noCommitment, "validator \(validator) committed to no evaluation of \(evaluation.contribution.short)… before the deadline")
            }
            // The commitment binds the revealing validator's key (D59): a commitment and reveal
            // copied byte for byte from another validator open nothing.
            guard committed.commitment == evaluation.commitment(chain: parameters.chain, window: contributionWindow, validator: record.author) else {
                throw Rejection(.revealMismatch, "the evaluation and salt do not hash, under this chain, window \(contributionWindow) and validator \(validator)'s key, to its commitment \(committed.commitment.short)…")
            }
            let key = StateKey.evaluation(contribution: evaluation.contribution, validator: validator)
            guard try overlay.value(key, in: store) == nil else {
                throw Rejection(.duplicateEvaluation, "validator \(validator) already evaluated \(evaluation.contribution.short)…")
            }
            write(key, StoredEvaluation(evaluation: evaluation, window: contributionWindow))

        case let .checkpointVote(vote):
            guard let validator = ledger.validatorIndex[record.author] else {
                throw Rejection(.notValidator, "\(record.author.short)… is not a validator")
            }
            guard vote.window < window.current else {
                throw Rejection(.wrongWindow, "window \(vote.window) is not closed yet (current window \(window.current))")
            }
            let key = StateKey.checkpointVote(window: vote.window, validator: validator)
            guard try overlay.value(key, in: store) == nil else {
                throw Rejection(.duplicateVote, "validator \(validator) already voted on window \(vote.window)")
            }
            write(key, StoredCheckpointVote(vote: vote, nonce: record.nonce, signature: record.signature))
            if try read(CheckpointCertificate.self, StateKey.checkpoint(vote.window)) == nil {
                let prefix = StateKey.checkpointVotes(window: vote.window)
                let matching = try overlay.entries(prefix: prefix, in: store).compactMap { entry -> CheckpointCertificate.Signer? in
                    guard let stored = try? StoredCheckpointVote(canonicalBytes: entry.value), stored.vote == vote,
                          let index = try? UInt32(canonicalBytes: Array(entry.key.suffix(4))) else { return nil }
                    return CheckpointCertificate.Signer(validator: index, nonce: stored.nonce, signature: stored.signature)
                }
                if matching.count >= parameters.quorum {
                    let certificate = CheckpointCertificate(vote: vote, signers: matching.sorted { $0.validator < $1.validator })
                    write(StateKey.checkpoint(vote.window), certificate)
                    certified.append(certificate)
                }
            }
        }
    }
}
