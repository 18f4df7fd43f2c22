/// A value with one canonical byte form (see `CanonicalWriter` for the rules).
public protocol CanonicalEncodable {
    func encode(to writer: inout CanonicalWriter)
}

/// A value that can be decoded from untrusted canonical bytes.
///
/// Implementations must accept exactly the byte strings that `encode` produces for valid values:
/// `decode(encode(x)) == x`, and `encode(decode(b)) == b` for every accepted `b`.
public protocol CanonicalDecodable {
    init(from reader: inout CanonicalReader) throws
    /// The fewest bytes one encoded value can take; bounds array pre-allocation by input size.
    static var minimumEncodedSize: Int { get }
}

extension CanonicalDecodable {
    public static var minimumEncodedSize: Int { 1 }
}

public typealias CanonicalCodable = CanonicalEncodable & CanonicalDecodable

extension CanonicalEncodable {
    /// The canonical bytes of this value.
    public var canonicalBytes: [UInt8] {
        var writer = CanonicalWriter()
        encode(to: &writer)
        return writer.bytes
    }
}

extension CanonicalDecodable {
    /// Decodes one value that must span all of `bytes`.
    public init(canonicalBytes bytes: [UInt8]) throws {
        var reader = CanonicalReader(bytes)
        let value = try reader.field(String(describing: Self.self)) { try Self(from: &$0) }
        try reader.finish()
        self = value
    }
}

// MARK: - Primitive conformances, so primitives can be array elements and optionals.

extension UInt8: CanonicalCodable {
    public func encode(to writer: inout CanonicalWriter) { writer.write(self) }
    public init(from reader: inout CanonicalReader) throws { self = try reader.read(UInt8.self) }
}

extension UInt16: CanonicalCodable {
    public func encode(to writer: inout CanonicalWriter) { writer.write(self) }
    public init(from reader: inout CanonicalReader) throws { self = try reader.read(UInt16.self) }
    public static var minimumEncodedSize: Int { 2 }
}

extension UInt32: CanonicalCodable {
    public func encode(to writer: inout CanonicalWriter) { writer.write(self) }
    public init(from reader: inout CanonicalReader) throws { self = try reader.read(UInt32.self) }
    public static var minimumEncodedSize: Int { 4 }
}

extension UInt64: CanonicalCodable {
    public func encode(to writer: inout CanonicalWriter) { writer.write(self) }
    public init(from reader: inout CanonicalReader) throws { self = try reader.read(UInt64.self) }
    public static var minimumEncodedSize: Int { 8 }
}

extension String: CanonicalCodable {
    public func encode(to writer: inout CanonicalWriter) { writer.write(self) }
    public init(from reader: inout CanonicalReader) throws { self = try reader.read(String.self) }
    public static var minimumEncodedSize: Int { 4 }
}

extension Double: CanonicalCodable {
    public func encode(to writer: inout CanonicalWriter) { writer.write(self) }
    public init(from reader: inout CanonicalReader) throws { self = try reader.read(Double.self) }
    public static var minimumEncodedSize: Int { 8 }
}
