import CairnCore

/// This validator's own view of a window when it closed: what it votes for, and what a
/// checkpoint certificate is compared with.
public struct ClosedWindow: Hashable, Sendable, CanonicalCodable {
    public var window: UInt64
    public var stateRoot: Digest
    public var sequenceHash: Digest
    /// Sequence length when it closed.
    public var delivered: UInt64

    public func encode(to writer: inout CanonicalWriter) {
        writer.write(UInt8(1))
        writer.write(window)
        writer.write(stateRoot)
        writer.write(sequenceHash)
        writer.write(delivered)
    }

    public init(window: UInt64, stateRoot: Digest, sequenceHash: Digest, delivered: UInt64) {
        self.window = window
        self.stateRoot = stateRoot
        self.sequenceHash = sequenceHash
        self.delivered = delivered
    }

    public init(from reader: inout CanonicalReader) throws {
        try reader.expectVersion(1)
        window = try reader.field("window") { try $0.read(UInt64.self) }
        stateRoot = try reader.field("state_root") { try $0.read(Digest.self) }
        sequenceHash = try reader.field("sequence_hash") { try $0.read(Digest.self) }
        delivered = try reader.field("delivered") { try $0.read(UInt64.self) }
    }
}
