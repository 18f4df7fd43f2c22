import CairnCore
import CairnCrypto
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Synchronization

/// Counts of everything the transport refused, for `/metrics` (ARCHITECTURE §11).
public final class TransportCounters: Sendable {
    private let state = Mutex<[String: Int]>([:])

    public init() {}

    func add(_ key: String) { state.withLock { $0[key, default: 0] += 1 } }

    /// e.g. `handshake_failed_unknown_peer`, `frame_rejected_unauthenticated`, `frame_rejected_oversize`,
    /// `sessions_established`.
    public var snapshot: [String: Int] { state.withLock { $0 } }
    public func count(_ key: String) -> Int { state.withLock { $0[key] ?? 0 } }
}

/// Transport limits.
public struct TransportSettings: Sendable {
    public var maxFrameBytes: UInt32 = 16 << 20
    /// A peer that has not completed the handshake by then is disconnected.
    public var handshakeTimeoutMs: Int64 = 5_000
    /// Linux TCP_USER_TIMEOUT on dialled connections: data unacknowledged, or held back by a zero
    /// window, for this long closes the connection, and the mesh dials again. Without it a peer
    /// that stops reading (a frozen host, a half-open connection through a middlebox) blocks this
    /// validator's writes to it forever: a 4-validator network stalled that way behind a relay
    /// that left one direction of a cut connection open (tools/netns-scenario delay, D64).
    public var userTimeoutMs: UInt32 = 15_000

    public init() {}
}

/// Why an established session ended.
public enum SessionError: Error, Sendable, CustomStringConvertible {
    case handshake(HandshakeError)
    case handshakeTimeout
    case closedDuringHandshake
    case unauthenticatedFrame(String)

    public var description: String {
        switch self {
        case let .handshake(error): return "handshake refused: \(error)"
        case .handshakeTimeout: return "handshake timed out"
        case .closedDuringHandshake: return "peer closed the connection during the handshake"
        case let .unauthenticatedFrame(detail): return "frame refused: \(detail)"
        }
    }
}

/// An authenticated, encrypted connection to one validator. Every frame is sealed with
/// XChaCha20-Poly1305 under per-direction keys and a counter nonce: a tampered, replayed,
/// dropped or reordered frame fails to open and ends the session.
public final class EncryptedSession {
    public let peer: Int
    private var sealer: ChannelSealer
    private var opener: ChannelOpener
    private var inbound: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
    private let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    private let counters: TransportCounters

    init(_ established: EstablishedSession, inbound: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator,
         outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>, counters: TransportCounters) {
        peer = established.peer
        sealer = established.sealer
        opener = established.opener
        self.inbound = inbound
        self.outbound = outbound
        self.counters = counters
    }

    public func send(_ payload: [UInt8]) async throws {
        try await sendRawFrame(sealer.seal(payload))
    }

    /// Writes a frame exactly as given (fault injection in tests: replays, garbage).
    func sendRawFrame(_ frame: [UInt8]) async throws {
        try await outbound.write(ByteBuffer(bytes: frame))
    }

    /// Seals without sending (tests keep a copy to replay it).
    func seal(_ payload: [UInt8]) -> [UInt8] { sealer.seal(payload) }

    /// The next payload, or nil when the peer closed. Throws (and counts) on any frame that does
    /// not authenticate; the caller must then drop the connection.
    public func receive() async throws -> [UInt8]? {
        do {
            guard let frame = try await inbound.next() else { return nil }
            do {
                return try opener.open(Array(buffer: frame))
            } catch {
                counters.add("frame_rejected_unauthenticated")
                throw SessionError.unauthenticatedFrame("\(error)")
            }
        } catch is FrameTooLarge {
            counters.add("frame_rejected_oversize")
            throw SessionError.unauthenticatedFrame("oversize frame")
        }
    }
}

/// Runs the handshake on a fresh framed connection, then `body` with the encrypted session.
func withSession<T>(
    on channel: FramedChannel, handshake: Handshake, settings: TransportSettings, counters: TransportCounters,
    _ body: (EncryptedSession) async throws -> T
) async throws -> T {
    // A silent peer must not hold a connection open: close it if the handshake is not done in time.
    let established = NIOLockedValueBox(false)
    let timer = channel.channel.eventLoop.scheduleTask(in: .milliseconds(settings.handshakeTimeoutMs)) {
        if !established.withLockedValue({ $0 }) {
            counters.add("handshake_failed_timeout")
            channel.channel.close(promise: nil)
        }
    }
    defer { timer.cancel() }
    return try await channel.executeThenClose { inbound, outbound in
        var iterator = inbound.makeAsyncIterator()
        var handshake = handshake
        if case .client = handshake.role {
            try await outbound.write(ByteBuffer(bytes: handshake.clientHello().canonicalBytes))
        }
        while true {
            let frame: ByteBuffer?
            do {
                frame = try await iterator.next()
            } catch is FrameTooLarge {
                counters.add("frame_rejected_oversize")
                throw SessionError.handshake(.malformed("oversize frame during handshake"))
            }
            guard let frame else {
                counters.add("handshake_failed_closed")
                throw SessionError.closedDuringHandshake
            }
            let step: Handshake.Step
            do {
                step = try handshake.receive(Array(buffer: frame))
            } catch let error as HandshakeError {
                counters.add("handshake_failed_\(error.label)")
                throw SessionError.handshake(error)
            }
            switch step {
            case let .send(message):
                try await outbound.write(ByteBuffer(bytes: message.canonicalBytes))
            case let .sendAndEstablish(message, session):
                try await outbound.write(ByteBuffer(bytes: message.canonicalBytes))
                established.withLockedValue { $0 = true }
                counters.add("sessions_established")
                return try await body(EncryptedSession(session, inbound: iterator, outbound: outbound, counters: counters))
            case let .establish(session):
                established.withLockedValue { $0 = true }
                counters.add("sessions_established")
                return try await body(EncryptedSession(session, inbound: iterator, outbound: outbound, counters: counters))
            }
        }
    }
}

/// Accepts validator connections: every connection must complete the handshake with a genesis
/// key before `handle` sees it. Failed connections are closed and counted; the server goes on.
public struct SecureServer: Sendable {
    public let identity: PeerIdentity
    public let settings: TransportSettings
    public let counters: TransportCounters

    public init(identity: PeerIdentity, settings: TransportSettings = TransportSettings(), counters: TransportCounters = TransportCounters()) {
        self.identity = identity
        self.settings = settings
        self.counters = counters
    }

    /// Binds (SO_REUSEADDR, so a restarted node rebinds at once), reports the bound port, and
    /// serves until cancelled.
    public func run(host: String, port: Int, onBound: @Sendable (Int) -> Void = { _ in },
                    handle: @escaping @Sendable (EncryptedSession) async throws -> Void) async throws {
        let maxFrame = settings.maxFrameBytes
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .bind(host: host, port: port) { channel in
                // The client's hello and auth.
                FramedChannel.framed(channel, maxFrameBytes: maxFrame, handshakeFrames: 2)
            }
        onBound(server.channel.localAddress?.port ?? port)
        try await withThrowingDiscardingTaskGroup { group in
            try await server.executeThenClose { connections in
                for try await connection in connections {
                    group.addTask {
                        // A refused or broken connection ends here; the accept loop goes on.
                        try? await withSession(on: connection, handshake: Handshake(identity: identity, role: .server),
                                               settings: settings, counters: counters, handle)
                    }
                }
            }
        }
    }
}

/// Dials a validator and runs `body` over the authenticated, encrypted session.
public enum SecureClient {
    public static func connect<T>(
        host: String, port: Int, dialling peer: Int, identity: PeerIdentity,
        settings: TransportSettings = TransportSettings(), counters: TransportCounters = TransportCounters(),
        _ body: (EncryptedSession) async throws -> T
    ) async throws -> T {
        let maxFrame = settings.maxFrameBytes
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelOption(.tcpOption(.init(rawValue: 18 /* TCP_USER_TIMEOUT, linux/tcp.h */)), value: SocketOptionValue(settings.userTimeoutMs))
            .connect(host: host, port: port) { channel in
                // The server's hello.
                FramedChannel.framed(channel, maxFrameBytes: maxFrame, handshakeFrames: 1)
            }
        return try await withSession(on: channel, handshake: Handshake(identity: identity, role: .client(dialling: peer)),
                                     settings: settings, counters: counters, body)
    }
}
