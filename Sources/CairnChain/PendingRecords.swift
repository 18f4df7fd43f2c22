import CairnCore
import CairnCrypto
import CairnStorage

/// Records this validator accepted (202) and has not yet seen committed, kept in `meta` under
/// `pending/<record id>` (D42). They are written with a synced batch *before* the API answers, so a
/// crash cannot lose them; they are proposed again after a restart, and deleted in the batch that
/// commits them.
extension ConsensusStore {
    static let pendingPrefix = Array("pending/".utf8)
    static func pendingKey(_ id: Digest) -> [UInt8] { pendingPrefix + id.bytes }

    /// Makes `records` durable (one synced batch; RocksDB shares the sync among concurrent writers).
    public func persistPending(_ records: [[UInt8]]) throws {
        guard !records.isEmpty else { return }
        var batch = WriteBatch()
        for record in records { batch.put(ColumnFamily.meta.rawValue, Self.pendingKey(Hashing.digest(.record, record)), record) }
        try database.write(batch, sync: true)
    }

    /// Forgets records the core would not take (the client was told to retry).
    public func dropPending(_ records: [[UInt8]]) throws {
        guard !records.isEmpty else { return }
        var batch = WriteBatch()
        for record in records { batch.delete(ColumnFamily.meta.rawValue, Self.pendingKey(Hashing.digest(.record, record))) }
        try database.write(batch, sync: false)
    }

    /// Every pending record, in id order (at most `limit`).
    public func pendingRecords(limit: Int = 1_000_000) throws -> [[UInt8]] {
        var records: [[UInt8]] = []
        try database.scan(ColumnFamily.meta.rawValue, prefix: Self.pendingPrefix) { _, value in
            records.append(value)
            return records.count < limit
        }
        return records
    }

    /// Adds to `batch` the deletion of every pending record among `records` (those that exist);
    /// returns how many there were.
    func clearPending(_ records: [[UInt8]], in batch: inout WriteBatch) throws -> Int {
        var cleared = 0
        for record in records {
            let key = Self.pendingKey(Hashing.digest(.record, record))
            if try database.get(ColumnFamily.meta.rawValue, key) != nil {
                batch.delete(ColumnFamily.meta.rawValue, key)
                cleared += 1
            }
        }
        return cleared
    }
}
