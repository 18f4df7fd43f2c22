/// A work record as clients submit it (ARCHITECTURE §5): an author's signed, nonced body. The ledger
/// issue defines the bodies (`register`, `transfer`, …); consensus and the node only need the
/// envelope: who signed, which nonce, how big.
public struct SignedRecord: Hashable, Sendable, CanonicalCodable {
    public static let version: UInt8 = 1
    public static let maxBodyBytes = 64 * 1024

    public var author: PublicKey
    /// Per-author sequence number; the ledger enforces order, the node only its shape.
    public var nonce: UInt64
    public var body: [UInt8]
    public var signature: Signature

    public init(author: PublicKey, nonce: UInt64, body: [UInt8], signature: Signature) {
        self.author = author
        self.nonce = nonce
        self.body = body
        self.signature = signature
    }

    /// Bytes the author signs: tag ‖ chain ‖ author ‖ nonce ‖ body, so a record cannot be
    /// replayed on another chain.
    public static func signingBytes(chain: Digest, author: PublicKey, nonce: UInt64, body: [UInt8]) -> [UInt8] {
        var writer = CanonicalWriter(reservingCapacity: 80 + body.count)
        writer.write(DomainTag.record.rawValue)
        writer.write(chain)
        writer.write(author)
        writer.write(nonce)
        writer.writeBytes(body)
        return writer.bytes
    }

    public func encode(to writer: inout CanonicalWriter) {
        writer.write(Self.version)
        writer.write(author)
        writer.write(nonce)
        writer.writeBytes(body)
        writer.write(signature)
    }

    public init(from reader: inout CanonicalReader) throws {
        try reader.expectVersion(Self.version)
        author = try reader.field("author") { try $0.read(PublicKey.self) }
        nonce = try reader.field("nonce") { try $0.read(UInt64.self) }
        body = try reader.field("body") { try $0.readBytes(maxLength: Self.maxBodyBytes) }
        signature = try reader.field("signature") { try $0.read(Signature.self) }
    }
}
