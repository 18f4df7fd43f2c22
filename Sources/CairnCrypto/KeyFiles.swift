import CairnCore
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Errors reading or writing key files; each names the file and what to do.
public struct KeyFileError: Error, Hashable, Sendable, CustomStringConvertible {
    public var path: String
    public var problem: String
    public var description: String { "\(path): \(problem)" }
}

/// Secret key files: JSON, written mode 0600, refused when group or others can read them.
public enum KeyFiles {
    public static let signingKeyType = "cairn-ed25519-v1"
    public static let coinShareType = "cairn-coin-share-v1"
    public static let ceremonyKeyType = "cairn-ceremony-key-v1"

    struct SigningKeyFile: Codable {
        var type: String
        var publicKey: PublicKey
        var seed: String
        enum CodingKeys: String, CodingKey { case type, publicKey = "public_key", seed }
    }

    struct CoinShareFile: Codable {
        var type: String
        var index: UInt32
        var publicShare: CurvePoint
        var secret: String
        enum CodingKeys: String, CodingKey { case type, index, publicShare = "public_share", secret }
    }

    // MARK: Signing keys

    public static func writeSigningKey(_ key: SigningKey, to path: String) throws {
        let file = SigningKeyFile(type: signingKeyType, publicKey: key.publicKey, seed: Hex.encode(key.seed))
        try writeSecret(try encode(file), to: path)
    }

    public static func readSigningKey(at path: String) throws -> SigningKey {
        let file = try decodeSecret(SigningKeyFile.self, at: path)
        guard file.type == signingKeyType else {
            throw KeyFileError(path: path, problem: "type is '\(file.type)', expected '\(signingKeyType)'")
        }
        guard let seed = Hex.decode(file.seed), seed.count == SigningKey.seedByteCount else {
            throw KeyFileError(path: path, problem: "seed must be 64 hex characters")
        }
        let key = try SigningKey(seed: seed)
        guard key.publicKey == file.publicKey else {
            throw KeyFileError(path: path, problem: "seed derives public key \(key.publicKey.short)…, but the file says \(file.publicKey.short)…; the file is corrupt or was edited")
        }
        return key
    }

    // MARK: Coin shares

    public static func writeCoinShare(_ share: CoinSecretShare, to path: String) throws {
        let file = CoinShareFile(type: coinShareType, index: share.index, publicShare: share.publicShare,
                                 secret: Hex.encode(share.secretBytes))
        try writeSecret(try encode(file), to: path)
    }

    public static func readCoinShare(at path: String) throws -> CoinSecretShare {
        let file = try decodeSecret(CoinShareFile.self, at: path)
        guard file.type == coinShareType else {
            throw KeyFileError(path: path, problem: "type is '\(file.type)', expected '\(coinShareType)'")
        }
        guard let secret = Hex.decode(file.secret) else {
            throw KeyFileError(path: path, problem: "secret must be 64 hex characters")
        }
        let share: CoinSecretShare
        do {
            share = try CoinSecretShare(index: file.index, secret: secret)
        } catch {
            throw KeyFileError(path: path, problem: "\(error)")
        }
        guard share.publicShare == file.publicShare else {
            throw KeyFileError(path: path, problem: "secret does not match public_share; the file is corrupt or was edited")
        }
        return share
    }

    // MARK: Ceremony keys

    struct CeremonyKeyFile: Codable {
        var type: String
        var publicKey: CurvePoint
        var secret: String
        enum CodingKeys: String, CodingKey { case type, publicKey = "public_key", secret }
    }

    /// The genesis ceremony's encryption key (D63); deleted once the coin share is written.
    public static func writeCeremonySecret(_ secret: CeremonySecret, to path: String) throws {
        let file = CeremonyKeyFile(type: ceremonyKeyType, publicKey: secret.publicKey, secret: Hex.encode(secret.secretBytes))
        try writeSecret(try encode(file), to: path)
    }

    public static func readCeremonySecret(at path: String) throws -> CeremonySecret {
        let file = try decodeSecret(CeremonyKeyFile.self, at: path)
        guard file.type == ceremonyKeyType else {
            throw KeyFileError(path: path, problem: "type is '\(file.type)', expected '\(ceremonyKeyType)'")
        }
        guard let bytes = Hex.decode(file.secret), let secret = try? CeremonySecret(secret: bytes) else {
            throw KeyFileError(path: path, problem: "secret must be 64 hex characters of a non-zero canonical scalar")
        }
        guard secret.publicKey == file.publicKey else {
            throw KeyFileError(path: path, problem: "secret does not match public_key; the file is corrupt or was edited")
        }
        return secret
    }

    // MARK: File handling


    private static func encode(_ value: some Encodable) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        var data = try encoder.encode(value)
        data.append(0x0a)
        return data
    }

    /// Creates the file with mode 0600 from the first byte on (never world-readable, not even
    /// briefly), refuses to overwrite, and syncs before returning.
    public static func writeSecret(_ data: Data, to path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            let reason = String(cString: strerror(errno))
            throw KeyFileError(path: path, problem: errno == EEXIST
                ? "already exists; refusing to overwrite a key (move it away first)"
                : "cannot create: \(reason)")
        }
        defer { close(fd) }
        let written = data.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == data.count, fsync(fd) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(path)
            throw KeyFileError(path: path, problem: "cannot write: \(reason)")
        }
    }

    /// Reads a secret file after checking it is a regular file that only its owner can read.
    public static func readSecret(at path: String) throws -> Data {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw KeyFileError(path: path, problem: errno == ENOENT
                ? "does not exist; create it with `cairn keys init --home DIR`"
                : "cannot stat: \(String(cString: strerror(errno)))")
        }
        guard info.st_mode & S_IFMT == S_IFREG else {
            throw KeyFileError(path: path, problem: "is not a regular file")
        }
        let mode = info.st_mode & 0o777
        guard mode & 0o077 == 0 else {
            throw KeyFileError(path: path, problem: "has mode \(String(mode, radix: 8)), readable by group or others; "
                + "run `chmod 600 \(path)` (and consider the key compromised if others had access)")
        }
        guard info.st_size <= 64 * 1024 else {
            throw KeyFileError(path: path, problem: "is \(info.st_size) bytes; a key file is under 1 KiB")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw KeyFileError(path: path, problem: "cannot be read")
        }
        return data
    }

    private static func decodeSecret<T: Decodable>(_: T.Type, at path: String) throws -> T {
        let data = try readSecret(at: path)
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch let error as DecodingError {
            throw KeyFileError(path: path, problem: "not a valid key file: \(StrictJSON.describe(error))")
        }
    }
}
