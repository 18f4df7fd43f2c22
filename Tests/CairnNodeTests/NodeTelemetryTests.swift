import CairnNode
import Testing

@Suite("Node metrics through swift-metrics and swift-prometheus (D52)")
struct NodeTelemetryTests {
    static func lines(_ bytes: [UInt8]) -> [String] { String(decoding: bytes, as: UTF8.self).split(separator: "\n").map(String.init) }

    static func value(_ lines: [String], _ series: String) -> Double? {
        lines.first { $0.hasPrefix(series + " ") }.flatMap { Double($0.split(separator: " ").last ?? "") }
    }

    @Test("mirrored counters grow by their source's growth and never go back; gauges are set; labels make series; each name has one TYPE")
    func mirrors() {
        let telemetry = NodeTelemetry()
        var out = Self.lines(telemetry.render([.counter("cairn_votes_cast_total", 5), .gauge("cairn_round", 7),
                                               .counter("cairn_consensus_refused_total", 2, [("reason", "equivocation")])]))
        #expect(Self.value(out, "cairn_votes_cast_total") == 5 && Self.value(out, "cairn_round") == 7)
        #expect(Self.value(out, "cairn_consensus_refused_total{reason=\"equivocation\"}") == 2)
        out = Self.lines(telemetry.render([.counter("cairn_votes_cast_total", 9), .gauge("cairn_round", 3),
                                           .counter("cairn_consensus_refused_total", 1, [("reason", "below_gc")])]))
        #expect(Self.value(out, "cairn_votes_cast_total") == 9 && Self.value(out, "cairn_round") == 3)
        #expect(Self.value(out, "cairn_consensus_refused_total{reason=\"below_gc\"}") == 1)
        #expect(Self.value(out, "cairn_consensus_refused_total{reason=\"equivocation\"}") == 2, "a series not sampled keeps its value")
        // A source that shrank (not possible today) leaves the counter where it was.
        out = Self.lines(telemetry.render([.counter("cairn_votes_cast_total", 4)]))
        #expect(Self.value(out, "cairn_votes_cast_total") == 9)
        #expect(out.filter { $0 == "# TYPE cairn_consensus_refused_total counter" }.count == 1)
        #expect(out.contains("# TYPE cairn_round gauge"))
        // Non-finite gauges are exported as 0, never as NaN.
        out = Self.lines(telemetry.render([.gauge("cairn_round", .nan)]))
        #expect(Self.value(out, "cairn_round") == 0)
    }

    @Test("event metrics: every evaluation step starts at 0, durations land in the right buckets, bad durations are dropped")
    func events() {
        let telemetry = NodeTelemetry()
        var out = Self.lines(telemetry.render([]))
        for step in NodeTelemetry.EvaluationStep.allCases {
            #expect(Self.value(out, "cairn_evaluations_total{step=\"\(step.rawValue)\"}") == 0, "\(step) missing")
        }
        telemetry.count(.evaluated)
        telemetry.count(.flagged)
        NodeTelemetry.record(telemetry.evaluationSeconds, seconds: 0.3)
        NodeTelemetry.record(telemetry.evaluationSeconds, seconds: -1)
        NodeTelemetry.record(telemetry.evaluationSeconds, seconds: .infinity)
        NodeTelemetry.record(telemetry.commitLatency, seconds: 1e30)   // clamped, not a trap
        telemetry.countFlags(outsideQuorum: 2, unrevealed: 1)
        telemetry.countModelUpdate()
        out = Self.lines(telemetry.render([]))
        #expect(Self.value(out, "cairn_evaluations_total{step=\"evaluated\"}") == 1)
        #expect(Self.value(out, "cairn_evaluations_total{step=\"flagged\"}") == 1)
        #expect(Self.value(out, "cairn_evaluation_seconds_count") == 1)
        #expect(Self.value(out, "cairn_evaluation_seconds_bucket{le=\"0.2\"}") == 0)
        #expect(Self.value(out, "cairn_evaluation_seconds_bucket{le=\"0.5\"}") == 1)
        #expect(Self.value(out, "cairn_commit_latency_seconds_bucket{le=\"+Inf\"}") == 1)
        #expect(Self.value(out, "cairn_lsh_disagreements_total") == 2 && Self.value(out, "cairn_evaluations_unrevealed_total") == 1)
        #expect(Self.value(out, "cairn_model_updates_total") == 1)
    }

    @Test("two nodes in one process keep separate registries")
    func separate() {
        let a = NodeTelemetry(), b = NodeTelemetry()
        a.count(.revealed)
        #expect(Self.value(Self.lines(a.render([])), "cairn_evaluations_total{step=\"revealed\"}") == 1)
        #expect(Self.value(Self.lines(b.render([])), "cairn_evaluations_total{step=\"revealed\"}") == 0)
    }
}
