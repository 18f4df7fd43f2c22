import CairnCore

/// The validator set as consensus sees it: n = 3f+1 equal-stake validators (ARCHITECTURE §4).
public struct Committee: Sendable, Hashable {
    public let size: Int
    /// The chain being agreed on (genesis hash); bound into every signature.
    public let chain: Digest

    public init(size: Int, chain: Digest) {
        precondition(size >= 4 && (size - 1) % 3 == 0, "committee size \(size) is not 3f+1 with f ≥ 1")
        self.size = size
        self.chain = chain
    }

    public var faults: Int { (size - 1) / 3 }
    /// 2f+1: votes per certificate, certificates per round to advance, support to commit.
    public var quorum: Int { 2 * faults + 1 }
    /// f+1: coin shares that combine into a wave's coin.
    public var validity: Int { faults + 1 }
    /// Most weak edges a vertex may carry (a protocol rule: every validator refuses more, D39).
    /// Honest vertices carry the oldest unreferenced certificates first and leave the rest for
    /// their next rounds; 16 rounds' worth per vertex is far more than a live network leaves behind.
    public var maxWeakEdges: Int { 16 * size }
}

/// One validator's consensus settings. Genesis fixes the protocol values; the rest are local.
public struct DAGRiderSettings: Sendable {
    public var committee: Committee
    /// This validator's 0-based index.
    public var me: Int
    /// Rounds kept below the last committed leader round.
    public var gcDepth: UInt64 = 50
    public var minRoundIntervalMs: UInt64 = 50
    public var maxRoundIntervalMs: UInt64 = 1000
    public var maxRecordsPerVertex = 1000
    public var maxVertexBytes = 1 << 20
    /// Messages for rounds beyond current + this are dropped.
    public var futureRoundWindow: UInt64 = 100
    /// Re-ask another peer for a missing certificate after this long.
    public var fetchRetryMs: UInt64 = 400
    /// Re-broadcast an own proposal that has not gathered a quorum after this long.
    public var proposalRetryMs: UInt64 = 500
    /// Certificates held while their parents are fetched, in all (D39).
    public var maxBufferedMessages = 20_000
    /// Proposals held while their parents are fetched, per author: one per slot, and an author has
    /// at most a far-future window of slots above the floor.
    public var maxBufferedProposalsPerAuthor = 128
    /// Certificates held while their parents are fetched, per author (one per slot).
    public var maxBufferedCertificatesPerAuthor = 512
    /// Fetch requests served per peer per second; more are refused (`fetch_flood`). Catch-up
    /// asks at most once per retry interval per missing digest batch, far below this.
    public var maxFetchesServedPerPeerPerSecond = 100
    /// Largest fetch answer, in encoded bytes: answers are split below the 16 MiB frame limit.
    public var maxFetchAnswerBytes = 4 << 20
    /// Records waiting for the next vertex, by count and by bytes.
    public var maxPendingRecords = 100_000
    public var maxPendingRecordBytes = 64 << 20
    /// Always the standard rules outside the test suite, which plants wrong ones (D43).
    public var orderingRules: any OrderingRules = StandardOrderingRules()

    public init(committee: Committee, me: Int) {
        precondition((0 ..< committee.size).contains(me), "validator index \(me) outside the committee")
        self.committee = committee
        self.me = me
    }

    public init(genesis: Genesis, genesisHash: Digest, me: Int) {
        self.init(committee: Committee(size: genesis.validators.count, chain: genesisHash), me: me)
        let c = genesis.consensus
        gcDepth = UInt64(c.gcDepth)
        minRoundIntervalMs = UInt64(c.minRoundIntervalMs)
        maxRoundIntervalMs = UInt64(c.maxRoundIntervalMs)
        maxRecordsPerVertex = Int(c.maxRecordsPerVertex)
        maxVertexBytes = Int(c.maxVertexBytes)
        futureRoundWindow = UInt64(c.futureRoundWindow)
    }
}

/// Waves of 4 rounds (DAG-Rider §5): wave w spans rounds 4(w−1)+1 … 4w; its leader is a vertex of
/// round 4(w−1)+1; the coin shares for w travel in round 4w+1.
public enum Wave {
    public static func firstRound(_ wave: UInt64) -> UInt64 { 4 * (wave - 1) + 1 }
    public static func lastRound(_ wave: UInt64) -> UInt64 { 4 * wave }
    /// The wave whose coin shares a vertex of `round` carries, if any.
    public static func coinWave(carriedIn round: UInt64) -> UInt64? {
        round >= 5 && (round - 1) % 4 == 0 ? (round - 1) / 4 : nil
    }
}
