import ArgumentParser
import CairnCore
import ConsensusSimulator
import DAGRider
import Foundation

struct Sim: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run DAG-Rider in a seeded, simulated network with Byzantine validators and check every run.",
        discussion: """
            Each seed simulates n validators over a virtual network with random delays, reordering, \
            message loss with retransmission, loss when a link's queue is full, and (on about half the \
            seeds) a partition that heals. Up to f validators misbehave as --behaviour says. Every run \
            is checked from the outside: honest delivered sequences are prefixes of one another, \
            nothing is delivered twice, every delivered vertex is certified and follows its causal \
            history, each honest sequence is exactly what an independent replay of DAG-Rider's \
            ordering rules derives from that validator's DAG, every honest vertex that reached 2f+1 \
            honest validators is delivered, and commits keep happening. \
            A failing seed is printed; rerun it with --seeds 1 --first-seed SEED. Exits non-zero when \
            any run violates safety or liveness.
            """)

    @Option(help: "Number of validators (3f+1).")
    var validators = 4

    @Option(help: "Number of faulty validators (at most f, unless --crash-quorum).")
    var byzantine = 0

    @Option(help: "What the faulty validators do: \(Behaviour.allCases.map(\.rawValue).joined(separator: ", ")).")
    var behaviour: String = "honest"

    @Option(help: "Number of seeds to run.")
    var seeds = 10

    @Option(help: "First seed.")
    var firstSeed: UInt64 = 1

    @Option(help: "Rounds each honest validator must reach.")
    var rounds: UInt64 = 60

    @Option(help: "Mean one-way message delay in virtual milliseconds.")
    var delayMs = 25.0

    @Option(help: "Probability that a transmission is lost and retransmitted.")
    var loss = 0.02

    @Option(help: "Messages one link holds in flight; more are lost (as a full outbound queue drops).")
    var linkQueue = 16

    @Flag(help: "Never inject a partition.")
    var noPartitions = false

    @Flag(help: "Crash f+1 validators for 3 s: checks that nothing commits, then that commits resume.")
    var crashQuorum = false

    @Option(help: "Write each honest validator's certified DAG, decisions and delivered order as JSON lines into this directory (one seed only).")
    var exportDag: String?

    @Flag(help: "Print one JSON object.")
    var json = false

    func validate() throws {
        if let problem = validatorProblem { throw ValidationError(problem) }
        guard Behaviour(rawValue: behaviour) != nil else {
            throw ValidationError("--behaviour '\(behaviour)' is not one of: \(Behaviour.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let f = (validators - 1) / 3
        guard byzantine >= 0, byzantine <= f else {
            throw ValidationError("--byzantine \(byzantine) exceeds f = \(f) for \(validators) validators; DAG-Rider tolerates at most f")
        }
        guard seeds >= 1, seeds <= 10_000_000, rounds >= 8, rounds <= 100_000 else {
            throw ValidationError("--seeds must be in 1…10000000 and --rounds in 8…100000")
        }
        guard firstSeed <= UInt64.max - UInt64(seeds) else { throw ValidationError("--first-seed \(firstSeed) + --seeds \(seeds) passes 2^64 − 1") }
        guard (0 ..< 0.9).contains(loss), delayMs > 0, delayMs <= 60_000 else {
            throw ValidationError("--loss must be in [0, 0.9) and --delay-ms in (0, 60000]")
        }
        guard linkQueue >= 1, linkQueue <= 1_000_000 else { throw ValidationError("--link-queue must be in 1…1000000") }
        if exportDag != nil && seeds != 1 { throw ValidationError("--export-dag needs --seeds 1") }
    }

    var validatorProblem: String? {
        validators >= 4 && validators <= 301 && (validators - 1) % 3 == 0 ? nil : "--validators \(validators) must be 3f+1 with f ≥ 1 (4, 7, 10, …, at most 301)"
    }

    func run() throws {
        var config = SimulationConfig(validators: validators, byzantine: byzantine, behaviour: Behaviour(rawValue: behaviour)!,
                                      rounds: rounds, seed: firstSeed)
        config.meanDelayMs = delayMs
        config.lossRate = loss
        config.allowPartitions = !noPartitions
        config.linkQueueCapacity = linkQueue
        config.crashQuorum = crashQuorum
        config.recordDAG = exportDag != nil
        let wall = ContinuousClock.now
        var exports: [Int: [String]] = [:]
        let summary = SimulationSummary.run(config, seeds: firstSeed ..< firstSeed + UInt64(seeds)) { result in
            if !result.export.isEmpty { exports = result.export }
            if !json, !result.violations.isEmpty {
                FileHandle.standardError.write(Data("FAILED seed \(result.seed): \(result.violations.joined(separator: "; "))\n".utf8))
            }
        }
        if let directory = exportDag {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            for (node, lines) in exports {
                try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: "\(directory)/validator\(node).jsonl"))
            }
        }
        let seconds = (ContinuousClock.now - wall).components.seconds
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            print(String(decoding: try encoder.encode(summary), as: UTF8.self))
        } else {
            print("runs                \(summary.runs) (n = \(validators), \(byzantine) × \(behaviour), \(rounds) rounds, seeds \(firstSeed)…\(firstSeed + UInt64(seeds) - 1), \(seconds) s)")
            print("safety violations   \(summary.safetyViolations)\(summary.failingSeeds.isEmpty ? "" : " (seeds \(summary.failingSeeds.prefix(10).map(String.init).joined(separator: ", ")))")")
            print("commits             \(String(format: "%.1f", summary.commits)) leaders (\(String(format: "%.1f", summary.commits / Double(summary.runs))) per run)")
            print("waves per commit    \(String(format: "%.3f", summary.wavesPerCommit))")
            print("latency             \(String(format: "%.2f", summary.meanLatencyRounds)) rounds from a vertex's round to its delivery")
            print("ordered             \(String(format: "%.0f", summary.verticesPerSecond)) certified vertices per core-second")
            let limits = DAGRiderSettings(committee: Committee(size: validators, chain: .zero), me: 0)
            print("largest buffer      \(summary.maxBufferedProposals) proposals, \(summary.maxBufferedCertificates) certificates in one honest core "
                + "(bounds: \(limits.maxBufferedProposalsPerAuthor) proposals and \(limits.maxBufferedCertificatesPerAuthor) certificates per author, "
                + "\(limits.maxBufferedProposalsPerAuthor * validators) proposals and \(limits.maxBufferedMessages) certificates in all)")
            print("lost on full queues \(summary.lostOnOverflow) messages")
            print("validity            \(summary.deliveryObligations) honest vertices owed delivery by every live honest validator"
                + (summary.lateCertificates > 0 ? " (\(summary.lateCertificates) more reached 2f+1 honest validators only when half a GC depth old)" : ""))
            if !summary.rejected.isEmpty {
                print("refused             " + summary.rejected.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))
            }
            if let directory = exportDag { print("exported            \(exports.count) validators' DAGs to \(directory)") }
            for violation in summary.violations.prefix(5) { print("violation: \(violation)") }
        }
        if summary.safetyViolations > 0 { throw ExitCode(3) }
    }
}
