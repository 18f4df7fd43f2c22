import CSodium

/// Ephemeral X25519 key pair for one peer connection (libsodium `crypto_kx`). Each side of a
/// handshake makes one, exchanges public keys under its Ed25519 identity signature, and derives a
/// pair of directional session keys; nothing is reused across connections (forward secrecy).
public struct EphemeralKeyPair: Sendable {
    public let publicKey: [UInt8]
    private let secretKey: [UInt8]

    public init() {
        requireSodium()
        var pk = [UInt8](repeating: 0, count: Int(crypto_kx_PUBLICKEYBYTES))
        var sk = [UInt8](repeating: 0, count: Int(crypto_kx_SECRETKEYBYTES))
        let rc = crypto_kx_keypair(&pk, &sk)
        precondition(rc == 0, "crypto_kx_keypair failed")
        publicKey = pk
        secretKey = sk
    }

    public enum Role: Sendable { case client, server }

    /// Directional keys: `sending` seals what this side sends, `receiving` opens what it receives.
    /// Fails if the peer's key is malformed or yields a weak shared secret.
    public func sessionKeys(role: Role, peerPublicKey: [UInt8]) throws -> (sending: ChannelKey, receiving: ChannelKey) {
        guard peerPublicKey.count == Int(crypto_kx_PUBLICKEYBYTES) else {
            throw CryptoError.invalidKeyMaterial("X25519 public key must be \(crypto_kx_PUBLICKEYBYTES) bytes, got \(peerPublicKey.count)")
        }
        var rx = [UInt8](repeating: 0, count: Int(crypto_kx_SESSIONKEYBYTES))
        var tx = [UInt8](repeating: 0, count: Int(crypto_kx_SESSIONKEYBYTES))
        let rc: Int32
        switch role {
        case .client: rc = crypto_kx_client_session_keys(&rx, &tx, publicKey, secretKey, peerPublicKey)
        case .server: rc = crypto_kx_server_session_keys(&rx, &tx, publicKey, secretKey, peerPublicKey)
        }
        guard rc == 0 else {
            throw CryptoError.invalidKeyMaterial("peer X25519 key gives an invalid shared secret")
        }
        return (ChannelKey(bytes: tx), ChannelKey(bytes: rx))
    }
}

/// A 256-bit XChaCha20-Poly1305 key for one direction of one connection.
public struct ChannelKey: Sendable {
    let bytes: [UInt8]
    public init(bytes: [UInt8]) {
        precondition(bytes.count == Int(crypto_aead_xchacha20poly1305_ietf_KEYBYTES), "channel key must be 32 bytes")
        self.bytes = bytes
    }
}

/// Seals frames of one direction with XChaCha20-Poly1305 and a counter nonce.
///
/// The nonce is the frame number, so frames cannot be replayed, dropped or reordered without the
/// receiver's `ChannelOpener` rejecting them; the counter is never sent.
public struct ChannelSealer: Sendable {
    private let key: ChannelKey
    public private(set) var counter: UInt64 = 0

    public init(key: ChannelKey) { self.key = key }

    public static let overhead = Int(crypto_aead_xchacha20poly1305_ietf_ABYTES)

    public mutating func seal(_ plaintext: [UInt8], associatedData: [UInt8] = []) -> [UInt8] {
        var ciphertext = [UInt8](repeating: 0, count: plaintext.count + Self.overhead)
        var length: UInt64 = 0
        let nonce = channelNonce(counter)
        let rc = crypto_aead_xchacha20poly1305_ietf_encrypt(
            &ciphertext, &length, plaintext, UInt64(plaintext.count),
            associatedData, UInt64(associatedData.count), nil, nonce, key.bytes)
        precondition(rc == 0, "crypto_aead_xchacha20poly1305_ietf_encrypt cannot fail with a valid key")
        counter += 1
        return ciphertext
    }
}

/// Opens frames sealed by the peer's `ChannelSealer`, in order.
public struct ChannelOpener: Sendable {
    private let key: ChannelKey
    public private(set) var counter: UInt64 = 0

    public init(key: ChannelKey) { self.key = key }

    /// Decrypts the next frame. A tampered, replayed or out-of-order frame fails authentication
    /// and leaves the counter unchanged.
    public mutating func open(_ ciphertext: [UInt8], associatedData: [UInt8] = []) throws -> [UInt8] {
        guard ciphertext.count >= ChannelSealer.overhead else {
            throw CryptoError.authenticationFailed("frame of \(ciphertext.count) bytes is shorter than the \(ChannelSealer.overhead)-byte tag")
        }
        var plaintext = [UInt8](repeating: 0, count: ciphertext.count - ChannelSealer.overhead)
        var length: UInt64 = 0
        let rc = crypto_aead_xchacha20poly1305_ietf_decrypt(
            &plaintext, &length, nil, ciphertext, UInt64(ciphertext.count),
            associatedData, UInt64(associatedData.count), channelNonce(counter), key.bytes)
        guard rc == 0 else {
            throw CryptoError.authenticationFailed("frame \(counter) does not authenticate (tampered, replayed or out of order)")
        }
        counter += 1
        return plaintext
    }
}

/// 24-byte nonce: 16 zero bytes then the big-endian frame counter. Keys are per connection and per
/// direction, so a counter nonce is never reused under one key.
private func channelNonce(_ counter: UInt64) -> [UInt8] {
    var nonce = [UInt8](repeating: 0, count: Int(crypto_aead_xchacha20poly1305_ietf_NPUBBYTES))
    for i in 0 ..< 8 { nonce[nonce.count - 1 - i] = UInt8(truncatingIfNeeded: counter >> (8 * UInt64(i))) }
    return nonce
}
