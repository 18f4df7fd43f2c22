/// The one-byte prefix of every hashed message, so no two kinds of object can share a digest
/// (ARCHITECTURE §3). The values are protocol constants: never renumber, only append.
public enum DomainTag: UInt8, Sendable, CaseIterable {
    case vertex = 0x01
    case record = 0x02
    case blob = 0x03
    case model = 0x04
    case stateRoot = 0x05
    case genesis = 0x06
    case sequence = 0x07
    case vote = 0x08
    case coinHash = 0x09
    case coinLeader = 0x0a
    case coinProof = 0x0b
    case checkpoint = 0x0c
    case corpus = 0x0d
    case channel = 0x0e
    /// Signature message of a proposer over its vertex digest (votes use `vote`).
    case proposal = 0x0f
    /// Seeds of the training task: data assignment, initial model, evaluation batches, hyperplanes.
    case training = 0x10
    /// Commitment to an evaluation before its reveal (ARCHITECTURE §6).
    case evaluationCommitment = 0x11
    /// A state entry as a leaf of the state tree, and an inner node of it (D58).
    case stateLeaf = 0x12
    case stateNode = 0x13
    /// A trainer's signature authorizing one blob upload (`PUT /v1/blobs/{id}`, D59).
    case blobUpload = 0x14
    /// Genesis ceremony (D63): an operator's signed join file, a dealer's signed deal, a
    /// recipient's signed response, the session id, and the key and proof of one encrypted share.
    case ceremonyJoin = 0x15
    case ceremonyDeal = 0x16
    case ceremonyResponse = 0x17
    case ceremonySession = 0x18
    case ceremonyShare = 0x19
}
