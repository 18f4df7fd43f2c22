import CairnCore
import CairnCrypto
import CairnNode
import CairnTestKit
import CairnTraining
import Foundation
import Testing
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Real `cairn node` processes on loopback.
final class LocalNetwork: @unchecked Sendable {
    let cairn: String
    let directory: String
    let basePort: Int
    var processes: [Int: Process] = [:]
    /// The corpus genesis hashes (the validators evaluate over it).
    let corpus: String

    init(validators: Int, windowMs: Int = 1000, testnetArguments: [String] = []) throws {
        cairn = try builtExecutable("cairn")
        directory = FileManager.default.temporaryDirectory.path + "/cairn-localnet-\(UInt64.random(in: 0 ... .max))"
        basePort = Self.allocateBasePort(validators: validators)
        corpus = try syntheticCorpus()
        let result = try runProcess(cairn, ["testnet", "--validators", "\(validators)", "--trainers", "2", "--output", directory,
                                            "--base-port", "\(basePort)", "--corpus", corpus,
                                            "--min-round-interval-ms", "20", "--max-round-interval-ms", "100",
                                            "--window-ms", "\(windowMs)"] + testnetArguments)  // by default about once a second, as most tests expect
        guard result.status == 0 else { throw CocoaError(.fileWriteUnknown, userInfo: [NSLocalizedDescriptionKey: result.stderr]) }
    }

    /// Port blocks that never overlap within this test process: networks of different tests run
    /// in parallel, and two that shared a port would talk to each other's nodes (another chain,
    /// other sequence hashes) or fail to bind. Starts at a random block so that concurrent test
    /// processes are unlikely to meet.
    final class PortBlocks: @unchecked Sendable {  // guarded by `lock`
        let lock = NSLock()
        var next = Int.random(in: 0 ..< 250)
        /// `count` consecutive blocks; never split across the wrap-around.
        func take(_ count: Int) -> Int {
            lock.lock()
            defer { lock.unlock() }
            if next + count > 250 { next = 0 }
            let block = next
            next = (next + count) % 250
            return block
        }
    }
    static let portBlocks = PortBlocks()
    static func allocateBasePort(validators: Int) -> Int {
        // Node i uses base + 10·i and + 1; a block is 50 ports (5 validators), 7 take two. All below
        // Linux's ephemeral range (32768–60999): a listen port there can still be held by a client
        // socket of an earlier test (the 800-connection flood), and the node then fails to bind.
        20000 + 50 * portBlocks.take((validators + 4) / 5)
    }

    /// Starts node `i`; with `fileDescriptorLimit`, under `ulimit -n` (soft and hard) of that size.
    func start(_ i: Int, fileDescriptorLimit: Int? = nil) throws {
        let process = Process()
        if let limit = fileDescriptorLimit {
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = ["-c", "ulimit -n \(limit) && exec \"$0\" node --home \"$1\"", cairn, "\(directory)/node\(i)"]
        } else {
            process.executableURL = URL(fileURLWithPath: cairn)
            process.arguments = ["node", "--home", "\(directory)/node\(i)"]
        }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        // CAIRN_NODE_STDERR=/tmp/node keeps each node's log in /tmp/node<i> (for debugging a failure).
        if let log = ProcessInfo.processInfo.environment["CAIRN_NODE_STDERR"] {
            FileManager.default.createFile(atPath: log + "\(i)", contents: nil)
            process.standardError = FileHandle(forWritingAtPath: log + "\(i)")
        }
        try process.run()
        processes[i] = process
    }

    func kill(_ i: Int, signal: Int32) {
        guard let process = processes.removeValue(forKey: i) else { return }
        Foundation.kill(process.processIdentifier, signal)
        process.waitUntilExit()
    }

    func stopAll() { for i in processes.keys.sorted() { kill(i, signal: SIGTERM) } }

    func url(_ i: Int, _ path: String) -> URL { URL(string: "http://127.0.0.1:\(basePort + 10 * i + 1)\(path)")! }

    func get(_ i: Int, _ path: String) async -> (Int, [String: Any])? {
        guard let (data, response) = try? await URLSession.shared.data(from: url(i, path)),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return nil }
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, object)
    }

    func status(_ i: Int) async -> [String: Any]? { await get(i, "/status")?.1 }

    func delivered(_ i: Int) async -> Int { (await status(i)?["delivered"] as? Int) ?? -1 }
    func leaders(_ i: Int) async -> Int { (await status(i)?["committed_leaders"] as? Int) ?? -1 }

    /// One sample of `/metrics`, by its full name with labels.
    func metric(_ i: Int, _ name: String) async -> Double? {
        guard let (data, _) = try? await URLSession.shared.data(from: url(i, "/metrics")),
              let text = String(data: data, encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix(name + " ") { return Double(line.split(separator: " ").last ?? "") }
        return nil
    }

    func post(_ i: Int, record: [UInt8]) async -> (Int, [String: Any])? {
        var request = URLRequest(url: url(i, "/v1/records"))
        request.httpMethod = "POST"
        request.httpBody = try? JSONSerialization.data(withJSONObject: ["record": Hex.encode(record)])
        guard let (data, response) = try? await URLSession.shared.data(for: request),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return nil }
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, object)
    }

    /// Polls until `condition` holds (or `seconds` pass); returns whether it held.
    /// The HTTP status of GET `path` on node `i` whatever its body (nil: no answer).
    func statusCode(_ i: Int, _ path: String) async -> Int? {
        guard let (_, response) = try? await URLSession.shared.data(from: url(i, path)) else { return nil }
        return (response as? HTTPURLResponse)?.statusCode
    }

    /// A valid, nonzero pseudo-gradient blob for this network's genesis task (uploads must be one,
    /// D59), different for each `seed`.
    func pseudoGradientBlob(seed: UInt32) throws -> [UInt8] {
        let task = try GenesisFile.load(path: "\(directory)/genesis.json").task
        let count = task.model.parameterCount
        var feedback = ErrorFeedback(parameterCount: count)
        let dense = (0 ..< count).map { j in Float(Int((UInt32(truncatingIfNeeded: j) &* 2_654_435_761 &+ seed &* 40_503) % 2001) - 1000) * 1e-5 }
        return PseudoGradientBlob.encode(feedback.compress(dense, chunkSize: Int(task.compression.chunkSize), topK: Int(task.compression.topK)),
                                         topK: Int(task.compression.topK))
    }

    /// PUT `blob` on node `i` with `signer`'s upload headers (D59; `signer` nil: none); the HTTP
    /// status and reply. A 403 (the trainer's registration not yet executed on that node) is
    /// retried for up to 10 s unless `retryUnregistered` is false.
    func upload(_ i: Int, blob: [UInt8], signer: SigningKey?, id: Digest? = nil, timeMs: UInt64? = nil,
                retryUnregistered: Bool = true) async throws -> (Int, [String: Any]) {
        var reply = try await uploadOnce(i, blob: blob, signer: signer, id: id, timeMs: timeMs)
        let deadline = ContinuousClock.now + .seconds(10)
        while retryUnregistered, reply.0 == 403, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(200))
            reply = try await uploadOnce(i, blob: blob, signer: signer, id: id, timeMs: timeMs)
        }
        return reply
    }

    private func uploadOnce(_ i: Int, blob: [UInt8], signer: SigningKey?, id: Digest?, timeMs: UInt64?) async throws -> (Int, [String: Any]) {
        let id = id ?? BlobStore.id(of: blob)
        var request = URLRequest(url: url(i, "/v1/blobs/\(id.hex)"))
        request.httpMethod = "PUT"
        request.httpBody = Data(blob)
        if let signer {
            let chain = try GenesisFile.load(path: "\(directory)/genesis.json").hash
            let time = timeMs ?? UInt64(Date().timeIntervalSince1970 * 1000)
            request.setValue(signer.publicKey.hex, forHTTPHeaderField: BlobUpload.trainerHeader)
            request.setValue(String(time), forHTTPHeaderField: BlobUpload.timeHeader)
            request.setValue(signer.sign(BlobUpload.signingBytes(chain: chain, trainer: signer.publicKey, blob: id, timeMs: time)).hex,
                             forHTTPHeaderField: BlobUpload.signatureHeader)
        }
        let (data, response) = try await URLSession.shared.data(for: request)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, (try? JSONSerialization.jsonObject(with: data) as? [String: Any]) ?? [:])
    }

    func eventually(seconds: Double, _ condition: () async -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        while ContinuousClock.now < deadline {
            if await condition() { return true }
            try? await Task.sleep(for: .milliseconds(100))
        }
        return await condition()
    }

    deinit {
        stopAll()
        try? FileManager.default.removeItem(atPath: directory)
        try? FileManager.default.removeItem(atPath: corpus)
    }
}

extension NodeProcesses {
    @Suite("cairn node processes on loopback", .serialized)
    struct MultiProcessTests {
        @Test("4 nodes agree; kill -9 and restart catches up; 2 of 4 down stops commits until they return")
        func network() async throws {
            let net = try LocalNetwork(validators: 4)
            defer { net.stopAll() }
            for i in 0 ..< 4 { try net.start(i) }
            #expect(await net.eventually(seconds: 60) { await (0 ..< 4).asyncAll { await net.delivered($0) > 0 } }, "no commits")
            let health = await net.get(0, "/health")
            #expect(health?.0 == 200, "\(String(describing: health))")

            // Signed records through the API, spread over the nodes.
            let genesis = try GenesisFile.load(path: "\(net.directory)/genesis.json")
            let trainer = try KeyFiles.readSigningKey(at: "\(net.directory)/trainers/trainer0.key")
            let payee = try KeyFiles.readSigningKey(at: "\(net.directory)/trainers/trainer1.key")
            func signed(_ key: SigningKey, nonce: UInt64, _ body: RecordBody) -> SignedRecord {
                let bytes = body.canonicalBytes
                return SignedRecord(author: key.publicKey, nonce: nonce, body: bytes,
                                    signature: key.sign(SignedRecord.signingBytes(chain: genesis.hash, author: key.publicKey, nonce: nonce, body: bytes)))
            }
            var ids: [String] = []
            for nonce in 0 ..< 40 {
                let body = RecordBody.transfer(Transfer(to: payee.publicKey, amount: 1)).canonicalBytes
                let signature = trainer.sign(SignedRecord.signingBytes(chain: genesis.hash, author: trainer.publicKey, nonce: UInt64(nonce), body: body))
                let record = SignedRecord(author: trainer.publicKey, nonce: UInt64(nonce), body: body, signature: signature)
                let reply = await net.post(nonce % 4, record: record.canonicalBytes)
                #expect(reply?.0 == 202, "\(String(describing: reply))")
                if let reply, let id = reply.1["id"] as? String { ids.append(id) }
            }
            // A forged record is refused with a reason.
            var forged = SignedRecord(author: trainer.publicKey, nonce: 99, body: [1], signature: trainer.sign([2]))
            forged.nonce = 100
            let refused = await net.post(1, record: forged.canonicalBytes)
            #expect(refused?.0 == 400 && (refused?.1["error"] as? String) == "invalid_record")

            #expect(await net.eventually(seconds: 60) {
                await ids.asyncAll { await net.get(0, "/v1/records/\($0)")?.0 == 200 }
            }, "not every submitted record was committed")

            // The ledger executed them: spread over four nodes, some overtake others and lose to the
            // nonce rule; the rest moved balance, and balances add up.
            var executed = 0
            for id in ids {
                let reply = await net.get(3, "/v1/records/\(id)")?.1
                if reply?["status"] as? String == "committed" { executed += 1 } else { #expect(reply?["reason"] as? String == "wrong_nonce", "\(String(describing: reply))") }
            }
            #expect(executed >= 10, "only \(executed) of 40 transfers executed")
            let payer = await net.get(1, "/v1/accounts/\(trainer.publicKey.hex)")?.1
            let paid = await net.get(1, "/v1/accounts/\(payee.publicKey.hex)")?.1
            let balances = [(payer?["balance"] as? Int) ?? 0, (paid?["balance"] as? Int) ?? 0]
            #expect(balances[1] - balances[0] == 2 * executed && balances[0] + balances[1] == 2_000_000_000, "\(balances)")

            // Invalid records are committed as rejected, with the reason, and the network goes on.
            let nextNonce = UInt64((payer?["nonce"] as? Int) ?? 0)
            let stranger = SigningKey.generate()
            let invalid: [(SignedRecord, String)] = [
                (signed(trainer, nonce: nextNonce, .transfer(Transfer(to: payee.publicKey, amount: 3_000_000_000))), "insufficient_balance"),
                (signed(stranger, nonce: 0, .transfer(Transfer(to: payee.publicKey, amount: 1))), "unknown_account"),
                (signed(trainer, nonce: nextNonce, .checkpointVote(CheckpointVote(window: 0, sequenceHash: .zero, stateRoot: .zero, modelHash: .zero))), "not_validator"),
            ]
            for (record, expected) in invalid {
                let reply = await net.post(2, record: record.canonicalBytes)
                let id = try #require(reply?.1["id"] as? String)
                #expect(await net.eventually(seconds: 30) { await net.get(2, "/v1/records/\(id)")?.1["reason"] as? String == expected }, "\(expected)")
            }

            // The CLI: balance, a transfer and a registration signed client side, waiting for the outcome.
            let node0 = net.url(0, "").absoluteString
            let payeeKey = "\(net.directory)/trainers/trainer1.key"
            let balance = try runProcess(net.cairn, ["balance", "--node", node0, "--key", payeeKey, "--json"])
            #expect(balance.status == 0 && balance.stdout.contains("\"balance\": \(balances[1])"), "\(balance.stdout) \(balance.stderr)")
            let sent = try runProcess(net.cairn, ["transfer", "--node", node0, "--key", payeeKey, "--to", trainer.publicKey.hex, "--amount", "7", "--wait"])
            #expect(sent.status == 0 && sent.stdout.contains("executed at sequence position"), "\(sent.stdout) \(sent.stderr)")
            let registered = try runProcess(net.cairn, ["register", "--node", node0, "--key", payeeKey, "--name", "trainer-one", "--wait"])
            #expect(registered.status == 0, "\(registered.stdout) \(registered.stderr)")
            let again = try runProcess(net.cairn, ["register", "--node", node0, "--key", payeeKey, "--name", "trainer-one", "--wait"])
            #expect(again.status != 0 && again.stderr.contains("already_registered"), "\(again.stdout) \(again.stderr)")
            let broke = try runProcess(net.cairn, ["transfer", "--node", node0, "--key", payeeKey, "--to", trainer.publicKey.hex,
                                                   "--amount", "9000000000", "--wait"])
            #expect(broke.status != 0 && broke.stderr.contains("insufficient_balance"), "\(broke.stdout) \(broke.stderr)")

            // Prometheus metrics (ARCHITECTURE §11): counters, the commit-latency histogram, RocksDB sizes,
            // and the forged record counted by reason.
            let (metricsData, _) = try await URLSession.shared.data(from: net.url(1, "/metrics"))
            let metrics = String(decoding: metricsData, as: UTF8.self)
            func value(_ name: String) -> Double? {
                metrics.split(separator: "\n").first { $0.hasPrefix(name + " ") }.flatMap { Double($0.split(separator: " ").last!) }
            }
            for name in ["cairn_certificates_total", "cairn_votes_cast_total", "cairn_records_committed_total", "cairn_commit_latency_seconds_count"] {
                #expect((value(name) ?? 0) > 0, "\(name) missing or zero")
            }
            #expect(metrics.contains("cairn_records_rejected_total{reason=\"invalid_record\"} 1"))
            #expect(metrics.contains("cairn_rocksdb_sst_bytes{family=\"certificates\"}"))
            #expect(metrics.contains("cairn_commit_latency_seconds_bucket{le=\"+Inf\"}"))
            // Every series the hand-written exposition had keeps its name through swift-prometheus (D52),
            // each with one TYPE line (a labelled family appears with its first series: refusals are
            // absent from a clean run).
            for name in ["cairn_round", "cairn_committed_waves", "cairn_committed_leaders_total", "cairn_delivered_vertices_total",
                         "cairn_peers_connected", "cairn_pending_records", "cairn_missing_certificates",
                         "cairn_transport_events_total", "cairn_certificates_total", "cairn_votes_cast_total", "cairn_proposals_total",
                         "cairn_fetch_requests_sent_total", "cairn_fetch_requests_served_total", "cairn_records_committed_total",
                         "cairn_vertices_dropped_below_gc_total", "cairn_records_resubmitted_total", "cairn_commit_latency_seconds",
                         "cairn_records_executed_total", "cairn_checkpoints_certified_total", "cairn_window",
                         "cairn_state_root_mismatch", "cairn_evaluations_total", "cairn_evaluation_seconds", "cairn_api_connections_open",
                         "cairn_api_connection_clients", "cairn_api_connections_accepted_total", "cairn_api_connection_limit",
                         "cairn_api_errors_total", "cairn_records_rejected_total", "cairn_rocksdb_memtable_bytes",
                         "cairn_rocksdb_block_cache_bytes", "cairn_rocksdb_table_readers_bytes", "cairn_dag_certificates",
                         "cairn_buffered_messages", "cairn_verified_records_cached", "cairn_rocksdb_sst_bytes", "cairn_rocksdb_estimated_keys",
                         "cairn_lsh_disagreements_total", "cairn_evaluations_unrevealed_total", "cairn_model_updates_total",
                         "cairn_blobs_fetched_total"] {
                #expect(metrics.split(separator: "\n").filter { $0.hasPrefix("# TYPE \(name) ") }.count == 1, "\(name): not exactly one TYPE line")
            }
            #expect(metrics.contains("cairn_evaluations_total{step=\"flagged\"}"))

            // kill -9 one node while more records arrive (records still pending in its memory may be
            // lost — clients re-submit — but nothing committed may be lost or reordered), keep the
            // others going past its garbage-collection window, then restart it.
            let before = await net.delivered(3)
            net.kill(3, signal: SIGKILL)
            try await Task.sleep(for: .seconds(12))  // > gcDepth (50) and > the future window (100 rounds)
            let roundAtRestart = (await net.status(0)?["round"] as? Int) ?? 0
            try net.start(3)
            let target = await net.delivered(0)
            // While node 3 catches up, every recent position any node serves must keep its hash, and
            // all nodes must serve the same hash for it (a disagreement was once seen mid-catch-up).
            let watcher = SequenceWatcher()
            #expect(await net.eventually(seconds: 90) {
                await watcher.sample(net, nodes: 0 ..< 4)
                return await net.delivered(3) >= target
            }, "restarted node did not catch up")
            #expect(watcher.conflicts.isEmpty, "sequence entries changed or disagreed during catch-up: \(watcher.conflicts.prefix(5))")
            #expect(watcher.samples > 20, "only \(watcher.samples) positions sampled")
            #expect(target > before)
            print("kill -9: node 3 had delivered \(before); restarted when node 0 was at round \(roundAtRestart) with \(target) delivered; caught up")
            try await Self.expectAgreement(net, upTo: target - 1)
            try await Self.expectAgreement(net, upTo: before - 1)

            // Two of four down: no commits after in-flight messages settle, and no divergence.
            net.kill(2, signal: SIGTERM)
            net.kill(3, signal: SIGTERM)
            try await Task.sleep(for: .seconds(2))
            let stalled = await net.leaders(0)
            try await Task.sleep(for: .seconds(2))
            #expect(await net.leaders(0) == stalled, "committed while 2 of 4 validators were down")
            #expect(await net.get(0, "/health")?.0 == 503)

            // Bring them back: commits resume and everyone agrees.
            try net.start(2)
            try net.start(3)
            #expect(await net.eventually(seconds: 90) { await net.leaders(0) > stalled }, "commits did not resume")
            let final = await net.delivered(0)
            #expect(await net.eventually(seconds: 90) { await (0 ..< 4).asyncAll { await net.delivered($0) >= final } })
            // Once failed here (nodes disagreed after this outage in a long run): restore refused
            // every stored certificate once the GC line passed the future-round window. Fixed and
            // covered by the simulator's long runs (DECISIONS D30); strict again.
            try await Self.expectAgreement(net, upTo: final - 1)

            // The load generator: JSON with the documented keys, everything committed everywhere.
            let urls = (0 ..< 4).map { net.url($0, "").absoluteString }.joined(separator: ",")
            let load = try runProcess(net.cairn, ["bench", "load", "--nodes", urls, "--rate", "200", "--duration", "2", "--json"])
            #expect(load.status == 0, "\(load.stderr)")
            let report = try #require(try JSONSerialization.jsonObject(with: Data(load.stdout.utf8)) as? [String: Any])
            for key in ["offered_per_second", "committed_per_second", "p50_ms", "p95_ms", "p99_ms", "lost"] {
                #expect(report[key] != nil, "missing \(key)")
            }
            #expect(report["lost"] as? Int == 0)
            #expect((report["committed_per_second"] as? Double ?? 0) > 100)

            // Checkpoints: each closed window's state root, certified by 2f+1 validators' votes, is the
            // same on every node (including the two restarted ones), and nobody reports a mismatch.
            #expect(await net.eventually(seconds: 60) {
                await (0 ..< 4).asyncAll { i in await net.get(i, "/v1/checkpoints/2")?.0 == 200 }
            }, "no checkpoint certificate for window 2 on every node")
            for window in 0 ... 2 {
                var seen: Set<String> = []
                for i in 0 ..< 4 {
                    let certificate = try #require(await net.get(i, "/v1/checkpoints/\(window)")?.1)
                    #expect((certificate["signers"] as? [Int])?.count ?? 0 >= 3)
                    seen.insert("\(certificate["state_root"] ?? "")/\(certificate["sequence_hash"] ?? "")")
                }
                #expect(seen.count == 1, "window \(window): nodes hold different checkpoints \(seen)")
            }
            for i in 0 ..< 4 {
                let (data, _) = try await URLSession.shared.data(from: net.url(i, "/metrics"))
                #expect(String(decoding: data, as: UTF8.self).contains("cairn_state_root_mismatch 0"), "node \(i) reports a state-root mismatch")
            }

            // An auditor replays node 0's stored sequence from genesis (while it runs) and the
            // restarted node 3's after it stopped: same roots, certificates and record outcomes.
            let live = try runProcess(net.cairn, ["audit", "--home", "\(net.directory)/node0", "--json"])
            #expect(live.status == 0, "\(live.stdout) \(live.stderr)")
            net.stopAll()
            let stopped = try runProcess(net.cairn, ["audit", "--home", "\(net.directory)/node3"])
            #expect(stopped.status == 0 && stopped.stdout.contains("audit OK"), "\(stopped.stdout) \(stopped.stderr)")
        }

        /// Records what each node serves at its most recent positions, and every inconsistency: a
        /// position whose hash changed on one node, or two nodes serving different hashes for it.
        final class SequenceWatcher: @unchecked Sendable {
            var seen: [Int: String] = [:]
            var byNode: [Int: [Int: String]] = [:]
            var conflicts: [String] = []
            var samples = 0

            func sample(_ net: LocalNetwork, nodes: Range<Int>) async {
                for node in nodes {
                    let delivered = await net.delivered(node)
                    guard delivered > 0 else { continue }
                    for position in stride(from: delivered - 1, through: max(0, delivered - 40), by: -7) {
                        guard let hash = await net.get(node, "/v1/sequence/\(position)")?.1["sequence_hash"] as? String else { continue }
                        samples += 1
                        if let earlier = byNode[node]?[position], earlier != hash {
                            conflicts.append("node \(node) position \(position): \(earlier.prefix(12)) then \(hash.prefix(12))")
                        }
                        byNode[node, default: [:]][position] = hash
                        if let other = seen[position], other != hash {
                            conflicts.append("position \(position): node \(node) serves \(hash.prefix(12)), another node \(other.prefix(12))")
                        }
                        seen[position] = hash
                    }
                }
            }
        }

        /// Every node reports the same vertex and sequence hash at `position`.
        static func expectAgreement(_ net: LocalNetwork, upTo position: Int) async throws {
            var hashes: Set<String> = []
            for i in 0 ..< 4 {
                let entry = await net.get(i, "/v1/sequence/\(position)")
                #expect(entry?.0 == 200, "node \(i) has nothing at \(position)")
                if let hash = entry?.1["sequence_hash"] as? String { hashes.insert(hash) }
            }
            #expect(hashes.count == 1, "nodes disagree at position \(position): \(hashes)")
        }
    }
}

extension Sequence {
    func asyncAll(_ predicate: (Element) async -> Bool) async -> Bool {
        for element in self where !(await predicate(element)) { return false }
        return true
    }
}

/// Every suite that runs `cairn node` processes, one test at a time: each network burns CPU until
/// its test ends, and on two cores several networks at once (while CPU-bound simulator tests hold
/// the cooperative thread pool) starved each other past their deadlines.
@Suite("cairn node processes", .serialized)
enum NodeProcesses {}
