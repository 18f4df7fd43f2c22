import CairnChain
import CairnCore
import CairnCrypto
import Foundation

/// A validator's home directory (ARCHITECTURE §10):
///
///     <home>/config/config.toml   <home>/config/genesis.json
///     <home>/keys/validator.key   <home>/keys/coin.share      (mode 0600)
///     <home>/keys/ceremony.key    (during a genesis ceremony only, D63)
///     <home>/data/db/             RocksDB
public struct NodeHome: Sendable {
    public let root: String

    public init(_ root: String) {
        self.root = root.hasSuffix("/") && root.count > 1 ? String(root.dropLast()) : root
    }

    public var configDirectory: String { root + "/config" }
    public var keysDirectory: String { root + "/keys" }
    public var dataDirectory: String { root + "/data" }
    public var configFile: String { configDirectory + "/config.toml" }
    public var genesisFile: String { configDirectory + "/genesis.json" }
    public var validatorKeyFile: String { keysDirectory + "/validator.key" }
    public var coinShareFile: String { keysDirectory + "/coin.share" }
    /// The genesis ceremony's encryption key, from `cairn genesis join` until the coin share exists.
    public var ceremonyKeyFile: String { keysDirectory + "/ceremony.key" }
    public var databaseDirectory: String { dataDirectory + "/db" }

    /// Creates config/, keys/ (0700) and data/.
    public func createDirectories() throws {
        let fm = FileManager.default
        try fm.createDirectory(atPath: configDirectory, withIntermediateDirectories: true)
        try fm.createDirectory(atPath: keysDirectory, withIntermediateDirectories: true,
                               attributes: [.posixPermissions: 0o700])
        try fm.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
    }

    /// Reads and fully verifies config/genesis.json.
    public func loadGenesis() throws -> Genesis {
        try GenesisFile.load(path: genesisFile)
    }
}
