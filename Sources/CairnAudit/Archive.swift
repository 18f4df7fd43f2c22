import CairnCore
import CairnCrypto
import CairnStorage
import Foundation

/// `cairn audit archive`: a node's history as one portable, self-contained, checksummed file —
/// the genesis file and every column family's entries (certificates, sequence, records, state,
/// blobs and models; not the state copies kept for proofs) — that `cairn audit verify --archive` checks with no node.
///
/// Layout (integers big-endian):
///
///     "CAIRNARC" ‖ version u8 (1) ‖ genesis length u32 ‖ genesis JSON
///     per column family: name length u8 ‖ name ‖ entry count u64 ‖
///                        (key length u32 ‖ key ‖ value length u32 ‖ value)* ‖ SHA-256 of the section
///     "END!" ‖ SHA-256 of every byte before it
///
/// Each section's digest names the family a damaged byte is in; the final digest covers the
/// header and the section digests too, so no byte of the file goes unchecked.
public enum Archive {
    static let magic = Array("CAIRNARC".utf8)
    static let trailer = Array("END!".utf8)
    static let version: UInt8 = 1
    /// Largest key and value the reader accepts (RocksDB entries of a node are far smaller; blobs
    /// are bounded by `max_blob_bytes`, 64 MiB by default).
    static let maxKeyBytes = 4096
    static let maxValueBytes = 256 << 20

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    public struct Summary: Sendable {
        public var families: [(name: String, entries: UInt64)] = []
        public var bytes: UInt64 = 0
    }

    /// Writes `database` (every column family, in key order) and `genesisJSON` to `path`.
    public static func write(_ database: Database, genesisJSON: [UInt8], to path: String) throws -> Summary {
        guard FileManager.default.createFile(atPath: path, contents: nil), let file = FileHandle(forWritingAtPath: path) else {
            throw Failure(description: "cannot create \(path); check the directory exists and is writable")
        }
        defer { try? file.close() }
        let whole = SHA256Hasher()
        var summary = Summary()
        var buffer: [UInt8] = []
        func emit(_ bytes: [UInt8], _ section: SHA256Hasher? = nil, hashed: Bool = true) throws {
            if hashed { whole.update(bytes) }
            section?.update(bytes)
            buffer += bytes
            summary.bytes += UInt64(bytes.count)
            if buffer.count >= 1 << 20 { try flush() }
        }
        func flush() throws {
            try file.write(contentsOf: buffer)
            buffer.removeAll(keepingCapacity: true)
        }
        try emit(magic + [version] + be32(genesisJSON.count) + genesisJSON)
        for family in ColumnFamily.allCases {
            let section = SHA256Hasher()
            let name = Array(family.rawValue.utf8)
            // The state copies kept for proofs (D58) are derived from the rest and would multiply
            // the file by the number kept: the section stays, empty.
            let derived = family == .checkpoints
            var count: UInt64 = 0
            if !derived { try database.scan(family.rawValue) { _, _ in count += 1; return true } }
            try emit([UInt8(name.count)] + name + be64(count), section)
            var written: UInt64 = 0
            try database.scan(family.rawValue) { key, value in
                guard written < count else { return false }  // the database is a fixed view; never more than counted
                try emit(be32(key.count) + key + be32(value.count) + value, section)
                written += 1
                return true
            }
            guard written == count else { throw Failure(description: "column family \(family.rawValue) changed while archiving; archive a stopped node or a secondary view") }
            try emit(section.finalize().bytes)
            summary.families.append((family.rawValue, count))
        }
        try emit(trailer)
        try emit(whole.finalize().bytes, hashed: false)
        try flush()
        return summary
    }

    /// Checks `path` end to end and restores it into an empty database at `directory`; returns
    /// the genesis JSON. Streams: memory stays at one read buffer and one write batch whatever the
    /// archive's size. Every length is checked against what remains of the file before use; on any
    /// failure the caller must discard `directory` (it may hold part of the archive).
    public static func restore(_ path: String, into directory: String) throws -> (genesisJSON: [UInt8], summary: Summary) {
        guard let handle = FileHandle(forReadingAtPath: path),
              let size = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int else {
            throw Failure(description: "cannot read \(path)")
        }
        defer { try? handle.close() }
        var reader = Reader(handle: handle, size: size)
        guard try reader.take(magic.count, "the magic") == magic else { throw Failure(description: "\(path) is not a Cairn archive (no CAIRNARC header)") }
        let v = try reader.take(1, "the version")[0]
        guard v == version else { throw Failure(description: "\(path) is archive version \(v); this build reads version \(version)") }
        let genesisJSON = try reader.take(try reader.length(max: 256 << 20, "the genesis length"), "the genesis")
        var summary = Summary(bytes: UInt64(size))
        let database = try Database(nodePath: directory)
        defer { database.close() }
        for family in ColumnFamily.allCases {
            let start = reader.offset
            reader.section = SHA256Hasher()
            let nameLength = Int(try reader.take(1, "a family name length")[0])
            let name = String(decoding: try reader.take(nameLength, "a family name"), as: UTF8.self)
            guard name == family.rawValue else {
                throw Failure(description: "\(path): section \(summary.families.count + 1) is \"\(name)\", expected column family \"\(family.rawValue)\"; the archive is damaged")
            }
            let count = try reader.uint64("the entry count of \(name)")
            // Each entry takes at least 8 bytes: a larger count is a damaged file, not a loop to run.
            guard count <= UInt64(reader.remaining / 8) else { throw Failure(description: "\(path): section \(name) claims \(count) entries, more than the file holds; the archive is damaged") }
            var batch = WriteBatch()
            var pending = 0
            for _ in 0 ..< count {
                let key = try reader.take(try reader.length(max: maxKeyBytes, "a key length in \(name)"), "a key in \(name)")
                let value = try reader.take(try reader.length(max: maxValueBytes, "a value length in \(name)"), "a value in \(name)")
                batch.put(name, key, value)
                pending += key.count + value.count
                if pending >= 32 << 20 {
                    try database.write(batch, sync: false)
                    batch = WriteBatch()
                    pending = 0
                }
            }
            try database.write(batch, sync: false)
            let digest = reader.section!.finalize().bytes
            reader.section = nil
            guard try reader.take(32, "the digest of \(name)") == digest else {
                throw Failure(description: "\(path): the \(name) section fails its SHA-256 (bytes \(start)…\(reader.offset)); the archive is damaged or was altered")
            }
            summary.families.append((name, count))
        }
        guard try reader.take(trailer.count, "the trailer") == trailer, reader.remaining == 32 else {
            throw Failure(description: "\(path): bytes after the last section; the archive is damaged")
        }
        let whole = reader.whole.finalize().bytes
        guard try reader.take(32, "the final digest", hashed: false) == whole else {
            throw Failure(description: "\(path): the file's SHA-256 does not match its trailer (a header byte or a section digest was changed); the archive is damaged or was altered")
        }
        return (genesisJSON, summary)
    }

    /// Sequential reads through a 1 MiB buffer, hashing what it returns.
    struct Reader {
        let handle: FileHandle
        let size: Int
        var offset = 0
        var buffer: [UInt8] = []
        var position = 0
        let whole = SHA256Hasher()
        var section: SHA256Hasher?
        var remaining: Int { size - offset }

        init(handle: FileHandle, size: Int) {
            self.handle = handle
            self.size = size
        }

        mutating func take(_ count: Int, _ what: String, hashed: Bool = true) throws -> [UInt8] {
            guard count >= 0, count <= remaining else { throw Failure(description: "the archive ends inside \(what); it is truncated or damaged") }
            var out: [UInt8] = []
            out.reserveCapacity(count)
            while out.count < count {
                if position == buffer.count {
                    buffer = Array(try handle.read(upToCount: 1 << 20) ?? Data())
                    position = 0
                    guard !buffer.isEmpty else { throw Failure(description: "the archive ends inside \(what); it is truncated") }
                }
                let k = min(count - out.count, buffer.count - position)
                out += buffer[position ..< position + k]
                position += k
            }
            offset += count
            if hashed {
                whole.update(out)
                section?.update(out)
            }
            return out
        }

        mutating func length(max: Int, _ what: String) throws -> Int {
            let raw = try take(4, what)
            let value = raw.reduce(0) { $0 << 8 | Int($1) }
            guard value <= max else { throw Failure(description: "\(what) is \(value) bytes, above the \(max) an archive may hold; it is damaged") }
            return value
        }

        mutating func uint64(_ what: String) throws -> UInt64 {
            try take(8, what).reduce(0) { $0 << 8 | UInt64($1) }
        }
    }

    static func be32(_ value: Int) -> [UInt8] { (0 ..< 4).map { UInt8(truncatingIfNeeded: value >> (8 * (3 - $0))) } }
    static func be64(_ value: UInt64) -> [UInt8] { (0 ..< 8).map { UInt8(truncatingIfNeeded: value >> (8 * (7 - $0))) } }
}
