import CairnChain
import CairnCore
import CairnCrypto
import CairnLedger
import CairnNet
import CairnStorage
import DAGRider
import Foundation

/// The shell around the consensus core (ARCHITECTURE §2, STYLE.md §1): one actor feeds network, timer
/// and record events into `DAGRiderCore` and executes its directives — persistence first (synced
/// when a proposal or vote is among them), then messages. Messages are decoded and verified by
/// the caller, off the actor and in parallel across connections; only verified messages enter.
public actor ConsensusNode {
    public let settings: DAGRiderSettings
    let verifier: MessageVerifier
    let store: ConsensusStore
    let mesh: PeerMesh
    var core: DAGRiderCore
    var progress: ConsensusStore.Progress
    let started = ContinuousClock.now
    var nextTickMs: UInt64 = 0
    /// Per-peer budget and byte-split answers for catch-up requests served from storage (D39).
    var fetchServing: FetchServing
    public internal(set) var refused: [String: Int] = [:]
    public internal(set) var metrics = NodeMetrics()
    /// When each of this validator's recent proposals was made (for commit latency).
    var proposedAt: [UInt64: UInt64] = [:]
    /// Set when persisting a step failed. The core has already moved on in memory, so the node
    /// must stop (fail-stop): carrying on could vote again after a restart that lost the vote.
    var storageFailure: (any Error)?
    /// Signs this validator's own records (nil: none are cast, e.g. in consensus-only tests).
    var ownRecords: OwnRecordSigner?
    /// Set when a certified checkpoint disagrees with this validator's own state at that window.
    public private(set) var divergence: Divergence?
    /// Told once when a divergence is found (the service logs it).
    var onDivergence: (@Sendable (Divergence) -> Void)?
    /// Event metrics (commit latency, finalization outcomes); nil in consensus-only tests.
    let telemetry: NodeTelemetry?
    /// Vertices waiting for contribution blobs (D50); nil on a node without a ledger.
    var availability: BlobAvailability?
    let blobs: BlobStore

    public func setDivergenceHandler(_ handler: @escaping @Sendable (Divergence) -> Void) { onDivergence = handler }
    /// Told, with the current window, the stored blobs a vertex names as it reaches the core (the
    /// validator pins them against upload pruning, D59: a blob a proposal or certificate names
    /// must still be here when its contribution is evaluated and aggregated).
    var onBlobsNamed: (@Sendable ([Digest], UInt64) -> Void)?
    public func setBlobsNamedHandler(_ handler: @escaping @Sendable ([Digest], UInt64) -> Void) { onBlobsNamed = handler }

    /// Restores from `database` (empty on first start) and prepares to run over `mesh`.
    public init(settings: DAGRiderSettings, signer: any ConsensusSigner, verifier: any ConsensusVerifier,
                coin: any CoinScheme, coinVerifier: any CoinScheme, database: Database, mesh: PeerMesh,
                payloadValidator: (@Sendable ([UInt8]) -> Bool)? = nil,
                ledger: LedgerRuntime? = nil, genesisState: [(key: [UInt8], value: [UInt8])] = [], recordSigner: SigningKey? = nil,
                telemetry: NodeTelemetry? = nil, intake: AdmissionControl.Settings = AdmissionControl.Settings()) throws {
        self.settings = settings
        self.telemetry = telemetry
        fetchServing = FetchServing(settings: settings)
        self.verifier = MessageVerifier(settings: settings, verifier: verifier, coin: coinVerifier, payloadValidator: payloadValidator,
                                        cache: VerificationCache(reserve: true))
        store = ConsensusStore(database: database, ledger: ledger)
        if ledger != nil {
            try store.initializeLedger(genesisState)
            try store.pruneStateSnapshots()
        }
        ownRecords = recordSigner.flatMap { key in ledger.map { OwnRecordSigner(key: key, chain: $0.ledger.parameters.chain) } }
        self.mesh = mesh
        blobs = BlobStore(database: database)
        if ledger != nil { availability = BlobAvailability(me: settings.me, validators: settings.committee.size) }
        let (snapshot, progress) = try store.snapshot(gcDepth: settings.gcDepth, validators: settings.committee.size)
        self.progress = progress
        core = DAGRiderCore.restore(settings: settings, signer: signer, coin: coin, from: snapshot)
        // Proposals carry wall-clock timestamps (the ledger's windows run on their median, D46);
        // anchoring once keeps the core's intervals on the monotonic clock.
        core.clockOriginMs = Self.unixTimeMs() &- Self.elapsedMs(since: started)
        // Records accepted before a crash or stop and not committed yet are proposed again (D42);
        // the ledger ignores any that were committed meanwhile through another vertex.
        // In (author, nonce) order, so one author's records execute in the order they were signed.
        let pending = try store.pendingRecords().map { bytes in (bytes, try? SignedRecord(canonicalBytes: bytes)) }
            .sorted { a, b in
                guard let x = a.1 else { return false }
                guard let y = b.1 else { return true }
                return x.author.bytes.lexicographicallyPrecedes(y.author.bytes) || (x.author == y.author && x.nonce < y.nonce)
            }.map(\.0)
        _ = core.onRecords(pending)
        for bytes in pending {
            if let record = try? SignedRecord(canonicalBytes: bytes) { ownRecords?.restored(record) }
        }
        restoredPending = pending.count
        self.intake = IntakeGate(AdmissionControl(settings: intake, inFlight: pending.count))
    }

    /// The bound on records accepted and not yet committed (D62), shared with the API.
    public nonisolated let intake: IntakeGate

    /// Records restored from the pending store at start (for logs and tests).
    public private(set) var restoredPending = 0

    /// Shifts the wall clock this node stamps its proposals with (`[testing] clock_offset_ms`, D59).
    public func skewClock(_ skew: NodeConfig.ClockSkew) {
        switch skew {
        case .maximum:
            core.clockOriginMs = .max
        case let .offset(ms):
            core.clockOriginMs = ms >= 0 ? core.clockOriginMs &+ UInt64(ms) : core.clockOriginMs &- UInt64(-ms)
        }
    }

    /// Wall-clock ms since the Unix epoch (0 for a clock set before 1970).
    static func unixTimeMs() -> UInt64 {
        let ms = Date().timeIntervalSince1970 * 1000
        return ms.isFinite && ms > 0 && ms < 1e18 ? UInt64(ms) : 0
    }

    var nowMs: UInt64 { Self.elapsedMs(since: started) }

    static func elapsedMs(since started: ContinuousClock.Instant) -> UInt64 {
        let elapsed = ContinuousClock.now - started
        return UInt64(elapsed.components.seconds) * 1000 + UInt64(elapsed.components.attoseconds / 1_000_000_000_000_000)
    }

    public var round: UInt64 { core.round }
    /// Stored certificates the restore left out because storage lacked their parents (0 unless
    /// the database is damaged); catch-up fetches them from peers.
    public var unrestorableCertificates: Int { core.unrestorable }
    public var sequenceProgress: ConsensusStore.Progress { progress }

    /// What `/status` and `/health` report.
    public struct Status: Sendable {
        public var round: UInt64
        public var highestCompleteRound: UInt64
        public var progress: ConsensusStore.Progress
        public var pendingRecords: Int
        public var missingCertificates: Int
        public var refused: [String: Int]
        public var metrics: NodeMetrics
        public var divergence: Divergence?
        /// Certificates in memory and messages buffered for missing parents.
        public var dagSize = 0
        public var bufferedMessages = 0
        /// Behind when the DAG already holds complete rounds well past this validator's own.
        public var catchingUp: Bool { highestCompleteRound > round + 2 }
    }

    public var status: Status {
        Status(round: core.round, highestCompleteRound: core.highestQuorumRound, progress: progress,
               pendingRecords: core.pendingRecordCount, missingCertificates: core.missingCertificates, refused: refused,
               metrics: metrics, divergence: divergence, dagSize: core.dagSize,
               bufferedMessages: core.bufferedProposalCount + core.bufferedCertificateCount)
    }

    public nonisolated var database: ConsensusStore { store }

    /// Starts consensus (proposes, or re-sends the persisted proposal after a restart).
    public func start() throws {
        try recastMissingCheckpointVote()
        try execute(core.onStart(nowMs: nowMs))
    }

    /// A crash between a window's close (one batch) and its vote reaching the pending store would
    /// lose this validator's checkpoint vote: at start, vote again for the last closed window if
    /// neither the state nor the pending store holds a vote of ours for it and it is not certified.
    func recastMissingCheckpointVote() throws {
        guard let signer = ownRecords?.key, let ledger = store.ledger, progress.window > 0 else { return }
        let window = progress.window - 1
        guard let validator = ledger.ledger.parameters.validators.firstIndex(of: signer.publicKey),
              try store.checkpoint(window) == nil,
              try store.ledgerValue(StateKey.checkpointVote(window: window, validator: UInt32(validator))) == nil,
              let closed = try store.closedWindow(window) else { return }
        let ownPending = try store.pendingRecords().compactMap { try? SignedRecord(canonicalBytes: $0) }
            .filter { $0.author == signer.publicKey }
            .compactMap { record -> UInt64? in
                guard case let .checkpointVote(vote)? = try? RecordBody(canonicalBytes: record.body) else { return nil }
                return vote.window
            }
        guard !ownPending.contains(window) else { return }
        try castCheckpointVotes([closed])
    }

    /// Called by the timer loop; runs the core's tick when it asked for one.
    public func tick() throws {
        let now = nowMs
        guard now >= nextTickMs else { return }
        if let actions = availability?.tick(nowMs: now), !actions.isEmpty { perform(actions) }
        try execute(core.onTick(nowMs: now))
    }

    /// Decodes and verifies a peer's payload. `nonisolated`: runs on the caller's task, so the
    /// signature checks of different connections proceed in parallel, outside the actor.
    public nonisolated func verify(_ payload: [UInt8], from peer: Int) -> Result<VerifiedMessage, RejectReason>? {
        guard let message = try? ConsensusMessage(canonicalBytes: payload) else { return nil }
        return verifier.verify(message, from: peer)
    }

    public func receive(_ message: Result<VerifiedMessage, RejectReason>?, from peer: Int) throws {
        switch message {
        case nil:
            refused["malformed", default: 0] += 1
        case let .failure(reason):
            refused[reason.rawValue, default: 0] += 1
        case let .success(.fetchCertificates(digests)):
            // Served from storage, which keeps full history: a peer that fell behind past this
            // node's garbage-collection line can still catch up. Budgeted per peer and split by
            // bytes so every answer fits a frame (D39).
            guard fetchServing.admit(peer: peer, nowMs: nowMs) else { refused[RejectReason.fetchFlood.rawValue, default: 0] += 1; return }
            serve(try store.certificates(digests), to: peer)
        case let .success(.fetchRounds(from, to)):
            guard fetchServing.admit(peer: peer, nowMs: nowMs) else { refused[RejectReason.fetchFlood.rawValue, default: 0] += 1; return }
            serve(try store.certificates(rounds: from, to: to, limit: ConsensusMessage.maxCertificatesPerMessage), to: peer)
        case let .success(.fetchBlobs(ids)):
            guard fetchServing.admit(peer: peer, nowMs: nowMs) else { refused[RejectReason.fetchFlood.rawValue, default: 0] += 1; return }
            try serveBlobs(ids, to: peer)
        case let .success(.blob(id, bytes)):
            try receiveBlob(id: id, bytes: bytes)
        case let .success(.proposal(signed, digest)) where availability != nil:
            try admit(.proposal(signed, digest: digest, from: peer))
        case let .success(.certificate(certificate)) where availability != nil:
            try admit(.certificate(certificate, from: peer))
        case let .success(.certificates(certificates, rejected)) where availability != nil:
            if rejected > 0 { refused["invalid_certificate_in_answer", default: 0] += rejected }
            var ready: [VerifiedCertificate] = []
            for certificate in certificates {
                let missing = try missingBlobs(of: certificate.vertex)
                if missing.isEmpty { ready.append(certificate) } else { hold(.certificate(certificate, from: peer), missing: missing) }
            }
            try execute(core.onMessage(.certificates(ready, rejected: 0), from: peer, nowMs: nowMs))
        case let .success(verified):
            // Forged or invalid certificates inside a fetch answer are dropped by the verifier;
            // count them, as every other refusal is counted (D39).
            if case let .certificates(_, rejected) = verified, rejected > 0 {
                refused["invalid_certificate_in_answer", default: 0] += rejected
            }
            try execute(core.onMessage(verified, from: peer, nowMs: nowMs))
        }
    }

    func serve(_ certificates: [Certificate], to peer: Int) {
        metrics.fetchesServed += 1
        let (answers, skipped) = fetchServing.answers(certificates)
        if skipped > 0 { refused["fetch_answer_oversize", default: 0] += skipped }
        for answer in answers { mesh.send(to: peer, answer.canonicalBytes) }
    }

    /// Persist first (one atomic batch, synced if it holds a proposal or vote), then send.
    func execute(_ directives: [Directive]) throws {
        if let storageFailure { throw storageFailure }
        let applied: ConsensusStore.Applied
        do {
            applied = try store.apply(directives, progress: progress)
            progress = applied.progress
        } catch {
            // Nothing of this step is sent, and nothing after it will be.
            storageFailure = error
            throw error
        }
        intake.committed(applied.pendingCleared, nowMs: nowMs)
        metrics.recordsExecuted += UInt64(applied.accepted)
        for (reason, count) in applied.rejected { metrics.recordsRejectedInLedger[reason.rawValue, default: 0] += UInt64(count) }
        metrics.checkpointsCertified += UInt64(applied.certified.count)
        try castCheckpointVotes(applied.closedWindows)
        if let telemetry { try countFinalization(applied.closedWindows, into: telemetry) }
        if let found = try Divergence.latest(in: applied.certified, store: store) {
            if divergence == nil { onDivergence?(found) }
            divergence = found
        }
        let now = nowMs
        for directive in directives {
            switch directive {
            case let .send(to, message):
                switch message {
                case .fetchCertificates, .fetchRounds: metrics.fetchesSent += 1
                default: break
                }
                mesh.send(to: to, message.canonicalBytes)
            case let .broadcast(message):
                mesh.broadcast(message.canonicalBytes)
            case let .scheduleTick(at):
                nextTickMs = at
            case let .rejected(reason, _):
                refused[reason.rawValue, default: 0] += 1
            case let .dropped(certificates):
                refused["dropped_below_gc", default: 0] += 1
                metrics.verticesDropped += UInt64(certificates.count)
                // Own vertices that fell below the GC line uncommitted: their records are still in
                // the pending store, so propose them again (ARCHITECTURE §4, D15, D42).
                let own = certificates.filter { Int($0.vertex.author) == settings.me }.flatMap(\.vertex.payload)
                if !own.isEmpty { metrics.recordsResubmitted += UInt64(core.onRecords(own)) }
            case .storeCertificate:
                metrics.certificates += 1
            case .persistVote:
                metrics.votesCast += 1
            case let .persistProposal(signed):
                metrics.proposals += 1
                proposedAt[signed.vertex.round] = now
            case let .commit(committed):
                for certificate in committed.certificates {
                    metrics.recordsCommitted += UInt64(certificate.vertex.payload.count)
                    if Int(certificate.vertex.author) == settings.me, let at = proposedAt.removeValue(forKey: certificate.vertex.round) {
                        metrics.ownCommitted += 1
                        if let telemetry { NodeTelemetry.record(telemetry.commitLatency, seconds: Double(now - min(now, at)) / 1000) }
                    }
                }
                // Own proposals that never got delivered (dropped below GC) are forgotten.
                if proposedAt.count > 4 * Int(settings.gcDepth) { proposedAt = proposedAt.filter { $0.key + settings.gcDepth >= committed.leaderRound } }
            default:
                break
            }
        }
    }

    /// What each close finalized (D47, D48): reveals outside a quorum (LSH disagreements) and
    /// commitments never revealed, from the flags state holds for the window before, and whether
    /// the outer step changed the model.
    func countFinalization(_ closed: [ClosedWindow], into telemetry: NodeTelemetry) throws {
        for window in closed.map(\.window) {
            if window > 0 {
                for validator in 0 ..< settings.committee.size {
                    guard let bytes = try store.ledgerValue(StateKey.validatorFlags(window: window - 1, validator: UInt32(validator))),
                          let flags = try? ValidatorFlags(canonicalBytes: bytes) else { continue }
                    telemetry.countFlags(outsideQuorum: flags.outsideQuorum, unrevealed: flags.unrevealed)
                }
            }
            if let next = try store.model(window: window &+ 1), let previous = try store.model(window: window), next != previous {
                telemetry.countModelUpdate()
            }
        }
    }

    /// At each window close, votes for the state this validator computed (ARCHITECTURE §5): a signed
    /// `checkpointVote` record joins its next vertex like any submitted record.
    func castCheckpointVotes(_ closed: [ClosedWindow]) throws {
        for window in closed {
            // The model this close produced (the one window + 1 trains from, D48); zero on a chain without one.
            let model = try store.model(window: window.window &+ 1)?.hash ?? .zero
            _ = try submitOwnRecord(.checkpointVote(CheckpointVote(window: window.window, sequenceHash: window.sequenceHash,
                                                                  stateRoot: window.stateRoot, modelHash: model)))
        }
    }

    /// Makes `records` durable in the pending store before anyone is told they were accepted (one
    /// synced batch, D42), then hands them to the core; returns how many it took (a prefix of
    /// `records`). With `keepRefused` false the rest are forgotten again — an API client was told
    /// to resubmit them; own records stay pending and are proposed after a restart. Throws only
    /// when the store cannot make them durable, before the core sees any.
    public func admitRecords(_ records: [[UInt8]], keepRefused: Bool) throws -> Int {
        try store.persistPending(records)
        let taken = core.onRecords(records)
        if !keepRefused, taken < records.count { try? store.dropPending(Array(records[taken...])) }
        return taken
    }

    /// Signs `body` with this validator's record key and the next nonce of its account, makes it
    /// durable in the pending store (a restart must not lose it, D42) and hands it to the core for
    /// the next own vertex. Checkpoint votes and evaluation commitments and reveals go this way, so
    /// they share one nonce sequence. Returns the record id, or nil when the node signs no records.
    @discardableResult
    public func submitOwnRecord(_ body: RecordBody) throws -> Digest? {
        guard let key = ownRecords?.key,
              let (record, nonce) = ownRecords?.sign(body, accountNonce: try store.account(key.publicKey)?.nonce ?? 0) else { return nil }
        // Its nonce is spent once durable: kept pending even if the queue refuses it now.
        _ = try admitRecords([record], keepRefused: true)
        intake.admitted(1)
        ownRecords?.spent(nonce)
        return Hashing.digest(.record, record)
    }

    /// Runs the mesh and the timer until cancelled.
    public nonisolated func run(host: String, port: Int, onBound: @Sendable @escaping (Int) -> Void = { _ in }) async throws {
        try await start()
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask {
                try await self.mesh.run(host: host, port: port, onBound: onBound) { peer, payload in
                    let verified = self.verify(payload, from: peer)
                    try? await self.receive(verified, from: peer)
                }
            }
            group.addTask {
                // Also the watchdog: a storage failure in any step ends the run (and the process).
                while !Task.isCancelled {
                    try await Task.sleep(for: .milliseconds(5))
                    try await self.tick()
                }
            }
        }
    }
}
