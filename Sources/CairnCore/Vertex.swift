/// A DAG-Rider vertex (ARCHITECTURE §4): one validator's proposal for one round.
///
/// Strong edges name ≥ 2f+1 certified vertices of round − 1; weak edges name certified vertices of
/// older rounds that the strong edges do not reach (DAG-Rider Alg. 2, `set_weak_edges`). A vertex of
/// round 4w+1 carries its author's coin share for wave w. Edges are vertex digests.
///
/// Version 2 adds the proposer's wall-clock timestamp; the ledger's windows run on the consensus
/// time derived from them (`ConsensusTime`, DECISIONS D46).
public struct Vertex: Hashable, Sendable, CanonicalCodable {
    public static let version: UInt8 = 2
    /// Decoding bounds; the committee's own (smaller) limits are checked by the core.
    public static let maxEdges = 4096
    public static let maxRecords = 100_000
    public static let maxRecordBytes = 1 << 20

    public var round: UInt64
    /// 0-based position of the author in genesis.
    public var author: UInt32
    /// The proposer's clock when it proposed, ms since the Unix epoch. Untrusted: only the median
    /// over a leader's strong parents counts (`ConsensusTime`).
    public var timestampMs: UInt64
    public var strongEdges: [Digest]
    public var weakEdges: [Digest]
    /// Opaque work records (the ledger issue defines their encoding).
    public var payload: [[UInt8]]
    public var coinShare: CoinShare?

    public init(round: UInt64, author: UInt32, strongEdges: [Digest], weakEdges: [Digest],
                payload: [[UInt8]], coinShare: CoinShare?, timestampMs: UInt64 = 0) {
        self.round = round
        self.author = author
        self.timestampMs = timestampMs
        self.strongEdges = strongEdges
        self.weakEdges = weakEdges
        self.payload = payload
        self.coinShare = coinShare
    }

    public var payloadBytes: Int { payload.reduce(0) { $0 + $1.count } }

    public func encode(to writer: inout CanonicalWriter) {
        writer.write(Self.version)
        writer.write(round)
        writer.write(author)
        writer.write(timestampMs)
        writer.write(strongEdges)
        writer.write(weakEdges)
        writer.write(UInt32(payload.count))
        for record in payload { writer.writeBytes(record) }
        writer.write(coinShare)
    }

    public init(from reader: inout CanonicalReader) throws {
        try reader.expectVersion(Self.version)
        round = try reader.read(UInt64.self)
        author = try reader.read(UInt32.self)
        timestampMs = try reader.read(UInt64.self)
        strongEdges = try reader.field("strong_edges") { try $0.read([Digest].self, maxCount: Self.maxEdges) }
        weakEdges = try reader.field("weak_edges") { try $0.read([Digest].self, maxCount: Self.maxEdges) }
        payload = try reader.field("payload") { reader in
            let start = reader.offset
            let count = Int(try reader.read(UInt32.self))
            // Each record takes at least its 4-byte length.
            guard count <= min(Self.maxRecords, reader.remaining / 4) else {
                throw reader.fail(.lengthExceedsLimit(length: UInt64(count), limit: min(Self.maxRecords, reader.remaining / 4)), at: start)
            }
            var records: [[UInt8]] = []
            records.reserveCapacity(count)
            for _ in 0 ..< count { records.append(try reader.readBytes(maxLength: Self.maxRecordBytes)) }
            return records
        }
        coinShare = try reader.field("coin_share") { try $0.read(CoinShare?.self) }
    }
}

/// A vertex with its author's signature over (tag ‖ chain ‖ digest).
public struct SignedVertex: Hashable, Sendable, CanonicalCodable {
    public var vertex: Vertex
    public var signature: Signature

    public init(vertex: Vertex, signature: Signature) {
        self.vertex = vertex
        self.signature = signature
    }

    public func encode(to writer: inout CanonicalWriter) {
        writer.write(vertex)
        writer.write(signature)
    }

    public init(from reader: inout CanonicalReader) throws {
        vertex = try reader.field("vertex") { try $0.read(Vertex.self) }
        signature = try reader.field("signature") { try $0.read(Signature.self) }
    }
}

/// Validator `voter`'s signed statement that it accepted vertex `digest` of (`author`, `round`)
/// and will vote for no other vertex in that slot.
public struct Vote: Hashable, Sendable, CanonicalCodable {
    public static let version: UInt8 = 1
    public var digest: Digest
    public var round: UInt64
    public var author: UInt32
    public var voter: UInt32
    public var signature: Signature

    public init(digest: Digest, round: UInt64, author: UInt32, voter: UInt32, signature: Signature) {
        self.digest = digest
        self.round = round
        self.author = author
        self.voter = voter
        self.signature = signature
    }

    public func encode(to writer: inout CanonicalWriter) {
        writer.write(Self.version)
        writer.write(digest)
        writer.write(round)
        writer.write(author)
        writer.write(voter)
        writer.write(signature)
    }

    public init(from reader: inout CanonicalReader) throws {
        try reader.expectVersion(Self.version)
        digest = try reader.read(Digest.self)
        round = try reader.read(UInt64.self)
        author = try reader.read(UInt32.self)
        voter = try reader.read(UInt32.self)
        signature = try reader.read(Signature.self)
    }

    public static var minimumEncodedSize: Int { 1 + 32 + 8 + 4 + 4 + 64 }
}

/// One voter's signature inside a certificate (digest, round and author are the vertex's).
public struct CertificateVote: Hashable, Sendable, CanonicalCodable {
    public var voter: UInt32
    public var signature: Signature

    public init(voter: UInt32, signature: Signature) {
        self.voter = voter
        self.signature = signature
    }

    public func encode(to writer: inout CanonicalWriter) {
        writer.write(voter)
        writer.write(signature)
    }

    public init(from reader: inout CanonicalReader) throws {
        voter = try reader.read(UInt32.self)
        signature = try reader.read(Signature.self)
    }

    public static var minimumEncodedSize: Int { 68 }
}

/// A signed vertex with ≥ 2f+1 votes: a transferable proof that at most one vertex of this
/// (author, round) can ever be certified (quorum intersection), so only certificates enter the DAG.
public struct Certificate: Hashable, Sendable, CanonicalCodable {
    public static let version: UInt8 = 1
    public var signedVertex: SignedVertex
    /// Sorted by voter, distinct voters.
    public var votes: [CertificateVote]

    public init(signedVertex: SignedVertex, votes: [CertificateVote]) {
        self.signedVertex = signedVertex
        self.votes = votes
    }

    public var vertex: Vertex { signedVertex.vertex }

    public func encode(to writer: inout CanonicalWriter) {
        writer.write(Self.version)
        writer.write(signedVertex)
        writer.write(votes)
    }

    public init(from reader: inout CanonicalReader) throws {
        try reader.expectVersion(Self.version)
        signedVertex = try reader.field("signed_vertex") { try $0.read(SignedVertex.self) }
        votes = try reader.field("votes") { try $0.read([CertificateVote].self, maxCount: Vertex.maxEdges) }
    }
}
