/// Why decoding stopped, where, and inside which field.
///
/// Decoding handles untrusted bytes, so every failure is reported as a value: a reader never traps
/// on malformed input.
public struct CodecError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Reason: Hashable, Sendable {
        case truncated(needed: Int, available: Int)
        case invalidBool(UInt8)
        case invalidOptionalTag(UInt8)
        case invalidUTF8
        case lengthExceedsLimit(length: UInt64, limit: Int)
        case unsupportedVersion(found: UInt8, supported: UInt8)
        case unknownTag(UInt8)
        case nonFiniteFloat
        case trailingBytes(Int)
        case invalidValue(String)
    }

    /// Byte offset in the input where the failing read started.
    public var offset: Int
    /// Field path from the outermost type, e.g. `Genesis.validators[2].name`.
    public var path: [String]
    public var reason: Reason

    public init(offset: Int, path: [String] = [], reason: Reason) {
        self.offset = offset
        self.path = path
        self.reason = reason
    }

    public var description: String {
        var joined = ""
        for component in path {
            joined += joined.isEmpty || component.hasPrefix("[") ? component : "." + component
        }
        let location = path.isEmpty ? "" : " in \(joined)"
        return "malformed encoding at byte \(offset)\(location): \(reasonText)"
    }

    private var reasonText: String {
        switch reason {
        case let .truncated(needed, available):
            return "needs \(needed) more bytes but only \(available) remain"
        case let .invalidBool(value):
            return "boolean byte is \(value), must be 0 or 1"
        case let .invalidOptionalTag(value):
            return "optional tag is \(value), must be 0 (absent) or 1 (present)"
        case .invalidUTF8:
            return "string is not valid UTF-8"
        case let .lengthExceedsLimit(length, limit):
            return "length \(length) exceeds the limit of \(limit)"
        case let .unsupportedVersion(found, supported):
            return "version \(found) is not supported (this build reads version \(supported))"
        case let .unknownTag(tag):
            return "unknown tag \(tag)"
        case .nonFiniteFloat:
            return "floating-point value is NaN or infinite"
        case let .trailingBytes(count):
            return "\(count) unexpected bytes after the value"
        case let .invalidValue(detail):
            return detail
        }
    }
}

/// Reads Cairn's canonical binary encoding (see `CanonicalWriter` for the rules).
///
/// Allocation is bounded by the input: a length or element count is checked against the bytes that
/// remain before anything is reserved, so a 10-byte input can never make the reader allocate a
/// gigabyte.
public struct CanonicalReader: ~Copyable {
    private let bytes: [UInt8]
    public private(set) var offset: Int

    public init(_ bytes: [UInt8]) {
        self.bytes = bytes
        self.offset = 0
    }

    public var remaining: Int { bytes.count - offset }

    public func fail(_ reason: CodecError.Reason, at offset: Int? = nil) -> CodecError {
        CodecError(offset: offset ?? self.offset, reason: reason)
    }

    /// Runs `body` and prefixes any error's path with `field`, so errors name the failing field.
    public mutating func field<T>(_ name: @autoclosure () -> String, _ body: (inout CanonicalReader) throws -> T) throws -> T {
        // The name is only built on failure: `String(describing: Self.self)` on every decode cost
        // 7% of a validator's CPU at saturation (reflection; BENCHMARKS "Bounded intake").
        do {
            return try body(&self)
        } catch var error as CodecError {
            error.path.insert(name(), at: 0)
            throw error
        }
    }

    private mutating func take(_ count: Int) throws -> ArraySlice<UInt8> {
        guard count >= 0, count <= remaining else {
            throw fail(.truncated(needed: count, available: remaining))
        }
        defer { offset += count }
        return bytes[offset ..< offset + count]
    }

    public mutating func read(_: UInt8.Type = UInt8.self) throws -> UInt8 {
        try take(1).first!
    }

    public mutating func read<T: FixedWidthInteger & UnsignedInteger>(_: T.Type) throws -> T {
        var value: T = 0
        for byte in try take(MemoryLayout<T>.size) {
            value = value << 8 | T(byte)
        }
        return value
    }

    public mutating func read(_: Bool.Type) throws -> Bool {
        let start = offset
        switch try read(UInt8.self) {
        case 0: return false
        case 1: return true
        case let other: throw fail(.invalidBool(other), at: start)
        }
    }

    /// A finite `Double`; NaN and infinities are rejected so that decoded values compare equal.
    public mutating func read(_: Double.Type) throws -> Double {
        let start = offset
        let value = Double(bitPattern: try read(UInt64.self))
        guard value.isFinite else { throw fail(.nonFiniteFloat, at: start) }
        return value
    }

    public mutating func read(_: Float.Type) throws -> Float {
        let start = offset
        let value = Float(bitPattern: try read(UInt32.self))
        guard value.isFinite else { throw fail(.nonFiniteFloat, at: start) }
        return value
    }

    public mutating func readFixed(count: Int) throws -> [UInt8] {
        Array(try take(count))
    }

    /// A length-prefixed byte string of at most `maxLength` bytes (and never more than remain).
    public mutating func readBytes(maxLength: Int = .max) throws -> [UInt8] {
        let start = offset
        let length = try read(UInt32.self)
        guard UInt64(length) <= UInt64(maxLength) else {
            throw fail(.lengthExceedsLimit(length: UInt64(length), limit: maxLength), at: start)
        }
        return Array(try take(Int(length)))
    }

    /// A length-prefixed UTF-8 string. Invalid UTF-8 is rejected rather than repaired, so that
    /// re-encoding a decoded string gives back the same bytes.
    public mutating func read(_: String.Type, maxLength: Int = .max) throws -> String {
        let start = offset
        let raw = try readBytes(maxLength: maxLength)
        guard let string = String(validating: raw, as: UTF8.self) else {
            throw fail(.invalidUTF8, at: start)
        }
        return string
    }

    public mutating func read<T: CanonicalDecodable>(_: T.Type) throws -> T {
        try T(from: &self)
    }

    /// An array of at most `maxCount` elements; the count is checked against the remaining input
    /// (each element takes at least `T.minimumEncodedSize` bytes) before reserving memory.
    public mutating func read<T: CanonicalDecodable>(_: [T].Type, maxCount: Int = .max) throws -> [T] {
        let start = offset
        let count = Int(try read(UInt32.self))
        let limit = min(maxCount, remaining / max(1, T.minimumEncodedSize))
        guard count <= limit else {
            throw fail(.lengthExceedsLimit(length: UInt64(count), limit: limit), at: start)
        }
        var values: [T] = []
        values.reserveCapacity(count)
        for index in 0 ..< count {
            values.append(try field("[\(index)]") { try T(from: &$0) })
        }
        return values
    }

    public mutating func read<T: CanonicalDecodable>(_: T?.Type) throws -> T? {
        let start = offset
        switch try read(UInt8.self) {
        case 0: return nil
        case 1: return try T(from: &self)
        case let other: throw fail(.invalidOptionalTag(other), at: start)
        }
    }

    /// Reads and checks a type's version byte.
    public mutating func expectVersion(_ supported: UInt8) throws {
        let start = offset
        let found = try read(UInt8.self)
        guard found == supported else {
            throw fail(.unsupportedVersion(found: found, supported: supported), at: start)
        }
    }

    /// Succeeds only if every input byte was consumed.
    public func finish() throws {
        guard remaining == 0 else { throw fail(.trailingBytes(remaining)) }
    }
}
