import CSodium

/// libsodium must be initialised once before use; a global `let` is initialised lazily and
/// thread-safely, so every entry point reads it first.
let sodiumReady: Bool = sodium_init() >= 0

@inline(__always)
func requireSodium() {
    precondition(sodiumReady, "libsodium failed to initialise (sodium_init < 0); the process cannot do cryptography")
}

/// Cryptographically secure random bytes from libsodium (getrandom on Linux).
public func secureRandomBytes(_ count: Int) -> [UInt8] {
    requireSodium()
    var out = [UInt8](repeating: 0, count: count)
    randombytes_buf(&out, count)
    return out
}

/// Constant-time comparison of secrets and MACs.
public func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    guard a.count == b.count else { return false }
    requireSodium()
    return sodium_memcmp(a, b, a.count) == 0
}

/// Overwrites secret material; the compiler may not elide sodium_memzero.
func wipe(_ bytes: inout [UInt8]) {
    bytes.withUnsafeMutableBytes { sodium_memzero($0.baseAddress, $0.count) }
}

/// SHA-512 (libsodium): used only where the protocol needs 64 uniform bytes (hash-to-group,
/// hash-to-scalar). All digests that name objects use SHA-256 (`Hashing`).
func sha512(_ parts: [UInt8]...) -> [UInt8] {
    requireSodium()
    var state = crypto_hash_sha512_state()
    crypto_hash_sha512_init(&state)
    for part in parts { crypto_hash_sha512_update(&state, part, UInt64(part.count)) }
    var out = [UInt8](repeating: 0, count: Int(crypto_hash_sha512_BYTES))
    crypto_hash_sha512_final(&state, &out)
    return out
}
