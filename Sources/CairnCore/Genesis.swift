import Foundation

/// The first state of a Cairn chain: who validates, how the common coin is set up, who holds
/// balances, what is trained and how it is paid. Format documented in genesis/README.md.
///
/// The genesis hash is SHA-256 over `DomainTag.genesis` and `canonicalBytes` (CairnCrypto's
/// `Genesis.hash`), so every validator that parses the same file arrives at the same hash however
/// the JSON was formatted.
public struct Genesis: Codable, Hashable, Sendable, CanonicalCodable {
    /// Version of the genesis format; bumped when a later issue adds fields.
    public static let formatVersion: UInt8 = 8

    public var formatVersion: UInt8
    public var chainID: String
    public var consensus: ConsensusParameters
    public var validators: [GenesisValidator]
    public var coin: CoinSetup
    public var accounts: [GenesisAccount]
    public var task: TrainingTaskSpec
    public var rewards: RewardParameters
    /// Names of fields whose values later issues define; listed so nobody mistakes them for final.
    public var placeholders: [String]

    enum CodingKeys: String, CodingKey, CaseIterable {
        case formatVersion = "format_version", chainID = "chain_id", consensus, validators, coin,
             accounts, task, rewards, placeholders
    }

    public init(
        chainID: String, consensus: ConsensusParameters, validators: [GenesisValidator],
        coin: CoinSetup, accounts: [GenesisAccount], task: TrainingTaskSpec,
        rewards: RewardParameters, placeholders: [String]
    ) {
        self.formatVersion = Self.formatVersion
        self.chainID = chainID
        self.consensus = consensus
        self.validators = validators
        self.coin = coin
        self.accounts = accounts
        self.task = task
        self.rewards = rewards
        self.placeholders = placeholders
    }

    /// Largest f the format accepts (n = 3f+1 ≤ 3001): bounds allocations on untrusted input.
    public static let maxValidators = 3001
    public static let maxAccounts = 1_000_000

    /// Number of faults tolerated: n = 3f + 1.
    public var faultTolerance: Int { (validators.count - 1) / 3 }
    public var quorum: Int { 2 * faultTolerance + 1 }

    public func encode(to writer: inout CanonicalWriter) {
        writer.write(formatVersion)
        writer.write(chainID)
        writer.write(consensus)
        writer.write(validators)
        writer.write(coin)
        writer.write(accounts)
        writer.write(task)
        writer.write(rewards)
        writer.write(placeholders)
    }

    public init(from reader: inout CanonicalReader) throws {
        try reader.expectVersion(Self.formatVersion)
        formatVersion = Self.formatVersion
        chainID = try reader.field("chain_id") { try $0.read(String.self, maxLength: 64) }
        consensus = try reader.field("consensus") { try $0.read(ConsensusParameters.self) }
        validators = try reader.field("validators") { try $0.read([GenesisValidator].self, maxCount: Self.maxValidators) }
        coin = try reader.field("coin") { try $0.read(CoinSetup.self) }
        accounts = try reader.field("accounts") { try $0.read([GenesisAccount].self, maxCount: Self.maxAccounts) }
        task = try reader.field("task") { try $0.read(TrainingTaskSpec.self) }
        rewards = try reader.field("rewards") { try $0.read(RewardParameters.self) }
        placeholders = try reader.field("placeholders") { try $0.read([String].self, maxCount: 64) }
    }

    /// Parses genesis.json, refusing unknown keys and structurally invalid contents.
    public static func parseJSON(_ data: Data) throws -> Genesis {
        let genesis = try StrictJSON.decode(Genesis.self, from: data, what: "genesis.json")
        try genesis.validate()
        return genesis
    }

    /// genesis.json as Cairn writes it: sorted keys, pretty-printed, trailing newline.
    public func jsonData() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        var data = try encoder.encode(self)
        data.append(0x0a)
        return data
    }
}

/// Consensus settings every validator must share (ARCHITECTURE §4).
public struct ConsensusParameters: Codable, Hashable, Sendable, CanonicalCodable {
    /// Length of a training window in consensus time (ARCHITECTURE §5, DECISIONS D46): a window
    /// closes at the first committed leader whose consensus time is ≥ its opening time + this.
    public var windowMs: UInt32
    /// Rounds kept in memory below the last committed leader round.
    public var gcDepth: UInt32
    public var minRoundIntervalMs: UInt32
    public var maxRoundIntervalMs: UInt32
    public var maxRecordsPerVertex: UInt32
    public var maxVertexBytes: UInt32
    /// Certificates for rounds beyond current round + this are dropped.
    public var futureRoundWindow: UInt32

    enum CodingKeys: String, CodingKey, CaseIterable {
        case windowMs = "window_ms", gcDepth = "gc_depth",
             minRoundIntervalMs = "min_round_interval_ms", maxRoundIntervalMs = "max_round_interval_ms",
             maxRecordsPerVertex = "max_records_per_vertex", maxVertexBytes = "max_vertex_bytes",
             futureRoundWindow = "future_round_window"
    }

    public static let defaults = ConsensusParameters(
        windowMs: 30_000, gcDepth: 50, minRoundIntervalMs: 25, maxRoundIntervalMs: 1000,
        maxRecordsPerVertex: 1000, maxVertexBytes: 1 << 20, futureRoundWindow: 100)

    public init(windowMs: UInt32, gcDepth: UInt32, minRoundIntervalMs: UInt32,
                maxRoundIntervalMs: UInt32, maxRecordsPerVertex: UInt32, maxVertexBytes: UInt32,
                futureRoundWindow: UInt32) {
        self.windowMs = windowMs
        self.gcDepth = gcDepth
        self.minRoundIntervalMs = minRoundIntervalMs
        self.maxRoundIntervalMs = maxRoundIntervalMs
        self.maxRecordsPerVertex = maxRecordsPerVertex
        self.maxVertexBytes = maxVertexBytes
        self.futureRoundWindow = futureRoundWindow
    }

    public func encode(to writer: inout CanonicalWriter) {
        for value in [windowMs, gcDepth, minRoundIntervalMs, maxRoundIntervalMs,
                      maxRecordsPerVertex, maxVertexBytes, futureRoundWindow] {
            writer.write(value)
        }
    }

    public init(from reader: inout CanonicalReader) throws {
        windowMs = try reader.read(UInt32.self)
        gcDepth = try reader.read(UInt32.self)
        minRoundIntervalMs = try reader.read(UInt32.self)
        maxRoundIntervalMs = try reader.read(UInt32.self)
        maxRecordsPerVertex = try reader.read(UInt32.self)
        maxVertexBytes = try reader.read(UInt32.self)
        futureRoundWindow = try reader.read(UInt32.self)
    }

    public static var minimumEncodedSize: Int { 28 }
}

/// One validator as genesis names it. Its index in `Genesis.validators` is its identity in
/// consensus (author index) and its coin share index minus one.
public struct GenesisValidator: Codable, Hashable, Sendable, CanonicalCodable {
    public var name: String
    public var publicKey: PublicKey
    /// Peer-to-peer address, `host:port`.
    public var address: String
    /// V_i = x_i·G, the public half of the validator's coin share (ARCHITECTURE §3).
    public var coinPublicShare: CurvePoint

    enum CodingKeys: String, CodingKey, CaseIterable {
        case name, publicKey = "public_key", address, coinPublicShare = "coin_public_share"
    }

    public init(name: String, publicKey: PublicKey, address: String, coinPublicShare: CurvePoint) {
        self.name = name
        self.publicKey = publicKey
        self.address = address
        self.coinPublicShare = coinPublicShare
    }

    public func encode(to writer: inout CanonicalWriter) {
        writer.write(name)
        writer.write(publicKey)
        writer.write(address)
        writer.write(coinPublicShare)
    }

    public init(from reader: inout CanonicalReader) throws {
        name = try reader.field("name") { try $0.read(String.self, maxLength: 64) }
        publicKey = try reader.field("public_key") { try $0.read(PublicKey.self) }
        address = try reader.field("address") { try $0.read(String.self, maxLength: 255) }
        coinPublicShare = try reader.field("coin_public_share") { try $0.read(CurvePoint.self) }
    }

    public static var minimumEncodedSize: Int { 4 + 32 + 4 + 32 }
}

/// The dealt threshold coin: any `threshold` = f+1 shares combine into the wave's coin.
public struct CoinSetup: Codable, Hashable, Sendable, CanonicalCodable {
    public var threshold: UInt32
    /// Feldman commitments C_j = a_j·G to the dealer's polynomial coefficients, j = 0…f.
    public var commitments: [CurvePoint]

    public init(threshold: UInt32, commitments: [CurvePoint]) {
        self.threshold = threshold
        self.commitments = commitments
    }

    public func encode(to writer: inout CanonicalWriter) {
        writer.write(threshold)
        writer.write(commitments)
    }

    public init(from reader: inout CanonicalReader) throws {
        threshold = try reader.field("threshold") { try $0.read(UInt32.self) }
        commitments = try reader.field("commitments") { try $0.read([CurvePoint].self, maxCount: Genesis.maxValidators) }
    }
}

/// A funded account at genesis (trainers' keys in a testnet).
public struct GenesisAccount: Codable, Hashable, Sendable, CanonicalCodable {
    public var name: String
    public var publicKey: PublicKey
    /// Integer base units.
    public var balance: UInt64

    enum CodingKeys: String, CodingKey, CaseIterable {
        case name, publicKey = "public_key", balance
    }

    public init(name: String, publicKey: PublicKey, balance: UInt64) {
        self.name = name
        self.publicKey = publicKey
        self.balance = balance
    }

    public func encode(to writer: inout CanonicalWriter) {
        writer.write(name)
        writer.write(publicKey)
        writer.write(balance)
    }

    public init(from reader: inout CanonicalReader) throws {
        name = try reader.field("name") { try $0.read(String.self, maxLength: 64) }
        publicKey = try reader.field("public_key") { try $0.read(PublicKey.self) }
        balance = try reader.field("balance") { try $0.read(UInt64.self) }
    }

    public static var minimumEncodedSize: Int { 4 + 32 + 8 }
}
