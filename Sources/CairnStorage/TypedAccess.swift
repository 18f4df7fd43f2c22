import CairnCore

/// The column families of a node database (ARCHITECTURE §8).
public enum ColumnFamily: String, CaseIterable, Sendable {
    /// Schema version, genesis hash, last proposed round, votes cast.
    case meta
    /// Certificate digest → certificate.
    case certificates
    /// round ‖ author → certificate digest.
    case rounds
    /// SHA-256 → blob bytes.
    case blobs
    /// Position → vertex digest.
    case sequence
    /// Record id → status.
    case records
    case state
    case checkpoints
}

extension Database {
    /// Opens a database with every column family of `ColumnFamily`.
    public convenience init(nodePath path: String, mode: OpenMode = .readWrite) throws {
        try self.init(path: path, columnFamilies: ColumnFamily.allCases.map(\.rawValue), mode: mode)
    }

    public func get<T: CanonicalDecodable>(_: T.Type, _ family: ColumnFamily, _ key: [UInt8]) throws -> T? {
        guard let bytes = try get(family.rawValue, key) else { return nil }
        do {
            return try T(canonicalBytes: bytes)
        } catch {
            // Stored bytes were written by this code; failing to read them means corruption or a
            // version mismatch, never something to skip silently.
            throw StorageError(operation: "decode \(T.self) from \(family.rawValue) key \(Hex.encode(key.prefix(32)))",
                               message: "\(error)")
        }
    }

    public func put(_ value: some CanonicalEncodable, _ family: ColumnFamily, _ key: [UInt8], sync: Bool = false) throws {
        try put(family.rawValue, key, value.canonicalBytes, sync: sync)
    }
}

extension WriteBatch {
    public mutating func put(_ value: some CanonicalEncodable, _ family: ColumnFamily, _ key: [UInt8]) {
        put(family.rawValue, key, value.canonicalBytes)
    }
}

/// Big-endian key encodings, so RocksDB's byte order is numeric order.
public enum StorageKey {
    public static func uint64(_ value: UInt64) -> [UInt8] {
        var writer = CanonicalWriter(reservingCapacity: 8)
        writer.write(value)
        return writer.bytes
    }

    public static func uint64(from bytes: [UInt8]) -> UInt64? {
        guard bytes.count == 8 else { return nil }
        return bytes.reduce(0) { $0 << 8 | UInt64($1) }
    }
}
