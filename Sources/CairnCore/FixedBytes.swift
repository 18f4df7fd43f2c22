/// A value that is exactly `byteCount` bytes: digests, public keys, signatures, curve points.
///
/// Encoded canonically with no length prefix and written as lower-case hex in JSON.
public protocol FixedBytes: Hashable, Sendable, Comparable, Codable, CanonicalCodable,
    CustomStringConvertible
{
    static var byteCount: Int { get }
    /// What the value is, for error messages ("Ed25519 public key").
    static var kindName: String { get }
    var bytes: [UInt8] { get }
    /// Wraps bytes whose count has already been checked.
    init(uncheckedBytes: [UInt8])
}

public struct FixedBytesError: Error, Hashable, Sendable, CustomStringConvertible {
    public var kind: String
    public var detail: String
    public var description: String { "invalid \(kind): \(detail)" }
}

extension FixedBytes {
    public static var minimumEncodedSize: Int { byteCount }

    public init(bytes: some Collection<UInt8>) throws {
        guard bytes.count == Self.byteCount else {
            throw FixedBytesError(kind: Self.kindName, detail: "expected \(Self.byteCount) bytes, got \(bytes.count)")
        }
        self.init(uncheckedBytes: Array(bytes))
    }

    public init(hex: String) throws {
        guard let bytes = Hex.decode(hex) else {
            throw FixedBytesError(kind: Self.kindName, detail: "'\(hex.prefix(80))' is not hexadecimal")
        }
        guard bytes.count == Self.byteCount else {
            throw FixedBytesError(
                kind: Self.kindName,
                detail: "expected \(Self.byteCount * 2) hex characters, got \(hex.utf8.count)")
        }
        self.init(uncheckedBytes: bytes)
    }

    public var hex: String { Hex.encode(bytes) }
    public var description: String { hex }
    /// The first 8 hex characters, for logs.
    public var short: String { String(hex.prefix(8)) }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.bytes.lexicographicallyPrecedes(rhs.bytes) }

    public func encode(to writer: inout CanonicalWriter) { writer.writeFixed(bytes) }

    public init(from reader: inout CanonicalReader) throws {
        self.init(uncheckedBytes: try reader.readFixed(count: Self.byteCount))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(hex)
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        do {
            try self.init(hex: text)
        } catch let error as FixedBytesError {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: error.description)
        }
    }
}

/// A SHA-256 digest. Every digest in Cairn is SHA-256 over a domain tag and canonical bytes.
///
/// Stored inline as four big-endian words rather than a byte array: digests are the keys of every
/// consensus map, and this makes them allocation-free and cheap to hash and compare. Word order
/// equals byte order, so comparisons agree with the byte form.
public struct Digest: FixedBytes {
    public static let byteCount = 32
    public static let kindName = "SHA-256 digest"
    let w0: UInt64, w1: UInt64, w2: UInt64, w3: UInt64

    public init(uncheckedBytes bytes: [UInt8]) {
        func word(_ i: Int) -> UInt64 {
            var value: UInt64 = 0
            for b in bytes[(8 * i) ..< (8 * i + 8)] { value = value << 8 | UInt64(b) }
            return value
        }
        w0 = word(0); w1 = word(1); w2 = word(2); w3 = word(3)
    }

    public var bytes: [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(32)
        for word in [w0, w1, w2, w3] {
            for shift in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: word >> UInt64(shift))) }
        }
        return out
    }

    public static func < (lhs: Digest, rhs: Digest) -> Bool { (lhs.w0, lhs.w1, lhs.w2, lhs.w3) < (rhs.w0, rhs.w1, rhs.w2, rhs.w3) }

    public func encode(to writer: inout CanonicalWriter) {
        writer.write(w0); writer.write(w1); writer.write(w2); writer.write(w3)
    }

    public init(from reader: inout CanonicalReader) throws {
        w0 = try reader.read(UInt64.self); w1 = try reader.read(UInt64.self)
        w2 = try reader.read(UInt64.self); w3 = try reader.read(UInt64.self)
    }

    public static let zero = Digest(uncheckedBytes: [UInt8](repeating: 0, count: 32))
}

/// An Ed25519 public key (validators, trainers, accounts).
public struct PublicKey: FixedBytes {
    public static let byteCount = 32
    public static let kindName = "Ed25519 public key"
    public let bytes: [UInt8]
    public init(uncheckedBytes: [UInt8]) { bytes = uncheckedBytes }
}

/// An Ed25519 signature.
public struct Signature: FixedBytes {
    public static let byteCount = 64
    public static let kindName = "Ed25519 signature"
    public let bytes: [UInt8]
    public init(uncheckedBytes: [UInt8]) { bytes = uncheckedBytes }
}

/// An encoded ristretto255 group element (coin public shares, commitments, coin shares).
/// Holding one says nothing about validity: CairnCrypto checks the encoding before use.
public struct CurvePoint: FixedBytes {
    public static let byteCount = 32
    public static let kindName = "ristretto255 point"
    public let bytes: [UInt8]
    public init(uncheckedBytes: [UInt8]) { bytes = uncheckedBytes }
}
