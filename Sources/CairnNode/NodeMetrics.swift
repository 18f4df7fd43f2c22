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
    /// Seconds from this validator's proposal to the commit that delivered it.
    public var commitLatency = Histogram(bounds: [0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 2, 5, 10])

    public init() {}
}

/// A Prometheus histogram: cumulative counts per upper bound, plus sum and count.
public struct Histogram: Sendable {
    public let bounds: [Double]
    public private(set) var counts: [UInt64]
    public private(set) var sum = 0.0
    public private(set) var count: UInt64 = 0

    public init(bounds: [Double]) {
        self.bounds = bounds
        counts = Array(repeating: 0, count: bounds.count)
    }

    public mutating func observe(_ value: Double) {
        for (i, bound) in bounds.enumerated() where value <= bound { counts[i] += 1 }
        sum += value
        count += 1
    }

    /// Exposition lines for metric `name` (cumulative buckets, +Inf, sum, count).
    public func lines(_ name: String) -> [String] {
        var lines = ["# TYPE \(name) histogram"]
        for (bound, count) in zip(bounds, counts) { lines.append("\(name)_bucket{le=\"\(bound)\"} \(count)") }
        lines.append("\(name)_bucket{le=\"+Inf\"} \(count)")
        lines.append("\(name)_sum \(sum)")
        lines.append("\(name)_count \(count)")
        return lines
    }
}
