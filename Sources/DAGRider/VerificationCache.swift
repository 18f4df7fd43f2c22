import CairnCore
import CairnCrypto

/// Remembers what signature checks already proved, so a vertex that arrives again — a repeated
/// proposal, its certificate, a fetch answer, a re-broadcast certificate — is not verified again
/// (ARCHITECTURE §3: "verify each signature once, cache"). Ed25519 verification is the node's CPU
/// ceiling (§12), and a proposal's check covers every record signature in its payload.
///
/// Keys include the exact signature bytes (for a signed vertex) or the exact vote list (for a
/// certificate), so a copy carrying different, unchecked signatures is never taken as verified.
/// Bounded: two generations of `capacity` entries each; the older one is dropped when the newer
/// fills, so recently seen vertices stay cached.
public final class VerificationCache: Sendable {
    let signed: RecentDigests
    let certified: RecentDigests

    /// `reserve`: take each generation's memory up front (a long-running node; see `RecentDigests`).
    public init(capacity: Int = 49_152, reserve: Bool = false) {
        signed = RecentDigests(capacity: capacity, reserve: reserve)
        certified = RecentDigests(capacity: capacity, reserve: reserve)
    }

    /// Key of a signed vertex whose author signature, coin share and payload were checked.
    static func key(digest: Digest, signature: Signature) -> Digest {
        SHA256.hash(digest.bytes + signature.bytes)
    }

    /// Key of a certificate whose votes were checked.
    static func key(digest: Digest, votes: [CertificateVote]) -> Digest {
        var bytes = digest.bytes
        bytes.reserveCapacity(32 + votes.count * 68)
        for vote in votes { bytes += vote.canonicalBytes }
        return SHA256.hash(bytes)
    }

    func containsSigned(_ key: Digest) -> Bool { signed.contains(key) }
    func insertSigned(_ key: Digest) { signed.insert(key) }
    func containsCertified(_ key: Digest) -> Bool { certified.contains(key) }
    func insertCertified(_ key: Digest) { certified.insert(key) }

    public var count: Int { signed.count + certified.count }
}
