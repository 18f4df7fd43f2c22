import CairnCore
import CairnCrypto
import DAGRider
import Synchronization

/// How many Ed25519 checks this validator made, and where. The budget is one check per record per
/// node (ARCHITECTURE §3: verify once, cache): a record verified at intake is not checked again
/// before the vote or at execution. Consensus messages (vertex authors, votes) are counted apart:
/// they cost per vertex, not per record. Exported as `cairn_signature_checks_total{site}` and
/// `cairn_signature_cache_hits_total{site}`, so a benchmark can divide by the records committed.
public final class SignatureChecks: Sendable {
    public enum Site: Int, CaseIterable, Sendable {
        /// A record submitted to this node's API.
        case intake
        /// A record inside a peer's proposal, before this node votes for it.
        case proposal
        /// A record the ledger executes that no earlier site checked here.
        case execution
        /// A vertex author's or a voter's signature.
        case consensus

        public var label: String {
            switch self {
            case .intake: "intake"
            case .proposal: "proposal"
            case .execution: "execution"
            case .consensus: "consensus"
            }
        }
    }

    public struct Counts: Sendable, Equatable {
        public var checks: [UInt64] = Array(repeating: 0, count: Site.allCases.count)
        public var cacheHits: [UInt64] = Array(repeating: 0, count: Site.allCases.count)

        public func checks(_ site: Site) -> UInt64 { checks[site.rawValue] }
        public func cacheHits(_ site: Site) -> UInt64 { cacheHits[site.rawValue] }
    }

    private let counts = Mutex(Counts())

    public init() {}

    public func checked(_ site: Site) { counts.withLock { $0.checks[site.rawValue] &+= 1 } }
    public func hit(_ site: Site) { counts.withLock { $0.cacheHits[site.rawValue] &+= 1 } }
    public var snapshot: Counts { counts.withLock { $0 } }
}

/// Genesis's Ed25519 consensus keys, counting each check under `SignatureChecks.Site.consensus`.
struct CountedConsensusVerifier: ConsensusVerifier {
    let keys: Ed25519ConsensusKeys
    let counts: SignatureChecks

    func verify(_ signature: Signature, message: [UInt8], signer: Int) -> Bool {
        counts.checked(.consensus)
        return keys.verify(signature, message: message, signer: signer)
    }
}

/// The one way this validator checks a record's signature (ARCHITECTURE §3: verify once, cache):
/// look the id up among records already checked, else verify it over this chain and remember it,
/// counting either outcome under its site. Used at intake, before voting and at execution.
public final class RecordSignatures: Sendable {
    let chain: Digest
    /// Ids of records whose signatures this node checked; an eviction costs one check again.
    public let verified: RecentDigests
    public let counts: SignatureChecks

    public init(chain: Digest, capacity: Int) {
        self.chain = chain
        verified = RecentDigests(capacity: capacity, reserve: true)
        counts = SignatureChecks()
    }

    /// Whether the record with id `id` is signed by its author over this chain. `record` is only
    /// decoded when the cache does not answer (nil when it is not a canonical record).
    public func check(id: Digest, at site: SignatureChecks.Site, _ record: () -> SignedRecord?) -> Bool {
        if verified.contains(id) {
            counts.hit(site)
            return true
        }
        counts.checked(site)
        guard let record = record(),
              record.author.verify(record.signature, for: SignedRecord.signingBytes(chain: chain, author: record.author,
                                                                                  nonce: record.nonce, body: record.body)) else { return false }
        verified.insert(id)
        return true
    }
}
