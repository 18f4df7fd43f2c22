import CairnCore

/// Keys and values of the ledger state (ARCHITECTURE §5: the RocksDB `state` column family). Every
/// value is canonical bytes, so the state root — SHA-256 over the entries in key order — is the
/// same on every validator.
///
/// | key | value |
/// |---|---|
/// | `a/` ‖ public key | `Account` |
/// | `t/` ‖ public key | `Trainer` |
/// | `c/` ‖ window ‖ record id | `StoredContribution` |
/// | `e/` ‖ contribution id ‖ validator index | `StoredEvaluation` |
/// | `v/` ‖ window ‖ validator index | `StoredCheckpointVote` |
/// | `k/` ‖ window | `CheckpointCertificate` |
/// | `wb/` ‖ window | beacon (32 bytes) of the wave that closed it |
/// | `ci/` ‖ contribution id | window it was made in |
/// | `supply` | `Supply` |
/// | `window` | `WindowState` |
public enum StateKey {
    public static func account(_ key: PublicKey) -> [UInt8] { Array("a/".utf8) + key.bytes }
    public static func trainer(_ key: PublicKey) -> [UInt8] { Array("t/".utf8) + key.bytes }
    public static func contribution(window: UInt64, id: Digest) -> [UInt8] { Array("c/".utf8) + window.canonicalBytes + id.bytes }
    public static func evaluation(contribution: Digest, validator: UInt32) -> [UInt8] {
        Array("e/".utf8) + contribution.bytes + validator.canonicalBytes
    }
    public static func checkpointVote(window: UInt64, validator: UInt32) -> [UInt8] {
        Array("v/".utf8) + window.canonicalBytes + validator.canonicalBytes
    }
    public static func checkpointVotes(window: UInt64) -> [UInt8] { Array("v/".utf8) + window.canonicalBytes }
    public static func checkpoint(_ window: UInt64) -> [UInt8] { Array("k/".utf8) + window.canonicalBytes }
    /// Which window a contribution was made in (to find it from an evaluation, which names only its id).
    public static func contributionWindow(_ id: Digest) -> [UInt8] { Array("ci/".utf8) + id.bytes }
    /// The beacon of the wave whose leader closed window k: the window's public randomness.
    public static func windowBeacon(_ window: UInt64) -> [UInt8] { Array("wb/".utf8) + window.canonicalBytes }
    public static let supply = Array("supply".utf8)
    public static let window = Array("window".utf8)
}

public struct Account: Hashable, Sendable, CanonicalCodable {
    /// Integer base units.
    public var balance: UInt64
    /// The lowest nonce the author's next record may carry (one more than the last one used).
    public var nonce: UInt64

    public init(balance: UInt64, nonce: UInt64 = 0) {
        self.balance = balance
        self.nonce = nonce
    }

    public func encode(to writer: inout CanonicalWriter) {
        writer.write(UInt8(1))
        writer.write(balance)
        writer.write(nonce)
    }

    public init(from reader: inout CanonicalReader) throws {
        try reader.expectVersion(1)
        balance = try reader.field("balance") { try $0.read(UInt64.self) }
        nonce = try reader.field("nonce") { try $0.read(UInt64.self) }
    }
}

public struct Trainer: Hashable, Sendable, CanonicalCodable {
    public var name: String
    public var registeredInWindow: UInt64

    public init(name: String, registeredInWindow: UInt64) {
        self.name = name
        self.registeredInWindow = registeredInWindow
    }

    public func encode(to writer: inout CanonicalWriter) {
        writer.write(UInt8(1))
        writer.write(name)
        writer.write(registeredInWindow)
    }

    public init(from reader: inout CanonicalReader) throws {
        try reader.expectVersion(1)
        name = try reader.field("name") { try $0.read(String.self, maxLength: Register.maxNameBytes) }
        registeredInWindow = try reader.field("registered_in_window") { try $0.read(UInt64.self) }
    }
}

/// Base units in existence: what genesis created, minus fees burned (plus emissions, later).
/// Balances always add up to `created − burned`; audits check exactly that.
public struct Supply: Hashable, Sendable, CanonicalCodable {
    public var created: UInt64
    public var burned: UInt64

    public init(created: UInt64, burned: UInt64 = 0) {
        self.created = created
        self.burned = burned
    }

    public var circulating: UInt64 { created >= burned ? created - burned : 0 }  // burned ≤ created unless state is damaged

    public func encode(to writer: inout CanonicalWriter) {
        writer.write(UInt8(1))
        writer.write(created)
        writer.write(burned)
    }

    public init(from reader: inout CanonicalReader) throws {
        try reader.expectVersion(1)
        created = try reader.field("created") { try $0.read(UInt64.self) }
        burned = try reader.field("burned") { try $0.read(UInt64.self) }
    }
}

/// The open window (ARCHITECTURE §5): window k closes at the first committed leader whose round is
/// ≥ (k+1)·roundsPerWindow.
public struct WindowState: Hashable, Sendable, CanonicalCodable {
    public var current: UInt64
    /// Sequence position at which the current window opened (0 for window 0).
    public var openedAtPosition: UInt64

    public init(current: UInt64 = 0, openedAtPosition: UInt64 = 0) {
        self.current = current
        self.openedAtPosition = openedAtPosition
    }

    public func encode(to writer: inout CanonicalWriter) {
        writer.write(UInt8(1))
        writer.write(current)
        writer.write(openedAtPosition)
    }

    public init(from reader: inout CanonicalReader) throws {
        try reader.expectVersion(1)
        current = try reader.field("current") { try $0.read(UInt64.self) }
        openedAtPosition = try reader.field("opened_at_position") { try $0.read(UInt64.self) }
    }
}

public struct StoredContribution: Hashable, Sendable, CanonicalCodable {
    public var author: PublicKey
    public var contribution: Contribution
    /// Beacon of the wave that committed it: the seed of its random evaluation batches (ARCHITECTURE §6).
    public var beacon: Digest

    public init(author: PublicKey, contribution: Contribution, beacon: Digest) {
        self.author = author
        self.contribution = contribution
        self.beacon = beacon
    }

    public func encode(to writer: inout CanonicalWriter) {
        writer.write(UInt8(1))
        writer.write(author)
        writer.write(contribution)
        writer.write(beacon)
    }

    public init(from reader: inout CanonicalReader) throws {
        try reader.expectVersion(1)
        author = try reader.field("author") { try $0.read(PublicKey.self) }
        contribution = try reader.field("contribution") { try $0.read(Contribution.self) }
        beacon = try reader.field("beacon") { try $0.read(Digest.self) }
    }
}

public struct StoredEvaluation: Hashable, Sendable, CanonicalCodable {
    public var evaluation: Evaluation
    public var window: UInt64

    public init(evaluation: Evaluation, window: UInt64) {
        self.evaluation = evaluation
        self.window = window
    }

    public func encode(to writer: inout CanonicalWriter) {
        writer.write(UInt8(1))
        writer.write(evaluation)
        writer.write(window)
    }

    public init(from reader: inout CanonicalReader) throws {
        try reader.expectVersion(1)
        evaluation = try reader.field("evaluation") { try $0.read(Evaluation.self) }
        window = try reader.field("window") { try $0.read(UInt64.self) }
    }
}

/// A checkpoint vote as executed, with what anyone needs to check its signature again: the
/// signed bytes are rebuilt from the chain, the validator's key, `nonce` and the vote.
public struct StoredCheckpointVote: Hashable, Sendable, CanonicalCodable {
    public var vote: CheckpointVote
    public var nonce: UInt64
    public var signature: Signature

    public init(vote: CheckpointVote, nonce: UInt64, signature: Signature) {
        self.vote = vote
        self.nonce = nonce
        self.signature = signature
    }

    public func encode(to writer: inout CanonicalWriter) {
        writer.write(UInt8(1))
        writer.write(vote)
        writer.write(nonce)
        writer.write(signature)
    }

    public init(from reader: inout CanonicalReader) throws {
        try reader.expectVersion(1)
        vote = try reader.field("vote") { try $0.read(CheckpointVote.self) }
        nonce = try reader.field("nonce") { try $0.read(UInt64.self) }
        signature = try reader.field("signature") { try $0.read(Signature.self) }
    }
}

/// 2f+1 validators' matching checkpoint votes for one window (ARCHITECTURE §5): the ledger as of that
/// window's close, certified.
public struct CheckpointCertificate: Hashable, Sendable, CanonicalCodable {
    public struct Signer: Hashable, Sendable, CanonicalCodable {
        public var validator: UInt32
        public var nonce: UInt64
        public var signature: Signature

        public init(validator: UInt32, nonce: UInt64, signature: Signature) {
            self.validator = validator
            self.nonce = nonce
            self.signature = signature
        }

        public func encode(to writer: inout CanonicalWriter) {
            writer.write(validator)
            writer.write(nonce)
            writer.write(signature)
        }

        public init(from reader: inout CanonicalReader) throws {
            validator = try reader.field("validator") { try $0.read(UInt32.self) }
            nonce = try reader.field("nonce") { try $0.read(UInt64.self) }
            signature = try reader.field("signature") { try $0.read(Signature.self) }
        }
    }

    public var vote: CheckpointVote
    /// Sorted by validator index.
    public var signers: [Signer]

    public init(vote: CheckpointVote, signers: [Signer]) {
        self.vote = vote
        self.signers = signers
    }

    public func encode(to writer: inout CanonicalWriter) {
        writer.write(UInt8(1))
        writer.write(vote)
        writer.write(signers)
    }

    public init(from reader: inout CanonicalReader) throws {
        try reader.expectVersion(1)
        vote = try reader.field("vote") { try $0.read(CheckpointVote.self) }
        signers = try reader.field("signers") { try $0.read([Signer].self, maxCount: Genesis.maxValidators) }
    }
}
