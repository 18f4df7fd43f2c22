/// Reads little-endian fields from an untrusted byte string. Every read checks the remaining
/// length first and reports the offset, so a blob decoder can name exactly what is wrong.
struct BlobReader {
    let bytes: [UInt8]
    private(set) var offset = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var remaining: Int { bytes.count - offset }

    mutating func take(_ count: Int, _ field: @autoclosure () -> String) throws(BlobError) -> ArraySlice<UInt8> {
        guard count >= 0, count <= remaining else {
            throw BlobError(field: field(), offset: offset, problem: "truncated: needs \(count) bytes, \(remaining) left")
        }
        defer { offset += count }
        return bytes[offset..<(offset + count)]
    }

    mutating func uint(_ width: Int, _ field: @autoclosure () -> String) throws(BlobError) -> UInt64 {
        var value: UInt64 = 0
        for (i, byte) in try take(width, field()).enumerated() { value |= UInt64(byte) << (8 * UInt64(i)) }
        return value
    }

    /// Reads and checks the 8-byte header every Cairn blob starts with: magic, version, reserved = 0.
    mutating func header(magic: [UInt8], version: UInt16, kind: String) throws(BlobError) {
        guard Array(try take(magic.count, "magic")) == magic else {
            throw BlobError(field: "magic", offset: 0, problem: "not a Cairn \(kind) (expected \"\(String(decoding: magic, as: UTF8.self))\")")
        }
        let versionAt = offset
        let found = try u16("version")
        guard found == version else {
            throw BlobError(field: "version", offset: versionAt, problem: "version \(found) is not supported (this node reads version \(version))")
        }
        let reservedAt = offset
        guard try u16("reserved") == 0 else { throw BlobError(field: "reserved", offset: reservedAt, problem: "must be 0") }
    }

    mutating func u8(_ field: @autoclosure () -> String) throws(BlobError) -> UInt8 { UInt8(try uint(1, field())) }
    mutating func u16(_ field: @autoclosure () -> String) throws(BlobError) -> UInt16 { UInt16(try uint(2, field())) }
    mutating func u32(_ field: @autoclosure () -> String) throws(BlobError) -> UInt32 { UInt32(try uint(4, field())) }
    mutating func u64(_ field: @autoclosure () -> String) throws(BlobError) -> UInt64 { try uint(8, field()) }
    mutating func f32(_ field: @autoclosure () -> String) throws(BlobError) -> Float { Float(bitPattern: try u32(field())) }
}

/// Appends little-endian fields.
struct BlobWriter {
    private(set) var bytes: [UInt8] = []

    init(capacity: Int = 0) { bytes.reserveCapacity(capacity) }

    mutating func uint(_ value: UInt64, _ width: Int) {
        for i in 0..<width { bytes.append(UInt8(truncatingIfNeeded: value >> (8 * UInt64(i)))) }
    }

    mutating func u8(_ value: UInt8) { bytes.append(value) }
    mutating func u16(_ value: UInt16) { uint(UInt64(value), 2) }
    mutating func u32(_ value: UInt32) { uint(UInt64(value), 4) }
    mutating func u64(_ value: UInt64) { uint(value, 8) }
    mutating func f32(_ value: Float) { u32(value.bitPattern) }
    mutating func append(_ raw: some Sequence<UInt8>) { bytes.append(contentsOf: raw) }
}

/// Why a blob (pseudo-gradient or model) was refused: the field, its byte offset and the problem.
public struct BlobError: Error, Hashable, Sendable, CustomStringConvertible {
    public var field: String
    public var offset: Int
    public var problem: String
    public var description: String { "\(field) at byte \(offset): \(problem)" }
}
