import CairnCore
import CairnCrypto
@testable import CairnNet
import NIOCore
import NIOPosix
import Testing

/// A server on an ephemeral loopback port for one test, cancelled at the end.
struct RunningServer {
    let port: Int
    let task: Task<Void, any Error>
    let counters: TransportCounters

    static func start(identity: PeerIdentity, settings: TransportSettings = TransportSettings(),
                      handle: @escaping @Sendable (EncryptedSession) async throws -> Void) async throws -> RunningServer {
        let counters = TransportCounters()
        let (stream, continuation) = AsyncStream<Int>.makeStream()
        let server = SecureServer(identity: identity, settings: settings, counters: counters)
        let task = Task { try await server.run(host: "127.0.0.1", port: 0, onBound: { continuation.yield($0) }, handle: handle) }
        var iterator = stream.makeAsyncIterator()
        let port = try #require(await iterator.next())
        return RunningServer(port: port, task: task, counters: counters)
    }
}

/// An echo handler: sends every payload back.
let echo: @Sendable (EncryptedSession) async throws -> Void = { session in
    while let payload = try await session.receive() { try await session.send(payload) }
}

/// Sends raw bytes on a plain TCP connection and waits until the server closes it.
func rawConnection(port: Int, bytes: [UInt8]) async throws {
    let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        .connect(host: "127.0.0.1", port: port) { channel in
            channel.eventLoop.makeCompletedFuture { try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel) }
        }
    try await channel.executeThenClose { inbound, outbound in
        try await outbound.write(ByteBuffer(bytes: bytes))
        for try await _ in inbound {}  // until the server hangs up
    }
}

func waitUntil(_ condition: () -> Bool) async throws {
    for _ in 0 ..< 200 where !condition() { try await Task.sleep(for: .milliseconds(10)) }
}

@Suite("Encrypted transport over loopback", .serialized)
struct TransportTests {
    @Test("an authenticated session carries messages both ways")
    func roundTrip() async throws {
        let c = Committee4()
        let server = try await RunningServer.start(identity: c.identity(0), handle: echo)
        defer { server.task.cancel() }
        let replies = try await SecureClient.connect(host: "127.0.0.1", port: server.port, dialling: 0, identity: c.identity(2)) { session in
            #expect(session.peer == 0)
            var replies: [[UInt8]] = []
            for i in 0 ..< 100 {
                try await session.send([UInt8(i), 1, 2, 3])
                replies.append(try #require(try await session.receive()))
            }
            return replies
        }
        #expect(replies.count == 100)
        #expect(replies[42] == [42, 1, 2, 3])
        #expect(server.counters.count("sessions_established") == 1)
    }

    @Test("unknown key, garbage, oversize and replayed frames are refused and counted; the server keeps serving")
    func refusals() async throws {
        let c = Committee4()
        var settings = TransportSettings()
        settings.maxFrameBytes = 1 << 16
        let server = try await RunningServer.start(identity: c.identity(0), settings: settings, handle: echo)
        defer { server.task.cancel() }

        // 1. A peer whose key is not in genesis (claims index 9).
        let strangerKey = SigningKey.generate()
        let stranger = PeerIdentity(chain: c.chain, publicKeys: c.keys.map(\.publicKey) + (4 ... 9).map { _ in strangerKey.publicKey },
                                    me: 9, key: strangerKey)
        await #expect(throws: (any Error).self) {
            try await SecureClient.connect(host: "127.0.0.1", port: server.port, dialling: 0, identity: stranger) { _ in }
        }
        try await waitUntil { server.counters.count("handshake_failed_unknown_peer") == 1 }
        #expect(server.counters.count("handshake_failed_unknown_peer") == 1)

        // 2. A garbage frame instead of a handshake.
        try await rawConnection(port: server.port, bytes: [0, 0, 0, 5, 0xde, 0xad, 0xbe, 0xef, 0x00])
        try await waitUntil { server.counters.count("handshake_failed_malformed") == 1 }
        #expect(server.counters.count("handshake_failed_malformed") == 1)

        // 3. An oversize frame: refused from its length prefix, before any body is buffered.
        try await rawConnection(port: server.port, bytes: [0xff, 0xff, 0xff, 0xff, 1, 2, 3])
        try await waitUntil { server.counters.count("frame_rejected_oversize") == 1 }
        #expect(server.counters.count("frame_rejected_oversize") == 1)
        // Before authentication even a 5,000-byte frame is refused: an unauthenticated connection
        // can make the server buffer at most 4 KiB (session frames may be up to 16 MiB).
        try await rawConnection(port: server.port, bytes: [0, 0, 0x13, 0x88, 1, 2, 3])
        try await waitUntil { server.counters.count("frame_rejected_oversize") == 2 }

        // 4. A replayed frame inside an authenticated session ends that session.
        await #expect(throws: (any Error).self) {
            try await SecureClient.connect(host: "127.0.0.1", port: server.port, dialling: 0, identity: c.identity(1)) { session in
                let frame = session.seal([1, 2, 3])
                try await session.sendRawFrame(frame)
                #expect(try await session.receive() == [1, 2, 3])
                try await session.sendRawFrame(frame)  // replay: the server's counter has moved on
                _ = try await session.receive()  // the server hangs up
                throw CancellationError()
            }
        }
        try await waitUntil { server.counters.count("frame_rejected_unauthenticated") == 1 }
        #expect(server.counters.count("frame_rejected_unauthenticated") == 1)

        // 5. Through all of that, a legitimate validator is still served.
        let reply = try await SecureClient.connect(host: "127.0.0.1", port: server.port, dialling: 0, identity: c.identity(3)) { session in
            try await session.send([7])
            return try await session.receive()
        }
        #expect(reply == [7])
    }

    @Test("a peer that never completes the handshake is disconnected")
    func handshakeTimeout() async throws {
        let c = Committee4()
        var settings = TransportSettings()
        settings.handshakeTimeoutMs = 200
        let server = try await RunningServer.start(identity: c.identity(0), settings: settings, handle: echo)
        defer { server.task.cancel() }
        let start = ContinuousClock.now
        try await rawConnection(port: server.port, bytes: [])  // returns when the server hangs up
        #expect(ContinuousClock.now - start < .seconds(3))
        try await waitUntil { server.counters.count("handshake_failed_timeout") == 1 }
        #expect(server.counters.count("handshake_failed_timeout") == 1)
        // A truncated frame: the length prefix promises 100 bytes, 3 arrive, then nothing.
        let truncated = ContinuousClock.now
        try await rawConnection(port: server.port, bytes: [0, 0, 0, 100, 1, 2, 3])
        #expect(ContinuousClock.now - truncated < .seconds(3))
        try await waitUntil { server.counters.count("handshake_failed_timeout") == 2 }
    }
}
