/// Failures of cryptographic operations on untrusted or malformed inputs.
public enum CryptoError: Error, Hashable, Sendable, CustomStringConvertible {
    case invalidKeyMaterial(String)
    case libraryFailure(String)
    case authenticationFailed(String)
    case replayedOrReordered(expected: UInt64, got: UInt64)
    case messageTooLarge(Int, limit: Int)

    public var description: String {
        switch self {
        case let .invalidKeyMaterial(detail): return "invalid key material: \(detail)"
        case let .libraryFailure(function): return "\(function) failed"
        case let .authenticationFailed(detail): return "authentication failed: \(detail)"
        case let .replayedOrReordered(expected, got):
            return "frame counter \(got) where \(expected) was expected: replayed, dropped or reordered frame"
        case let .messageTooLarge(size, limit): return "message of \(size) bytes exceeds the limit of \(limit)"
        }
    }
}
