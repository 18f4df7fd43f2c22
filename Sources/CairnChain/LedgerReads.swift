import CairnCore
import CairnLedger
import CairnStorage

/// The ledger's state as a node and an auditor read it from the store, and its first write.
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
