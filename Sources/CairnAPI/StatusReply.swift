/// `GET /status`: where this node stands.
public struct StatusReply: Codable, Sendable {
    public var chainID: String
    public var genesisHash: String
    public var version: String
    public var node: String
    public var validatorIndex: Int
    public var round: UInt64
    public var lastCommittedWave: UInt64
    public var committedLeaders: UInt64
    public var delivered: UInt64
    public var sequenceHash: String
    public var stateRoot: String
    public var window: UInt64
    public var peers: Int
    public var catchingUp: Bool
    public var pendingRecords: Int

    public init(chainID: String, genesisHash: String, version: String, node: String, validatorIndex: Int, round: UInt64,
                lastCommittedWave: UInt64, committedLeaders: UInt64, delivered: UInt64, sequenceHash: String, stateRoot: String,
                window: UInt64, peers: Int, catchingUp: Bool, pendingRecords: Int) {
        self.chainID = chainID
        self.genesisHash = genesisHash
        self.version = version
        self.node = node
        self.validatorIndex = validatorIndex
        self.round = round
        self.lastCommittedWave = lastCommittedWave
        self.committedLeaders = committedLeaders
        self.delivered = delivered
        self.sequenceHash = sequenceHash
        self.stateRoot = stateRoot
        self.window = window
        self.peers = peers
        self.catchingUp = catchingUp
        self.pendingRecords = pendingRecords
    }

    enum CodingKeys: String, CodingKey {
        case chainID = "chain_id", genesisHash = "genesis_hash", version, node, validatorIndex = "validator_index", round
        case lastCommittedWave = "last_committed_wave", committedLeaders = "committed_leaders", delivered
        case sequenceHash = "sequence_hash", stateRoot = "state_root", window, peers, catchingUp = "catching_up"
        case pendingRecords = "pending_records"
    }
}

/// `GET /health` when healthy.
public struct HealthReply: Codable, Sendable {
    public var status: String
    public init(status: String) { self.status = status }
}
