import CairnCore
import CairnCrypto
import CairnNet
import Foundation
import Hummingbird
import NIOCore
import NIOConcurrencyHelpers
import CairnStorage
import CairnLedger

/// The client API (ARCHITECTURE §9), JSON over HTTP. Errors are `{"error", "detail"}` with the right
/// status; request bodies are bounded.
public enum NodeAPI {
    public static let version = "0.1.0"
    static let maxBodyBytes = 256 * 1024

    struct ErrorBody: Encodable { var error: String; var detail: String }

    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = (try? encoder.encode(value)) ?? Data("{}".utf8)
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// Every error reply, by its `error` code (`cairn_api_errors_total{error}`): one place counts
    /// all refusals, whichever route or middleware made them.
    static let errors = RejectionCounter()

    static func error(_ status: HTTPResponse.Status, _ error: String, _ detail: String) -> Response {
        errors.add(error)
        return json(ErrorBody(error: error, detail: detail), status: status)
    }

    struct StatusBody: Encodable {
        var chain_id: String
        var genesis_hash: String
        var version: String
        var node: String
        var validator_index: Int
        var round: UInt64
        var last_committed_wave: UInt64
        var committed_leaders: UInt64
        var delivered: UInt64
        var sequence_hash: String
        var state_root: String
        var window: UInt64
        var peers: Int
        var catching_up: Bool
        var pending_records: Int
    }

    public static func router(for validator: Validator, connections: APIConnections? = nil) -> Router<APIRequestContext> {
        let router = Router(context: APIRequestContext.self)
        let limits = validator.config.limits
        router.add(middleware: RateLimitMiddleware(limiter: RateLimiter(requestsPerSecond: Double(limits.apiRequestsPerSecond),
                                                                        burst: Double(limits.apiBurst))))
        let blobs = BlobStore(database: validator.database)
        let rejections = RejectionCounter()
        let node = validator.node
        let quorumPeers = 2 * validator.genesis.faultTolerance
        // A live validator sends at least an empty vertex every max round interval, and repeats
        // unanswered proposals; three seconds of silence means it is gone.
        let liveWindowMs = max(3_000, 3 * Int64(validator.genesis.consensus.maxRoundIntervalMs))

        router.get("/status") { _, _ -> Response in
            let status = await node.status
            return json(StatusBody(
                chain_id: validator.genesis.chainID, genesis_hash: validator.genesisHash.hex, version: version,
                node: validator.config.name, validator_index: validator.index, round: status.round,
                last_committed_wave: status.progress.decidedWave, committed_leaders: status.progress.committedLeaders,
                delivered: status.progress.delivered, sequence_hash: status.progress.sequenceHash.hex,
                state_root: status.progress.stateRoot.hex, window: status.progress.window,
                peers: validator.mesh.livePeers(withinMs: liveWindowMs).count, catching_up: status.catchingUp,
                pending_records: status.pendingRecords))
        }

        router.get("/health") { _, _ -> Response in
            let status = await node.status
            let peers = validator.mesh.livePeers(withinMs: liveWindowMs).count
            if peers < quorumPeers {
                return error(.serviceUnavailable, "unhealthy", "heard from \(peers) peers in the last \(liveWindowMs) ms, need 2f = \(quorumPeers)")
            }
            if let divergence = status.divergence {
                return error(.serviceUnavailable, "diverged", divergence.description)
            }
            if status.catchingUp {
                return error(.serviceUnavailable, "unhealthy", "catching up: round \(status.round), the DAG is complete to \(status.highestCompleteRound)")
            }
            return json(["status": "ok"])
        }

        router.get("/metrics") { _, _ -> Response in
            let status = await node.status
            var lines = [
                "# TYPE cairn_round gauge", "cairn_round \(status.round)",
                "# TYPE cairn_committed_waves gauge", "cairn_committed_waves \(status.progress.decidedWave)",
                "# TYPE cairn_committed_leaders_total counter", "cairn_committed_leaders_total \(status.progress.committedLeaders)",
                "# TYPE cairn_delivered_vertices_total counter", "cairn_delivered_vertices_total \(status.progress.delivered)",
                "# TYPE cairn_peers_connected gauge", "cairn_peers_connected \(validator.mesh.livePeers(withinMs: liveWindowMs).count)",
                "# TYPE cairn_pending_records gauge", "cairn_pending_records \(status.pendingRecords)",
                "# TYPE cairn_missing_certificates gauge", "cairn_missing_certificates \(status.missingCertificates)",
                "# TYPE cairn_consensus_refused_total counter",
            ]
            for (reason, count) in status.refused.sorted(by: { $0.key < $1.key }) {
                lines.append("cairn_consensus_refused_total{reason=\"\(reason)\"} \(count)")
            }
            lines.append("# TYPE cairn_transport_events_total counter")
            for (event, count) in validator.mesh.counters.snapshot.sorted(by: { $0.key < $1.key }) {
                lines.append("cairn_transport_events_total{event=\"\(event)\"} \(count)")
            }
            let m = status.metrics
            for (name, type, value) in [
                ("cairn_certificates_total", "counter", m.certificates), ("cairn_votes_cast_total", "counter", m.votesCast),
                ("cairn_proposals_total", "counter", m.proposals), ("cairn_fetch_requests_sent_total", "counter", m.fetchesSent),
                ("cairn_fetch_requests_served_total", "counter", m.fetchesServed),
                ("cairn_records_committed_total", "counter", m.recordsCommitted),
                ("cairn_vertices_dropped_below_gc_total", "counter", m.verticesDropped),
                ("cairn_records_resubmitted_total", "counter", m.recordsResubmitted),
                ("cairn_blob_waits_total", "counter", m.blobWaits), ("cairn_blob_waits_expired_total", "counter", m.blobWaitsExpired),
                ("cairn_blob_requests_sent_total", "counter", m.blobFetchesSent), ("cairn_blobs_fetched_total", "counter", m.blobsFetched),
                ("cairn_blob_bytes_fetched_total", "counter", m.blobBytesFetched), ("cairn_blobs_served_total", "counter", m.blobsServed),
            ] {
                lines += ["# TYPE \(name) \(type)", "\(name) \(value)"]
            }
            lines += m.commitLatency.lines("cairn_commit_latency_seconds")
            lines += ["# TYPE cairn_records_executed_total counter", "cairn_records_executed_total \(m.recordsExecuted)",
                      "# TYPE cairn_records_rejected_in_ledger_total counter"]
            for (reason, count) in m.recordsRejectedInLedger.sorted(by: { $0.key < $1.key }) {
                lines.append("cairn_records_rejected_in_ledger_total{reason=\"\(reason)\"} \(count)")
            }
            lines += ["# TYPE cairn_checkpoints_certified_total counter", "cairn_checkpoints_certified_total \(m.checkpointsCertified)",
                      "# TYPE cairn_window gauge", "cairn_window \(status.progress.window)",
                      "# TYPE cairn_state_root_mismatch gauge", "cairn_state_root_mismatch \(status.divergence == nil ? 0 : 1)"]
            let evaluation = validator.evaluationMetrics.withLockedValue { $0 }
            lines += ["# TYPE cairn_evaluations_total counter",
                      "cairn_evaluations_total{step=\"evaluated\"} \(evaluation.evaluated)",
                      "cairn_evaluations_total{step=\"committed\"} \(evaluation.committed)",
                      "cairn_evaluations_total{step=\"revealed\"} \(evaluation.revealed)",
                      "cairn_evaluations_total{step=\"failed\"} \(evaluation.failed)"]
            lines += evaluation.seconds.lines("cairn_evaluation_seconds")
            if let connections {
                let c = connections.snapshot
                lines += ["# TYPE cairn_api_connections_open gauge", "cairn_api_connections_open \(c.open)",
                          "# TYPE cairn_api_connection_clients gauge", "cairn_api_connection_clients \(c.clients)",
                          "# TYPE cairn_api_connections_accepted_total counter", "cairn_api_connections_accepted_total \(c.accepted)",
                          "# TYPE cairn_api_connections_refused_total counter",
                          "cairn_api_connections_refused_total{reason=\"per_client\"} \(c.refusedPerClient)",
                          "# TYPE cairn_api_accept_paused_total counter", "cairn_api_accept_paused_total \(c.acceptPaused)",
                          "# TYPE cairn_api_connection_limit gauge", "cairn_api_connection_limit \(connections.maxTotal)"]
            }
            lines.append("# TYPE cairn_api_errors_total counter")
            for (code, count) in NodeAPI.errors.snapshot.sorted(by: { $0.key < $1.key }) {
                lines.append("cairn_api_errors_total{error=\"\(code)\"} \(count)")
            }
            lines.append("# TYPE cairn_records_rejected_total counter")
            for (reason, count) in rejections.snapshot.sorted(by: { $0.key < $1.key }) {
                lines.append("cairn_records_rejected_total{reason=\"\(reason)\"} \(count)")
            }
            // Where a node's memory goes (D41): RocksDB's memtables, block cache and table readers,
            // the core's DAG and buffers, and the verified-record cache.
            var memtables = 0, readers = 0
            for family in ColumnFamily.allCases {
                memtables += Int((try? validator.database.property("rocksdb.cur-size-all-mem-tables", family: family.rawValue)).flatMap { $0 }.flatMap { Int($0) } ?? 0)
                readers += Int((try? validator.database.property("rocksdb.estimate-table-readers-mem", family: family.rawValue)).flatMap { $0 }.flatMap { Int($0) } ?? 0)
            }
            let cache = (try? validator.database.property("rocksdb.block-cache-usage", family: ColumnFamily.meta.rawValue)).flatMap { $0 }.flatMap { Int($0) } ?? 0
            lines += ["# TYPE cairn_rocksdb_memtable_bytes gauge", "cairn_rocksdb_memtable_bytes \(memtables)",
                      "# TYPE cairn_rocksdb_block_cache_bytes gauge", "cairn_rocksdb_block_cache_bytes \(cache)",
                      "# TYPE cairn_rocksdb_table_readers_bytes gauge", "cairn_rocksdb_table_readers_bytes \(readers)",
                      "# TYPE cairn_dag_certificates gauge", "cairn_dag_certificates \(status.dagSize)",
                      "# TYPE cairn_buffered_messages gauge", "cairn_buffered_messages \(status.bufferedMessages)",
                      "# TYPE cairn_verified_records_cached gauge", "cairn_verified_records_cached \(validator.verifiedRecords.count)"]
            if let heap = ProcessMemory.stats() {
                lines += ["# TYPE cairn_heap_allocated_bytes gauge", "cairn_heap_allocated_bytes \(heap.allocated)",
                          "# TYPE cairn_heap_resident_bytes gauge", "cairn_heap_resident_bytes \(heap.resident)"]
            }
            lines += ["# TYPE cairn_rocksdb_sst_bytes gauge", "# TYPE cairn_rocksdb_estimated_keys gauge"]
            for family in ColumnFamily.allCases {
                if let bytes = try? validator.database.property("rocksdb.total-sst-files-size", family: family.rawValue) {
                    lines.append("cairn_rocksdb_sst_bytes{family=\"\(family.rawValue)\"} \(bytes)")
                }
                if let keys = try? validator.database.property("rocksdb.estimate-num-keys", family: family.rawValue) {
                    lines.append("cairn_rocksdb_estimated_keys{family=\"\(family.rawValue)\"} \(keys)")
                }
            }
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                            body: .init(byteBuffer: ByteBuffer(string: lines.joined(separator: "\n") + "\n")))
        }

        router.post("/v1/records") { request, _ -> Response in
            let body: ByteBuffer
            do {
                body = try await request.body.collect(upTo: maxBodyBytes)
            } catch {
                rejections.add("too_large")
                return NodeAPI.error(.contentTooLarge, "too_large", "request body exceeds \(maxBodyBytes) bytes")
            }
            // One record {"record": hex} or a batch {"records": [hex, …]} (load generators).
            struct Submit: Decodable { var record: String?; var records: [String]? }
            guard let submit = try? JSONDecoder().decode(Submit.self, from: Data(Array(buffer: body))),
                  let texts = submit.records ?? submit.record.map({ [$0] }), !texts.isEmpty, texts.count <= 1000 else {
                return NodeAPI.error(.badRequest, "bad_request",
                                     "body must be {\"record\": \"<hex SignedRecord>\"} or {\"records\": [up to 1000 of them]}")
            }
            var accepted: [[UInt8]] = []
            var ids: [String] = []
            for (index, text) in texts.enumerated() {
                guard let bytes = Hex.decode(text) else {
                    rejections.add("not_hex")
                    return NodeAPI.error(.badRequest, "bad_request", "record \(index) is not hexadecimal")
                }
                do {
                    let (_, id) = try validator.validateRecord(bytes)
                    accepted.append(bytes)
                    ids.append(id.hex)
                } catch {
                    rejections.add("invalid_record")
                    return NodeAPI.error(.badRequest, "invalid_record", "record \(index): \(error)")
                }
            }
            // Durable before the 202 (D42): a crash after the answer cannot lose what it promised.
            do {
                try validator.node.database.persistPending(accepted)
            } catch {
                rejections.add("storage_failure")
                return NodeAPI.error(.serviceUnavailable, "storage_failure", "could not store the records durably (\(error)); nothing was accepted, retry later")
            }
            let taken = await node.submit(accepted)
            guard taken == accepted.count else {
                // The rest were not accepted: forget them here, the client resubmits.
                try? validator.node.database.dropPending(Array(accepted[taken...]))
                rejections.add("overloaded")
                return NodeAPI.error(.serviceUnavailable, "overloaded",
                                     taken == 0 ? "the pending-record queue is full; retry later"
                                                : "the pending-record queue took only the first \(taken) of \(accepted.count) records (their ids are the first \(taken) of a full submission); resubmit the rest later")
            }
            return submit.records == nil ? json(["id": ids[0]], status: .accepted) : json(["ids": ids], status: .accepted)
        }

        // Committed records in sequence order, for clients that follow the ledger (load generators,
        // indexers): GET /v1/committed?from=P[&limit=N] → {"records": [id…], "next": P'}.
        router.get("/v1/committed") { request, _ -> Response in
            guard let from = request.uri.queryParameters.get("from", as: UInt64.self) else {
                return NodeAPI.error(.badRequest, "bad_request", "give ?from=<sequence position>")
            }
            let limit = min(request.uri.queryParameters.get("limit", as: Int.self) ?? 1000, 5000)
            do {
                let (ids, next) = try validator.node.database.committedRecords(from: from, limit: max(1, limit))
                return json(CommittedRecords(records: ids.map(\.hex), next: next))
            } catch let pruned as ConsensusStore.HistoryPruned {
                return NodeAPI.error(.gone, "pruned", pruned.description)
            }
        }

        // Batch status: {"ids": [hex, …]} → {"committed": {id: position}} for those committed.
        router.post("/v1/records/status") { request, _ -> Response in
            guard let body = try? await request.body.collect(upTo: maxBodyBytes * 4) else {
                return NodeAPI.error(.contentTooLarge, "too_large", "request body exceeds \(maxBodyBytes * 4) bytes")
            }
            struct Query: Decodable { var ids: [String] }
            guard let query = try? JSONDecoder().decode(Query.self, from: Data(Array(buffer: body))), query.ids.count <= 10_000 else {
                return NodeAPI.error(.badRequest, "bad_request", "body must be {\"ids\": [up to 10000 hex record ids]}")
            }
            var committed: [String: UInt64] = [:]
            for text in query.ids {
                if let id = try? Digest(hex: text), let position = try validator.node.database.recordPosition(id) { committed[text] = position }
            }
            return json(["committed": committed])
        }

        router.get("/v1/records/{id}") { _, context -> Response in
            guard let text = context.parameters.get("id"), let id = try? Digest(hex: text) else {
                return NodeAPI.error(.badRequest, "bad_request", "id must be 64 hex characters")
            }
            if let status = try validator.node.database.recordStatus(id) {
                if let rejection = status.rejection {
                    return json(RecordReply(id: id.hex, status: "rejected", position: status.position,
                                            reason: rejection.reason.rawValue, detail: rejection.detail))
                }
                return json(RecordReply(id: id.hex, status: "committed", position: status.position, reason: nil, detail: nil))
            }
            return NodeAPI.error(.notFound, "unknown_record", "record \(id.short)… is not committed (it may still be pending)")
        }

        router.get("/v1/sequence/{position}") { _, context -> Response in
            guard let text = context.parameters.get("position"), let position = UInt64(text) else {
                return NodeAPI.error(.badRequest, "bad_request", "position must be a non-negative integer")
            }
            guard let entry = try validator.node.database.sequenceEntry(position) else {
                return NodeAPI.error(.notFound, "not_delivered", "nothing delivered at position \(position) yet")
            }
            return json(SequenceEntry(position: position, digest: entry.digest.hex, round: entry.round, sequence_hash: entry.sequenceHash.hex))
        }
        router.get("/v1/accounts/{key}") { _, context -> Response in
            guard let text = context.parameters.get("key"), let bytes = Hex.decode(text), bytes.count == 32 else {
                return NodeAPI.error(.badRequest, "bad_request", "account must be a 64-hex-character Ed25519 public key")
            }
            let key = PublicKey(uncheckedBytes: bytes)
            guard let account = try validator.node.database.account(key) else {
                return NodeAPI.error(.notFound, "unknown_account", "no account \(key.short)… (an account exists once it holds or held a balance)")
            }
            return json(AccountReply(account: key.hex, balance: account.balance, nonce: account.nonce))
        }

        router.get("/v1/checkpoints/{window}") { _, context -> Response in
            guard let text = context.parameters.get("window"), let window = UInt64(text) else {
                return NodeAPI.error(.badRequest, "bad_request", "window must be a non-negative integer")
            }
            guard let certificate = try validator.node.database.checkpoint(window) else {
                return NodeAPI.error(.notFound, "not_certified", "window \(window) has no checkpoint certificate yet")
            }
            return json(CheckpointReply(window: window, state_root: certificate.vote.stateRoot.hex,
                                        sequence_hash: certificate.vote.sequenceHash.hex, model_hash: certificate.vote.modelHash.hex,
                                        signers: certificate.signers.map { Int($0.validator) }, nonces: certificate.signers.map(\.nonce),
                                        signatures: certificate.signers.map(\.signature.hex)))
        }

        addTrainingRoutes(to: router, validator: validator)

        // Content-addressed blobs: the id is SHA-256(0x03 ‖ bytes), checked before anything is stored.
        router.put("/v1/blobs/{id}") { request, context -> Response in
            guard let text = context.parameters.get("id"), let id = try? Digest(hex: text) else {
                return NodeAPI.error(.badRequest, "bad_request", "blob id must be 64 hex characters (SHA-256 over 0x03 ‖ bytes)")
            }
            let body: ByteBuffer
            do {
                body = try await request.body.collect(upTo: limits.maxBlobBytes)
            } catch {
                return NodeAPI.error(.contentTooLarge, "too_large", "blob exceeds limits.max_blob_bytes = \(limits.maxBlobBytes) bytes")
            }
            do {
                let created = try blobs.put(Array(buffer: body), expected: id)
                return json(BlobReceipt(id: id.hex, size: body.readableBytes), status: created ? .created : .ok)
            } catch let error as BlobStore.PutError {
                return NodeAPI.error(.badRequest, "hash_mismatch", error.description)
            }
        }

        router.get("/v1/blobs/{id}") { _, context -> Response in
            guard let text = context.parameters.get("id"), let id = try? Digest(hex: text) else {
                return NodeAPI.error(.badRequest, "bad_request", "blob id must be 64 hex characters (SHA-256 over 0x03 ‖ bytes)")
            }
            guard let bytes = try blobs.get(id) else {
                return NodeAPI.error(.notFound, "unknown_blob", "no blob \(id.short)… here; upload it with PUT /v1/blobs/\(id.hex)")
            }
            return Response(status: .ok, headers: [.contentType: "application/octet-stream"],
                            body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
        }
        return router
    }

    /// Records refused at submission, by reason.
    final class RejectionCounter: Sendable {
        private let counts = NIOLockedValueBox<[String: Int]>([:])
        func add(_ reason: String) { counts.withLockedValue { $0[reason, default: 0] += 1 } }
        var snapshot: [String: Int] { counts.withLockedValue { $0 } }
    }

    struct BlobReceipt: Encodable { var id: String; var size: Int }
    struct CommittedRecords: Encodable { var records: [String]; var next: UInt64 }
    struct RecordReply: Encodable { var id: String; var status: String; var position: UInt64; var reason: String?; var detail: String? }
    struct AccountReply: Encodable { var account: String; var balance: UInt64; var nonce: UInt64 }
    struct CheckpointReply: Encodable {
        var window: UInt64
        var state_root: String
        var sequence_hash: String
        var model_hash: String
        var signers: [Int]
        var nonces: [UInt64]
        var signatures: [String]
    }
    struct SequenceEntry: Encodable { var position: UInt64; var digest: String; var round: UInt64; var sequence_hash: String }
}
