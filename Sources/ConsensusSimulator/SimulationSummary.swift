import Foundation

/// Aggregate of many seeds: what `cairn sim` prints.
public struct SimulationSummary: Codable, Sendable {
    public var runs = 0
    /// Runs with at least one safety or liveness violation (must be 0).
    public var safetyViolations = 0
    /// Leaders committed, summed over runs (each run averaged over honest validators).
    public var commits = 0.0
    public var decidedWaves = 0.0
    public var wavesPerCommit: Double { commits > 0 ? decidedWaves / commits : 0 }
    public var meanLatencyRounds = 0.0
    public var verticesDelivered = 0
    public var coreSeconds = 0.0
    /// Certified vertices ordered per second of core CPU time (per validator).
    public var verticesPerSecond: Double { coreSeconds > 0 ? Double(verticesDelivered) / coreSeconds : 0 }
    public var failingSeeds: [UInt64] = []
    public var violations: [String] = []
    public var rejected: [String: Int] = [:]
    /// Most proposals / certificates one honest core held waiting for parents, over all runs.
    public var maxBufferedProposals = 0
    public var maxBufferedCertificates = 0
    /// Messages lost to full link queues, over all runs.
    public var lostOnOverflow = 0
    /// Honest vertices the validity check required every honest validator to deliver (and did).
    public var deliveryObligations = 0
    /// Honest vertices that reached 2f+1 honest validators only when half a GC depth old.
    public var lateCertificates = 0

    enum CodingKeys: String, CodingKey {
        case runs, safetyViolations = "safety_violations", commits, decidedWaves = "decided_waves",
             wavesPerCommit = "waves_per_commit", meanLatencyRounds = "latency_rounds",
             verticesDelivered = "vertices_delivered", coreSeconds = "core_seconds",
             verticesPerSecond = "vertices_per_second", failingSeeds = "failing_seeds", violations, rejected,
             maxBufferedProposals = "max_buffered_proposals", maxBufferedCertificates = "max_buffered_certificates",
             lostOnOverflow = "lost_on_overflow", deliveryObligations = "delivery_obligations", lateCertificates = "late_certificates"
    }

    public init() {}

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        runs = try c.decode(Int.self, forKey: .runs)
        safetyViolations = try c.decode(Int.self, forKey: .safetyViolations)
        commits = try c.decode(Double.self, forKey: .commits)
        decidedWaves = try c.decode(Double.self, forKey: .decidedWaves)
        meanLatencyRounds = try c.decode(Double.self, forKey: .meanLatencyRounds)
        verticesDelivered = try c.decode(Int.self, forKey: .verticesDelivered)
        coreSeconds = try c.decode(Double.self, forKey: .coreSeconds)
        failingSeeds = try c.decode([UInt64].self, forKey: .failingSeeds)
        violations = try c.decode([String].self, forKey: .violations)
        rejected = try c.decode([String: Int].self, forKey: .rejected)
        maxBufferedProposals = try c.decodeIfPresent(Int.self, forKey: .maxBufferedProposals) ?? 0
        maxBufferedCertificates = try c.decodeIfPresent(Int.self, forKey: .maxBufferedCertificates) ?? 0
        lostOnOverflow = try c.decodeIfPresent(Int.self, forKey: .lostOnOverflow) ?? 0
        deliveryObligations = try c.decodeIfPresent(Int.self, forKey: .deliveryObligations) ?? 0
        lateCertificates = try c.decodeIfPresent(Int.self, forKey: .lateCertificates) ?? 0
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(runs, forKey: .runs)
        try c.encode(safetyViolations, forKey: .safetyViolations)
        try c.encode(commits, forKey: .commits)
        try c.encode(decidedWaves, forKey: .decidedWaves)
        try c.encode(wavesPerCommit, forKey: .wavesPerCommit)
        try c.encode(meanLatencyRounds, forKey: .meanLatencyRounds)
        try c.encode(verticesDelivered, forKey: .verticesDelivered)
        try c.encode(coreSeconds, forKey: .coreSeconds)
        try c.encode(verticesPerSecond, forKey: .verticesPerSecond)
        try c.encode(failingSeeds, forKey: .failingSeeds)
        try c.encode(violations, forKey: .violations)
        try c.encode(rejected, forKey: .rejected)
        try c.encode(maxBufferedProposals, forKey: .maxBufferedProposals)
        try c.encode(maxBufferedCertificates, forKey: .maxBufferedCertificates)
        try c.encode(lostOnOverflow, forKey: .lostOnOverflow)
        try c.encode(deliveryObligations, forKey: .deliveryObligations)
        try c.encode(lateCertificates, forKey: .lateCertificates)
    }

    public mutating func add(_ result: RunResult) {
        runs += 1
        if !result.violations.isEmpty {
            safetyViolations += 1
            failingSeeds.append(result.seed)
            violations += result.violations.prefix(max(0, 20 - violations.count))
        }
        commits += result.commits
        decidedWaves += result.decidedWaves
        meanLatencyRounds += (result.meanLatencyRounds - meanLatencyRounds) / Double(runs)
        verticesDelivered += result.verticesDelivered
        coreSeconds += result.coreSeconds
        for (reason, count) in result.rejected { rejected[reason, default: 0] += count }
        maxBufferedProposals = max(maxBufferedProposals, result.maxBufferedProposals)
        maxBufferedCertificates = max(maxBufferedCertificates, result.maxBufferedCertificates)
        lostOnOverflow += result.lostOnOverflow
        deliveryObligations += result.obligations
        lateCertificates += result.lateCertificates
    }

    /// Runs `seeds` seeds of `config` (seed replaced by each in turn).
    public static func run(_ config: SimulationConfig, seeds: Range<UInt64>, onResult: (RunResult) -> Void = { _ in }) -> SimulationSummary {
        var summary = SimulationSummary()
        for seed in seeds {
            var c = config
            c.seed = seed
            var simulation = Simulation(config: c)
            let result = simulation.run()
            onResult(result)
            summary.add(result)
        }
        return summary
    }
}
