/// The body of a `SignedRecord`: what the ledger executes (ARCHITECTURE §5). One kind byte, then the
/// kind's fields in canonical encoding; every field later issues fill (losses, SimHash,
/// compression parameters) is defined here completely.
public enum RecordBody: Hashable, Sendable, CanonicalCodable {
    case register(Register)
    case transfer(Transfer)
    case contribution(Contribution)
    case evaluation(Evaluation)
    case checkpointVote(CheckpointVote)
    case evaluationCommit(EvaluationCommit)

    /// 2: evaluations carry the salt of their commitment, and `evaluationCommit` exists (D47).
    public static let version: UInt8 = 2

    public enum Kind: UInt8, Sendable, CaseIterable {
        case register = 1, transfer = 2, contribution = 3, evaluation = 4, checkpointVote = 5, evaluationCommit = 6

        public var name: String {
            switch self {
            case .register: "register"
            case .transfer: "transfer"
            case .contribution: "contribution"
            case .evaluation: "evaluation"
            case .checkpointVote: "checkpoint_vote"
            case .evaluationCommit: "evaluation_commit"
            }
        }
    }

    public var kind: Kind {
        switch self {
        case .register: .register
        case .transfer: .transfer
        case .contribution: .contribution
        case .evaluation: .evaluation
        case .checkpointVote: .checkpointVote
        case .evaluationCommit: .evaluationCommit
        }
    }

    public func encode(to writer: inout CanonicalWriter) {
        writer.write(Self.version)
        writer.write(kind.rawValue)
        switch self {
        case let .register(value): writer.write(value)
        case let .transfer(value): writer.write(value)
        case let .contribution(value): writer.write(value)
        case let .evaluation(value): writer.write(value)
        case let .checkpointVote(value): writer.write(value)
        case let .evaluationCommit(value): writer.write(value)
        }
    }

    public init(from reader: inout CanonicalReader) throws {
        try reader.expectVersion(Self.version)
        let tag = try reader.read(UInt8.self)
        guard let kind = Kind(rawValue: tag) else { throw reader.fail(.unknownTag(tag)) }
        switch kind {
        case .register: self = .register(try reader.field("register") { try $0.read(Register.self) })
        case .transfer: self = .transfer(try reader.field("transfer") { try $0.read(Transfer.self) })
        case .contribution: self = .contribution(try reader.field("contribution") { try $0.read(Contribution.self) })
        case .evaluation: self = .evaluation(try reader.field("evaluation") { try $0.read(Evaluation.self) })
        case .checkpointVote: self = .checkpointVote(try reader.field("checkpoint_vote") { try $0.read(CheckpointVote.self) })
        case .evaluationCommit: self = .evaluationCommit(try reader.field("evaluation_commit") { try $0.read(EvaluationCommit.self) })
        }
    }
}

/// A trainer registers its key (the record's author) and pays genesis' registration fee.
public struct Register: Hashable, Sendable, CanonicalCodable {
    public static let maxNameBytes = 32
    /// A display name: 1–32 bytes of [a-z0-9-].
    public var name: String

    public init(name: String) { self.name = name }

    public static func validName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        return !bytes.isEmpty && bytes.count <= maxNameBytes
            && bytes.allSatisfy { (0x61 ... 0x7a).contains($0) || (0x30 ... 0x39).contains($0) || $0 == 0x2d }
    }

    public func encode(to writer: inout CanonicalWriter) { writer.write(name) }

    public init(from reader: inout CanonicalReader) throws {
        let start = reader.offset
        name = try reader.field("name") { try $0.read(String.self, maxLength: Self.maxNameBytes) }
        guard Self.validName(name) else { throw reader.fail(.invalidValue("name must be 1–32 bytes of [a-z0-9-]"), at: start) }
    }
}

/// Moves `amount` base units from the author's account to `to`.
public struct Transfer: Hashable, Sendable, CanonicalCodable {
    public var to: PublicKey
    public var amount: UInt64

    public init(to: PublicKey, amount: UInt64) {
        self.to = to
        self.amount = amount
    }

    public func encode(to writer: inout CanonicalWriter) {
        writer.write(to)
        writer.write(amount)
    }

    public init(from reader: inout CanonicalReader) throws {
        to = try reader.field("to") { try $0.read(PublicKey.self) }
        amount = try reader.field("amount") { try $0.read(UInt64.self) }
    }
}

/// How a pseudo-gradient blob is compressed (ARCHITECTURE §6): per chunk of `chunkSize` elements keep
/// the `topK` largest by magnitude, values quantised to `valueBits` with a per-chunk scale,
/// indices as `indexBits`-bit integers.
public struct CompressionParameters: Hashable, Sendable, CanonicalCodable {
    public var chunkSize: UInt32
    public var topK: UInt32
    public var valueBits: UInt8
    public var indexBits: UInt8

    public init(chunkSize: UInt32, topK: UInt32, valueBits: UInt8, indexBits: UInt8) {
        self.chunkSize = chunkSize
        self.topK = topK
        self.valueBits = valueBits
        self.indexBits = indexBits
    }

    public func encode(to writer: inout CanonicalWriter) {
        writer.write(chunkSize)
        writer.write(topK)
        writer.write(valueBits)
        writer.write(indexBits)
    }

    public init(from reader: inout CanonicalReader) throws {
        chunkSize = try reader.field("chunk_size") { try $0.read(UInt32.self) }
        topK = try reader.field("top_k") { try $0.read(UInt32.self) }
        valueBits = try reader.field("value_bits") { try $0.read(UInt8.self) }
        indexBits = try reader.field("index_bits") { try $0.read(UInt8.self) }
    }
}

/// A trainer's pseudo-gradient for window `baseWindow`'s model, uploaded as a blob.
public struct Contribution: Hashable, Sendable, CanonicalCodable {
    public var baseWindow: UInt64
    /// Blob id (SHA-256 over 0x03 ‖ bytes) and its size in bytes.
    public var blob: Digest
    public var blobSize: UInt64
    public var compression: CompressionParameters
    /// Digest of the data assignment the trainer trained on (ARCHITECTURE §6 "Assignment").
    public var assignment: Digest
    /// Inner steps the trainer says it took, 1…genesis `max_inner_steps` (D60): the evaluator
    /// draws its own-data sample from the contexts of that many steps of the shard, so claiming
    /// more than were taken only dilutes the trainer's own indicator.
    public var innerSteps: UInt32

    public init(baseWindow: UInt64, blob: Digest, blobSize: UInt64, compression: CompressionParameters, assignment: Digest, innerSteps: UInt32 = 1) {
        self.baseWindow = baseWindow
        self.blob = blob
        self.blobSize = blobSize
        self.compression = compression
        self.assignment = assignment
        self.innerSteps = innerSteps
    }

    public func encode(to writer: inout CanonicalWriter) {
        writer.write(baseWindow)
        writer.write(blob)
        writer.write(blobSize)
        writer.write(compression)
        writer.write(assignment)
        writer.write(innerSteps)
    }

    public init(from reader: inout CanonicalReader) throws {
        baseWindow = try reader.field("base_window") { try $0.read(UInt64.self) }
        blob = try reader.field("blob") { try $0.read(Digest.self) }
        blobSize = try reader.field("blob_size") { try $0.read(UInt64.self) }
        compression = try reader.field("compression") { try $0.read(CompressionParameters.self) }
        assignment = try reader.field("assignment") { try $0.read(Digest.self) }
        innerSteps = try reader.field("inner_steps") { try $0.read(UInt32.self) }
    }
}

/// Mean cross-entropy before and after applying a contribution (finite Float32; ARCHITECTURE §6).
public struct LossPair: Hashable, Sendable, CanonicalCodable {
    public var before: Float
    public var after: Float

    public init(before: Float, after: Float) {
        self.before = before
        self.after = after
    }

    public func encode(to writer: inout CanonicalWriter) {
        writer.write(before)
        writer.write(after)
    }

    public init(from reader: inout CanonicalReader) throws {
        before = try reader.field("before") { try $0.read(Float.self) }
        after = try reader.field("after") { try $0.read(Float.self) }
    }
}

/// A validator's evaluation of one contribution (ARCHITECTURE §6): losses on the trainer's own data and
/// on randomly seeded data, the SimHash of the change of the model's outputs, and flags. As a record
/// it is the *reveal* of an earlier `EvaluationCommit`: `salt` opens the commitment
/// (`commitment`, in CairnCrypto), so no validator can copy another's hash or losses from the DAG.
public struct Evaluation: Hashable, Sendable, CanonicalCodable {
    /// Longest SimHash accepted: 1024 bits.
    public static let maxSimHashBytes = 128

    public struct Flags: OptionSet, Hashable, Sendable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        /// The blob failed validation (sizes, index ranges, non-finite values).
        public static let invalidBlob = Flags(rawValue: 1 << 0)
        /// The contribution's base window was neither the current nor the previous one.
        public static let outOfSync = Flags(rawValue: 1 << 1)
        /// Losses after applying it were not finite.
        public static let nonFinite = Flags(rawValue: 1 << 2)
        /// The blob could not be fetched.
        public static let unavailable = Flags(rawValue: 1 << 3)
        public static let known: Flags = [.invalidBlob, .outOfSync, .nonFinite, .unavailable]
    }

    /// Record id of the contribution evaluated.
    public var contribution: Digest
    public var own: LossPair
    public var random: LossPair
    public var simHash: [UInt8]
    public var flags: Flags
    /// Secret chosen by the validator for its commitment; revealed with the evaluation.
    public var salt: Digest

    public init(contribution: Digest, own: LossPair, random: LossPair, simHash: [UInt8], flags: Flags, salt: Digest = .zero) {
        self.contribution = contribution
        self.own = own
        self.random = random
        self.simHash = simHash
        self.flags = flags
        self.salt = salt
    }

    public func encode(to writer: inout CanonicalWriter) {
        writer.write(contribution)
        writer.write(own)
        writer.write(random)
        writer.writeBytes(simHash)
        writer.write(flags.rawValue)
        writer.write(salt)
    }

    public init(from reader: inout CanonicalReader) throws {
        contribution = try reader.field("contribution") { try $0.read(Digest.self) }
        own = try reader.field("own") { try $0.read(LossPair.self) }
        random = try reader.field("random") { try $0.read(LossPair.self) }
        simHash = try reader.field("sim_hash") { try $0.readBytes(maxLength: Self.maxSimHashBytes) }
        let start = reader.offset
        flags = Flags(rawValue: try reader.field("flags") { try $0.read(UInt32.self) })
        guard Flags.known.isSuperset(of: flags) else { throw reader.fail(.invalidValue("unknown evaluation flag bits"), at: start) }
        salt = try reader.field("salt") { try $0.read(Digest.self) }
    }
}

/// A validator's commitment to its evaluation of `contribution` (ARCHITECTURE §6): the
/// `Evaluation.commitment` of the evaluation it will reveal after the commit deadline.
public struct EvaluationCommit: Hashable, Sendable, CanonicalCodable {
    public var contribution: Digest
    public var commitment: Digest

    public init(contribution: Digest, commitment: Digest) {
        self.contribution = contribution
        self.commitment = commitment
    }

    public func encode(to writer: inout CanonicalWriter) {
        writer.write(contribution)
        writer.write(commitment)
    }

    public init(from reader: inout CanonicalReader) throws {
        contribution = try reader.field("contribution") { try $0.read(Digest.self) }
        commitment = try reader.field("commitment") { try $0.read(Digest.self) }
    }

    public static var minimumEncodedSize: Int { 64 }
}

/// A validator's vote on the ledger at the close of `window`: 2f+1 matching votes certify it.
public struct CheckpointVote: Hashable, Sendable, CanonicalCodable {
    public var window: UInt64
    public var sequenceHash: Digest
    public var stateRoot: Digest
    public var modelHash: Digest

    public init(window: UInt64, sequenceHash: Digest, stateRoot: Digest, modelHash: Digest) {
        self.window = window
        self.sequenceHash = sequenceHash
        self.stateRoot = stateRoot
        self.modelHash = modelHash
    }

    public func encode(to writer: inout CanonicalWriter) {
        writer.write(window)
        writer.write(sequenceHash)
        writer.write(stateRoot)
        writer.write(modelHash)
    }

    public init(from reader: inout CanonicalReader) throws {
        window = try reader.field("window") { try $0.read(UInt64.self) }
        sequenceHash = try reader.field("sequence_hash") { try $0.read(Digest.self) }
        stateRoot = try reader.field("state_root") { try $0.read(Digest.self) }
        modelHash = try reader.field("model_hash") { try $0.read(Digest.self) }
    }
}
