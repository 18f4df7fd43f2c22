import CairnCore

/// Opening a node's database binds it to one chain: the first open records the schema version and
/// the genesis hash (synced), and every later open refuses a different genesis, so a node can
/// never mix two chains' data.
public enum NodeDatabase {
    public static let schemaVersion: UInt64 = 1
    static let schemaKey = Array("schema_version".utf8)
    static let genesisKey = Array("genesis_hash".utf8)

    public static func open(path: String, genesisHash: Digest) throws -> Database {
        let database = try Database(nodePath: path)
        do {
            try bind(database, genesisHash: genesisHash)
        } catch {
            database.close()
            throw error
        }
        return database
    }

    /// Opens a node's database as a secondary instance (works while the node runs; RocksDB keeps
    /// the secondary's own files in `scratch`) and checks it belongs to `genesisHash`.
    public static func openSecondary(path: String, scratch: String, genesisHash: Digest) throws -> Database {
        let database = try Database(nodePath: path, mode: .secondary(secondaryPath: scratch))
        do {
            try database.catchUpWithPrimary()
            let stored = try database.get(Digest.self, .meta, genesisKey)
            guard let stored else {
                throw StorageError(operation: "open \(path)", message: "no genesis hash stored: not a Cairn node database, or never started")
            }
            guard stored == genesisHash else {
                throw StorageError(operation: "open \(path)",
                                   message: "database belongs to genesis \(stored.hex) but the genesis.json given hashes to \(genesisHash.hex)")
            }
        } catch {
            database.close()
            throw error
        }
        return database
    }

    static func bind(_ database: Database, genesisHash: Digest) throws {
        let storedSchema = try database.get(ColumnFamily.meta.rawValue, schemaKey)
        let storedGenesis = try database.get(Digest.self, .meta, genesisKey)
        switch (storedSchema, storedGenesis) {
        case (nil, nil):
            var batch = WriteBatch()
            batch.put(ColumnFamily.meta.rawValue, schemaKey, StorageKey.uint64(schemaVersion))
            batch.put(genesisHash, .meta, genesisKey)
            try database.write(batch, sync: true)
        case let (schema?, genesis?):
            guard StorageKey.uint64(from: schema) == schemaVersion else {
                throw StorageError(operation: "open \(database.path)",
                                   message: "schema version \(StorageKey.uint64(from: schema).map(String.init) ?? "unreadable") is not \(schemaVersion), the version this build reads")
            }
            guard genesis == genesisHash else {
                throw StorageError(operation: "open \(database.path)",
                                   message: "database belongs to genesis \(genesis.hex) but config/genesis.json hashes to \(genesisHash.hex); restore the original genesis.json or start from an empty data directory")
            }
        default:
            throw StorageError(operation: "open \(database.path)",
                               message: "meta column family has only one of schema_version and genesis_hash; the database is damaged")
        }
    }
}
