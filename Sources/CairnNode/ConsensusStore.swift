import CairnCore
import CairnCrypto
import CairnStorage
import DAGRider

/// The consensus part of a node's database (DESIGN §8), and the translation of core directives
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
    let database: Database

    public init(database: Database) { self.database = database }

    static let progressKey = Array("consensus".utf8)

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
        /// Chained hash of every delivered digest (DESIGN §5 "sequence hash").
        public var sequenceHash = Digest.zero

        public init() {}

        public func encode(to writer: inout CanonicalWriter) {
            writer.write(UInt8(1))
            for value in [decidedWave, lastCommittedRound, committedLeaders, delivered] { writer.write(value) }
            writer.write(sequenceHash)
        }

        public init(from reader: inout CanonicalReader) throws {
            try reader.expectVersion(1)
            decidedWave = try reader.read(UInt64.self)
            lastCommittedRound = try reader.read(UInt64.self)
            committedLeaders = try reader.read(UInt64.self)
            delivered = try reader.read(UInt64.self)
            sequenceHash = try reader.read(Digest.self)
        }
    }

    /// The delivered vertex at `position` and the sequence hash up to it.
    public func sequenceEntry(_ position: UInt64) throws -> (digest: Digest, round: UInt64, sequenceHash: Digest)? {
        guard let entry = try database.get(ColumnFamily.sequence.rawValue, StorageKey.uint64(position)), entry.count == 80 else { return nil }
        return (Digest(uncheckedBytes: Array(entry[0 ..< 32])), StorageKey.uint64(from: Array(entry[32 ..< 40])) ?? 0,
                Digest(uncheckedBytes: Array(entry[48 ..< 80])))
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

    /// Record ids carried by the vertices delivered at positions `from…`, at most `limit` vertices,
    /// in sequence order; returns the next position to ask for.
    public func committedRecords(from: UInt64, limit: Int) throws -> (ids: [Digest], next: UInt64) {
        let delivered = try progress().delivered
        var position = from
        var ids: [Digest] = []
        while position < delivered, position < from + UInt64(limit) {
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
        try database.get(ColumnFamily.records.rawValue, id.bytes).flatMap(StorageKey.uint64(from:))
    }

    public func progress() throws -> Progress {
        try database.get(Progress.self, .meta, Self.progressKey) ?? Progress()
    }

    /// Everything needed to rebuild the core after a restart.
    public func snapshot(gcDepth: UInt64) throws -> (ConsensusSnapshot, Progress) {
        let progress = try progress()
        var snapshot = ConsensusSnapshot()
        snapshot.decidedWave = progress.decidedWave
        snapshot.lastCommittedRound = progress.lastCommittedRound
        snapshot.committedLeaders = Int(progress.committedLeaders)
        let floor = progress.lastCommittedRound > gcDepth ? progress.lastCommittedRound - gcDepth : 0
        try database.scan(ColumnFamily.rounds.rawValue, from: StorageKey.uint64(floor)) { _, value in
            if let digest = try? Digest(canonicalBytes: value),
               let certificate = try database.get(Certificate.self, .certificates, digest.bytes) {
                snapshot.certificates.append(certificate)
            }
            return true
        }
        try database.scan(ColumnFamily.meta.rawValue, prefix: Array("proposal/".utf8)) { _, value in
            snapshot.ownProposals.append(try SignedVertex(canonicalBytes: value))
            return true
        }
        try database.scan(ColumnFamily.meta.rawValue, prefix: Array("vote/".utf8)) { _, value in
            snapshot.votes.append(try Vote(canonicalBytes: value))
            return true
        }
        // Recently delivered digests at or above the floor. Leaders commit in increasing round
        // order and a leader at round R delivers nothing below R − gcDepth, so walking back from
        // the end can stop at the first entry whose leader is below the floor — not at the first
        // old vertex, since weak edges deliver old vertices after newer ones.
        var position = progress.delivered
        while position > 0 {
            position -= 1
            guard let entry = try database.get(ColumnFamily.sequence.rawValue, StorageKey.uint64(position)), entry.count == 80 else {
                throw StorageError(operation: "read sequence position \(position)", message: "missing or malformed entry; the database is damaged")
            }
            let round = StorageKey.uint64(from: Array(entry[32 ..< 40])) ?? 0
            let leaderRound = StorageKey.uint64(from: Array(entry[40 ..< 48])) ?? 0
            if leaderRound < floor { break }
            if round >= floor { snapshot.recentlyDelivered.append(Digest(uncheckedBytes: Array(entry[0 ..< 32]))) }
        }
        return (snapshot, progress)
    }

    /// Applies the persistence directives of one core step in one batch; synced when it holds a
    /// proposal or a vote (they must be durable before the messages that follow are sent).
    /// Returns the updated progress and the digests newly delivered.
    public func apply(_ directives: [Directive], progress: Progress) throws -> (Progress, [Digest]) {
        var batch = WriteBatch()
        var sync = false
        var progress = progress
        var delivered: [Digest] = []
        var recorded: Set<Digest> = []
        for directive in directives {
            switch directive {
            case let .persistProposal(signed):
                batch.put(signed, .meta, Self.proposalKey(signed.vertex.round))
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
                progress.decidedWave = max(progress.decidedWave, committed.wave)
                progress.lastCommittedRound = max(progress.lastCommittedRound, committed.leaderRound)
                progress.committedLeaders += 1
                for certificate in committed.certificates {
                    progress.sequenceHash = Hashing.digest(.sequence, progress.sequenceHash.bytes + certificate.digest.bytes)
                    batch.put(ColumnFamily.sequence.rawValue, StorageKey.uint64(progress.delivered),
                              certificate.digest.bytes + StorageKey.uint64(certificate.vertex.round)
                                  + StorageKey.uint64(committed.leaderRound) + progress.sequenceHash.bytes)
                    for record in certificate.vertex.payload {
                        let id = Hashing.digest(.record, record)
                        // The first occurrence counts; a duplicate later in the sequence is ignored.
                        if try database.get(ColumnFamily.records.rawValue, id.bytes) == nil, !recorded.contains(id) {
                            batch.put(ColumnFamily.records.rawValue, id.bytes, StorageKey.uint64(progress.delivered))
                            recorded.insert(id)
                        }
                    }
                    progress.delivered += 1
                    delivered.append(certificate.digest)
                }
                batch.put(progress, .meta, Self.progressKey)
            default:
                break
            }
        }
        if !batch.isEmpty { try database.write(batch, sync: sync) }
        return (progress, delivered)
    }
}
