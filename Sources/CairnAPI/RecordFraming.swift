/// The binary body of `POST /v1/records` (`application/octet-stream`): signed records in their
/// canonical encoding, each preceded by its length as a 4-byte big-endian integer. It saves the
/// JSON parse and the hex decode of every record, and halves the bytes on the wire.
public enum RecordFraming {
    public enum Failure: Error, Equatable, CustomStringConvertible {
        case empty
        case truncatedLength(offset: Int)
        case badLength(index: Int, length: UInt32, max: Int)
        case truncatedRecord(index: Int, length: UInt32, available: Int)
        case tooManyRecords(max: Int)

        public var description: String {
            switch self {
            case .empty: "no records"
            case let .truncatedLength(offset): "the body ends inside a 4-byte length prefix at byte \(offset)"
            case let .badLength(index, length, max): "record \(index) has length \(length); lengths must be in 1…\(max)"
            case let .truncatedRecord(index, length, available): "record \(index) claims \(length) bytes but only \(available) remain"
            case let .tooManyRecords(max): "more than \(max) records in one submission"
            }
        }
    }

    public static func frame(_ records: [[UInt8]]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(records.reduce(0) { $0 + 4 + $1.count })
        for record in records {
            let n = UInt32(truncatingIfNeeded: record.count)
            out += [UInt8(n >> 24), UInt8(truncatingIfNeeded: n >> 16), UInt8(truncatingIfNeeded: n >> 8), UInt8(truncatingIfNeeded: n)]
            out += record
        }
        return out
    }

    /// Splits a body into records. Every length is bounded before use: a prefix of 0 or above
    /// `maxRecordBytes`, a record running past the end, or more than `maxRecords` records refuse the
    /// whole body.
    public static func split<Bytes: Collection<UInt8>>(_ body: Bytes, maxRecords: Int, maxRecordBytes: Int) -> Result<[[UInt8]], Failure> {
        var records: [[UInt8]] = []
        var position = body.startIndex
        while position != body.endIndex {
            guard records.count < maxRecords else { return .failure(.tooManyRecords(max: maxRecords)) }
            guard body.distance(from: position, to: body.endIndex) >= 4 else { return .failure(.truncatedLength(offset: body.distance(from: body.startIndex, to: position))) }
            var length: UInt32 = 0
            for _ in 0..<4 {
                length = length << 8 | UInt32(body[position])
                position = body.index(after: position)
            }
            guard length >= 1, Int(length) <= maxRecordBytes else {
                return .failure(.badLength(index: records.count, length: length, max: maxRecordBytes))
            }
            let available = body.distance(from: position, to: body.endIndex)
            guard Int(length) <= available else {
                return .failure(.truncatedRecord(index: records.count, length: length, available: available))
            }
            let end = body.index(position, offsetBy: Int(length))
            records.append(Array(body[position..<end]))
            position = end
        }
        return records.isEmpty ? .failure(.empty) : .success(records)
    }
}
