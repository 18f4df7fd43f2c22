import CairnCore
import CairnCrypto
import Foundation

/// The reference task's corpus (ARCHITECTURE §6): the extension-less files of a fortunes directory, in
/// byte order of their names, concatenated. `.dat` indexes and `.u8` links have extensions and so
/// are skipped; so are subdirectories (the `off/` collection) and symbolic links.
public enum Corpus {
    public static let defaultDirectory = "/usr/share/games/fortunes"
    public static let source = "debian-fortunes"

    public struct Error: Swift.Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    /// The files that make up the corpus, full paths in corpus order.
    public static func files(in directory: String) throws -> [String] {
        let fm = FileManager.default
        guard let names = try? fm.contentsOfDirectory(atPath: directory) else {
            throw Error(description: "corpus directory \(directory) cannot be read; install Debian's fortunes package (tools/setup does) or pass --corpus DIR")
        }
        let files = names.filter { !$0.contains(".") }
            .sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
            .map { directory + "/" + $0 }
            .filter { path in
                guard let attributes = try? fm.attributesOfItem(atPath: path) else { return false }
                return attributes[.type] as? FileAttributeType == .typeRegular
            }
        guard !files.isEmpty else {
            throw Error(description: "corpus directory \(directory) holds no extension-less text files")
        }
        return files
    }

    /// SHA-256 (domain `corpus`) and size of the concatenated corpus, streamed file by file.
    public static func spec(directory: String) throws -> CorpusSpec {
        let hasher = SHA256Hasher(domain: .corpus)
        var total: UInt64 = 0
        for path in try files(in: directory) {
            guard let handle = FileHandle(forReadingAtPath: path) else {
                throw Error(description: "cannot read corpus file \(path)")
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
