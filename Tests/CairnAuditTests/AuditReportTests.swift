import CairnAudit
import Foundation
import Testing

@Suite("Audit: the HTML report")
struct AuditReportTests {
    static func sample() -> AuditReport.Data {
        var data = AuditReport.Data()
        data.heldOut = [(0, 5.57), (1, 5.57), (2, 5.37), (3, 4.81)]
        data.ratings = [("honest-0", [(0, 27.1, 8.2), (1, 29.0, 8.1)]), ("lazy", [(0, 22.0, 8.2), (1, 20.5, 8.1)])]
        data.payouts = [(0, 0, 10_000_000, 90_000_000), (1, 89_999_998, 10_000_000, 2)]
        data.flags = [(0, 0, 0, 0), (1, 1, 0, 1)]
        data.latency = [(0, 512.5, 1900), (1, 480, 1700)]
        return data
    }

    @Test("every chart carries its data points and axis labels with units; nothing is loaded from elsewhere; text is escaped")
    func charts() throws {
        let html = AuditReport.html(Self.sample(), chain: "cairn-<test>", generated: "2026-12-02T20:00:00Z")
        let charts = html.components(separatedBy: "<svg class=\"chart\"").dropFirst()
        #expect(charts.count == 5)
        for chart in charts {
            let points = try #require(chart.firstRange(of: "data-points=\"").map { chart[$0.upperBound...].prefix { $0.isNumber } })
            #expect((Int(points) ?? 0) > 0, "an empty chart: \(chart.prefix(80))")
        }
        // Held-out: 4 points; ratings: 4; payouts: 2 windows × 3 parts; flags: 2 × 3 (zeros drawn); latency: 2 × 2.
        for (id, count) in [("heldout", 4), ("ratings", 4), ("payouts", 6), ("flags", 6), ("latency", 4)] {
            #expect(html.contains("id=\"\(id)\" data-points=\"\(count)\""), "\(id)")
        }
        for label in ["loss (nats per byte)", "rating (μ, band μ ± σ)", "base units", "milliseconds", "window"] { #expect(html.contains(label)) }
        #expect(!html.contains("src=\"http") && !html.contains("href=\"http") && !html.contains("<link"))
        #expect(html.contains("cairn-&lt;test&gt;") && !html.contains("cairn-<test>"))
        #expect(html.contains("<polygon"))  // the ±σ band
    }

    @Test("with nothing to draw a chart says so and carries 0 points (tools/report-check fails on it)")
    func emptyData() {
        let html = AuditReport.html(AuditReport.Data(), chain: "c", generated: "now")
        #expect(html.components(separatedBy: "data-points=\"0\"").count - 1 == 5)
        #expect(html.contains("no data"))
    }

    @Test("axes tick on round numbers (1, 2 or 5 × 10^k) covering the data, never on values like 6912.572")
    func roundTicks() {
        for (low, high) in [(4753.145, 6912.572), (0.0, 90_000_000), (1.87, 5.57), (-3.2, 41.9), (0.0, 1.0), (27.1, 27.1000001)] {
            let ticks = AuditReport.ticks(low, high)
            #expect(ticks.first! <= low && ticks.last! >= high, "\(ticks) does not cover \(low)…\(high)")
            #expect(ticks.count >= 2 && ticks.count <= 12)
            let step = ticks[1] - ticks[0]
            let mantissa = step / pow(10, log10(step).rounded(.down))
            #expect([1.0, 2, 5, 10].contains { abs(mantissa - $0) < 1e-9 }, "step \(step)")
            for tick in ticks { #expect(abs((tick / step).rounded() - tick / step) < 1e-6, "\(tick) is not a multiple of \(step)") }
        }
        let html = AuditReport.html(Self.sample(), chain: "c", generated: "now")
        #expect(!html.contains(">4.808<") && html.contains("class=\"tick\""))
    }

    @Test("a recomputed loss that equals the node's stays visible under it; the ratings table names every trainer, best ordinal first")
    func overlayAndTable() throws {
        var data = Self.sample()
        data.heldOutRecomputed = data.heldOut
        let html = AuditReport.html(data, chain: "c", generated: "now")
        let heldout = try #require(html.components(separatedBy: "id=\"heldout\"").dropFirst().first?.components(separatedBy: "</svg>").first)
        #expect(heldout.contains("stroke-width=\"5\"") && heldout.contains("stroke-dasharray"))
        let table = try #require(html.components(separatedBy: "<table class=\"ratings\">").dropFirst().first)
        let honest = try #require(table.range(of: "honest-0")), lazy = try #require(table.range(of: "lazy"))
        #expect(honest.lowerBound < lazy.lowerBound)  // ordinal 29.0 − 24.3 above 20.5 − 24.3
    }
}
