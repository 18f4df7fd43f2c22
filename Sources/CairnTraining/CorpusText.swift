import CairnCore
import CairnCrypto
import Foundation

/// The reference task's text, loaded and checked against genesis. A node refuses to train or
/// evaluate on any other bytes: every validator must score on the same data.
public struct CorpusText: Sendable {
    public let bytes: [UInt8]
    public let spec: CorpusSpec

    public struct Error: Swift.Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    /// Bytes of the extension-less regular files of `directory` in byte order of name (the
    /// `debian-fortunes` rule), refused unless size and SHA-256 match `expected`.
    public init(directory: String, expected: CorpusSpec) throws {
        guard expected.byteCount <= UInt64(Self.maxBytes) else {
            throw Error(description: "genesis task.corpus.byte_count \(expected.byteCount) exceeds the \(Self.maxBytes)-byte limit of the reference task")
        }
        let bytes = try Self.read(directory: directory, capacity: Int(expected.byteCount))
        try self.init(bytes: bytes, expected: expected, origin: directory)
    }

    /// Checks bytes held in memory (tests use synthetic corpora with their own spec).
    public init(bytes: [UInt8], expected: CorpusSpec, origin: String = "memory") throws {
        let actual = CorpusText.spec(of: bytes, source: expected.source)
        guard actual.byteCount == expected.byteCount, actual.sha256 == expected.sha256 else {
            throw Error(description: "corpus in \(origin) does not match genesis: \(actual.byteCount) bytes with sha256 \(actual.sha256), genesis names \(expected.byteCount) bytes with sha256 \(expected.sha256); install the same fortunes package version as the other validators or pass the right --corpus directory")
        }
        guard bytes.count > 4096 else {
            throw Error(description: "corpus has \(bytes.count) bytes; the task needs more than 4096")
        }
        self.bytes = bytes
        self.spec = expected
    }

    public static let maxBytes = 1 << 30

    /// The concatenated corpus files of `directory` (at most `maxBytes`), unchecked: callers compare
    /// them with genesis (`init(directory:expected:)`) or measure them (`spec(of:source:)`).
    public static func read(directory: String, capacity: Int = 0) throws -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(min(max(0, capacity), maxBytes))
        for path in try CorpusFiles.list(in: directory) {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw Error(description: "cannot read corpus file \(path)")
            }
            guard bytes.count + data.count <= maxBytes else {
                throw Error(description: "corpus in \(directory) is larger than \(maxBytes) bytes")
            }
            bytes.append(contentsOf: data)
        }
        return bytes
    }

    /// The genesis entry for these bytes: SHA-256 with the corpus domain tag.
    public static func spec(of bytes: [UInt8], source: String) -> CorpusSpec {
        CorpusSpec(source: source, sha256: Hashing.digest(.corpus, bytes), byteCount: UInt64(bytes.count))
    }
}

/// Which files make up a corpus directory: extension-less regular files, byte order of name.
/// `.dat` indexes and `.u8` links have extensions and are skipped; so are subdirectories (the
/// `off/` collection) and symbolic links.
public enum CorpusFiles {
    public static let defaultDirectory = "/usr/share/games/fortunes"
    public static let source = "debian-fortunes"

    public static func list(in directory: String) throws -> [String] {
        let fm = FileManager.default
        guard let names = try? fm.contentsOfDirectory(atPath: directory) else {
            throw CorpusText.Error(description: "corpus directory \(directory) cannot be read; install Debian's fortunes package (tools/setup does) or pass --corpus DIR")
        }
        let files = names.filter { !$0.contains(".") }
            .sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
            .map { directory + "/" + $0 }
            .filter { path in
                guard let attributes = try? fm.attributesOfItem(atPath: path) else { return false }
                return attributes[.type] as? FileAttributeType == .typeRegular
            }
        guard !files.isEmpty else {
            throw CorpusText.Error(description: "corpus directory \(directory) holds no extension-less text files")
        }
        return files
    }

    /// The genesis entry for the corpus in `directory`, as `cairn testnet` measures it: the same
    /// digest as `CorpusText.spec(of:source:)` over the concatenated files, streamed a mebibyte
    /// at a time so measuring never holds the corpus in memory.
    public static func spec(directory: String) throws -> CorpusSpec {
        let hasher = SHA256Hasher(domain: .corpus)
        var total: UInt64 = 0
        for path in try list(in: directory) {
            guard let handle = FileHandle(forReadingAtPath: path) else {
                throw CorpusText.Error(description: "cannot read corpus file \(path)")
            }
            defer { try? handle.close() }
            while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
                chunk.withUnsafeBytes { hasher.update($0) }
                total += UInt64(chunk.count)
            }
        }
        return CorpusSpec(source: source, sha256: hasher.finalize(), byteCount: total)
    }
}
