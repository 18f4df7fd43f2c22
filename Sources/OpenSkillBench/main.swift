// openskill-bench: `rate` calls per second for the five models on 2, 4 and 8 one-player teams
// and on 5v5, with both math back-ends; optionally side by side with openskill.py figures
// produced by tools/openskill/bench_openskill.py.
//
//   swift build -c release --product OpenSkillBench
//   .build/release/OpenSkillBench [--seconds S] [--repeats N] [--json] [--python python.json]

import Foundation
import OpenSkill

struct Scenario {
    let name: String
    let teamCount: Int
    let playersPerTeam: Int
}

let scenarios = [
    Scenario(name: "2x1", teamCount: 2, playersPerTeam: 1),
    Scenario(name: "4x1", teamCount: 4, playersPerTeam: 1),
    Scenario(name: "8x1", teamCount: 8, playersPerTeam: 1),
    Scenario(name: "5v5", teamCount: 2, playersPerTeam: 5),
]

/// The same deterministic ratings as tools/openskill/bench_openskill.py.
func teams(for scenario: Scenario) -> [[Rating]] {
    var k = 0
    return (0..<scenario.teamCount).map { _ in
        (0..<scenario.playersPerTeam).map { _ in
            defer { k += 1 }
            return Rating(mu: 20.0 + Double((k * 7) % 11), sigma: 8.333333333333334 - Double(k % 5) * 0.9)
        }
    }
}

/// Ranks given in reverse team order, so the sort/unsort path is exercised too.
func ranks(for scenario: Scenario) -> [Double] {
    (0..<scenario.teamCount).map { Double(scenario.teamCount - $0) }
}

enum Variant {
    /// `rate(teams, ranks:)`, returning new arrays like openskill.py.
    case allocating
    /// `rateInPlace(&teams, ranks:)` on arrays the caller owns (values reset before each call).
    case inPlace
}

/// Best of `repeats` timed runs of about `seconds` each, in calls per second, plus a checksum
/// of the results that keeps the measured work observable to the optimiser.
func measure(
    _ kind: ModelKind, _ scenario: Scenario, math: MathFunctions, variant: Variant,
    seconds: Double, repeats: Int
) -> (callsPerSecond: Double, checksum: Double) {
    var model = kind.makeModel(math: math)
    let input = teams(for: scenario)
    let order = ranks(for: scenario)
    var work = input
    var sink = 0.0
    let clock = ContinuousClock()
    func run(_ iterations: Int) -> Duration {
        clock.measure {
            switch variant {
            case .allocating:
                for _ in 0..<iterations {
                    let result = try! model.rate(input, ranks: order)
                    sink += result[0][0].mu
                }
            case .inPlace:
                for _ in 0..<iterations {
                    for t in input.indices {
                        for p in input[t].indices { work[t][p] = input[t][p] }
                    }
                    try! model.rateInPlace(&work, ranks: order)
                    sink += work[0][0].mu
                }
            }
        }
    }
    // Calibrate the batch size to ~10 ms.
    var batch = 100
    while true {
        let elapsed = run(batch)
        if elapsed > .milliseconds(10) { break }
        batch *= 4
    }
    var best = 0.0
    for _ in 0..<repeats {
        var calls = 0
        var elapsed = Duration.zero
        while elapsed < .seconds(seconds) {
            elapsed += run(batch)
            calls += batch
        }
        let components = elapsed.components
        let secondsTaken = Double(components.seconds) + Double(components.attoseconds) * 1e-18
        best = max(best, Double(calls) / secondsTaken)
    }
    return (best, sink)
}

// MARK: - Arguments

var seconds = 0.3
var repeats = 5
var emitJSON = false
var pythonPath: String? = nil
var arguments = CommandLine.arguments.dropFirst()
while let argument = arguments.popFirst() {
    switch argument {
    case "--seconds": seconds = Double(arguments.popFirst() ?? "") ?? seconds
    case "--repeats": repeats = max(1, Int(arguments.popFirst() ?? "") ?? repeats)
    case "--json": emitJSON = true
    case "--python": pythonPath = arguments.popFirst()
    default:
        FileHandle.standardError.write(Data("usage: openskill-bench [--seconds S] [--repeats N] [--json] [--python FILE]\n".utf8))
        exit(2)
    }
}

/// {"PlackettLuce": {"2x1": calls_per_second, ...}, ...} from bench_openskill.py --json.
var python: [String: [String: Double]] = [:]
if let pythonPath {
    guard let data = FileManager.default.contents(atPath: pythonPath),
          let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
          let results = object["results"] as? [String: [String: Double]] else {
        FileHandle.standardError.write(Data("cannot read Python results from \(pythonPath)\n".utf8))
        exit(1)
    }
    python = results
}

// MARK: - Run

struct Row: Encodable {
    let model: String
    let scenario: String
    /// rate() with the portable math (Cairn's default), returning new arrays.
    let swiftPortable: Double
    /// rateInPlace() with the portable math.
    let swiftPortableInPlace: Double
    /// rate() with glibc's libm.
    let swiftLibm: Double
    let python: Double?
    var ratio: Double? { python.map { swiftPortable / $0 } }
    var ratioInPlace: Double? { python.map { swiftPortableInPlace / $0 } }

    enum CodingKeys: String, CodingKey {
        case model, scenario, swiftPortable, swiftPortableInPlace, swiftLibm, python, ratio, ratioInPlace
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(model, forKey: .model)
        try c.encode(scenario, forKey: .scenario)
        try c.encode(swiftPortable, forKey: .swiftPortable)
        try c.encode(swiftPortableInPlace, forKey: .swiftPortableInPlace)
        try c.encode(swiftLibm, forKey: .swiftLibm)
        try c.encodeIfPresent(python, forKey: .python)
        try c.encodeIfPresent(ratio, forKey: .ratio)
        try c.encodeIfPresent(ratioInPlace, forKey: .ratioInPlace)
    }
}

var rows: [Row] = []
var checksum = 0.0
for kind in ModelKind.allCases {
    for scenario in scenarios {
        let portable = measure(
            kind, scenario, math: .portable, variant: .allocating, seconds: seconds, repeats: repeats)
        let inPlace = measure(
            kind, scenario, math: .portable, variant: .inPlace, seconds: seconds, repeats: repeats)
        let libm = measure(
            kind, scenario, math: .libm, variant: .allocating, seconds: seconds, repeats: repeats)
        checksum += portable.checksum + inPlace.checksum + libm.checksum
        rows.append(Row(
            model: kind.rawValue, scenario: scenario.name,
            swiftPortable: portable.callsPerSecond, swiftPortableInPlace: inPlace.callsPerSecond,
            swiftLibm: libm.callsPerSecond, python: python[kind.rawValue]?[scenario.name]))
    }
}

func format(_ value: Double?, decimals: Int = 0) -> String {
    guard let value else { return "-" }
    return String(format: "%.\(decimals)f", value)
}

func pad(_ s: String, _ width: Int) -> String {
    s.count >= width ? s : String(repeating: " ", count: width - s.count) + s
}

if emitJSON {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    print(String(decoding: try! encoder.encode(rows), as: UTF8.self))
} else {
    print("rate() calls per second (best of \(repeats) × \(seconds) s; ranks given in reverse order)")
    print("portable = Cairn's portable math (default); libm = glibc; in-place = rateInPlace()")
    print("model".padding(toLength: 24, withPad: " ", startingAt: 0) + pad("teams", 6)
        + pad("portable", 11) + pad("in-place", 11) + pad("libm", 11) + pad("Python", 9)
        + pad("ratio", 8) + pad("in-place ratio", 16))
    for row in rows {
        print(row.model.padding(toLength: 24, withPad: " ", startingAt: 0) + pad(row.scenario, 6)
            + pad(format(row.swiftPortable), 11) + pad(format(row.swiftPortableInPlace), 11)
            + pad(format(row.swiftLibm), 11) + pad(format(row.python), 9)
            + pad(row.ratio.map { format($0) + "×" } ?? "-", 8)
            + pad(row.ratioInPlace.map { format($0) + "×" } ?? "-", 16))
    }
}
if checksum.isNaN { print(checksum) }  // keeps the measured work observable
