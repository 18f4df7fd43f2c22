import CairnCore
import CairnCrypto
import CairnNet
import Foundation
import HTTPTypes
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

    /// What `/metrics` reads at scrape time (D52): the consensus actor's counts, the transport's,
    /// the API's, RocksDB's and the heap's. Event metrics (evaluations, latencies, finalization)
    /// are recorded where they happen, in `NodeTelemetry`.
    static func metricSamples(validator: Validator, status: ConsensusNode.Status, connections: APIConnections?,
                              rejections: [String: Int]) -> [NodeTelemetry.Sample] {
        let liveWindowMs = max(3_000, 3 * Int64(validator.genesis.consensus.maxRoundIntervalMs))
        typealias S = NodeTelemetry.Sample
        var samples: [S] = [
            .gauge("cairn_round", Double(status.round)),
            .gauge("cairn_committed_waves", Double(status.progress.decidedWave)),
            .counter("cairn_committed_leaders_total", status.progress.committedLeaders),
            .counter("cairn_delivered_vertices_total", status.progress.delivered),
            .gauge("cairn_peers_connected", Double(validator.mesh.livePeers(withinMs: liveWindowMs).count)),
            .gauge("cairn_pending_records", Double(status.pendingRecords)),
            .gauge("cairn_missing_certificates", Double(status.missingCertificates)),
        ]
        for (reason, count) in status.refused.sorted(by: { $0.key < $1.key }) {
            samples.append(.counter("cairn_consensus_refused_total", UInt64(clamping: count), [("reason", reason)]))
        }
        for (event, count) in validator.mesh.counters.snapshot.sorted(by: { $0.key < $1.key }) {
            samples.append(.counter("cairn_transport_events_total", UInt64(clamping: count), [("event", event)]))
        }
        let m = status.metrics
        samples += [
            .counter("cairn_certificates_total", m.certificates), .counter("cairn_votes_cast_total", m.votesCast),
            .counter("cairn_proposals_total", m.proposals), .counter("cairn_fetch_requests_sent_total", m.fetchesSent),
            .counter("cairn_fetch_requests_served_total", m.fetchesServed), .counter("cairn_records_committed_total", m.recordsCommitted),
            .counter("cairn_vertices_dropped_below_gc_total", m.verticesDropped), .counter("cairn_records_resubmitted_total", m.recordsResubmitted),
            .counter("cairn_blob_waits_total", m.blobWaits), .counter("cairn_blob_waits_expired_total", m.blobWaitsExpired),
            .counter("cairn_blob_requests_sent_total", m.blobFetchesSent), .counter("cairn_blobs_fetched_total", m.blobsFetched),
            .counter("cairn_blob_bytes_fetched_total", m.blobBytesFetched), .counter("cairn_blobs_served_total", m.blobsServed),
            .counter("cairn_records_executed_total", m.recordsExecuted),
            .counter("cairn_checkpoints_certified_total", m.checkpointsCertified),
            .gauge("cairn_window", Double(status.progress.window)),
            .gauge("cairn_state_root_mismatch", status.divergence == nil ? 0 : 1),
        ]
        for (reason, count) in m.recordsRejectedInLedger.sorted(by: { $0.key < $1.key }) {
            samples.append(.counter("cairn_records_rejected_in_ledger_total", count, [("reason", reason)]))
        }
        if let connections {
            let c = connections.snapshot
            samples += [.gauge("cairn_api_connections_open", Double(c.open)), .gauge("cairn_api_connection_clients", Double(c.clients)),
                        .counter("cairn_api_connections_accepted_total", UInt64(clamping: c.accepted)),
                        .counter("cairn_api_connections_refused_total", UInt64(clamping: c.refusedPerClient), [("reason", "per_client")]),
                        .counter("cairn_api_accept_paused_total", UInt64(clamping: c.acceptPaused)),
                        .gauge("cairn_api_connection_limit", Double(connections.maxTotal))]
        }
        for (code, count) in NodeAPI.errors.snapshot.sorted(by: { $0.key < $1.key }) {
            samples.append(.counter("cairn_api_errors_total", UInt64(clamping: count), [("error", code)]))
        }
        for (reason, count) in rejections.sorted(by: { $0.key < $1.key }) {
            samples.append(.counter("cairn_records_rejected_total", UInt64(clamping: count), [("reason", reason)]))
        }
        // Where a node's memory goes (D41): RocksDB's memtables, block cache and table readers,
        // the core's DAG and buffers, and the verified-record cache.
        func property(_ name: String, _ family: ColumnFamily) -> Double? {
            (try? validator.database.property(name, family: family.rawValue)).flatMap { $0 }.flatMap { Double($0) }
        }
        var memtables = 0.0, readers = 0.0
        for family in ColumnFamily.allCases {
            memtables += property("rocksdb.cur-size-all-mem-tables", family) ?? 0
            readers += property("rocksdb.estimate-table-readers-mem", family) ?? 0
        }
        samples += [.gauge("cairn_rocksdb_memtable_bytes", memtables),
                    .gauge("cairn_rocksdb_block_cache_bytes", property("rocksdb.block-cache-usage", .meta) ?? 0),
                    .gauge("cairn_rocksdb_table_readers_bytes", readers),
                    .gauge("cairn_dag_certificates", Double(status.dagSize)),
                    .gauge("cairn_buffered_messages", Double(status.bufferedMessages)),
                    .gauge("cairn_verified_records_cached", Double(validator.verifiedRecords.count))]
        if let heap = ProcessMemory.stats() {
            samples += [.gauge("cairn_heap_allocated_bytes", Double(heap.allocated)), .gauge("cairn_heap_resident_bytes", Double(heap.resident))]
        }
        for family in ColumnFamily.allCases {
            if let bytes = property("rocksdb.total-sst-files-size", family) { samples.append(.gauge("cairn_rocksdb_sst_bytes", bytes, [("family", family.rawValue)])) }
            if let keys = property("rocksdb.estimate-num-keys", family) { samples.append(.gauge("cairn_rocksdb_estimated_keys", keys, [("family", family.rawValue)])) }
        }
        return samples
    }

    public static func router(for validator: Validator, connections: APIConnections? = nil) -> Router<APIRequestContext> {
        let router = Router(context: APIRequestContext.self)
        let limits = validator.config.limits
        router.add(middleware: RateLimitMiddleware(limiter: RateLimiter(requestsPerSecond: Double(limits.apiRequestsPerSecond),
                                                                        burst: Double(limits.apiBurst))))
        let blobs = BlobStore(database: validator.database)
        let rejections = RejectionCounter()
        let proofs = StateProofService(store: validator.node.database)
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
            let bytes = validator.telemetry.render(Self.metricSamples(validator: validator, status: status, connections: connections,
                                                                      rejections: rejections.snapshot))
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                            body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
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

        // One state entry's value (or absence) at a window's close, with its Merkle path to the
        // state root that window's checkpoint certificate signs (D58): a light client checks the
        // certificate against genesis, then the path against the certificate, and trusts no node.
        router.get("/v1/checkpoints/{window}/proof/{key}") { _, context -> Response in
            guard let text = context.parameters.get("window"), let window = UInt64(text) else {
                return NodeAPI.error(.badRequest, "bad_request", "window must be a non-negative integer")
            }
            guard let keyText = context.parameters.get("key"), keyText.utf8.count <= 2 * StateKey.maxLength,
                  let key = Hex.decode(keyText), !key.isEmpty else {
                return NodeAPI.error(.badRequest, "bad_request", "key must be a state key as hex, 1 to \(StateKey.maxLength) bytes (e.g. 612f ‖ public key for an account)")
            }
            do {
                guard let (proof, root) = try proofs.prove(window: window, key: key) else {
                    return NodeAPI.error(.serviceUnavailable, "busy", "another proof is being computed; retry in a moment")
                }
                let certified = try validator.node.database.checkpoint(window) != nil
                return json(ProofReply(window: window, state_root: root.hex, certified: certified, key: StateKey.describe(key), proof: proof))
            } catch let unavailable as ConsensusStore.ProofUnavailable {
                switch unavailable {
                case .notClosed: return NodeAPI.error(.notFound, "not_closed", unavailable.description)
                case .notKept: return NodeAPI.error(.gone, "not_kept", unavailable.description)
                case .damaged: return NodeAPI.error(.internalServerError, "damaged", unavailable.description)
                }
            }
        }

        addTrainingRoutes(to: router, validator: validator)

        // Content-addressed blobs, uploaded by registered trainers only (D59): the signed headers
        // are checked before the body is read, the body is read up to the genesis maximum or what
        // is left of the trainer's quota, and only a valid, nonzero pseudo-gradient whose id is
        // SHA-256(0x03 ‖ bytes) is stored.
        let uploads = validator.uploads
        router.put("/v1/blobs/{id}") { request, context -> Response in
            guard let text = context.parameters.get("id"), let id = try? Digest(hex: text) else {
                return NodeAPI.error(.badRequest, "bad_request", "blob id must be 64 hex characters (SHA-256 over 0x03 ‖ bytes)")
            }
            func header(_ name: String) -> String? { HTTPField.Name(name).flatMap { request.headers[$0] } }
            do {
                let trainer = try uploads.authorize(trainer: header(BlobUpload.trainerHeader), time: header(BlobUpload.timeHeader),
                                                    signature: header(BlobUpload.signatureHeader), blob: id, nowMs: ConsensusNode.unixTimeMs())
                let window = await node.status.progress.window
                let limit = try uploads.readLimit(trainer: trainer, window: window, declaredLength: request.headers[.contentLength].flatMap { Int($0) })
                let body: ByteBuffer
                do {
                    body = try await request.body.collect(upTo: limit)
                } catch {
                    return NodeAPI.error(.contentTooLarge, limit < uploads.maxBlobBytes ? "quota_exceeded" : "too_large",
                                         limit < uploads.maxBlobBytes
                                             ? "the body exceeds the \(limit) bytes left of this trainer's upload quota for window \(window)"
                                             : "the body exceeds \(uploads.maxBlobBytes) bytes, the largest pseudo-gradient of the genesis task")
                }
                let created = try uploads.store(Array(buffer: body), id: id, trainer: trainer, window: window)
                return json(BlobReceipt(id: id.hex, size: body.readableBytes), status: created ? .created : .ok)
            } catch let refusal as BlobUploads.Refusal {
                switch refusal {
                case .unauthorized: return NodeAPI.error(.unauthorized, "unauthorized", refusal.description)
                case .notRegistered: return NodeAPI.error(.forbidden, "not_registered", refusal.description)
                case .tooLarge: return NodeAPI.error(.contentTooLarge, "too_large", refusal.description)
                case .quota: return NodeAPI.error(.contentTooLarge, "quota_exceeded", refusal.description)
                case .invalid: return NodeAPI.error(.badRequest, "invalid_blob", refusal.description)
                case .insufficientStorage: return NodeAPI.error(HTTPResponse.Status(code: 507, reasonPhrase: "Insufficient Storage"), "insufficient_storage", refusal.description)
                }
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
    struct ProofReply: Encodable {
        var window: UInt64
        var state_root: String
        /// Whether this node holds a checkpoint certificate for the window yet.
        var certified: Bool
        /// The key in words (e.g. "account 3f2a…").
        var key: String
        var proof: StateProof
    }

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
