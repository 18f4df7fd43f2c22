import Synchronization

/// A bounded, thread-safe set of recently seen digests: two generations of `capacity` entries;
/// when the newer fills, the older is dropped. Used to remember checks already done.
public final class RecentDigests: Sendable {
    struct Generations {
        var current: Set<Digest> = []
        var previous: Set<Digest> = []
    }

    public let capacity: Int
    /// Whether each generation's table is reserved for `capacity` entries up front.
    public let reserved: Bool
    private let generations: Mutex<Generations>

    /// With `reserve`, each generation's table is allocated for `capacity` entries when it starts,
    /// so a long-running node takes the memory a full cache holds at start rather than showing it
    /// as growth while the cache fills (a Swift set keeps at most ¾ of its power-of-two slots
    /// filled: 49,152 and 98,304 fit 2^16 and 2^17 slots exactly). Without it (the auditor's
    /// history-sized caches) tables grow with use.
    public init(capacity: Int, reserve: Bool = false) {
        precondition(capacity > 0, "capacity must be positive")
        self.capacity = capacity
        reserved = reserve
        generations = Mutex(Generations(current: reserve ? Set(minimumCapacity: capacity) : [], previous: []))
    }

    public func contains(_ digest: Digest) -> Bool {
        generations.withLock { $0.current.contains(digest) || $0.previous.contains(digest) }
    }

    public func insert(_ digest: Digest) {
        generations.withLock { g in
            g.current.insert(digest)
            if g.current.count >= capacity {
                g.previous = g.current
                g.current = reserved ? Set(minimumCapacity: capacity) : []
            }
        }
    }

    public var count: Int { generations.withLock { $0.current.count + $0.previous.count } }
}
