import ArgumentParser
import CairnBench
import CairnTraining
import Foundation

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure this machine's limits: crypto, storage and compute, each next to ARCHITECTURE §12's figure.",
        subcommands: [Crypto.self, Storage.self, Compute.self, Training.self, Consensus.self, Load.self, Restart.self, All.self])

    struct Options: ParsableArguments {
        @Option(help: "Seconds to run each measurement.")
        var seconds = 1.0

        @Flag(help: "Print one JSON object instead of a table.")
        var json = false

        func validate() throws {
            guard seconds > 0, seconds <= 600 else { throw ValidationError("--seconds must be in (0, 600]") }
        }
    }

    struct Crypto: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Ed25519 sign/verify, SHA-256 throughput, threshold-coin share/verify/combine.")
        @OptionGroup var options: Options
        func run() throws { try report(Benchmarks(seconds: options.seconds).crypto(), json: options.json) }
    }

    struct Storage: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "RocksDB synced-batch and unsynced put rates in a temporary database.")
        @OptionGroup var options: Options
        @Option(help: "Directory for the temporary database (use the disk the node will use).")
        var directory = FileManager.default.temporaryDirectory.path
        func run() throws { try report(Benchmarks(seconds: options.seconds).storage(directory: directory), json: options.json) }
    }

    struct Compute: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "OpenBLAS sgemm on one thread.")
        @OptionGroup var options: Options
        func run() throws { try report(Benchmarks(seconds: options.seconds).compute(), json: options.json) }
    }

    struct Training: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The training task's speed: evaluation forward passes and whole evaluations on one thread, training steps, blob size — next to OpenBLAS sgemm measured in the same run.")
        @OptionGroup var options: Options
        @Option(help: "Corpus directory (Debian's fortunes files).")
        var corpus = CorpusFiles.defaultDirectory
        @Option(help: "Threads for the second training measurement (default: every core).")
        var threads: Int?
        func run() throws {
            let task = try Train.loadTask(corpus: corpus)
            try report(Benchmarks(seconds: options.seconds).training(task: task, threads: threads ?? ProcessInfo.processInfo.activeProcessorCount),
                       json: options.json)
        }
    }

    struct Consensus: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "DAG-Rider core throughput: certified vertices ordered per core-second for several committee sizes.")
        @Option(help: "Committee sizes, comma-separated (each 3f+1).")
        var validators = "4,10,31"
        @Option(help: "Rounds to simulate per size.")
        var rounds: UInt64 = 200
        @Flag(help: "Print one JSON object instead of a table.")
        var json = false
        func validate() throws {
            for n in sizes where n < 4 || (n - 1) % 3 != 0 { throw ValidationError("--validators: \(n) is not 3f+1 with f ≥ 1") }
            guard !sizes.isEmpty, sizes.count == validators.split(separator: ",").count else { throw ValidationError("--validators must be a comma-separated list such as 4,10,31") }
            guard (8 ... 100_000).contains(rounds) else { throw ValidationError("--rounds must be in 8…100000") }
        }
        var sizes: [Int] { validators.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) } }
        func run() throws { try report(Benchmarks().consensus(validators: sizes, rounds: rounds), json: json) }
    }

    struct All: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "crypto, storage and compute in one run.")
        @OptionGroup var options: Options
        @Option(help: "Directory for the temporary database.")
        var directory = FileManager.default.temporaryDirectory.path
        func run() throws {
            let bench = Benchmarks(seconds: options.seconds)
            try report(try bench.crypto() + bench.storage(directory: directory) + bench.compute(), json: options.json)
        }
    }
}

func report(_ results: [BenchmarkResult], json: Bool) throws {
    if json {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        print(String(decoding: try encoder.encode(["results": results]), as: UTF8.self))
        return
    }
    func format(_ value: Double) -> String {
        value >= 1000 ? String(format: "%.0f", value) : value >= 10 ? String(format: "%.1f", value) : String(format: "%.2f", value)
    }
    let rows = results.map { result in
        (result.name, "\(format(result.value)) \(result.unit)",
         result.reference.map { "\(format($0)) \(result.unit)" } ?? "–",
         result.ratioToReference.map { String(format: "%.2f×", $0) } ?? "")
    }
    let header = ("benchmark", "measured", "ARCHITECTURE §12", "ratio")
    let widths = [\.0, \.1, \.2].map { (column: KeyPath<(String, String, String, String), String>) in
        ([header] + rows).map { $0[keyPath: column].count }.max() ?? 0
    }
    for row in [header] + rows {
        print([row.0, row.1, row.2].enumerated().map { $0.element.padding(toLength: widths[$0.offset], withPad: " ", startingAt: 0) }
            .joined(separator: "  ") + "  " + row.3)
    }
}
