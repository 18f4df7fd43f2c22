import COpenSSL
import CairnCore

/// SHA-256 through OpenSSL libcrypto, which uses the CPU's SHA extensions (ARCHITECTURE §3: ~1.7 GB/s
/// here, 5× libsodium's).
public enum SHA256 {
    /// Fetched once: OpenSSL 3's implicit fetch (`SHA256()`, `EVP_sha256()`) takes a global lock on
    /// every call, which cost more than hashing a vertex.
    // An EVP_MD is immutable once fetched and documented as safe to share between threads.
    nonisolated(unsafe) static let algorithm: OpaquePointer = {
        guard let md = EVP_MD_fetch(nil, "SHA256", nil) else { fatalError("OpenSSL has no SHA256 implementation") }
        return md
    }()

    public static func hash(_ bytes: [UInt8]) -> Digest {
        bytes.withUnsafeBytes { hash($0) }
    }

    public static func hash(_ bytes: UnsafeRawBufferPointer) -> Digest {
        var out = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        let ok = EVP_Digest(bytes.baseAddress, bytes.count, &out, &length, algorithm, nil)
        precondition(ok == 1 && length == 32, "EVP_Digest(SHA256) failed")
        return Digest(uncheckedBytes: out)
    }
}

/// Incremental SHA-256 for blobs too large to hold twice (model weights, compressed gradients).
/// Not Sendable: one hasher belongs to one task.
public final class SHA256Hasher {
    private let context: OpaquePointer

    public init() {
        guard let context = EVP_MD_CTX_new() else {
            fatalError("EVP_MD_CTX_new returned NULL: out of memory")
        }
        self.context = context
        precondition(EVP_DigestInit_ex(context, SHA256.algorithm, nil) == 1, "EVP_DigestInit_ex(sha256) failed")
    }

    /// A hasher already fed the domain tag, so `finalize` yields `Hashing.digest(tag, …)`.
    public convenience init(domain: DomainTag) {
        self.init()
        update([domain.rawValue])
    }

    deinit { EVP_MD_CTX_free(context) }

    public func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }

    public func update(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count > 0 else { return }
        precondition(EVP_DigestUpdate(context, bytes.baseAddress, bytes.count) == 1, "EVP_DigestUpdate failed")
    }

    /// Returns the digest; the hasher must not be used afterwards.
    public func finalize() -> Digest {
        var out = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        precondition(EVP_DigestFinal_ex(context, &out, &length) == 1 && length == 32, "EVP_DigestFinal_ex failed")
        return Digest(uncheckedBytes: out)
    }
}

/// Domain-separated digests: SHA-256(tag ‖ bytes) (ARCHITECTURE §3).
public enum Hashing {
    public static func digest(_ tag: DomainTag, _ bytes: [UInt8]) -> Digest {
        var tagged = [UInt8]()
        tagged.reserveCapacity(bytes.count + 1)
        tagged.append(tag.rawValue)
        tagged.append(contentsOf: bytes)
        return SHA256.hash(tagged)
    }

    public static func digest(_ tag: DomainTag, _ value: some CanonicalEncodable) -> Digest {
        var writer = CanonicalWriter()
        writer.write(tag.rawValue)
        value.encode(to: &writer)
        return SHA256.hash(writer.bytes)
    }
}

extension Genesis {
    /// The chain's identity: SHA-256(0x06 ‖ canonical encoding).
    public var hash: Digest { Hashing.digest(.genesis, self) }
}
