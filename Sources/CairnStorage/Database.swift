import CRocksDB
import CairnCore

#if canImport(Glibc)
import Glibc
#endif

/// A RocksDB failure, carrying RocksDB's own message.
public struct StorageError: Error, Hashable, Sendable, CustomStringConvertible {
    public var operation: String
    public var message: String
    public var description: String { "RocksDB \(operation) failed: \(message)" }

    public init(operation: String, message: String) {
        self.operation = operation
        self.message = message
    }
}

/// How a database is opened.
public enum OpenMode: Sendable, Hashable {
    /// The node's own handle: creates the database and missing column families.
    case readWrite
    /// A frozen view for tools; fails if the database does not exist.
    case readOnly
    /// A secondary instance that can follow a running primary (`catchUpWithPrimary`); RocksDB
    /// keeps its own info log in `secondaryPath`. This is how `cairn audit` reads a live node.
    case secondary(secondaryPath: String)
}

/// One RocksDB database with named column families.
///
/// Thread-safe (rocksdb_t is); `close()` waits for in-flight operations through a read–write lock
/// and frees every handle exactly once. Iteration and snapshots are scoped to closures so no
/// iterator or snapshot can outlive the database.
public final class Database: @unchecked Sendable {
    public let path: String
    public let mode: OpenMode
    private var db: OpaquePointer?
    private var handles: [String: OpaquePointer] = [:]
    private let options: OpaquePointer
    private let syncWrite: OpaquePointer
    private let asyncWrite: OpaquePointer
    private let defaultRead: OpaquePointer
    private let lock: UnsafeMutablePointer<pthread_rwlock_t>

    /// Opens (and in read-write mode creates) the database with `columnFamilies` plus "default".
    public init(path: String, columnFamilies: [String], mode: OpenMode = .readWrite) throws {
        self.path = path
        self.mode = mode
        options = rocksdb_options_create()
        if mode == .readWrite {
            rocksdb_options_set_create_if_missing(options, 1)
            rocksdb_options_set_create_missing_column_families(options, 1)
            Self.boundMemory(options)
        }
        if case .secondary = mode {
            // Secondaries must keep every file open to follow the primary's compactions.
            rocksdb_options_set_max_open_files(options, -1)
        }
        syncWrite = rocksdb_writeoptions_create()
        rocksdb_writeoptions_set_sync(syncWrite, 1)
        asyncWrite = rocksdb_writeoptions_create()
        defaultRead = rocksdb_readoptions_create()
        lock = .allocate(capacity: 1)
        pthread_rwlock_init(lock, nil)

        var names = ["default"] + columnFamilies.filter { $0 != "default" }
        if mode != .readWrite {
            // Read-only and secondary opens must name every existing family and no missing one.
            let existing = try Self.listColumnFamilies(path: path, options: options)
            let missing = names.filter { !existing.contains($0) }
            guard missing.isEmpty else {
                freeOptions()
                throw StorageError(operation: "open \(path)", message: "column families \(missing) do not exist; is this a Cairn database written by a compatible version?")
            }
            names = existing
        }
        var cNames: [UnsafePointer<CChar>?] = names.map { UnsafePointer(strdup($0)) }
        defer { cNames.forEach { free(UnsafeMutablePointer(mutating: $0)) } }
        var cfOptions: [OpaquePointer?] = Array(repeating: options, count: names.count)
        var cfHandles: [OpaquePointer?] = Array(repeating: nil, count: names.count)
        var error: UnsafeMutablePointer<CChar>?
        let opened: OpaquePointer?
        switch mode {
        case .readWrite:
            opened = rocksdb_open_column_families(options, path, Int32(names.count), &cNames, &cfOptions, &cfHandles, &error)
        case .readOnly:
            opened = rocksdb_open_for_read_only_column_families(options, path, Int32(names.count), &cNames, &cfOptions, &cfHandles, 0, &error)
        case let .secondary(secondaryPath):
            opened = rocksdb_open_as_secondary_column_families(options, path, secondaryPath, Int32(names.count), &cNames, &cfOptions, &cfHandles, &error)
        }
        if let failure = Self.consume(error, operation: "open \(path)") {
            freeOptions()
            throw failure
        }
        guard let opened else {
            freeOptions()
            throw StorageError(operation: "open \(path)", message: "returned no handle")
        }
        db = opened
        for (name, handle) in zip(names, cfHandles) { handles[name] = handle }
    }

    deinit {
        close()
        pthread_rwlock_destroy(lock)
        lock.deallocate()
    }

    /// Memory and file descriptors that stay flat as the database grows (D41): RocksDB's default
    /// keeps every SST file open with its index and filter blocks on the heap (memory grows
    /// with the chain), and gives each of the nine column families 2 × 64 MiB of memtables.
    /// Here: at most 512 open files, index and filter blocks inside one 32 MiB block cache, all
    /// memtables together within 64 MiB, and at most 64 MiB of write-ahead log (which makes a
    /// rarely written column family flush instead of pinning old logs and its memtable).
    static let maxOpenFiles: Int32 = 512

    private static func boundMemory(_ options: OpaquePointer) {
        rocksdb_options_set_max_open_files(options, maxOpenFiles)
        rocksdb_options_set_write_buffer_size(options, 8 << 20)
        rocksdb_options_set_max_write_buffer_number(options, 2)
        rocksdb_options_set_db_write_buffer_size(options, 64 << 20)
        rocksdb_options_set_max_total_wal_size(options, 64 << 20)
        let table = rocksdb_block_based_options_create()
        let cache = rocksdb_cache_create_lru(32 << 20)
        rocksdb_block_based_options_set_block_cache(table, cache)
        rocksdb_block_based_options_set_cache_index_and_filter_blocks(table, 1)
        rocksdb_block_based_options_set_pin_l0_filter_and_index_blocks_in_cache(table, 1)
        rocksdb_options_set_block_based_table_factory(options, table)
        // The table factory holds its own references to the cache and the table options.
        rocksdb_cache_destroy(cache)
        rocksdb_block_based_options_destroy(table)
    }

    private func freeOptions() {
        rocksdb_writeoptions_destroy(syncWrite)
        rocksdb_writeoptions_destroy(asyncWrite)
        rocksdb_readoptions_destroy(defaultRead)
        rocksdb_options_destroy(options)
    }

    /// Closes the database once; later calls do nothing, later operations throw.
    public func close() {
        pthread_rwlock_wrlock(lock)
        defer { pthread_rwlock_unlock(lock) }
        guard let db else { return }
        if mode == .readWrite {
            // Memtables to SST files before closing, so the next open does not replay up to
            // 64 MiB of write-ahead log (a restart after SIGTERM stays fast, D40). A failure
            // here loses nothing: the log still holds every write.
            let flush = rocksdb_flushoptions_create()
            rocksdb_flushoptions_set_wait(flush, 1)
            for handle in handles.values {
                var error: UnsafeMutablePointer<CChar>?
                rocksdb_flush_cf(db, flush, handle, &error)
                if let error { free(error) }
            }
            rocksdb_flushoptions_destroy(flush)
        }
        for handle in handles.values { rocksdb_column_family_handle_destroy(handle) }
        handles = [:]
        rocksdb_close(db)
        self.db = nil
        freeOptions()
    }

    public var isOpen: Bool {
        pthread_rwlock_rdlock(lock)
        defer { pthread_rwlock_unlock(lock) }
        return db != nil
    }

    public static func listColumnFamilies(path: String) throws -> [String] {
        let options = rocksdb_options_create()
        defer { rocksdb_options_destroy(options) }
        return try listColumnFamilies(path: path, options: options!)
    }

    private static func listColumnFamilies(path: String, options: OpaquePointer) throws -> [String] {
        var count = 0
        var error: UnsafeMutablePointer<CChar>?
        let list = rocksdb_list_column_families(options, path, &count, &error)
        if let failure = consume(error, operation: "list column families of \(path)") { throw failure }
        guard let list else { return [] }
        defer { rocksdb_list_column_families_destroy(list, count) }
        return (0 ..< count).compactMap { list[$0].map { String(cString: $0) } }
    }

    static func consume(_ error: UnsafeMutablePointer<CChar>?, operation: String) -> StorageError? {
        guard let error else { return nil }
        defer { rocksdb_free(error) }
        return StorageError(operation: operation, message: String(cString: error))
    }

    // MARK: Access under the lock

    /// Runs `body` with the open handle and the column family, holding the read lock.
    func withHandle<T>(_ family: String?, _ operation: String, _ body: (OpaquePointer, OpaquePointer?) throws -> T) throws -> T {
        pthread_rwlock_rdlock(lock)
        defer { pthread_rwlock_unlock(lock) }
        guard let db else { throw StorageError(operation: operation, message: "database \(path) is closed") }
        var handle: OpaquePointer?
        if let family {
            guard let found = handles[family] else {
                throw StorageError(operation: operation, message: "unknown column family '\(family)'")
            }
            handle = found
        }
        return try body(db, handle)
    }

    // MARK: Point operations

    public func get(_ family: String, _ key: [UInt8]) throws -> [UInt8]? {
        try get(family, key, readOptions: nil)
    }

    func get(_ family: String, _ key: [UInt8], readOptions: OpaquePointer?) throws -> [UInt8]? {
        try withHandle(family, "get") { db, cf in
            var length = 0
            var error: UnsafeMutablePointer<CChar>?
            let value = key.withUnsafeBytes { k in
                rocksdb_get_cf(db, readOptions ?? defaultRead, cf, k.baseAddress?.assumingMemoryBound(to: CChar.self), k.count, &length, &error)
            }
            if let failure = Self.consume(error, operation: "get from \(family)") { throw failure }
            guard let value else { return nil }
            defer { rocksdb_free(value) }
            return Array(UnsafeRawBufferPointer(start: value, count: length))
        }
    }

    public func put(_ family: String, _ key: [UInt8], _ value: [UInt8], sync: Bool = false) throws {
        try withHandle(family, "put") { db, cf in
            var error: UnsafeMutablePointer<CChar>?
            key.withUnsafeBytes { k in
                value.withUnsafeBytes { v in
                    rocksdb_put_cf(db, sync ? syncWrite : asyncWrite, cf,
                                   k.baseAddress?.assumingMemoryBound(to: CChar.self), k.count,
                                   v.baseAddress?.assumingMemoryBound(to: CChar.self), v.count, &error)
                }
            }
            if let failure = Self.consume(error, operation: "put into \(family)") { throw failure }
        }
    }

    public func delete(_ family: String, _ key: [UInt8], sync: Bool = false) throws {
        try withHandle(family, "delete") { db, cf in
            var error: UnsafeMutablePointer<CChar>?
            key.withUnsafeBytes { k in
                rocksdb_delete_cf(db, sync ? syncWrite : asyncWrite, cf, k.baseAddress?.assumingMemoryBound(to: CChar.self), k.count, &error)
            }
            if let failure = Self.consume(error, operation: "delete from \(family)") { throw failure }
        }
    }

    /// Applies every operation of `batch` atomically. With `sync`, returns only after the write-ahead
    /// log is on disk: what must never be repeated (a vote, a proposal) uses `sync: true`.
    public func write(_ batch: WriteBatch, sync: Bool) throws {
        try withHandle(nil, "write batch") { db, _ in
            var error: UnsafeMutablePointer<CChar>?
            do {
                let ops = batch.operations
                var cfHandles: [OpaquePointer] = []
                for op in ops {
                    guard let handle = handles[op.family] else {
                        throw StorageError(operation: "write batch", message: "unknown column family '\(op.family)'")
                    }
                    cfHandles.append(handle)
                }
                let native = rocksdb_writebatch_create()
                defer { rocksdb_writebatch_destroy(native) }
                for (op, cf) in zip(ops, cfHandles) {
                    op.key.withUnsafeBytes { k in
                        let kp = k.baseAddress?.assumingMemoryBound(to: CChar.self)
                        if let value = op.value {
                            value.withUnsafeBytes { v in
                                rocksdb_writebatch_put_cf(native, cf, kp, k.count, v.baseAddress?.assumingMemoryBound(to: CChar.self), v.count)
                            }
                        } else {
                            rocksdb_writebatch_delete_cf(native, cf, kp, k.count)
                        }
                    }
                }
                rocksdb_write(db, sync ? syncWrite : asyncWrite, native, &error)
            }
            if let failure = Self.consume(error, operation: "write batch") { throw failure }
        }
    }

    // MARK: Snapshots and iteration

    /// Runs `body` against a consistent point-in-time view; the snapshot is released afterwards.
    public func withSnapshot<T>(_ body: (Snapshot) throws -> T) throws -> T {
        let (snapshot, readOptions) = try withHandle(nil, "snapshot") { db, _ -> (OpaquePointer, OpaquePointer) in
            let snapshot = rocksdb_create_snapshot(db)!
            let readOptions = rocksdb_readoptions_create()!
            rocksdb_readoptions_set_snapshot(readOptions, snapshot)
            return (snapshot, readOptions)
        }
        defer {
            rocksdb_readoptions_destroy(readOptions)
            // A snapshot is released with the database it came from; after close there is nothing to release.
            try? withHandle(nil, "release snapshot") { db, _ in rocksdb_release_snapshot(db, snapshot) }
        }
        return try body(Snapshot(database: self, snapshot: snapshot, readOptions: readOptions))
    }

    /// Visits keys in [`lower`, `upper`) in order (`upper` nil: to the end) until `body` returns
    /// false. Holds the read lock throughout, so keep `body` short.
    public func scan(_ family: String, from lower: [UInt8] = [], below upper: [UInt8]? = nil,
                     snapshot: Snapshot? = nil,
                     _ body: ([UInt8], [UInt8]) throws -> Bool) throws {
        try withHandle(family, "scan") { db, cf in
            let readOptions = rocksdb_readoptions_create()!
            defer { rocksdb_readoptions_destroy(readOptions) }
            if let snapshot { rocksdb_readoptions_set_snapshot(readOptions, snapshot.snapshot) }
            // The bound's storage must outlive the iterator.
            let bound = upper.map { bytes -> UnsafeMutableBufferPointer<CChar> in
                let buffer = UnsafeMutableBufferPointer<CChar>.allocate(capacity: max(1, bytes.count))
                bytes.withUnsafeBytes { UnsafeMutableRawBufferPointer(buffer).copyMemory(from: $0) }
                return buffer
            }
            defer { bound?.deallocate() }
            if let bound, let upper { rocksdb_readoptions_set_iterate_upper_bound(readOptions, bound.baseAddress, upper.count) }
            let iterator = rocksdb_create_iterator_cf(db, readOptions, cf)!
            defer { rocksdb_iter_destroy(iterator) }
            lower.withUnsafeBytes { rocksdb_iter_seek(iterator, $0.baseAddress?.assumingMemoryBound(to: CChar.self), $0.count) }
            while rocksdb_iter_valid(iterator) != 0 {
                var keyLength = 0
                var valueLength = 0
                let key = rocksdb_iter_key(iterator, &keyLength)
                let value = rocksdb_iter_value(iterator, &valueLength)
                let keyBytes = Array(UnsafeRawBufferPointer(start: key, count: keyLength))
                let valueBytes = Array(UnsafeRawBufferPointer(start: value, count: valueLength))
                guard try body(keyBytes, valueBytes) else { break }
                rocksdb_iter_next(iterator)
            }
            var error: UnsafeMutablePointer<CChar>?
            rocksdb_iter_get_error(iterator, &error)
            if let failure = Self.consume(error, operation: "scan \(family)") { throw failure }
        }
    }

    /// Visits every key that starts with `prefix`.
    public func scan(_ family: String, prefix: [UInt8], snapshot: Snapshot? = nil,
                     _ body: ([UInt8], [UInt8]) throws -> Bool) throws {
        try scan(family, from: prefix, below: Self.prefixUpperBound(prefix), snapshot: snapshot, body)
    }

    /// The smallest key greater than every key with `prefix` (nil when the prefix is all 0xff).
    public static func prefixUpperBound(_ prefix: [UInt8]) -> [UInt8]? {
        var bound = prefix
        while let last = bound.last {
            if last < 0xff {
                bound[bound.count - 1] = last + 1
                return bound
            }
            bound.removeLast()
        }
        return nil
    }

    // MARK: Secondary instances and properties

    /// Replays what the primary wrote since the last call (secondary mode only).
    public func catchUpWithPrimary() throws {
        try withHandle(nil, "catch up with primary") { db, _ in
            var error: UnsafeMutablePointer<CChar>?
            rocksdb_try_catch_up_with_primary(db, &error)
            if let failure = Self.consume(error, operation: "catch up with primary") { throw failure }
        }
    }

    /// Compacts keys `from…<below` of `family` (all of it when both are nil), so deleted entries
    /// give their disk space back now rather than whenever RocksDB would compact on its own.
    public func compactRange(_ family: String, from lower: [UInt8]? = nil, below upper: [UInt8]? = nil) throws {
        try withHandle(family, "compact range") { db, cf in
            func withOptional<T>(_ bytes: [UInt8]?, _ body: (UnsafePointer<CChar>?, Int) -> T) -> T {
                guard let bytes else { return body(nil, 0) }
                return bytes.withUnsafeBytes { body($0.baseAddress?.assumingMemoryBound(to: CChar.self), $0.count) }
            }
            withOptional(lower) { lp, ln in withOptional(upper) { up, un in rocksdb_compact_range_cf(db, cf, lp, ln, up, un) } }
        }
    }

    /// A RocksDB property such as `rocksdb.estimate-num-keys` or `rocksdb.total-sst-files-size`.
    public func property(_ name: String, family: String) throws -> String? {
        try withHandle(family, "property") { db, cf in
            guard let value = rocksdb_property_value_cf(db, cf, name) else { return nil }
            defer { rocksdb_free(value) }
            return String(cString: value)
        }
    }
}

/// A consistent point-in-time view, valid only inside the `Database.withSnapshot` closure that
/// made it (the snapshot is released when the closure returns).
public struct Snapshot {
    let database: Database
    let snapshot: OpaquePointer
    let readOptions: OpaquePointer

    public func get(_ family: String, _ key: [UInt8]) throws -> [UInt8]? {
        try database.get(family, key, readOptions: readOptions)
    }
}
