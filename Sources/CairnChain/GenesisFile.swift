import CairnCore
import CairnCrypto
import Foundation

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
