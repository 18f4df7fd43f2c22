import CairnCore
import CairnLedger
import CairnStorage

/// What `records` holds per record id: where it was committed and what execution made of it.
public struct RecordStatus: Hashable, Sendable, CanonicalCodable {
    public var position: UInt64
    /// nil: executed (accepted).
    public var rejection: Rejection?

    public init(position: UInt64, rejection: Rejection?) {
        self.position = position
        self.rejection = rejection
    }

    public func encode(to writer: inout CanonicalWriter) {
        writer.write(UInt8(1))
        writer.write(position)
        writer.write(rejection != nil)
        if let rejection {
            writer.write(rejection.reason.rawValue)
            // The reader accepts at most 4,096 bytes: a longer detail would make the record's
            // status unreadable, so it is cut at a character boundary (the reason is what counts).
            writer.write(Self.bounded(rejection.detail))
        }
    }

    static let maxDetailBytes = 4096

    static func bounded(_ detail: String) -> String {
        guard detail.utf8.count > maxDetailBytes else { return detail }
        var cut = ""
        for character in detail {
            guard cut.utf8.count + character.utf8.count <= maxDetailBytes - 3 else { break }
            cut.append(character)
        }
        return cut + "…"
    }

    public init(from reader: inout CanonicalReader) throws {
        try reader.expectVersion(1)
        position = try reader.field("position") { try $0.read(UInt64.self) }
        if try reader.read(Bool.self) {
            let start = reader.offset
            let code = try reader.field("reason") { try $0.read(String.self, maxLength: 64) }
            guard let reason = Rejection.Reason(rawValue: code) else { throw reader.fail(.invalidValue("unknown rejection reason"), at: start) }
            rejection = Rejection(reason, try reader.field("detail") { try $0.read(String.self, maxLength: Self.maxDetailBytes) })
        } else {
            rejection = nil
        }
    }

    /// Decodes a stored value; the 8-byte form written before the ledger existed means executed.
    static func decode(_ bytes: [UInt8]) throws -> RecordStatus {
        if bytes.count == 8, let position = StorageKey.uint64(from: bytes) { return RecordStatus(position: position, rejection: nil) }
        return try RecordStatus(canonicalBytes: bytes)
    }
}
