import CairnCore
import CairnLedger
import CairnStorage

/// The ledger as a node runs it: the rules, and how record signatures are checked (the node's
/// check remembers records it verified when they were submitted or voted on).
public struct LedgerRuntime: Sendable {
    public let ledger: Ledger
    public let verify: @Sendable (SignedRecord) -> Bool
    /// Closed windows whose state the node keeps for proofs (`[storage] proof_windows`).
    public let proofWindows: UInt64

    public init(ledger: Ledger, proofWindows: UInt64 = ConsensusStore.defaultProofWindows, verify: @escaping @Sendable (SignedRecord) -> Bool) {
        self.ledger = ledger
        self.proofWindows = proofWindows
        self.verify = verify
    }
}

/// The executor's view of RocksDB: the `state` column family and the `records` index.
struct DatabaseLedgerStore: LedgerStore {
    let database: Database

    func value(_ key: [UInt8]) throws -> [UInt8]? { try database.get(ColumnFamily.state.rawValue, key) }

    func entries(prefix: [UInt8]) throws -> [(key: [UInt8], value: [UInt8])] {
        var found: [(key: [UInt8], value: [UInt8])] = []
        try database.scan(ColumnFamily.state.rawValue, prefix: prefix) { key, value in
            found.append((key, value))
            return true
        }
        return found
    }

    func recordExecuted(_ id: Digest) throws -> Bool { try database.get(ColumnFamily.records.rawValue, id.bytes) != nil }
}

/// What `records` holds per record id: where it was committed and what execution made of it.
public struct RecordStatus: Hashable, Sendable, CanonicalCodable {
    public var position: UInt64
    /// nil: executed (accepted).
    public var rejection: Rejection?

    public init(position: UInt64, rejection: Rejection?) {
        self.position = position
        self.rejection = rejection
    }

    public func encode(to writer: inout CanonicalWriter) {
        writer.write(UInt8(1))
        writer.write(position)
        writer.write(rejection != nil)
        if let rejection {
            writer.write(rejection.reason.rawValue)
            // The reader accepts at most 4,096 bytes: a longer detail would make the record's
            // status unreadable, so it is cut at a character boundary (the reason is what counts).
            writer.write(Self.bounded(rejection.detail))
        }
    }

    static let maxDetailBytes = 4096

    static func bounded(_ detail: String) -> String {
        guard detail.utf8.count > maxDetailBytes else { return detail }
        var cut = ""
        for character in detail {
            guard cut.utf8.count + character.utf8.count <= maxDetailBytes - 3 else { break }
            cut.append(character)
        }
        return cut + "…"
    }

    public init(from reader: inout CanonicalReader) throws {
        try reader.expectVersion(1)
        position = try reader.field("position") { try $0.read(UInt64.self) }
        if try reader.read(Bool.self) {
            let start = reader.offset
            let code = try reader.field("reason") { try $0.read(String.self, maxLength: 64) }
            guard let reason = Rejection.Reason(rawValue: code) else { throw reader.fail(.invalidValue("unknown rejection reason"), at: start) }
            rejection = Rejection(reason, try reader.field("detail") { try $0.read(String.self, maxLength: Self.maxDetailBytes) })
        } else {
            rejection = nil
        }
    }

    /// Decodes a stored value; the 8-byte form written before the ledger existed means executed.
    static func decode(_ bytes: [UInt8]) throws -> RecordStatus {
        if bytes.count == 8, let position = StorageKey.uint64(from: bytes) { return RecordStatus(position: position, rejection: nil) }
        return try RecordStatus(canonicalBytes: bytes)
    }
}

/// This validator's own view of a window when it closed: what it votes for, and what a
/// checkpoint certificate is compared with.
public struct ClosedWindow: Hashable, Sendable, CanonicalCodable {
    public var window: UInt64
    public var stateRoot: Digest
    public var sequenceHash: Digest
    /// Sequence length when it closed.
    public var delivered: UInt64

    public func encode(to writer: inout CanonicalWriter) {
        writer.write(UInt8(1))
        writer.write(window)
        writer.write(stateRoot)
        writer.write(sequenceHash)
        writer.write(delivered)
    }

    public init(window: UInt64, stateRoot: Digest, sequenceHash: Digest, delivered: UInt64) {
        self.window = window
        self.stateRoot = stateRoot
        self.sequenceHash = sequenceHash
        self.delivered = delivered
    }

    public init(from reader: inout CanonicalReader) throws {
        try reader.expectVersion(1)
        window = try reader.field("window") { try $0.read(UInt64.self) }
        stateRoot = try reader.field("state_root") { try $0.read(Digest.self) }
        sequenceHash = try reader.field("sequence_hash") { try $0.read(Digest.self) }
        delivered = try reader.field("delivered") { try $0.read(UInt64.self) }
    }
}

extension ConsensusStore {
    static func closedWindowKey(_ window: UInt64) -> [UInt8] { Array("closed/".utf8) + StorageKey.uint64(window) }

    /// Writes the genesis state into an empty database (a node's first start). Returns its root.
    public func initializeLedger(_ entries: [(key: [UInt8], value: [UInt8])]) throws {
        var progress = try progress()
        let empty = try DatabaseLedgerStore(database: database).entries(prefix: []).isEmpty
        guard empty else { return }
        guard progress.delivered == 0 else {
            // Delivered vertices but no state: written by a build without the ledger. Executing
            // from here would give a state no other validator has.
            throw StorageError(operation: "open \(database.path)",
                               message: "the database holds \(progress.delivered) delivered vertices but no ledger state (it predates the ledger); start this node from an empty data directory and let it catch up")
        }
        var batch = WriteBatch()
        for (key, value) in entries { batch.put(ColumnFamily.state.rawValue, key, value) }
        progress.stateRoot = Ledger.stateRoot(entries)
        batch.put(progress, .meta, Self.progressKey)
        try database.write(batch, sync: true)
    }

    public func recordStatus(_ id: Digest) throws -> RecordStatus? {
        try database.get(ColumnFamily.records.rawValue, id.bytes).map(RecordStatus.decode)
    }

    public func account(_ key: PublicKey) throws -> Account? {
        try database.get(Account.self, .state, StateKey.account(key))
    }

    /// The model window `window`'s trainers start from (D48), once the close before it happened.
    public func model(window: UInt64) throws -> ModelRecord? {
        try database.get(ModelRecord.self, .state, StateKey.model(window))
    }

    public func checkpoint(_ window: UInt64) throws -> CheckpointCertificate? {
        try database.get(CheckpointCertificate.self, .state, StateKey.checkpoint(window))
    }

    /// One raw state entry.
    public func ledgerValue(_ key: [UInt8]) throws -> [UInt8]? { try database.get(ColumnFamily.state.rawValue, key) }

    /// This validator's record of window `window` at its close.
    public func closedWindow(_ window: UInt64) throws -> ClosedWindow? {
        try database.get(ClosedWindow.self, .meta, Self.closedWindowKey(window))
    }

    /// Every state entry in key order (for audits and replays).
    public func stateEntries(prefix: [UInt8] = []) throws -> [(key: [UInt8], value: [UInt8])] {
        try DatabaseLedgerStore(database: database).entries(prefix: prefix)
    }
}
