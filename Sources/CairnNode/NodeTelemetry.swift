import Metrics
import NIOConcurrencyHelpers
import Prometheus

/// A node's metrics (ARCHITECTURE §11, D52), exposed by `GET /metrics` in Prometheus text format
/// through swift-metrics and swift-prometheus. Each node has its own registry and factory (tests
/// run several nodes in one process, and swift-metrics' global bootstrap is once per process).
///
/// Two kinds of series:
/// - **Events** (evaluations, their duration, LSH disagreements, unrevealed commitments, model
///   updates, commit latency) are swift-metrics handles, recorded where they happen.
/// - **Counts and levels the node keeps anyway** (the consensus actor's counters, which `/status`
///   also reports; RocksDB and heap sizes) are read at scrape time: a counter grows by what its
///   source grew since the last scrape, a gauge is set. Neither is ever reset.
///
/// The registry traps on a name used with two metric types, two help texts or two bucket lists;
/// every name therefore has one fixed kind here (`Sample`), and help text comes from one table.
public final class NodeTelemetry: Sendable {
    let registry = PrometheusCollectorRegistry()
    let factory: PrometheusMetricsFactory

    public let commitLatency: Metrics.Timer
    public let evaluationSeconds: Metrics.Timer
    public let evaluations: [EvaluationStep: Metrics.Counter]
    /// Revealed evaluations left outside a quorum that formed (their SimHash disagreed).
    public let lshDisagreements: Metrics.Counter
    /// Evaluation commitments never (or wrongly) revealed, as finalization counted them.
    public let unrevealedCommitments: Metrics.Counter
    /// Window closes whose outer step produced a model different from the previous window's.
    public let modelUpdates: Metrics.Counter

    public enum EvaluationStep: String, Sendable, CaseIterable {
        case evaluated, committed, revealed, failed
        /// Evaluations that carried flags (blob unavailable or invalid, non-finite losses).
        case flagged
    }

    /// Bucket bounds, seconds (the same as the hand-written exposition had).
    static let commitLatencyBuckets: [Double] = [0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 2, 5, 10]
    static let evaluationBuckets: [Double] = [0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30]

    public init() {
        var factory = PrometheusMetricsFactory(registry: registry)
        func durations(_ seconds: [Double]) -> [Duration] { seconds.map { .nanoseconds(Int64($0 * 1e9)) } }
        factory.durationHistogramBuckets = [
            "cairn_commit_latency_seconds": durations(Self.commitLatencyBuckets),
            "cairn_evaluation_seconds": durations(Self.evaluationBuckets),
        ]
        self.factory = factory
        commitLatency = Metrics.Timer(label: "cairn_commit_latency_seconds", factory: factory)
        evaluationSeconds = Metrics.Timer(label: "cairn_evaluation_seconds", factory: factory)
        var steps: [EvaluationStep: Metrics.Counter] = [:]
        for step in EvaluationStep.allCases {
            steps[step] = Metrics.Counter(label: "cairn_evaluations_total", dimensions: [("step", step.rawValue)], factory: factory)
        }
        evaluations = steps
        lshDisagreements = Metrics.Counter(label: "cairn_lsh_disagreements_total", factory: factory)
        unrevealedCommitments = Metrics.Counter(label: "cairn_evaluations_unrevealed_total", factory: factory)
        modelUpdates = Metrics.Counter(label: "cairn_model_updates_total", factory: factory)
    }

    public func count(_ step: EvaluationStep) { evaluations[step]?.increment() }

    /// One validator's flags for a finalized window.
    public func countFlags(outsideQuorum: UInt32, unrevealed: UInt32) {
        if outsideQuorum > 0 { lshDisagreements.increment(by: Int64(outsideQuorum)) }
        if unrevealed > 0 { unrevealedCommitments.increment(by: Int64(unrevealed)) }
    }

    public func countModelUpdate() { modelUpdates.increment() }

    /// Records a duration in seconds (negative or non-finite ones are dropped, huge ones clamped).
    public static func record(_ timer: Metrics.Timer, seconds: Double) {
        guard seconds.isFinite, seconds >= 0 else { return }
        timer.recordNanoseconds(seconds >= 9e9 ? Int64.max : Int64(seconds * 1e9))
    }

    /// One value read at scrape time.
    public struct Sample: Sendable {
        enum Kind: Sendable { case counter(UInt64), gauge(Double) }
        let name: String
        let labels: [(String, String)]
        let kind: Kind

        public static func counter(_ name: String, _ value: UInt64, _ labels: [(String, String)] = []) -> Sample {
            Sample(name: name, labels: labels, kind: .counter(value))
        }

        public static func gauge(_ name: String, _ value: Double, _ labels: [(String, String)] = []) -> Sample {
            Sample(name: name, labels: labels, kind: .gauge(value))
        }

        var key: String { name + "{" + labels.map { "\($0.0)=\($0.1)" }.joined(separator: ",") + "}" }
    }

    struct Mirrors {
        var counters: [String: (counter: Prometheus.Counter, exported: UInt64)] = [:]
        var gauges: [String: Prometheus.Gauge] = [:]
    }

    /// Scrapes are serialized: each mirrored counter grows by exactly its source's growth.
    let mirrors = NIOLockedValueBox(Mirrors())

    /// Applies `samples` and renders the whole registry in Prometheus text format.
    public func render(_ samples: [Sample]) -> [UInt8] {
        mirrors.withLockedValue { mirrors in
            for sample in samples {
                let key = sample.key
                switch sample.kind {
                case let .counter(value):
                    if mirrors.counters[key] == nil {
                        let counter = registry.makeCounter(descriptor: Self.descriptor(sample.name), labels: sample.labels)
                        mirrors.counters[key] = (counter, 0)
                    }
                    guard let (counter, exported) = mirrors.counters[key], value > exported else { continue }
                    // A source never shrinks; if one did (it cannot today), the counter stays put.
                    counter.increment(by: Int64(clamping: value - exported))
                    mirrors.counters[key] = (counter, value)
                case let .gauge(value):
                    if mirrors.gauges[key] == nil {
                        mirrors.gauges[key] = registry.makeGauge(descriptor: Self.descriptor(sample.name), labels: sample.labels)
                    }
                    mirrors.gauges[key]?.set(to: value.isFinite ? value : 0)
                }
            }
            var bytes: [UInt8] = []
            registry.emit(into: &bytes)
            return bytes
        }
    }

    static func descriptor(_ name: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: help[name] ?? "")
    }

    /// HELP text per mirrored name (one per name: the registry refuses a second, different one).
    static let help: [String: String] = [
        "cairn_round": "Highest round this validator proposed in",
        "cairn_window": "Open window (consensus time, D46)",
        "cairn_committed_leaders_total": "Wave leaders committed",
        "cairn_delivered_vertices_total": "Vertices delivered in the committed sequence",
        "cairn_consensus_refused_total": "Consensus messages refused, by reason",
        "cairn_blobs_fetched_total": "Contribution blobs fetched from peers (D50)",
        "cairn_blob_waits_expired_total": "Proposals dropped unvoted because their blobs never arrived (D50)",
        "cairn_intake_in_flight": "Records this validator accepted (or signed) and has not yet seen committed (D62)",
        "cairn_intake_limit": "Bound on cairn_intake_in_flight: own commit rate × intake_delay_ms, at least intake_min_records (D62)",
        "cairn_intake_commit_rate": "This validator's own records committed per second, averaged over about a second (D62)",
        "cairn_signature_checks_total": "Ed25519 checks by site: records at intake, in proposals, at execution; consensus messages",
        "cairn_signature_cache_hits_total": "Record signature checks skipped because this node had checked the record before",
        "cairn_state_root_mismatch": "1 when a certified checkpoint differs from this validator's state",
    ]
}
