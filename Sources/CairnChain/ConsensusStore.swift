import CairnCore
import CairnCrypto
import CairnStorage
import CairnLedger
import DAGRider

/// The consensus part of a node's database (ARCHITECTURE §8), and the translation of core directives
/// into atomic RocksDB batches.
///
/// - `certificates`: vertex digest → certificate
/// - `rounds`: round ‖ author → digest (for range catch-up and audits)
/// - `meta`: `proposal/<round>` → own signed vertex, `vote/<author>/<round>` → own vote,
///   `consensus` → decided wave, last committed round, committed leaders, delivered count
/// - `sequence`: position → delivered vertex digest ‖ vertex round ‖ round of the leader that
///   delivered it ‖ sequence hash up to and including it
/// - `records`: record id → position of the vertex that carried it (first occurrence)
public struct ConsensusStore: Sendable {
    public let database: Database
    /// Executes each committed leader into ledger state, in the same batch (nil: consensus only).
    public let ledger: LedgerRuntime?
    /// Closed windows whose whole state is kept for Merkle proofs (`StateSnapshots.swift`): the
    /// ledger runtime's setting unless given here.
    public let proofWindows: UInt64

    public init(database: Database, ledger: LedgerRuntime? = nil, proofWindows: UInt64? = nil) {
        self.database = database
        self.ledger = ledger
        let kept = proofWindows ?? ledger?.proofWindows ?? Self.defaultProofWindows
        self.proofWindows = max(1, min(kept, Self.maxProofWindows))
    }

    static let progressKey = Array("consensus".utf8)
    /// Round of the latest own proposal, written with it: restore reads this instead of every
    /// proposal ever made (restart cost must not grow with the chain's age).
    static let lastProposedKey = Array("last-proposed-round".utf8)

    static func proposalKey(_ round: UInt64) -> [UInt8] { Array("proposal/".utf8) + StorageKey.uint64(round) }
    static func voteKey(_ author: UInt32, _ round: UInt64) -> [UInt8] {
        Array("vote/".utf8) + StorageKey.uint64(UInt64(author)) + StorageKey.uint64(round)
    }

    /// Progress of the delivered sequence, stored with every commit in the same batch.
    public struct Progress: Hashable, Sendable, CanonicalCodable {
        public var decidedWave: UInt64 = 0
        public var lastCommittedRound: UInt64 = 0
        public var committedLeaders: UInt64 = 0
        public var delivered: UInt64 = 0
        /// Chained hash of every delivered digest (ARCHITECTURE §5 "sequence hash").
        public var sequenceHash = Digest.zero
        /// Ledger state root after the last executed leader, and the open window.
        public var stateRoot = Digest.zero
        public var window: UInt64 = 0

        public init() {}

        public func encode(to writer: inout CanonicalWriter) {
            writer.write(UInt8(2))
            for value in [decidedWave, lastCommittedRound, committedLeaders, delivered] { writer.write(value) }
            writer.write(sequenceHash)
            writer.write(stateRoot)
            writer.write(window)
        }

        public init(from reader: inout CanonicalReader) throws {
            let version = try reader.read(UInt8.self)
            guard version == 1 || version == 2 else { throw reader.fail(.unsupportedVersion(found: version, supported: 2)) }
            decidedWave = try reader.read(UInt64.self)
            lastCommittedRound = try reader.read(UInt64.self)
            committedLeaders = try reader.read(UInt64.self)
            delivered = try reader.read(UInt64.self)
            sequenceHash = try reader.read(Digest.self)
            if version == 2 {
                stateRoot = try reader.read(Digest.self)
                window = try reader.read(UInt64.self)
            }
        }
    }

    /// The delivered vertex at `position` and the sequence hash up to it.
    public func sequenceEntry(_ position: UInt64) throws -> (digest: Digest, round: UInt64, leaderRound: UInt64, sequenceHash: Digest)? {
        guard let entry = try database.get(ColumnFamily.sequence.rawValue, StorageKey.uint64(position)), entry.count == 80 else { return nil }
        return (Digest(uncheckedBytes: Array(entry[0 ..< 32])), StorageKey.uint64(from: Array(entry[32 ..< 40])) ?? 0,
                StorageKey.uint64(from: Array(entry[40 ..< 48])) ?? 0, Digest(uncheckedBytes: Array(entry[48 ..< 80])))
    }

    /// The vertex delivered at `position` with its sequence entry; nil when either is not stored.
    public func delivered(at position: UInt64) throws -> (entry: (digest: Digest, round: UInt64, leaderRound: UInt64, sequenceHash: Digest), certificate: Certificate)? {
        guard let entry = try sequenceEntry(position), let certificate = try certificates([entry.digest]).first else { return nil }
        return (entry, certificate)
    }

    /// Certificates by digest, from storage (full history, not just the in-memory DAG).
    public func certificates(_ digests: [Digest]) throws -> [Certificate] {
        try digests.compactMap { try database.get(Certificate.self, .certificates, $0.bytes) }
    }

    /// Every stored certificate of rounds `from…to`, at most `limit` of them, oldest first.
    public func certificates(rounds from: UInt64, to: UInt64, limit: Int) throws -> [Certificate] {
        var found: [Certificate] = []
        guard from <= to else { return found }
        let upper = to == .max ? nil : StorageKey.uint64(to + 1)
        try database.scan(ColumnFamily.rounds.rawValue, from: StorageKey.uint64(from), below: upper) { _, value in
            if let digest = try? Digest(canonicalBytes: value), let certificate = try database.get(Certificate.self, .certificates, digest.bytes) {
                found.append(certificate)
            }
            return found.count < limit
        }
        return found
    }

    /// Record ids carried by the vertices delivered at positions `from…`, at most `limit` vertices
    /// and (whole vertices) about `maxIDs` ids, in sequence order; returns the next position to
    /// ask for. `from` is a client's number: compared by difference, never added to.
    public func committedRecords(from: UInt64, limit: Int, maxIDs: Int = 10_000) throws -> (ids: [Digest], next: UInt64) {
        let delivered = try progress().delivered
        var position = from
        var ids: [Digest] = []
        while position < delivered, position - from < UInt64(max(0, limit)), ids.count < maxIDs {
            guard let entry = try sequenceEntry(position) else { break }
            guard let certificate = try database.get(Certificate.self, .certificates, entry.digest.bytes) else {
                // Pruned by the operator: say so for the first position asked; else stop before it.
                if position == from { throw HistoryPruned(position: position, round: entry.round, prunedBelow: try prunedBelow()) }
                break
            }
            ids += certificate.vertex.payload.map { Hashing.digest(.record, $0) }
            position += 1
        }
        return (ids, position)
    }

    /// The vertex at a sequence position was pruned (`cairn prune`), so its records are gone here.
    public struct HistoryPruned: Error, CustomStringConvertible, Sendable {
        public var position: UInt64
        public var round: UInt64
        public var prunedBelow: UInt64
        public var description: String {
            "position \(position) (round \(round)) was pruned from this node (history kept from round \(prunedBelow)); ask a node with full history"
        }
    }

    /// Position of the vertex that carried record `id`, if committed.
    public func recordPosition(_ id: Digest) throws -> UInt64? {
        try recordStatus(id)?.position
    }

    public func progress() throws -> Progress {
        try database.get(Progress.self, .meta, Self.progressKey) ?? Progress()
    }

    /// Everything needed to rebuild the core after a restart, and no more: certificates, own
    /// proposals and votes at or above the GC floor, and the last proposed round. The reads seek
    /// to the floor, so restart time and memory stay flat as history grows (D40).
    public func snapshot(gcDepth: UInt64, validators: Int) throws -> (ConsensusSnapshot, Progress) {
        let progress = try progress()
        var snapshot = ConsensusSnapshot()
        snapshot.decidedWave = progress.decidedWave
        snapshot.lastCommittedRound = progress.lastCommittedRound
        guard let committedLeaders = Int(exactly: progress.committedLeaders) else {
            throw StorageError(operation: "read consensus progress", message: "committed leaders \(progress.committedLeaders) is out of range; the database is damaged")
        }
        snapshot.committedLeaders = committedLeaders
        let floor = progress.lastCommittedRound > gcDepth ? progress.lastCommittedRound - gcDepth : 0
        try database.scan(ColumnFamily.rounds.rawValue, from: StorageKey.uint64(floor)) { _, value in
            if let digest = try? Digest(canonicalBytes: value),
               let certificate = try database.get(Certificate.self, .certificates, digest.bytes) {
                snapshot.certificates.append(certificate)
            }
            return true
        }
        let proposalsEnd = Database.prefixUpperBound(Array("proposal/".utf8))
        if let stored = try database.get(ColumnFamily.meta.rawValue, Self.lastProposedKey) {
            guard let round = StorageKey.uint64(from: stored) else {
                throw StorageError(operation: "read the last proposed round", message: "malformed value; the database is damaged")
            }
            snapshot.lastProposedRound = round
            try database.scan(ColumnFamily.meta.rawValue, from: Self.proposalKey(floor), below: proposalsEnd) { _, value in
                snapshot.ownProposals.append(try SignedVertex(canonicalBytes: value))
                return true
            }
        } else {
            // A database from before the last-proposed-round key: one full pass, once (the key
            // is written with the next proposal).
            try database.scan(ColumnFamily.meta.rawValue, prefix: Array("proposal/".utf8)) { _, value in
                let signed = try SignedVertex(canonicalBytes: value)
                snapshot.lastProposedRound = max(snapshot.lastProposedRound, signed.vertex.round)
                if signed.vertex.round >= floor { snapshot.ownProposals.append(signed) }
                return true
            }
        }
        for author in 0 ..< UInt32(validators) {
            try database.scan(ColumnFamily.meta.rawValue, from: Self.voteKey(author, floor), below: Self.voteKey(author + 1, 0)) { _, value in
                snapshot.votes.append(try Vote(canonicalBytes: value))
                return true
            }
        }
        // Recently delivered digests at or above the floor. Leaders commit in increasing round
        // order and a leader at round R delivers nothing below R − gcDepth, so walking back from
        // the end can stop at the first entry whose leader is below the floor — not at the first
        // old vertex, since weak edges deliver old vertices after newer ones.
        var position = progress.delivered
        while position > 0 {
            position -= 1
            guard let entry = try sequenceEntry(position) else {
                throw StorageError(operation: "read sequence position \(position)", message: "missing or malformed entry; the database is damaged")
            }
            if entry.leaderRound < floor { break }
            if entry.round >= floor { snapshot.recentlyDelivered.append(entry.digest) }
        }
        return (snapshot, progress)
    }

    /// What persisting one step did.
    public struct Applied: Sendable {
        public var progress: Progress
        /// Digests newly delivered.
        public var delivered: [Digest] = []
        /// Windows closed, with this validator's state root and sequence hash at their close.
        public var closedWindows: [ClosedWindow] = []
        /// Checkpoint certificates formed.
        public var certified: [CheckpointCertificate] = []
        /// Records executed: accepted and rejected.
        public var accepted = 0
        public var rejected: [Rejection.Reason: Int] = [:]
        /// This validator's pending records (accepted, not yet committed) that this step committed.
        public var pendingCleared = 0
    }

    /// Applies the persistence directives of one core step in one batch; synced when it holds a
    /// proposal or a vote (they must be durable before the messages that follow are sent). Each
    /// committed leader is executed into ledger state in the same batch, so state and sequence
    /// never get out of step (ARCHITECTURE §5).
    public func apply(_ directives: [Directive], progress: Progress) throws -> Applied {
        var batch = WriteBatch()
        var sync = false
        var applied = Applied(progress: progress)
        var recorded: Set<Digest> = []
        var overlay = Overlay()
        var snapshots: [(window: UInt64, entries: [(key: [UInt8], value: [UInt8])])] = []
        let ledgerStore = DatabaseLedgerStore(database: database)
        // Blobs staged by a step that failed before its batch was written belong to no state.
        _ = ledger?.models?.takeStaged()
        for directive in directives {
            switch directive {
            case let .persistProposal(signed):
                batch.put(signed, .meta, Self.proposalKey(signed.vertex.round))
                batch.put(ColumnFamily.meta.rawValue, Self.lastProposedKey, StorageKey.uint64(signed.vertex.round))
                sync = true
            case let .persistVote(vote):
                batch.put(vote, .meta, Self.voteKey(vote.author, vote.round))
                sync = true
            case let .storeCertificate(certificate):
                batch.put(certificate.certificate, .certificates, certificate.digest.bytes)
                batch.put(ColumnFamily.rounds.rawValue,
                          StorageKey.uint64(certificate.vertex.round) + StorageKey.uint64(UInt64(certificate.vertex.author)),
                          certificate.digest.bytes)
            case let .commit(committed):
                var progress = applied.progress
                progress.decidedWave = max(progress.decidedWave, committed.wave)
                progress.lastCommittedRound = max(progress.lastCommittedRound, committed.leaderRound)
                progress.committedLeaders += 1
                var vertices: [DeliveredVertex] = []
                for certificate in committed.certificates {
                    applied.pendingCleared += try clearPending(certificate.vertex.payload, in: &batch)
                    progress.sequenceHash = Hashing.digest(.sequence, progress.sequenceHash.bytes + certificate.digest.bytes)
                    batch.put(ColumnFamily.sequence.rawValue, StorageKey.uint64(progress.delivered),
                              certificate.digest.bytes + StorageKey.uint64(certificate.vertex.round)
                                  + StorageKey.uint64(committed.leaderRound) + progress.sequenceHash.bytes)
                    vertices.append(DeliveredVertex(position: progress.delivered, payload: certificate.vertex.payload))
                    if ledger == nil {
                        for record in certificate.vertex.payload {
                            let id = Hashing.digest(.record, record)
                            // The first occurrence counts; a duplicate later in the sequence is ignored.
                            if try database.get(ColumnFamily.records.rawValue, id.bytes) == nil, !recorded.contains(id) {
                                batch.put(RecordStatus(position: progress.delivered, rejection: nil), .records, id.bytes)
                                recorded.insert(id)
                            }
                        }
                    }
                    progress.delivered += 1
                    applied.delivered.append(certificate.digest)
                }
                if let ledger {
                    let execution = try ledger.ledger.execute(vertices, leaderTimeMs: committed.timeMs, leaderRound: committed.leaderRound, beacon: committed.beacon,
                                                              store: ledgerStore, overlay: &overlay, verifyRecord: ledger.verify)
                    for record in execution.records {
                        var rejection: Rejection?
                        if case let .rejected(reason) = record.outcome { rejection = reason }
                        batch.put(RecordStatus(position: record.position, rejection: rejection), .records, record.id.bytes)
                        if let rejection { applied.rejected[rejection.reason, default: 0] += 1 } else { applied.accepted += 1 }
                    }
                    let entries = try overlay.entries(prefix: [], in: ledgerStore)
                    progress.stateRoot = Ledger.stateRoot(entries)
                    progress.window += UInt64(execution.closedWindows.count)
                    for window in execution.closedWindows {
                        let closed = ClosedWindow(window: window, stateRoot: progress.stateRoot, sequenceHash: progress.sequenceHash,
                                                  delivered: progress.delivered)
                        batch.put(closed, .meta, Self.closedWindowKey(window))
                        snapshots.append((window, entries))
                        applied.closedWindows.append(closed)
                    }
                    applied.certified += execution.certified
                }
                applied.progress = progress
                batch.put(progress, .meta, Self.progressKey)
            default:
                break
            }
        }
        for (key, change) in overlay.changes {
            if let value = change { batch.put(ColumnFamily.state.rawValue, key, value) } else { batch.delete(ColumnFamily.state.rawValue, key) }
        }
        // The models the outer steps of this batch computed, beside the state that names them (D61).
        for (id, bytes) in ledger?.models?.takeStaged() ?? [] { batch.put(ColumnFamily.blobs.rawValue, id.bytes, bytes) }
        try keepStateSnapshots(snapshots, in: &batch)
        if !batch.isEmpty { try database.write(batch, sync: sync) }
        return applied
    }
}
