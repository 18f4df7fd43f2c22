import CairnLedger

/// `POST /v1/records` (202): the id of the one record submitted as `record`, or the ids of `records`.
public struct SubmitReply: Codable, Sendable {
    public var id: String?
    public var ids: [String]?

    public init(id: String? = nil, ids: [String]? = nil) {
        self.id = id
        self.ids = ids
    }
}

/// `GET /v1/records/{id}`: where a record was committed and what execution made of it.
public struct RecordReply: Codable, Sendable {
    public var id: String
    /// `committed` or `rejected`.
    public var status: String
    public var position: UInt64
    /// The rejection reason's code, when rejected.
    public var reason: String?
    public var detail: String?

    public init(id: String, status: String, position: UInt64, reason: String? = nil, detail: String? = nil) {
        self.id = id
        self.status = status
        self.position = position
        self.reason = reason
        self.detail = detail
    }
}

/// `GET /v1/committed?from=P&limit=N`: committed record ids in sequence order, and where to go on.
public struct CommittedRecords: Codable, Sendable {
    public var records: [String]
    public var next: UInt64

    public init(records: [String], next: UInt64) {
        self.records = records
        self.next = next
    }
}

/// `POST /v1/records/status`: the position of each asked record that is committed, by id.
public struct CommittedPositions: Codable, Sendable {
    public var committed: [String: UInt64]

    public init(committed: [String: UInt64]) {
        self.committed = committed
    }
}

/// `GET /v1/accounts/{key}`.
public struct AccountReply: Codable, Sendable {
    public var account: String
    public var balance: UInt64
    public var nonce: UInt64

    public init(account: String, balance: UInt64, nonce: UInt64) {
        self.account = account
        self.balance = balance
        self.nonce = nonce
    }
}

/// `PUT /v1/blobs/{id}`: what was stored.
public struct BlobReceipt: Codable, Sendable {
    public var id: String
    public var size: Int

    public init(id: String, size: Int) {
        self.id = id
        self.size = size
    }
}

/// `GET /v1/sequence/{position}`: the delivered vertex at a position and the sequence hash up to it.
public struct SequenceEntry: Codable, Sendable {
    public var position: UInt64
    public var digest: String
    public var round: UInt64
    public var sequenceHash: String

    public init(position: UInt64, digest: String, round: UInt64, sequenceHash: String) {
        self.position = position
        self.digest = digest
        self.round = round
        self.sequenceHash = sequenceHash
    }

    enum CodingKeys: String, CodingKey {
        case position, digest, round, sequenceHash = "sequence_hash"
    }
}

/// `GET /v1/checkpoints/{k}`: the checkpoint certificate of window k as JSON (the client checks every field).
public struct CheckpointReply: Codable, Sendable {
    public var window: UInt64
    public var stateRoot: String
    public var sequenceHash: String
    public var modelHash: String
    public var signers: [Int]
    public var nonces: [UInt64]
    public var signatures: [String]

    public init(window: UInt64, stateRoot: String, sequenceHash: String, modelHash: String, signers: [Int], nonces: [UInt64], signatures: [String]) {
        self.window = window
        self.stateRoot = stateRoot
        self.sequenceHash = sequenceHash
        self.modelHash = modelHash
        self.signers = signers
        self.nonces = nonces
        self.signatures = signatures
    }

    enum CodingKeys: String, CodingKey {
        case window, stateRoot = "state_root", sequenceHash = "sequence_hash", modelHash = "model_hash", signers
        case nonces, signatures
    }
}

/// `GET /v1/checkpoints/{k}/proof/{key}`: one state entry proven under window k's state root.
public struct ProofReply: Codable, Sendable {
    public var window: UInt64
    public var stateRoot: String
    /// Whether this node holds a checkpoint certificate for the window yet.
    public var certified: Bool
    /// The key in words (e.g. "account 3f2a…").
    public var key: String
    public var proof: StateProof

    public init(window: UInt64, stateRoot: String, certified: Bool, key: String, proof: StateProof) {
        self.window = window
        self.stateRoot = stateRoot
        self.certified = certified
        self.key = key
        self.proof = proof
    }

    enum CodingKeys: String, CodingKey {
        case window, stateRoot = "state_root", certified, key, proof
    }
}
