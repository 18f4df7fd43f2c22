import CairnLedger
import CairnStorage

/// `cairn audit analyze-storage`: what a node's database holds, by column family and, for the
/// ledger state, by key prefix (the part before the first `/`). Counts by full scan: exact, and
/// proportional to the database's size.
public enum StorageAnalysis {
    public struct Sizes: Sendable {
        public var name: String
        public var keys: UInt64 = 0
        public var keyBytes: UInt64 = 0
        public var valueBytes: UInt64 = 0
    }

    public static func measure(_ database: Database) throws -> (families: [Sizes], statePrefixes: [Sizes]) {
        var families: [Sizes] = []
        var prefixes: [String: Sizes] = [:]
        for family in ColumnFamily.allCases {
            var sizes = Sizes(name: family.rawValue)
            try database.scan(family.rawValue) { key, value in
                sizes.keys += 1
                sizes.keyBytes += UInt64(key.count)
                sizes.valueBytes += UInt64(value.count)
                if family == .state {
                    let name = key.firstIndex(of: UInt8(ascii: "/")).map { String(decoding: key[...$0], as: UTF8.self) } ?? String(decoding: key.prefix(16), as: UTF8.self)
                    prefixes[name, default: Sizes(name: name)].keys += 1
                    prefixes[name]!.keyBytes += UInt64(key.count)
                    prefixes[name]!.valueBytes += UInt64(value.count)
                }
                return true
            }
            families.append(sizes)
        }
        return (families, prefixes.values.sorted { $0.name < $1.name })
    }
}
