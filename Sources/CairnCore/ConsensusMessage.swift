/// Validator-to-validator consensus messages (ARCHITECTURE §9). Every one is untrusted until the
/// receiver's `MessageVerifier` has checked its signatures and coin-share proof.
public enum ConsensusMessage: Hashable, Sendable, CanonicalCodable {
    /// A proposer's vertex, asking for votes.
    case proposal(SignedVertex)
    /// A vote, sent to the vertex's author.
    case vote(Vote)
    /// A certified vertex, broadcast by its author once it has 2f+1 votes.
    case certificate(Certificate)
    /// Catch-up: certificates by digest.
    case fetchCertificates([Digest])
    /// Catch-up: every certificate of rounds `from…to` the peer still holds.
    case fetchRounds(from: UInt64, to: UInt64)
    /// Answer to either fetch.
    case certificates([Certificate])
    /// Blob availability (D50): the blobs named by contribution records in a vertex, by id.
    case fetchBlobs([Digest])
    /// Answer to `fetchBlobs`, one blob per message; the receiver hashes it to learn its id.
    case blob([UInt8])

    public static let maxFetchDigests = 1024
    public static let maxCertificatesPerMessage = 2048
    public static let maxFetchBlobs = 64
    /// The transport's frame limit bounds a blob message anyway; this keeps the decoder from
    /// reserving more than a frame could carry.
    public static let maxBlobBytes = 16 << 20

    private enum Tag: UInt8 {
        case proposal = 1, vote, certificate, fetchCertificates, fetchRounds, certificates, fetchBlobs, blob
    }

    public func encode(to writer: inout CanonicalWriter) {
        switch self {
        case let .proposal(vertex):
            writer.write(Tag.proposal.rawValue)
            writer.write(vertex)
        case let .vote(vote):
            writer.write(Tag.vote.rawValue)
            writer.write(vote)
        case let .certificate(certificate):
            writer.write(Tag.certificate.rawValue)
            writer.write(certificate)
        case let .fetchCertificates(digests):
            writer.write(Tag.fetchCertificates.rawValue)
            writer.write(digests)
        case let .fetchRounds(from, to):
            writer.write(Tag.fetchRounds.rawValue)
            writer.write(from)
            writer.write(to)
        case let .certificates(certificates):
            writer.write(Tag.certificates.rawValue)
            writer.write(certificates)
        case let .fetchBlobs(ids):
            writer.write(Tag.fetchBlobs.rawValue)
            writer.write(ids)
        case let .blob(bytes):
            writer.write(Tag.blob.rawValue)
            writer.writeBytes(bytes)
        }
    }

    public init(from reader: inout CanonicalReader) throws {
        let start = reader.offset
        let raw = try reader.read(UInt8.self)
        guard let tag = Tag(rawValue: raw) else { throw reader.fail(.unknownTag(raw), at: start) }
        switch tag {
        case .proposal: self = .proposal(try reader.field("proposal") { try $0.read(SignedVertex.self) })
        case .vote: self = .vote(try reader.field("vote") { try $0.read(Vote.self) })
        case .certificate: self = .certificate(try reader.field("certificate") { try $0.read(Certificate.self) })
        case .fetchCertificates:
            self = .fetchCertificates(try reader.field("digests") { try $0.read([Digest].self, maxCount: Self.maxFetchDigests) })
        case .fetchRounds:
            self = .fetchRounds(from: try reader.read(UInt64.self), to: try reader.read(UInt64.self))
        case .certificates:
            self = .certificates(try reader.field("certificates") { try $0.read([Certificate].self, maxCount: Self.maxCertificatesPerMessage) })
        case .fetchBlobs:
            self = .fetchBlobs(try reader.field("ids") { try $0.read([Digest].self, maxCount: Self.maxFetchBlobs) })
        case .blob:
            self = .blob(try reader.field("blob") { try $0.readBytes(maxLength: Self.maxBlobBytes) })
        }
    }
}
