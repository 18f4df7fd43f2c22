#if canImport(Glibc)
import Glibc
#endif
import Hummingbird
import HummingbirdCore
import NIOConcurrencyHelpers
import NIOCore

/// Bounds on the API's connections (D41): in total (Hummingbird stops accepting, so the excess
/// waits in the kernel's queue and costs no file descriptor), per client address (the excess is
/// closed as soon as it is accepted), and in time (idle connections, partial requests included,
/// are closed by Hummingbird's idle timeout). Counts go to `/metrics`.
public final class APIConnections: Sendable {
    public let maxTotal: Int
    public let maxPerClient: Int
    private let state = NIOLockedValueBox<State>(State())

    struct State {
        var open: [String: Int] = [:]
        var total = 0
        var refusedPerClient = 0
        var acceptPaused = 0
        var accepted = 0
    }

    public init(maxTotal: Int, maxPerClient: Int) {
        self.maxTotal = maxTotal
        self.maxPerClient = maxPerClient
    }

    /// Registers a connection from `client`; false when that client already holds its share.
    func open(_ client: String) -> Bool {
        state.withLockedValue { state in
            guard state.open[client, default: 0] < maxPerClient else {
                state.refusedPerClient += 1
                return false
            }
            state.open[client, default: 0] += 1
            state.total += 1
            state.accepted += 1
            return true
        }
    }

    func close(_ client: String) {
        state.withLockedValue { state in
            let left = state.open[client, default: 0] - 1
            state.open[client] = left > 0 ? left : nil
            state.total -= 1
        }
    }

    func notePaused() { state.withLockedValue { $0.acceptPaused += 1 } }

    public struct Snapshot: Sendable {
        public var open: Int
        public var clients: Int
        public var accepted: Int
        public var refusedPerClient: Int
        public var acceptPaused: Int
    }

    public var snapshot: Snapshot {
        state.withLockedValue { Snapshot(open: $0.total, clients: $0.open.count, accepted: $0.accepted,
                                         refusedPerClient: $0.refusedPerClient, acceptPaused: $0.acceptPaused) }
    }

    /// The per-client guard for one new connection (Hummingbird adds it to each child pipeline).
    func guardHandler() -> any RemovableChannelHandler { ClientGuard(connections: self) }

    /// Tells Hummingbird when to stop accepting: at `maxTotal` open connections.
    var acceptance: TotalConnections { TotalConnections(connections: self) }
}

/// Watches one connection: registers its client address, closes it when that client is over its
/// share, and unregisters it when it closes. Never reads the data, only passes it on.
final class ClientGuard: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = Any  // never unwrapped
    let connections: APIConnections

    init(connections: APIConnections) { self.connections = connections }

    func handlerAdded(context: ChannelHandlerContext) {
        // Loopback tests use distinct 127.x addresses as distinct clients; the port is not part
        // of the client's identity.
        let client = context.channel.remoteAddress?.ipAddress ?? "unknown"
        guard connections.open(client) else {
            context.close(promise: nil)
            return
        }
        let connections = self.connections
        context.channel.closeFuture.whenComplete { _ in connections.close(client) }
    }
}

/// Hummingbird's accept gate, counting how often it had to pause accepting.
struct TotalConnections: AvailableConnectionsDelegate {
    let connections: APIConnections
    var open = 0

    mutating func connectionOpened() { open += 1 }
    mutating func connectionClosed() { open -= 1 }
    func isAcceptingNewConnections() -> Bool {
        guard open < connections.maxTotal else {
            connections.notePaused()
            return false
        }
        return true
    }
}

/// File descriptors (D41): raise the soft limit to the hard one, then size the API's share so that
/// peers, RocksDB and the process itself always keep theirs.
public enum DescriptorBudget {
    /// Descriptors kept for everything but API clients: RocksDB's open files (`Database`
    /// caps them at 512), two per peer, and slack for logs, listeners, the event loops and epoll.
    public static func reserved(peers: Int) -> Int { 512 + 2 * peers + 128 }

    /// Raises RLIMIT_NOFILE's soft limit as far as the hard limit allows; returns the soft limit.
    public static func raiseSoftLimit() -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 1024 }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
        }
        return limit.rlim_cur >= rlim_t(Int.max) ? Int.max : Int(limit.rlim_cur)
    }

    /// API connections this process can afford with `softLimit` descriptors, at most `configured`.
    public static func apiConnections(softLimit: Int, peers: Int, configured: Int) -> Int {
        max(0, min(configured, softLimit - reserved(peers: peers)))
    }
}
