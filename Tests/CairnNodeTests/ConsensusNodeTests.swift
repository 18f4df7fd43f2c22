import CairnChain
import CairnCore
import CairnCrypto
import CairnLedger
import CairnNet
import CairnNode
import CairnStorage
import DAGRider
import Foundation
import Testing

/// Four validators' keys, coin shares and settings on one fresh chain.
struct LocalCommittee {
    let n = 4
    let keys = (0 ..< 4).map { _ in SigningKey.generate() }
    let deal = try! ThresholdCoin.deal(validators: 4, threshold: 2)
    let chain = Hashing.digest(.genesis, Array("node-test-\(UInt64.random(in: 0 ... .max))".utf8))
    var coin: ThresholdCoin { try! ThresholdCoin(chainID: "node-test", threshold: 2, publicShares: deal.publicShares, commitments: deal.commitments) }

    func settings(_ i: Int) -> DAGRiderSettings {
        var s = DAGRiderSettings(committee: Committee(size: n, chain: chain), me: i)
        s.minRoundIntervalMs = 20
        s.maxRoundIntervalMs = 60
        s.gcDepth = 8  // garbage collection (and pruning) within a short test
        return s
    }

    /// With `genesisBalance`, the node runs the ledger (300 ms windows) from a genesis that
    /// gives the first validator that balance, and casts checkpoint votes.
    func node(_ i: Int, database: Database, mesh: PeerMesh, genesisBalance: UInt64? = nil) throws -> ConsensusNode {
        let publicKeys = keys.map(\.publicKey)
        var runtime: LedgerRuntime?
        var state: [(key: [UInt8], value: [UInt8])] = []
        if let genesisBalance {
            runtime = LedgerRuntime(ledger: Ledger(parameters: Ledger.Parameters(chain: chain, validators: publicKeys, registrationFee: 10,
                                                                                 windowMs: 300))) { _, _ in true }
            state = try Ledger.genesisState(accounts: [(publicKeys[0], genesisBalance)], validators: publicKeys)
        }
        return try ConsensusNode(settings: settings(i), signer: Ed25519ConsensusKeys(key: keys[i], publicKeys: publicKeys),
                                 verifier: Ed25519ConsensusKeys(key: nil, publicKeys: publicKeys),
                                 coin: ThresholdCoinScheme(coin: coin, secret: deal.secretShares[i]),
                                 coinVerifier: ThresholdCoinScheme(coin: coin, secret: nil), database: database, mesh: mesh,
                                 ledger: runtime, genesisState: state, recordSigner: genesisBalance == nil ? nil : keys[i])
    }

    func mesh(_ i: Int) -> PeerMesh {
        var settings = MeshSettings()
        settings.reconnectMaxMs = 200
        return PeerMesh(identity: PeerIdentity(chain: chain, publicKeys: keys.map(\.publicKey), me: i, key: keys[i]), addresses: [:], settings: settings)
    }
}

/// A running node: its task, port, mesh and database.
struct Running {
    let node: ConsensusNode
    let mesh: PeerMesh
    let database: Database
    let task: Task<Void, any Error>
    let port: Int
}

func launch(_ committee: LocalCommittee, _ i: Int, path: String, genesisBalance: UInt64? = nil) async throws -> Running {
    let database = try Database(nodePath: path)
    let mesh = committee.mesh(i)
    let node = try committee.node(i, database: database, mesh: mesh, genesisBalance: genesisBalance)
    let (ports, continuation) = AsyncStream<Int>.makeStream()
    let task = Task { try await node.run(host: "127.0.0.1", port: 0, onBound: { continuation.yield($0) }) }
    var iterator = ports.makeAsyncIterator()
    return Running(node: node, mesh: mesh, database: database, task: task, port: try #require(await iterator.next()))
}

/// The delivered sequence as stored in a node's database.
func storedSequence(_ database: Database) throws -> [Digest] {
    var digests: [Digest] = []
    try database.scan(ColumnFamily.sequence.rawValue) { _, value in
        digests.append(Digest(uncheckedBytes: Array(value[0 ..< 32])))
        return true
    }
    return digests
}

@Suite("Consensus nodes over real sockets and RocksDB", .serialized)
struct ConsensusNodeTests {
    @Test("four nodes commit one sequence; a node stopped, pruned and restarted from its database catches up")
    func commitAndRestart() async throws {
        let committee = LocalCommittee()
        let base = FileManager.default.temporaryDirectory.path + "/cairn-nodes-\(UInt64.random(in: 0 ... .max))"
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: base) }
        var nodes: [Running] = []
        for i in 0 ..< 4 { nodes.append(try await launch(committee, i, path: "\(base)/node\(i)")) }
        func connect() { for r in nodes { for (j, other) in nodes.enumerated() { r.mesh.setAddress(j, host: "127.0.0.1", port: other.port) } } }
        connect()
        for (i, running) in nodes.enumerated() {
            #expect(running.node.intake.reserve(20) == .accept)  // as the API does before admitting
            _ = try await running.node.admitRecords((0 ..< 20).map { Array("record-\(i)-\($0)".utf8) }, keepRefused: false)
        }

        // Wait for every node to commit a few leaders.
        for _ in 0 ..< 400 {
            var done = true
            for r in nodes where await r.node.sequenceProgress.committedLeaders < 6 { done = false }
            if done { break }
            try await Task.sleep(for: .milliseconds(25))
        }
        for r in nodes { #expect(await r.node.sequenceProgress.committedLeaders >= 6) }
        // The intake bound counts them until they commit (D62): then nothing is in flight.
        for r in nodes { #expect(r.node.intake.snapshot.inFlight == 0, "\(r.node.intake.snapshot)") }

        // Stop node 3 (its database closes), let the others go on, restart it from disk.
        nodes[3].task.cancel()
        try await Task.sleep(for: .milliseconds(300))
        let before = try storedSequence(nodes[3].database)
        #expect(!before.isEmpty)

        // The operator prunes it while it is stopped: certificates below the line go, the
        // sequence stays, the line cannot pass where the node restores from.
        let store = ConsensusStore(database: nodes[3].database)
        let limit = try store.pruneLimit(gcDepth: 8)
        #expect(limit > 1)
        #expect(throws: ConsensusStore.PruneError.self) { try store.prune(below: limit + 1, gcDepth: 8) }
        let pruned = try store.prune(below: limit, gcDepth: 8)
        // Every round below the line had at least 2f+1 = 3 certificates, or nobody could have left it.
        #expect(pruned.certificates >= 3 * Int(limit - 1), "\(pruned)")
        #expect(pruned.ownProposals >= 1 && pruned.ownVotes >= 1, "\(pruned)")
        #expect(try store.certificates(rounds: 0, to: limit - 1, limit: 10_000).isEmpty)
        #expect(try store.prunedBelow() == limit)
        #expect(try storedSequence(nodes[3].database) == before)
        #expect(throws: ConsensusStore.HistoryPruned.self) { try store.committedRecords(from: 0, limit: 10) }
        #expect(try store.prune(below: limit, gcDepth: 8).certificates == 0)  // idempotent
        nodes[3].database.close()
        nodes[3] = try await launch(committee, 3, path: "\(base)/node3")
        connect()
        let target = await nodes[0].node.sequenceProgress.delivered + 20
        for _ in 0 ..< 400 {
            if await nodes[3].node.sequenceProgress.delivered >= target { break }
            try await Task.sleep(for: .milliseconds(25))
        }
        for r in nodes { r.task.cancel() }
        try await Task.sleep(for: .milliseconds(100))

        let sequences = try nodes.map { try storedSequence($0.database) }
        #expect(await nodes[3].node.sequenceProgress.delivered >= target, "restarted node did not catch up")
        // Agreement: every stored sequence is a prefix of the longest; the restarted node kept
        // what it had and neither lost nor reordered it.
        let longest = sequences.max { $0.count < $1.count }!
        for (i, sequence) in sequences.enumerated() {
            #expect(Array(longest.prefix(sequence.count)) == sequence, "node \(i) diverges")
            #expect(Set(sequence).count == sequence.count, "node \(i) delivered a vertex twice")
        }
        #expect(Array(sequences[3].prefix(before.count)) == before)
        // Sequence hashes agree at the common length.
        let progress = await nodes.asyncMap { await $0.node.sequenceProgress }
        let shortest = progress.map(\.delivered).min()!
        #expect(shortest > 0)
        for delivered in Set(progress.map(\.delivered)) {
            let hashes = Set(progress.filter { $0.delivered == delivered }.map(\.sequenceHash))
            #expect(hashes.count == 1, "nodes at \(delivered) delivered vertices disagree on the sequence hash")
        }
        print("node sequences: delivered \(progress.map(\.delivered)), leaders \(progress.map(\.committedLeaders)), restarted node had \(before.count) before")
        for r in nodes { r.database.close() }
    }
}

extension ConsensusNodeTests {
    /// Node 3 starts from a different genesis state (as if it ran other rules): its root differs
    /// at every window close, the other three certify theirs, and node 3 must say so.
    @Test("a validator whose state differs from a certified checkpoint reports the divergence; the others certify and agree")
    func divergence() async throws {
        let committee = LocalCommittee()
        let base = FileManager.default.temporaryDirectory.path + "/cairn-diverge-\(UInt64.random(in: 0 ... .max))"
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: base) }
        var nodes: [Running] = []
        for i in 0 ..< 4 { nodes.append(try await launch(committee, i, path: "\(base)/node\(i)", genesisBalance: i == 3 ? 999 : 1_000)) }
        for r in nodes { for (j, other) in nodes.enumerated() { r.mesh.setAddress(j, host: "127.0.0.1", port: other.port) } }
        var diverged: ConsensusNode.Divergence?
        for _ in 0 ..< 600 {
            diverged = await nodes[3].node.status.divergence
            if diverged != nil { break }
            try await Task.sleep(for: .milliseconds(25))
        }
        for r in nodes { r.task.cancel() }
        try await Task.sleep(for: .milliseconds(100))
        let found = try #require(diverged, "node 3 never noticed")
        let certificate = try #require(try ConsensusStore(database: nodes[0].database).checkpoint(found.window))
        #expect(found.certified == certificate.vote)
        #expect(found.ours.stateRoot != certificate.vote.stateRoot)
        #expect(certificate.signers.map(\.validator) == [0, 1, 2])
        #expect(found.description.contains("window \(found.window)") && found.description.contains(found.ours.stateRoot.hex))
        for i in 0 ..< 3 { #expect(await nodes[i].node.status.divergence == nil, "node \(i)") }
        for r in nodes { r.database.close() }
    }
}

extension Array {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var out: [T] = []
        for element in self { out.append(try await transform(element)) }
        return out
    }
}

extension ConsensusNodeTests {
    /// A crash between a window's close (its batch) and the moment its checkpoint vote became
    /// durable lost the vote for good. At start a validator now votes again for its last closed
    /// window when neither state nor its pending store holds its vote (D42).
    @Test("a validator restarted after losing its checkpoint vote at a window close votes again; pending votes survive a restart")
    func checkpointVoteAfterRestart() async throws {
        let committee = LocalCommittee()
        let base = FileManager.default.temporaryDirectory.path + "/cairn-vote-restart-\(UInt64.random(in: 0 ... .max))"
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: base) }
        var nodes: [Running] = []
        for i in 0 ..< 4 { nodes.append(try await launch(committee, i, path: "\(base)/node\(i)", genesisBalance: 1_000)) }
        for r in nodes { for (j, other) in nodes.enumerated() { r.mesh.setAddress(j, host: "127.0.0.1", port: other.port) } }
        for _ in 0 ..< 600 {
            if await nodes[0].node.sequenceProgress.window >= 2 { break }
            try await Task.sleep(for: .milliseconds(25))
        }
        for r in nodes { r.task.cancel() }
        try await Task.sleep(for: .milliseconds(200))
        for r in nodes[1...] { r.database.close() }
        let database = nodes[0].database
        let store = ConsensusStore(database: database)
        let window = try store.progress().window
        try #require(window >= 2, "windows did not close")
        let last = window - 1
        // The crash: the window closed (its batch is stored) but our vote never got anywhere.
        var batch = WriteBatch()
        batch.delete(ColumnFamily.state.rawValue, StateKey.checkpointVote(window: last, validator: 0))
        batch.delete(ColumnFamily.state.rawValue, StateKey.checkpoint(last))
        for record in try store.pendingRecords() { batch.delete(ColumnFamily.meta.rawValue, Array("pending/".utf8) + Hashing.digest(.record, record).bytes) }
        try database.write(batch, sync: true)
        #expect(try store.pendingRecords().isEmpty)

        let restarted = try committee.node(0, database: database, mesh: committee.mesh(0), genesisBalance: 1_000)
        try await restarted.start()
        let votes = try store.pendingRecords().compactMap { bytes -> CheckpointVote? in
            guard let record = try? SignedRecord(canonicalBytes: bytes), record.author == committee.keys[0].publicKey,
                  case let .checkpointVote(vote)? = try? RecordBody(canonicalBytes: record.body) else { return nil }
            return vote
        }
        #expect(votes.map(\.window) == [last], "pending after restart: \(votes)")
        let closed = try #require(try store.closedWindow(last))
        #expect(votes.first?.stateRoot == closed.stateRoot && votes.first?.sequenceHash == closed.sequenceHash)
        // The vote is durable: a second restart finds it pending and does not vote twice.
        let again = try committee.node(0, database: database, mesh: committee.mesh(0), genesisBalance: 1_000)
        try await again.start()
        #expect(try store.pendingRecords().count == 1)
        #expect(await again.restoredPending == 1)
        database.close()
    }
}
