import CairnAPI
import CairnChain
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

    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = (try? encoder.encode(value)) ?? Data("{}".utf8)
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// Every error reply, by its `error` code (`cairn_api_errors_total{error}`): one place counts
    /// all refusals, whichever route or middleware made them.
    static let errors = RejectionCounter()

    static func error(_ status: HTTPResponse.Status, _ code: APIErrorCode, _ detail: String) -> Response {
        errors.add(code.rawValue)
        return json(APIError(code: code, detail: detail), status: status)
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
        let intake = validator.node.intake.snapshot
        samples += [.gauge("cairn_intake_in_flight", Double(intake.inFlight)), .gauge("cairn_intake_limit", Double(intake.limit)),
                    .gauge("cairn_intake_commit_rate", intake.ratePerSecond)]
        let checks = validator.recordSignatures.counts.snapshot
        for site in SignatureChecks.Site.allCases {
            samples.append(.counter("cairn_signature_checks_total", checks.checks(site), [("site", site.label)]))
            samples.append(.counter("cairn_signature_cache_hits_total", checks.cacheHits(site), [("site", site.label)]))
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
                    .gauge("cairn_verified_records_cached", Double(validator.recordSignatures.verified.count))]
        if let heap = ProcessMemory.stats() {
            samples += [.gauge("cairn_heap_allocated_bytes", Double(heap.allocated)), .gauge("cairn_heap_resident_bytes", Double(heap.resident))]
        }
        for family in ColumnFamily.allCases {
            if let bytes = property("rocksdb.total-sst-files-size", family) { samples.append(.gauge("cairn_rocksdb_sst_bytes", bytes, [("family", family.rawValue)])) }
            if let keys = property("rocksdb.estimate-num-keys", family) { samples.append(.gauge("cairn_rocksdb_estimated_keys", keys, [("family", family.rawValue)])) }
        }
        return samples
    }

    /// Every route of the client API (ARCHITECTURE §9), behind the per-client rate limit: the node's
    /// own state, records, ledger state with proofs, blobs, and the training routes.
    public static func router(for validator: Validator, connections: APIConnections? = nil) -> Router<APIRequestContext> {
        let router = Router(context: APIRequestContext.self)
        let limits = validator.config.limits
        router.add(middleware: RateLimitMiddleware(limiter: RateLimiter(requestsPerSecond: Double(limits.apiRequestsPerSecond),
                                                                        burst: Double(limits.apiBurst))))
        let rejections = RejectionCounter()
        addNodeRoutes(to: router, validator: validator, connections: connections, rejections: rejections)
        addRecordRoutes(to: router, validator: validator, rejections: rejections)
        addStateRoutes(to: router, validator: validator)
        addBlobRoutes(to: router, validator: validator)
        addTrainingRoutes(to: router, validator: validator)
        return router
    }

    /// Records refused at submission, by reason.
    final class RejectionCounter: Sendable {
        private let counts = NIOLockedValueBox<[String: Int]>([:])
        func add(_ reason: String) { counts.withLockedValue { $0[reason, default: 0] += 1 } }
        var snapshot: [String: Int] { counts.withLockedValue { $0 } }
    }

}
