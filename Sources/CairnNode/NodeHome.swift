import CairnCore
import CairnCrypto
import Foundation

/// A validator's home directory (ARCHITECTURE §10):
///
///     <home>/config/config.toml   <home>/config/genesis.json
///     <home>/keys/validator.key   <home>/keys/coin.share      (mode 0600)
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

/// Loading genesis.json from disk with errors that name the file.
public enum GenesisFile {
    public struct LoadError: Error, CustomStringConvertible, Sendable {
        public var path: String
        public var detail: String
        public var description: String { "\(path): \(detail)" }
    }

    /// Largest genesis file accepted (a million accounts fit well below this).
    public static let maxBytes = 256 << 20

    public static func load(path: String) throws -> Genesis {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path) else {
            throw LoadError(path: path, detail: "does not exist or cannot be read")
        }
        if let size = attributes[.size] as? Int, size > maxBytes {
            throw LoadError(path: path, detail: "is \(size) bytes, above the \(maxBytes)-byte limit")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw LoadError(path: path, detail: "cannot be read")
        }
        do {
            let genesis = try Genesis.parseJSON(data)
            try genesis.verify()
            return genesis
        } catch let error as GenesisError {
            throw LoadError(path: path, detail: error.description)
        } catch let error as StrictJSON.Error {
            throw LoadError(path: path, detail: error.description)
        } catch {
            throw LoadError(path: path, detail: "not valid JSON (\(error))")
        }
    }
}
