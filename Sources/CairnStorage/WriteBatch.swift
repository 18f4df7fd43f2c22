/// Puts and deletes across column families that `Database.write` applies atomically: after a
/// crash either all of them are visible or none is.
public struct WriteBatch: Sendable {
    public struct Operation: Sendable, Hashable {
        public var family: String
        public var key: [UInt8]
        /// nil deletes the key.
        public var value: [UInt8]?
    }

    public private(set) var operations: [Operation] = []
    /// Bytes of keys and values, for batch-size limits.
    public private(set) var byteCount = 0

    public init() {}

    public var count: Int { operations.count }
    public var isEmpty: Bool { operations.isEmpty }

    public mutating func put(_ family: String, _ key: [UInt8], _ value: [UInt8]) {
        operations.append(Operation(family: family, key: key, value: value))
        byteCount += key.count + value.count
    }

    public mutating func delete(_ family: String, _ key: [UInt8]) {
        operations.append(Operation(family: family, key: key, value: nil))
        byteCount += key.count
    }

    public mutating func removeAll() {
        operations.removeAll(keepingCapacity: true)
        byteCount = 0
    }
}
