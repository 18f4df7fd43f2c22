import CairnCore
import CairnLedger
import CairnChain
import CairnStorage
import CairnTraining
import Foundation

/// `cairn audit report`: one HTML file that opens with no network access — inline SVG charts, no
/// script from anywhere else — showing the held-out loss per window, each trainer's rating with its
/// uncertainty band, payouts per window, evaluation disagreements and flagged validators, and
/// commit latency. Every chart carries `data-points` (how many points or bars it drew) so a
/// headless browser can check that none is empty (`tools/report-check`).
public struct AuditReport {
    let store: ConsensusStore
    let genesis: Genesis

    public init(database: Database, genesis: Genesis) {
        store = ConsensusStore(database: database)
        self.genesis = genesis
    }

    /// The collected data, separate from the drawing so that tests can check both.
    public struct Data: Sendable {
        /// The node's own measurement per window (meta, never in state).
        public var heldOut: [(window: UInt64, loss: Double)] = []
        /// The same loss recomputed by the auditor from each window's model (`recomputeHeldOut`).
        public var heldOutRecomputed: [(window: UInt64, loss: Double)] = []
        /// Per trainer name: (window, mu, sigma) after each rated window.
        public var ratings: [(name: String, points: [(window: UInt64, mu: Double, sigma: Double)])] = []
        /// Per window: trainers' and validators' parts paid and burned (base units).
        public var payouts: [(window: UInt64, trainers: UInt64, validators: UInt64, burned: UInt64)] = []
        /// Per window: reveals outside their quorum (LSH disagreements), unrevealed commitments,
        /// deviant validators.
        public var flags: [(window: UInt64, outsideQuorum: UInt64, unrevealed: UInt64, deviant: UInt64)] = []
        /// Per window: mean and largest commit latency in consensus time (vertex timestamp → the
        /// (2f+1)-th timestamp of its leader's wave's last round), ms.
        public var latency: [(window: UInt64, meanMs: Double, maxMs: Double)] = []

        public init() {}
    }

    public func collect() throws -> Data {
        var data = Data()
        var closes: [ClosedWindow] = []
        var window: UInt64 = 0
        while let closed = try store.closedWindow(window) {
            closes.append(closed)
            if let bits = try store.database.get(ColumnFamily.meta.rawValue, ContributionEvaluation.heldOutKey(window)),
               let value = try? UInt64(canonicalBytes: bits) {
                data.heldOut.append((window, Double(bitPattern: value)))
            }
            if let rewards = try store.ledgerValue(StateKey.windowRewards(window)).map({ try WindowRewards(canonicalBytes: $0) }) {
                data.payouts.append((window, rewards.trainersPaid, rewards.validatorsPaid, rewards.burned))
            }
            var f = (window: window, outsideQuorum: UInt64(0), unrevealed: UInt64(0), deviant: UInt64(0))
            for entry in try store.stateEntries(prefix: Array("vf/".utf8) + window.canonicalBytes) {
                let flags = try ValidatorFlags(canonicalBytes: entry.value)
                f.outsideQuorum += UInt64(flags.outsideQuorum)
                f.unrevealed += UInt64(flags.unrevealed)
                f.deviant += UInt64(flags.deviant)
            }
            data.flags.append(f)
            guard window < .max else { break }
            window += 1
        }
        // Ratings: every trainer's result per window, by registered name.
        var series: [String: [(window: UInt64, mu: Double, sigma: Double)]] = [:]
        let prefix = Array("tw/".utf8)
        for entry in try store.stateEntries(prefix: prefix) {
            let rest = Array(entry.key.dropFirst(prefix.count))
            // Only windows that closed here (the key is the database's word, not the replay's).
            guard rest.count == 8 + PublicKey.byteCount, let window = try? UInt64(canonicalBytes: Array(rest.prefix(8))),
                  window < UInt64(closes.count) else { continue }
            let trainer = Array(rest.dropFirst(8))
            let name = (try store.ledgerValue(StateKey.trainerPrefix + trainer)).flatMap { try? Trainer(canonicalBytes: $0) }?.name ?? String(Hex.encode(trainer).prefix(8))
            let result = try TrainerWindowResult(canonicalBytes: entry.value)
            series[name, default: []].append((window, TrainerRating.double(result.muAfterNano), TrainerRating.double(result.sigmaAfterNano)))
        }
        data.ratings = series.keys.sorted().map { ($0, series[$0]!.sorted { $0.window < $1.window }) }
        // Commit latency per window, in consensus time (vertex timestamps, D46): from a vertex's
        // timestamp to the moment its leader could be committed — the (2f+1)-th timestamp among the
        // certified vertices of the leader's wave's last round (leader round + 3), the earliest
        // at which 2f+1 of them can vouch for it. A leader committed recursively, by a later
        // wave, was committed later than that: for its vertices this is a lower bound.
        let quorum = 2 * genesis.faultTolerance + 1
        var commitTime: [UInt64: UInt64?] = [:]
        func committed(leaderRound: UInt64) throws -> UInt64? {
            if let known = commitTime[leaderRound] { return known }
            let (last, overflow) = leaderRound.addingReportingOverflow(3)
            var stamps = overflow ? [] : try store.certificates(rounds: last, to: last, limit: 10_000).map(\.vertex.timestampMs).sorted()
            if stamps.count < quorum { stamps = [] }
            let time = stamps.isEmpty ? nil : stamps[quorum - 1]
            commitTime[leaderRound] = time
            return time
        }
        var start: UInt64 = 0
        for closed in closes {
            var total = 0.0, largest = 0.0, count = 0.0
            var position = start
            while position < closed.delivered {
                guard let (entry, certificate) = try store.delivered(at: position) else { break }
                position += 1
                guard let time = try committed(leaderRound: entry.leaderRound), time >= certificate.vertex.timestampMs else { continue }
                let ms = Double(time - certificate.vertex.timestampMs)
                total += ms
                largest = max(largest, ms)
                count += 1
            }
            if count > 0 { data.latency.append((closed.window, total / count, largest)) }
            start = closed.delivered
        }
        return data
    }

    /// The held-out loss of every closed window's starting model, computed here from the model
    /// blob the state names (its hash checked) on genesis' held-out contexts, so the chart does
    /// not rest on the node's word. `report(done, total)` after each window.
    public func recomputeHeldOut(task: ReferenceTask, into data: inout Data, progress report: (Int, Int) -> Void = { _, _ in }) throws {
        let spec = genesis.task
        let updater = try ModelUpdater(blobs: BlobStore(database: store.database), task: spec, storesModels: false)
        var windows: [UInt64] = []
        var window: UInt64 = 0
        while try store.closedWindow(window) != nil {
            windows.append(window)
            guard window < .max else { break }
            window += 1
        }
        let count = Int(spec.evaluation.heldOutContexts)
        let workspace = ByteMLP.Workspace(layout: task.layout, capacity: ReferenceTask.batchCapacity)
        var previous: (hash: Digest, loss: Double)?
        for (n, window) in windows.enumerated() {
            defer { report(n + 1, windows.count) }
            guard let record = try store.model(window: window) else { continue }
            // Windows 0 and 1 share θ_0 (D48): the same model is measured once.
            if let previous, previous.hash == record.hash {
                data.heldOutRecomputed.append((window, previous.loss))
                continue
            }
            let loss = task.heldOutLoss(try updater.parameters(of: record), count: count, workspace: workspace)
            data.heldOutRecomputed.append((window, loss))
            previous = (record.hash, loss)
        }
    }

    // MARK: Drawing

    public static func html(_ data: Data, chain: String, generated: String) -> String {
        let palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf", "#393b79", "#637939", "#843c39"]
        var charts: [String] = []
        // The auditor's recomputation when it ran, the node's own measurement beside it.
        var heldOut: [(name: String, color: String, points: [Point])] = []
        if !data.heldOutRecomputed.isEmpty {
            heldOut.append(("recomputed by this audit", palette[0], data.heldOutRecomputed.map { (Double($0.window), $0.loss, nil) }))
        }
        heldOut.append(("measured by the node", palette[3], data.heldOut.map { (Double($0.window), $0.loss, nil) }))
        charts.append(lineChart(id: "heldout", title: data.heldOutRecomputed.isEmpty ? "Held-out loss per window (as measured by the node)"
                                    : "Held-out loss per window of the model it trained from (recomputed here; the node's measurement beside it)",
                                yLabel: "loss (nats per byte)", series: heldOut, overlay: true))
        charts.append(lineChart(id: "ratings", title: "Trainer ratings: OpenSkill μ with a ±σ band, after each window", yLabel: "rating (μ, band μ ± σ)",
                                series: data.ratings.enumerated().map { i, s in
                                    (s.name, palette[i % palette.count], s.points.map { (Double($0.window), $0.mu, $0.sigma) })
                                }) + ratingsTable(data.ratings, palette: palette))
        charts.append(barChart(id: "payouts", title: "Emission per window: trainers, validators, burned", yLabel: "base units",
                               categories: data.payouts.map { "\($0.window)" },
                               stacks: [("trainers", palette[2], data.payouts.map { Double($0.trainers) }),
                                        ("validators", palette[0], data.payouts.map { Double($0.validators) }),
                                        ("burned", palette[7], data.payouts.map { Double($0.burned) })]))
        charts.append(barChart(id: "flags", title: "Evaluation disagreements and flagged validators per window", yLabel: "count",
                               categories: data.flags.map { "\($0.window)" },
                               stacks: [("reveals outside the LSH quorum", palette[1], data.flags.map { Double($0.outsideQuorum) }),
                                        ("commitments never revealed", palette[3], data.flags.map { Double($0.unrevealed) }),
                                        ("deviant losses", palette[4], data.flags.map { Double($0.deviant) })],
                               allowEmpty: true))
        charts.append(lineChart(id: "latency", title: "Commit latency per window: vertex timestamp → 2f+1 timestamps in its leader's wave's last round", yLabel: "milliseconds",
                                series: [("mean", palette[0], data.latency.map { (Double($0.window), $0.meanMs, nil) }),
                                         ("largest", palette[1], data.latency.map { (Double($0.window), $0.maxMs, nil) })]))
        return """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>Cairn audit report — \(escape(chain))</title>
            <style>
            body { font-family: sans-serif; margin: 2em; color: #222; max-width: 60em; }
            h1 { font-size: 1.4em; } h2 { font-size: 1.1em; margin-top: 2em; }
            .legend span { display: inline-block; margin-right: 1.2em; font-size: 0.85em; }
            .legend i { display: inline-block; width: 0.9em; height: 0.9em; margin-right: 0.3em; vertical-align: middle; }
            svg text { font-size: 11px; fill: #333; }
            table.ratings { border-collapse: collapse; font-size: 0.85em; margin-top: 0.6em; }
            table.ratings td, table.ratings th { padding: 0.15em 0.7em; text-align: right; }
            table.ratings td:first-child, table.ratings th:first-child { text-align: left; }
            </style></head><body>
            <h1>Cairn audit report — chain \(escape(chain))</h1>
            <p>Generated \(escape(generated)) by <code>cairn audit report</code> from the node's stored history (windows: \(data.payouts.count)).
            Ratings, payouts, flags and latency come from the node's stored state and sequence (<code>cairn audit verify</code> checks they are what a replay from genesis gives); \(data.heldOutRecomputed.isEmpty
                ? "the held-out loss is the node's own measurement (not recomputed: <code>--node-loss-only</code>)."
                : "the held-out loss is recomputed here from each window's model, the node's own measurement beside it.")</p>
            \(charts.joined(separator: "\n"))
            <script>
            // Counts what each chart drew; a headless browser reads the result from the DOM.
            document.querySelectorAll("svg.chart").forEach(function (svg) {
              svg.setAttribute("data-rendered", String(svg.querySelectorAll("[data-point]").length));
            });
            document.body.setAttribute("data-report-ready", "yes");
            </script>
            </body></html>
            """
    }

    typealias Point = (x: Double, y: Double, band: Double?)

    static let width = 720.0, height = 300.0, left = 70.0, right = 20.0, top = 20.0, bottom = 40.0

    /// `overlay`: the series are expected to coincide (a recomputation beside the original), so
    /// the first is drawn wide and pale and each later one narrower and dashed on top — both stay
    /// visible where they agree.
    static func lineChart(id: String, title: String, yLabel: String, series: [(name: String, color: String, points: [Point])],
                          overlay: Bool = false) -> String {
        let all = series.flatMap(\.points)
        let count = all.count
        guard count > 0 else { return empty(id: id, title: title) }
        let xs = all.map(\.x), lows = all.map { $0.y - ($0.band ?? 0) }, highs = all.map { $0.y + ($0.band ?? 0) }
        let (x0, x1) = (xs.min()!, max(xs.max()!, xs.min()! + 1))
        var (y0, y1) = (lows.min()!, highs.max()!)
        if y1 - y0 < 1e-9 { y0 -= 1; y1 += 1 }
        let yTicks = Self.ticks(y0, y1)
        (y0, y1) = (yTicks.first!, yTicks.last!)
        func px(_ x: Double) -> Double { left + (x - x0) / (x1 - x0) * (width - left - right) }
        func py(_ y: Double) -> Double { top + (y1 - y) / (y1 - y0) * (height - top - bottom) }
        var body = axes(x0: x0, x1: x1, yTicks: yTicks, yLabel: yLabel, xLabel: "window", px: px, py: py)
        for (index, s) in series.enumerated() where !s.points.isEmpty {
            let (strokeWidth, opacity, dash, radius) = overlay && index == 0 ? (5.0, 0.45, "", 4.5)
                : overlay ? (1.5, 1.0, " stroke-dasharray=\"5 3\"", 2.0) : (1.5, 1.0, "", 2.5)
            if s.points.contains(where: { $0.band != nil }) {
                let upper = s.points.map { "\(fmt(px($0.x))),\(fmt(py($0.y + ($0.band ?? 0))))" }
                let lower = s.points.reversed().map { "\(fmt(px($0.x))),\(fmt(py($0.y - ($0.band ?? 0))))" }
                body += "<polygon points=\"\((upper + lower).joined(separator: " "))\" fill=\"\(s.color)\" fill-opacity=\"0.08\" stroke=\"none\"/>"
            }
            body += "<polyline points=\"\(s.points.map { "\(fmt(px($0.x))),\(fmt(py($0.y)))" }.joined(separator: " "))\" fill=\"none\" stroke=\"\(s.color)\" stroke-width=\"\(fmt(strokeWidth))\" stroke-opacity=\"\(fmt(opacity))\"\(dash)/>"
            for p in s.points {
                body += "<circle data-point=\"1\" cx=\"\(fmt(px(p.x)))\" cy=\"\(fmt(py(p.y)))\" r=\"\(fmt(radius))\" fill=\"\(s.color)\" fill-opacity=\"\(fmt(opacity))\"><title>\(escape(s.name)): window \(fmt(p.x)), \(fmt(p.y))\(p.band.map { " ± \(fmt($0))" } ?? "")</title></circle>"
            }
        }
        return figure(id: id, title: title, points: count, svg: body, legend: series.map { ($0.name, $0.color) })
    }

    static func barChart(id: String, title: String, yLabel: String, categories: [String], stacks: [(name: String, color: String, values: [Double])],
                         allowEmpty: Bool = false) -> String {
        guard !categories.isEmpty else { return empty(id: id, title: title) }
        let totals = categories.indices.map { i in stacks.reduce(0) { $0 + $1.values[i] } }
        let largest = max(totals.max() ?? 0, allowEmpty ? 1 : 0)
        guard largest > 0 else { return empty(id: id, title: title) }
        let yTicks = Self.ticks(0, largest)
        let y1 = yTicks.last!
        let slot = (width - left - right) / Double(categories.count)
        func py(_ y: Double) -> Double { top + (y1 - y) / y1 * (height - top - bottom) }
        var body = axes(x0: 0, x1: Double(categories.count), yTicks: yTicks, yLabel: yLabel, xLabel: "window",
                        px: { left + $0 * slot }, py: py, categories: categories)
        var drawn = 0
        for i in categories.indices {
            var base = 0.0
            for s in stacks {
                let value = s.values[i]
                // Zero-height bars still count as drawn points: a window with no disagreements is data.
                let h = max(py(base) - py(base + value), value > 0 ? 1 : 0.5)
                body += "<rect data-point=\"1\" x=\"\(fmt(left + Double(i) * slot + slot * 0.15))\" y=\"\(fmt(py(base) - h))\" width=\"\(fmt(slot * 0.7))\" height=\"\(fmt(h))\" fill=\"\(s.color)\"><title>window \(categories[i]) \(escape(s.name)): \(fmt(value))</title></rect>"
                drawn += 1
                base += value
            }
        }
        return figure(id: id, title: title, points: drawn, svg: body, legend: stacks.map { ($0.name, $0.color) })
    }

    /// Axis values on round numbers: steps of 1, 2 or 5 × 10^k, at most about `count` of them,
    /// from a multiple of the step at or below `low` to one at or above `high`.
    public static func ticks(_ low: Double, _ high: Double, count: Int = 6) -> [Double] {
        guard low.isFinite, high.isFinite, high >= low else { return [0, 1] }
        // Labels show three decimals: a range narrower than five steps of 0.001 is widened
        // around its middle, so no two ticks read the same.
        var (low, high) = (low, high)
        if high - low < 0.005 { (low, high) = ((low + high) / 2 - 0.0025, (low + high) / 2 + 0.0025) }
        let rough = (high - low) / Double(max(1, count - 1))
        let magnitude = pow(10, (log10(rough)).rounded(.down))
        let step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= rough } ?? 10 * magnitude
        let first = (low / step).rounded(.down), last = (high / step).rounded(.up)
        // An integer count of steps, never a loop on a float that may not advance.
        let steps = min(50, max(1, Int(last - first)))
        return (0 ... steps).map { (first + Double($0)) * step }
    }

    static func axes(x0: Double, x1: Double, yTicks: [Double], yLabel: String, xLabel: String,
                     px: (Double) -> Double, py: (Double) -> Double, categories: [String]? = nil) -> String {
        var s = "<line x1=\"\(left)\" y1=\"\(height - bottom)\" x2=\"\(width - right)\" y2=\"\(height - bottom)\" stroke=\"#999\"/>"
        s += "<line x1=\"\(left)\" y1=\"\(top)\" x2=\"\(left)\" y2=\"\(height - bottom)\" stroke=\"#999\"/>"
        for y in yTicks {
            s += "<line x1=\"\(fmt(left - 3))\" y1=\"\(fmt(py(y)))\" x2=\"\(fmt(width - right))\" y2=\"\(fmt(py(y)))\" stroke=\"#eee\"/>"
            s += "<text class=\"tick\" x=\"\(fmt(left - 6))\" y=\"\(fmt(py(y) + 4))\" text-anchor=\"end\">\(fmt(y))</text>"
        }
        if let categories {
            let slot = (width - left - right) / Double(categories.count)
            for (i, c) in categories.enumerated() where categories.count <= 40 || i % (categories.count / 20) == 0 {
                s += "<text x=\"\(fmt(left + (Double(i) + 0.5) * slot))\" y=\"\(fmt(height - bottom + 15))\" text-anchor=\"middle\">\(escape(c))</text>"
            }
        } else {
            // Whole windows on round steps (1, 2, 5, 10, …) inside the drawn range.
            for x in Self.ticks(x0, x1, count: 11) where x >= x0 && x <= x1 && x == x.rounded() {
                s += "<text x=\"\(fmt(px(x)))\" y=\"\(fmt(height - bottom + 15))\" text-anchor=\"middle\">\(fmt(x))</text>"
            }
        }
        s += "<text x=\"\(fmt((left + width - right) / 2))\" y=\"\(fmt(height - 5))\" text-anchor=\"middle\">\(escape(xLabel))</text>"
        s += "<text transform=\"translate(14,\(fmt((top + height - bottom) / 2))) rotate(-90)\" text-anchor=\"middle\">\(escape(yLabel))</text>"
        return s
    }

    /// Each trainer's last rating beside the chart, best ordinal (μ − 3σ) first, in its line's
    /// colour: with ten trainers the bands overlap, the table picks one out.
    static func ratingsTable(_ ratings: [(name: String, points: [(window: UInt64, mu: Double, sigma: Double)])], palette: [String]) -> String {
        let rows = ratings.enumerated().compactMap { i, s -> (name: String, color: String, window: UInt64, mu: Double, sigma: Double)? in
            s.points.last.map { (s.name, palette[i % palette.count], $0.window, $0.mu, $0.sigma) }
        }.sorted { ($0.mu - 3 * $0.sigma, $1.name) > ($1.mu - 3 * $1.sigma, $0.name) }
        guard !rows.isEmpty else { return "" }
        let body = rows.map {
            "<tr><td><i style=\"display:inline-block;width:0.9em;height:0.9em;background:\($0.color)\"></i> \(escape($0.name))</td>"
                + "<td>\(String(format: "%.3f", $0.mu))</td><td>\(String(format: "%.3f", $0.sigma))</td>"
                + "<td>\(String(format: "%.3f", $0.mu - 3 * $0.sigma))</td><td>\($0.window)</td></tr>"
        }.joined()
        return "<table class=\"ratings\"><tr><th>trainer</th><th>μ</th><th>σ</th><th>ordinal μ − 3σ</th><th>after window</th></tr>\(body)</table>"
    }

    static func figure(id: String, title: String, points: Int, svg: String, legend: [(String, String)]) -> String {
        let items = legend.map { "<span><i style=\"background:\($0.1)\"></i>\(escape($0.0))</span>" }.joined()
        return """
            <h2>\(escape(title))</h2>
            <svg class="chart" id="\(id)" data-points="\(points)" width="\(Int(width))" height="\(Int(height))" viewBox="0 0 \(Int(width)) \(Int(height))" xmlns="http://www.w3.org/2000/svg">\(svg)</svg>
            <div class="legend">\(items)</div>
            """
    }

    static func empty(id: String, title: String) -> String {
        "<h2>\(escape(title))</h2><svg class=\"chart\" id=\"\(id)\" data-points=\"0\" width=\"\(Int(width))\" height=\"40\"><text x=\"10\" y=\"25\">no data</text></svg>"
    }

    static func fmt(_ value: Double) -> String {
        guard value.isFinite else { return "0" }
        if value.magnitude >= 1e6 { return String(format: "%.3g", value) }
        return value == value.rounded() ? String(Int(value)) : String(format: "%.3f", value)
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
