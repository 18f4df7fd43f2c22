import CairnCrypto
import NIOConcurrencyHelpers

/// Mesh settings.
public struct MeshSettings: Sendable {
    public var transport = TransportSettings()
    /// Payloads waiting for one peer; beyond this new ones are dropped and counted (the consensus
    /// core repeats what matters, so a slow peer cannot make this node buffer without bound).
    public var outboundQueueLimit = 4096
    /// Bytes waiting for one peer; beyond this new payloads are dropped and counted too, so a
    /// stalled peer costs at most this much memory whatever the payload sizes (D39).
    public var outboundQueueBytes = 64 << 20
    /// Reconnect delay doubles from the first to the maximum while a peer is unreachable.
    public var reconnectInitialMs: Int64 = 50
    public var reconnectMaxMs: Int64 = 2_000

    public init() {}
}

/// Full mesh among validators (ARCHITECTURE §9). Each validator dials every other one and sends over
/// that connection; it receives over the connections the others dial to it. One direction per TCP
/// connection keeps the two sides independent: a restart on either end only breaks the
/// connections that end owns, and each side reconnects on its own schedule.
public final class PeerMesh: Sendable {
    public let identity: PeerIdentity
    public let settings: MeshSettings
    public let counters: TransportCounters
    private let addresses: NIOLockedValueBox<[Int: (host: String, port: Int)]>
    private let queues: [Int: (stream: AsyncStream<[UInt8]>, continuation: AsyncStream<[UInt8]>.Continuation)]
    private let connected = NIOLockedValueBox<Set<Int>>([])
    private let lastHeard = NIOLockedValueBox<[Int: ContinuousClock.Instant]>([:])
    /// Bytes queued per peer (taken out when the dial loop dequeues them).
    private let queuedBytes = NIOLockedValueBox<[Int: Int]>([:])

    public init(identity: PeerIdentity, addresses: [Int: (host: String, port: Int)], settings: MeshSettings = MeshSettings(),
                counters: TransportCounters = TransportCounters()) {
        self.identity = identity
        self.settings = settings
        self.counters = counters
        self.addresses = NIOLockedValueBox(addresses)
        var queues: [Int: (AsyncStream<[UInt8]>, AsyncStream<[UInt8]>.Continuation)] = [:]
        for peer in identity.publicKeys.indices where peer != identity.me {
            queues[peer] = AsyncStream.makeStream(of: [UInt8].self, bufferingPolicy: .bufferingOldest(settings.outboundQueueLimit))
        }
        self.queues = queues.mapValues { (stream: $0.0, continuation: $0.1) }
    }

    /// Peers this validator currently has an outbound session to. A peer that died is noticed
    /// here only when a write fails; `livePeers` is the better signal.
    public var connectedPeers: Set<Int> { connected.withLockedValue { $0 } }

    /// Peers that sent an authenticated message within the last `milliseconds`.
    public func livePeers(withinMs milliseconds: Int64) -> Set<Int> {
        let cutoff = ContinuousClock.now - .milliseconds(milliseconds)
        return Set(lastHeard.withLockedValue { $0.filter { $0.value >= cutoff }.keys })
    }

    /// Sets or changes where a peer listens (tests bind port 0 and learn ports afterwards).
    public func setAddress(_ peer: Int, host: String, port: Int) {
        addresses.withLockedValue { $0[peer] = (host, port) }
    }

    /// Queues a payload for `peer`; never blocks. Returns false if the queue was full.
    @discardableResult
    public func send(to peer: Int, _ payload: [UInt8]) -> Bool {
        guard let queue = queues[peer] else { return false }
        // A payload whose sealed frame exceeds the receiver's limit would make it drop the
        // connection, and a resend would do the same forever: refuse it here, once, and count it.
        guard payload.count <= Int(settings.transport.maxFrameBytes) - ChannelSealer.overhead else {
            counters.add("outbound_dropped_oversize")
            return false
        }
        let admitted = queuedBytes.withLockedValue { queued -> Bool in
            guard queued[peer, default: 0] + payload.count <= settings.outboundQueueBytes else { return false }
            queued[peer, default: 0] += payload.count
            return true
        }
        guard admitted else {
            counters.add("outbound_dropped_queue_bytes")
            return false
        }
        if case .dropped = queue.continuation.yield(payload) {
            dequeued(payload.count, from: peer)
            counters.add("outbound_dropped_queue_full")
            return false
        }
        return true
    }

    private func dequeued(_ bytes: Int, from peer: Int) {
        queuedBytes.withLockedValue { $0[peer, default: 0] -= bytes }
    }

    /// Bytes waiting for `peer` (tests and metrics).
    public func queuedBytes(for peer: Int) -> Int { queuedBytes.withLockedValue { $0[peer, default: 0] } }

    public func broadcast(_ payload: [UInt8]) {
        for peer in queues.keys.sorted() { send(to: peer, payload) }
    }

    /// Listens on `host:port` and keeps a sending connection to every peer until cancelled;
    /// `deliver` is called for every authenticated payload received, tagged with its sender.
    public func run(host: String, port: Int, onBound: @Sendable @escaping (Int) -> Void = { _ in },
                    deliver: @escaping @Sendable (_ peer: Int, _ payload: [UInt8]) async -> Void) async throws {
        let server = SecureServer(identity: identity, settings: settings.transport, counters: counters)
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask {
                try await server.run(host: host, port: port, onBound: onBound) { session in
                    while let payload = try await session.receive() {
                        self.lastHeard.withLockedValue { $0[session.peer] = ContinuousClock.now }
                        await deliver(session.peer, payload)
                    }
                }
            }
            for peer in queues.keys.sorted() {
                group.addTask { await self.dialLoop(peer) }
            }
        }
    }

    /// Connects to `peer`, drains its queue into the session, and reconnects with exponential
    /// backoff whenever the connection fails or the peer is away.
    private func dialLoop(_ peer: Int) async {
        var iterator = queues[peer]!.stream.makeAsyncIterator()
        var delay = settings.reconnectInitialMs
        var pending: [UInt8]?
        while !Task.isCancelled {
            if let address = addresses.withLockedValue({ $0[peer] }) {
                do {
                    try await SecureClient.connect(host: address.host, port: address.port, dialling: peer, identity: identity,
                                                   settings: settings.transport, counters: counters) { session in
                        connected.withLockedValue { _ = $0.insert(peer) }
                        delay = settings.reconnectInitialMs
                        // A payload taken from the queue when the last connection broke goes first.
                        if let first = pending {
                            try await session.send(first)
                            pending = nil
                        }
                        while let payload = await iterator.next() {
                            dequeued(payload.count, from: peer)
                            pending = payload
                            try await session.send(payload)
                            pending = nil
                        }
                    }
                } catch {
                    counters.add("dial_failed")
                }
                connected.withLockedValue { _ = $0.remove(peer) }
            }
            try? await Task.sleep(for: .milliseconds(delay))
            delay = min(settings.reconnectMaxMs, delay * 2)
        }
    }
}
