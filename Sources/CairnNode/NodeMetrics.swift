/// What a node counts for `/metrics` (ARCHITECTURE §11), kept by the consensus actor.
public struct NodeMetrics: Sendable {
    public var certificates: UInt64 = 0
    public var votesCast: UInt64 = 0
    public var proposals: UInt64 = 0
    public var fetchesSent: UInt64 = 0
    public var fetchesServed: UInt64 = 0
    public var recordsCommitted: UInt64 = 0
    public var verticesDropped: UInt64 = 0
    /// Records of own vertices dropped below the GC line and proposed again.
    public var recordsResubmitted: UInt64 = 0
    /// Records the ledger executed, and those it rejected by reason.
    public var recordsExecuted: UInt64 = 0
    public var recordsRejectedInLedger: [String: UInt64] = [:]
    public var checkpointsCertified: UInt64 = 0
    /// Blob availability (D50): vertices that waited for blobs, proposals dropped unvoted when
    /// theirs never came, requests sent, blobs fetched (and bytes), blobs served to peers.
    public var blobWaits: UInt64 = 0
    public var blobWaitsExpired: UInt64 = 0
    public var blobFetchesSent: UInt64 = 0
    public var blobsFetched: UInt64 = 0
    public var blobBytesFetched: UInt64 = 0
    public var blobsServed: UInt64 = 0
    /// Own proposals delivered by a commit (their latency goes to `NodeTelemetry.commitLatency`).
    public var ownCommitted: UInt64 = 0

    public init() {}
}
