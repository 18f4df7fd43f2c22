import CSodium
import CairnCore

/// An Ed25519 signing key (libsodium). The 32-byte seed is what key files store.
///
/// Verification uses libsodium 1.0.18's strict rules (canonical S, no small-order A or R); every
/// validator links the same library, so all apply the same rules (ARCHITECTURE §3).
public struct SigningKey: Sendable {
    public static let seedByteCount = 32
    /// libsodium's 64-byte secret key: seed ‖ public key.
    private let secret: [UInt8]
    public let publicKey: PublicKey

    public init(seed: [UInt8]) throws {
        guard seed.count == Self.seedByteCount else {
            throw CryptoError.invalidKeyMaterial("an Ed25519 seed is \(Self.seedByteCount) bytes, got \(seed.count)")
        }
        requireSodium()
        var pk = [UInt8](repeating: 0, count: Int(crypto_sign_PUBLICKEYBYTES))
        var sk = [UInt8](repeating: 0, count: Int(crypto_sign_SECRETKEYBYTES))
        guard crypto_sign_seed_keypair(&pk, &sk, seed) == 0 else {
            throw CryptoError.libraryFailure("crypto_sign_seed_keypair")
        }
        secret = sk
        publicKey = PublicKey(uncheckedBytes: pk)
    }

    /// A fresh key from the operating system's CSPRNG.
    public static func generate() -> SigningKey {
        var seed = secureRandomBytes(seedByteCount)
        defer { wipe(&seed) }
        // A 32-byte seed is always accepted.
        return try! SigningKey(seed: seed)
    }

    public var seed: [UInt8] { Array(secret[0 ..< Self.seedByteCount]) }

    public func sign(_ message: [UInt8]) -> Signature {
        var signature = [UInt8](repeating: 0, count: Int(crypto_sign_BYTES))
        let rc = crypto_sign_detached(&signature, nil, message, UInt64(message.count), secret)
        precondition(rc == 0, "crypto_sign_detached cannot fail with a valid secret key")
        return Signature(uncheckedBytes: signature)
    }
}

extension PublicKey {
    /// Whether `signature` is this key's signature of `message`. False, never a trap, for any
    /// malformed key or signature.
    public func verify(_ signature: Signature, for message: [UInt8]) -> Bool {
        requireSodium()
        return crypto_sign_verify_detached(signature.bytes, message, UInt64(message.count), bytes) == 0
    }

    /// A key that can never verify anything (not a curve point, or small order) is rejected up
    /// front in genesis and key files.
    public var isValidEd25519Point: Bool {
        requireSodium()
        return crypto_core_ed25519_is_valid_point(bytes) == 1
    }
}
