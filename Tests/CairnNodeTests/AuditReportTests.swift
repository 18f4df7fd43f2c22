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
}
