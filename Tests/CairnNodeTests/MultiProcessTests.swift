import CairnAPI
import CairnChain
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
            #expect(health?.status == 200, "\(String(describing: health))")

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
                #expect(reply?.status == 202, "\(String(describing: reply))")
                if let reply, let id = reply.submitted?.id { ids.append(id) }
            }
            // A forged record is refused with a reason.
            var forged = SignedRecord(author: trainer.publicKey, nonce: 99, body: [1], signature: trainer.sign([2]))
            forged.nonce = 100
            let refused = await net.post(1, record: forged.canonicalBytes)
            #expect(refused?.status == 400 && refused?.error?.code.rawValue == "invalid_record")

            #expect(await net.eventually(seconds: 60) {
                await ids.asyncAll { await net.get(0, "/v1/records/\($0)")?.status == 200 }
            }, "not every submitted record was committed")

            // The ledger executed them: spread over four nodes, some overtake others and lose to the
            // nonce rule; the rest moved balance, and balances add up.
            var executed = 0
            for id in ids {
                let reply = await net.record(3, id)
                if reply?.status == "committed" { executed += 1 } else { #expect(reply?.reason == "wrong_nonce", "\(String(describing: reply))") }
            }
            #expect(executed >= 10, "only \(executed) of 40 transfers executed")
            let payer = await net.reply(1, "/v1/accounts/\(trainer.publicKey.hex)", as: AccountReply.self)
            let paid = await net.reply(1, "/v1/accounts/\(payee.publicKey.hex)", as: AccountReply.self)
            let balances = [Int(payer?.balance ?? 0), Int(paid?.balance ?? 0)]
            #expect(balances[1] - balances[0] == 2 * executed && balances[0] + balances[1] == 2_000_000_000, "\(balances)")

            // Invalid records are committed as rejected, with the reason, and the network goes on.
            let nextNonce = payer?.nonce ?? 0
            let stranger = SigningKey.generate()
            let invalid: [(SignedRecord, String)] = [
                (signed(trainer, nonce: nextNonce, .transfer(Transfer(to: payee.publicKey, amount: 3_000_000_000))), "insufficient_balance"),
                (signed(stranger, nonce: 0, .transfer(Transfer(to: payee.publicKey, amount: 1))), "unknown_account"),
                (signed(trainer, nonce: nextNonce, .checkpointVote(CheckpointVote(window: 0, sequenceHash: .zero, stateRoot: .zero, modelHash: .zero))), "not_validator"),
            ]
            for (record, expected) in invalid {
                let reply = await net.post(2, record: record.canonicalBytes)
                let id = try #require(reply?.submitted?.id)
                #expect(await net.eventually(seconds: 30) { await net.record(2, id)?.reason == expected }, "\(expected)")
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
            let roundAtRestart = Int(clamping: await net.status(0)?.round ?? 0)
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
            #expect(await net.get(0, "/health")?.status == 503)

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
                await (0 ..< 4).asyncAll { i in await net.get(i, "/v1/checkpoints/2")?.status == 200 }
            }, "no checkpoint certificate for window 2 on every node")
            for window in 0 ... 2 {
                var seen: Set<String> = []
                for i in 0 ..< 4 {
                    let certificate = try #require(await net.reply(i, "/v1/checkpoints/\(window)", as: CheckpointReply.self))
                    #expect(certificate.signers.count >= 3)
                    seen.insert("\(certificate.stateRoot)/\(certificate.sequenceHash)")
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
                        guard let hash = await net.get(node, "/v1/sequence/\(position)")?.decode(SequenceEntry.self)?.sequenceHash else { continue }
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
                #expect(entry?.status == 200, "node \(i) has nothing at \(position)")
                if let hash = entry?.decode(SequenceEntry.self)?.sequenceHash { hashes.insert(hash) }
            }
            #expect(hashes.count == 1, "nodes disagree at position \(position): \(hashes)")
        }
    }
}
