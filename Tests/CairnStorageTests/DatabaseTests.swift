import CairnCore
import CairnStorage
import Foundation
import Testing

func temporaryPath(_ label: String = #function) -> String {
    FileManager.default.temporaryDirectory.path + "/cairn-db-\(label.filter(\.isLetter))-\(UInt64.random(in: 0 ... .max))"
}

func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

@Suite("RocksDB wrapper")
struct DatabaseTests {
    @Test("put, get, delete and reopen with the same column families")
    func basics() throws {
        let path = temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            let db = try Database(path: path, columnFamilies: ["a", "b"])
            try db.put("a", bytes("k"), bytes("v1"))
            try db.put("b", bytes("k"), bytes("v2"), sync: true)
            #expect(try db.get("a", bytes("k")) == bytes("v1"))
            #expect(try db.get("b", bytes("k")) == bytes("v2"))
            #expect(try db.get("a", bytes("missing")) == nil)
            try db.delete("b", bytes("k"))
            #expect(try db.get("b", bytes("k")) == nil)
            db.close()
        }
        // Reopening creates a new family and keeps old data.
        let db = try Database(path: path, columnFamilies: ["a", "b", "c"])
        #expect(try db.get("a", bytes("k")) == bytes("v1"))
        #expect(Set(try Database.listColumnFamilies(path: path)) == ["default", "a", "b", "c"])
        let error = try #require(throws: StorageError.self) { try db.get("nope", bytes("k")) }
        #expect(error.description.contains("unknown column family 'nope'"))
    }

    @Test("close is idempotent and later operations report a closed database")
    func closeOnce() throws {
        let path = temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let db = try Database(path: path, columnFamilies: ["a"])
        db.close()
        db.close()
        #expect(!db.isOpen)
        let error = try #require(throws: StorageError.self) { try db.put("a", [1], [2]) }
        #expect(error.description.contains("closed"))
    }

    @Test("a write batch spans column families and applies as a whole")
    func batches() throws {
        let path = temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let db = try Database(path: path, columnFamilies: ["a", "b"])
        try db.put("a", bytes("old"), bytes("x"))
        var batch = WriteBatch()
        batch.put("a", bytes("k1"), bytes("1"))
        batch.put("b", bytes("k2"), bytes("2"))
        batch.delete("a", bytes("old"))
        #expect(batch.count == 3)
        try db.write(batch, sync: true)
        #expect(try db.get("a", bytes("k1")) == bytes("1"))
        #expect(try db.get("b", bytes("k2")) == bytes("2"))
        #expect(try db.get("a", bytes("old")) == nil)
        // A batch naming an unknown family writes nothing at all.
        var bad = WriteBatch()
        bad.put("a", bytes("k3"), bytes("3"))
        bad.put("zzz", bytes("k4"), bytes("4"))
        #expect(throws: StorageError.self) { try db.write(bad, sync: false) }
        #expect(try db.get("a", bytes("k3")) == nil)
    }

    @Test("prefix and range scans visit keys in order within their bounds")
    func scans() throws {
        let path = temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let db = try Database(path: path, columnFamilies: ["s"])
        for key in ["a/1", "a/2", "a/3", "b/1", "b/2", "c"] { try db.put("s", bytes(key), bytes(key.uppercased())) }
        try db.put("s", [0x61, 0xff], [1])
        try db.put("s", [0x62], [2])
        var seen: [String] = []
        try db.scan("s", prefix: bytes("a/")) { key, value in
            seen.append(String(decoding: key, as: UTF8.self))
            #expect(value == bytes(String(decoding: key, as: UTF8.self).uppercased()))
            return true
        }
        #expect(seen == ["a/1", "a/2", "a/3"])
        var range: [[UInt8]] = []
        try db.scan("s", from: bytes("a/2"), below: bytes("b/2")) { key, _ in range.append(key); return true }
        #expect(range == [bytes("a/2"), bytes("a/3"), [0x61, 0xff], [0x62], bytes("b/1")])
        var first: [[UInt8]] = []
        try db.scan("s") { key, _ in first.append(key); return first.count < 2 }
        #expect(first.count == 2)
        #expect(Database.prefixUpperBound([0x61, 0xff]) == [0x62])
        #expect(Database.prefixUpperBound([0xff, 0xff]) == nil)
        var tail: [[UInt8]] = []
        try db.scan("s", prefix: [0x61, 0xff]) { key, _ in tail.append(key); return true }
        #expect(tail == [[0x61, 0xff]])
    }

    @Test("a snapshot does not see later writes")
    func snapshots() throws {
        let path = temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let db = try Database(path: path, columnFamilies: ["s"])
        try db.put("s", bytes("k"), bytes("before"))
        try db.withSnapshot { snapshot in
            try db.put("s", bytes("k"), bytes("after"))
            try db.put("s", bytes("new"), bytes("x"))
            #expect(try snapshot.get("s", bytes("k")) == bytes("before"))
            #expect(try snapshot.get("s", bytes("new")) == nil)
            var keys: [[UInt8]] = []
            try db.scan("s", snapshot: snapshot) { key, _ in keys.append(key); return true }
            #expect(keys == [bytes("k")])
        }
        #expect(try db.get("s", bytes("k")) == bytes("after"))
    }

    @Test("read-only and secondary opens read a live database; read-only refuses writes")
    func toolsOpen() throws {
        let path = temporaryPath()
        let secondary = temporaryPath("secondary")
        defer {
            try? FileManager.default.removeItem(atPath: path)
            try? FileManager.default.removeItem(atPath: secondary)
        }
        let primary = try Database(nodePath: path)
        try primary.put(ColumnFamily.state.rawValue, bytes("k"), bytes("1"), sync: true)
        let follower = try Database(nodePath: path, mode: .secondary(secondaryPath: secondary))
        #expect(try follower.get(ColumnFamily.state.rawValue, bytes("k")) == bytes("1"))
        try primary.put(ColumnFamily.state.rawValue, bytes("k2"), bytes("2"), sync: true)
        try follower.catchUpWithPrimary()
        #expect(try follower.get(ColumnFamily.state.rawValue, bytes("k2")) == bytes("2"))
        follower.close()
        primary.close()

        let readOnly = try Database(nodePath: path, mode: .readOnly)
        #expect(try readOnly.get(ColumnFamily.state.rawValue, bytes("k2")) == bytes("2"))
        let error = try #require(throws: StorageError.self) { try readOnly.put(ColumnFamily.state.rawValue, [1], [1]) }
        #expect(!error.message.isEmpty)
        readOnly.close()
        // A read-only open of a missing database carries RocksDB's message.
        let missing = try #require(throws: StorageError.self) { try Database(nodePath: path + "-absent", mode: .readOnly) }
        #expect(missing.description.contains("RocksDB"))
    }

    @Test("typed values round-trip; corrupt stored bytes are an error naming the key")
    func typed() throws {
        let path = temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let db = try Database(nodePath: path)
        let digest = Digest(uncheckedBytes: [UInt8](repeating: 7, count: 32))
        try db.put(digest, .meta, bytes("d"))
        #expect(try db.get(Digest.self, .meta, bytes("d")) == digest)
        try db.put(ColumnFamily.meta.rawValue, bytes("bad"), [1, 2, 3])
        let error = try #require(throws: StorageError.self) { try db.get(Digest.self, .meta, bytes("bad")) }
        #expect(error.description.contains("626164"))
    }

    @Test("a node database is bound to one genesis")
    func genesisBinding() throws {
        let path = temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let genesis = Digest(uncheckedBytes: [UInt8](repeating: 1, count: 32))
        try NodeDatabase.open(path: path, genesisHash: genesis).close()
        let first = try NodeDatabase.open(path: path, genesisHash: genesis)
        try first.write({ var b = WriteBatch(); b.put("state", [7], [42]); return b }(), sync: true)
        first.close()
        let other = Digest(uncheckedBytes: [UInt8](repeating: 2, count: 32))
        let error = try #require(throws: StorageError.self) { try NodeDatabase.open(path: path, genesisHash: other) }
        #expect(error.description.contains(genesis.hex))
        #expect(error.description.contains(other.hex))
        // The refusal wrote nothing: the original genesis opens it with its data intact.
        let again = try NodeDatabase.open(path: path, genesisHash: genesis)
        defer { again.close() }
        #expect(try again.get("state", [7]) == [42])
    }

    @Test("a corrupt RocksDB file is refused at open with RocksDB's reason; restoring it brings the data back")
    func corruptFiles() throws {
        let path = temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let genesis = Digest(uncheckedBytes: [UInt8](repeating: 1, count: 32))
        let database = try NodeDatabase.open(path: path, genesisHash: genesis)
        try database.write({ var b = WriteBatch(); b.put("state", [1], [2, 3]); return b }(), sync: true)
        database.close()
        let current = path + "/CURRENT"
        let saved = try Data(contentsOf: URL(fileURLWithPath: current))
        try Data("MANIFEST-999999\n".utf8).write(to: URL(fileURLWithPath: current))
        let error = try #require(throws: StorageError.self) { try NodeDatabase.open(path: path, genesisHash: genesis) }
        #expect(error.description.contains("open"), "\(error)")
        try saved.write(to: URL(fileURLWithPath: current))
        let restored = try NodeDatabase.open(path: path, genesisHash: genesis)
        defer { restored.close() }
        #expect(try restored.get("state", [1]) == [2, 3])
    }
}
