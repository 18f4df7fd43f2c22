import CairnCore
import CairnCrypto
import CairnStorage

/// Content-addressed blobs (ARCHITECTURE §8 `blobs`: id → bytes), where trainers upload compressed
/// pseudo-gradients and fetch models. The id is the domain-tagged digest SHA-256(0x03 ‖ bytes), so a
/// blob can never be confused with a record or vertex of the same bytes.
public struct BlobStore: Sendable {
    let database: Database

    public init(database: Database) { self.database = database }

    public static func id(of bytes: [UInt8]) -> Digest { Hashing.digest(.blob, bytes) }

    public enum PutError: Error, Equatable, CustomStringConvertible {
        case hashMismatch(expected: Digest, actual: Digest)

        public var description: String {
            switch self {
            case let .hashMismatch(expected, actual):
                "the body hashes to \(actual.hex), not \(expected.hex) (blob ids are SHA-256 over 0x03 ‖ bytes)"
            }
        }
    }

    /// Stores `bytes` under `expected` after checking the hash; returns false when it was already
    /// there (uploads are idempotent).
    @discardableResult
    public func put(_ bytes: [UInt8], expected: Digest) throws -> Bool {
        let actual = Self.id(of: bytes)
        guard actual == expected else { throw PutError.hashMismatch(expected: expected, actual: actual) }
        if try contains(expected) { return false }
        try database.put(ColumnFamily.blobs.rawValue, expected.bytes, bytes)
        return true
    }

    public func get(_ id: Digest) throws -> [UInt8]? {
        try database.get(ColumnFamily.blobs.rawValue, id.bytes)
    }

    public func contains(_ id: Digest) throws -> Bool { try get(id) != nil }
}
