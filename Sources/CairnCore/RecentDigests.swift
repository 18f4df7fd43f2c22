import Synchronization

/// A bounded, thread-safe set of recently seen digests: two generations of `capacity` entries;
/// when the newer fills, the older is dropped. Used to remember checks already done.
public final class RecentDigests: Sendable {
    struct Generations {
        var current: Set<Digest> = []
        var previous: Set<Digest> = []
    }

    public let capacity: Int
    private let generations = Mutex(Generations())

    public init(capacity: Int) {
        precondition(capacity > 0, "capacity must be positive")
        self.capacity = capacity
    }

    public func contains(_ digest: Digest) -> Bool {
        generations.withLock { $0.current.contains(digest) || $0.previous.contains(digest) }
    }

    public func insert(_ digest: Digest) {
        generations.withLock { g in
            g.current.insert(digest)
            if g.current.count >= capacity {
                g.previous = g.current
                g.current = []
            }
        }
    }

    public var count: Int { generations.withLock { $0.current.count + $0.previous.count } }
}
