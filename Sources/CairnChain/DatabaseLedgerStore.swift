import CairnCore
import CairnLedger
import CairnStorage

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
