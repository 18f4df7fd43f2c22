import CairnCore
import CairnCrypto
import CairnTraining
import Foundation

/// The reference task's corpus (ARCHITECTURE §6) as `cairn testnet` measures it for genesis: the
/// files `CorpusFiles` lists, concatenated, hashed as a stream.
public enum Corpus {
    public static let defaultDirectory = CorpusFiles.defaultDirectory
    public static let source = CorpusFiles.source

    public struct Error: Swift.Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    /// The files that make up the corpus, full paths in corpus order (`CorpusFiles`' rule).
    public static func files(in directory: String) throws -> [String] {
        do { return try CorpusFiles.list(in: directory) } catch let error as CorpusText.Error {
            throw Error(description: error.description)
        }
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
