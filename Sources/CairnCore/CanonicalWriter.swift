/// Appends values in Cairn's canonical binary encoding.
///
/// The encoding is the single byte form of every value that is hashed, signed, stored or sent, so
/// every rule here is part of the protocol:
/// - integers are fixed width, **big-endian** (so encoded keys sort like the numbers they hold);
/// - `Bool` is one byte, `0` or `1`;
/// - byte strings, UTF-8 strings and arrays carry a `UInt32` big-endian length (element count for
///   arrays) followed by their contents; fixed-size values (digests, keys) carry no length;
/// - an optional is a `0` byte, or a `1` byte followed by the value;
/// - floating-point values are their IEEE-754 bit pattern (only finite values are valid);
/// - there are no maps: collections are arrays in an order the type defines;
/// - every top-level type starts with its own version byte (see `CanonicalCodable`).
public struct CanonicalWriter: Sendable {
    public private(set) var bytes: [UInt8]

    public init(reservingCapacity capacity: Int = 64) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    public mutating func write(_ value: UInt8) { bytes.append(value) }

    public mutating func write<T: FixedWidthInteger & UnsignedInteger>(_ value: T) {
        var v = value.bigEndian
        withUnsafeBytes(of: &v) { bytes.append(contentsOf: $0) }
    }

    public mutating func write(_ value: Bool) { bytes.append(value ? 1 : 0) }

    public mutating func write(_ value: Double) { write(value.bitPattern) }

    public mutating func write(_ value: Float) { write(value.bitPattern) }

    /// Raw bytes with no length prefix: only for values whose size the type fixes.
    public mutating func writeFixed(_ value: some Collection<UInt8>) {
        bytes.append(contentsOf: value)
    }

    /// A length-prefixed byte string.
    public mutating func writeBytes(_ value: some Collection<UInt8>) {
        precondition(value.count <= Int(UInt32.max), "byte string of \(value.count) bytes is too long to encode")
        write(UInt32(value.count))
        bytes.append(contentsOf: value)
    }

    /// A length-prefixed UTF-8 string.
    public mutating func write(_ value: String) { writeBytes(Array(value.utf8)) }

    public mutating func write<T: CanonicalEncodable>(_ value: T) { value.encode(to: &self) }

    public mutating func write<T: CanonicalEncodable>(_ values: [T]) {
        precondition(values.count <= Int(UInt32.max), "array of \(values.count) elements is too long to encode")
        write(UInt32(values.count))
        for value in values { value.encode(to: &self) }
    }

    public mutating func write<T: CanonicalEncodable>(_ value: T?) {
        if let value {
            write(UInt8(1))
            value.encode(to: &self)
        } else {
            write(UInt8(0))
        }
    }
}
