import Foundation

extension VectorRunner {
    /// Environment variable naming the vectors file explicitly.
    public static let environmentVariable = "CAIRN_OPENSKILL_VECTORS"
    /// Where the file lives relative to an ancestor directory.
    public static let relativePath = "shared/openskill/vectors.json"

    /// The vectors file: `$CAIRN_OPENSKILL_VECTORS` if set, otherwise the first
    /// `shared/openskill/vectors.json` found walking up from `directory` (e.g. a test's
    /// `#filePath` directory or the package root). Nil when neither exists.
    public static func locateVectors(searchingUpFrom directory: String) -> String? {
        let fileManager = FileManager.default
        if let explicit = ProcessInfo.processInfo.environment[environmentVariable], !explicit.isEmpty {
            return fileManager.fileExists(atPath: explicit) ? explicit : nil
        }
        var url = URL(fileURLWithPath: directory).standardizedFileURL
        while true {
            let candidate = url.appendingPathComponent(relativePath).path
            if fileManager.fileExists(atPath: candidate) { return candidate }
            let parent = url.deletingLastPathComponent()
            if parent.path == url.path { return nil }
            url = parent
        }
    }
}
