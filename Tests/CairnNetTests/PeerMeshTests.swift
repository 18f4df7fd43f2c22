import CairnCore
import CairnCrypto
import CairnNet
import NIOConcurrencyHelpers
import Testing

/// Collects what each validator received.
final class Inbox: Sendable {
    private let box = NIOLockedValueBox<[Int: [[UInt8]]]>([:])
    func add(_ peer: Int, _ payload: [UInt8]) { box.withLockedValue { $0[peer, default: []].append(payload) } }
    func from(_ peer: Int) -> [[UInt8]] { box.withLockedValue { $0[peer] ?? [] } }
    var total: Int { box.withLockedValue { $0.values.map(\.count).reduce(0, +) } }
}

/// Starts validator `i`'s mesh on an ephemeral port; returns its task and port.
func startMesh(_ mesh: PeerMesh, inbox: Inbox) async throws -> (Task<Void, any Error>, Int) {
    let (ports, continuation) = AsyncStream<Int>.makeStream()
    let task = Task { try await mesh.run(host: "127.0.0.1", port: 0, onBound: { continuation.yield($0) }) { peer, payload in inbox.add(peer, payload) } }
    var iterator = ports.makeAsyncIterator()
    return (task, try #require(await iterator.next()))
}

@Suite("Peer mesh", .serialized)
struct PeerMeshTests {
    @Test("four validators connect fully, deliver every message in order, and reconnect after a restart")
    func mesh() async throws {
        let c = Committee4()
        var settings = MeshSettings()
        settings.reconnectMaxMs = 200
        let meshes = (0 ..< 4).map { PeerMesh(identity: c.identity($0), addresses: [:], settings: settings) }
        let inboxes = (0 ..< 4).map { _ in Inbox() }
        var tasks: [Task<Void, any Error>] = []
        var ports: [Int] = []
        for i in 0 ..< 4 {
            let (task, port) = try await startMesh(meshes[i], inbox: inboxes[i])
            tasks.append(task)
            ports.append(port)
        }
        defer { tasks.forEach { $0.cancel() } }
        for mesh in meshes { for j in 0 ..< 4 { mesh.setAddress(j, host: "127.0.0.1", port: ports[j]) } }

        for i in 0 ..< 4 { for n in 0 ..< 50 { meshes[i].broadcast([UInt8(i), UInt8(n)]) } }
        try await waitUntil { inboxes.allSatisfy { $0.total == 150 } }
        for i in 0 ..< 4 {
            #expect(inboxes[i].total == 150)
            for j in 0 ..< 4 where j != i {
                #expect(inboxes[i].from(j) == (0 ..< 50).map { [UInt8(j), UInt8($0)] }, "validator \(i) from \(j)")
            }
        }
        #expect(meshes.allSatisfy { $0.connectedPeers.count == 3 })

        // Validator 3 goes away and comes back on a new port: the others reconnect to it.
        tasks[3].cancel()
        let restartedInbox = Inbox()
        let restarted = PeerMesh(identity: c.identity(3), addresses: [:], settings: settings)
        let (task, port) = try await startMesh(restarted, inbox: restartedInbox)
        tasks.append(task)
        for mesh in meshes.prefix(3) { mesh.setAddress(3, host: "127.0.0.1", port: port) }
        // Messages sent into broken connections may be lost (the consensus core repeats what
        // matters); keep sending until the new validator 3 hears from everyone.
        for round in 0 ..< 100 where (0 ..< 3).contains(where: { restartedInbox.from($0).isEmpty }) {
            for i in 0 ..< 3 { meshes[i].send(to: 3, [UInt8(i), 200, UInt8(round)]) }
            try await Task.sleep(for: .milliseconds(20))
        }
        for i in 0 ..< 3 { #expect(!restartedInbox.from(i).isEmpty, "validator 3 never heard from \(i) after restarting") }
        #expect(meshes[0].counters.count("sessions_established") >= 3)
    }

    @Test("a full outbound queue drops and counts instead of growing")
    func boundedQueue() async throws {
        let c = Committee4()
        var settings = MeshSettings()
        settings.outboundQueueLimit = 10
        // Nobody is listening at the peers' addresses, so nothing drains the queues.
        let mesh = PeerMesh(identity: c.identity(0), addresses: [:], settings: settings)
        var accepted = 0
        for n in 0 ..< 25 where mesh.send(to: 1, [UInt8(n)]) { accepted += 1 }
        #expect(accepted == 10)
        #expect(mesh.counters.count("outbound_dropped_queue_full") == 15)
        #expect(!mesh.send(to: 7, [1]))  // not a validator
    }

    @Test("a peer that stops reading (a zero window for good) is dropped after the TCP user timeout and dialled again")
    func stalledReader() async throws {
        let c = Committee4()
        var settings = MeshSettings()
        settings.transport.userTimeoutMs = 1_000
        settings.reconnectMaxMs = 200
        let sender = PeerMesh(identity: c.identity(0), addresses: [:], settings: settings)
        // Validator 1 takes the first payload and then never reads again: its receive buffer
        // fills, then validator 0's send buffer, and validator 0's writes stop completing.
        let stalled = PeerMesh(identity: c.identity(1), addresses: [:], settings: MeshSettings())
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let stalledTask = Task { try await stalled.run(host: "127.0.0.1", port: 0, onBound: { continuation.yield($0) }) { _, _ in
            try? await Task.sleep(for: .seconds(3600))
        } }
        var iterator = ports.makeAsyncIterator()
        let port = try #require(await iterator.next())
        let (senderTask, _) = try await startMesh(sender, inbox: Inbox())
        defer { stalledTask.cancel(); senderTask.cancel() }
        sender.setAddress(1, host: "127.0.0.1", port: port)
        for _ in 0 ..< 800 { sender.send(to: 1, [UInt8](repeating: 7, count: 60_000)) }  // 48 MB, more than both buffers
        var redialled = false
        for _ in 0 ..< 300 where !redialled {
            try await Task.sleep(for: .milliseconds(100))
            redialled = sender.counters.count("sessions_established") >= 2
        }
        #expect(redialled, "the stalled connection was never given up: \(sender.counters.snapshot)")
    }

    @Test("queues are bounded by bytes too, and a payload that could never fit a frame is refused once")
    func byteBounds() async throws {
        let c = Committee4()
        var settings = MeshSettings()
        settings.outboundQueueBytes = 10_000
        settings.transport.maxFrameBytes = 4_096
        let mesh = PeerMesh(identity: c.identity(0), addresses: [:], settings: settings)
        #expect(!mesh.send(to: 2, [UInt8](repeating: 0, count: 4_096)))  // + 16-byte tag > frame limit
        #expect(mesh.counters.count("outbound_dropped_oversize") == 1)
        var accepted = 0
        for _ in 0 ..< 10 where mesh.send(to: 2, [UInt8](repeating: 1, count: 3_000)) { accepted += 1 }
        #expect(accepted == 3)
        #expect(mesh.queuedBytes(for: 2) == 9_000)
        #expect(mesh.counters.count("outbound_dropped_queue_bytes") == 7)
        // Another peer's queue is its own.
        #expect(mesh.send(to: 3, [UInt8](repeating: 1, count: 3_000)))
    }
}
