import CairnCore
import ConsensusSimulator
import DAGRider
import Foundation
import Testing

struct Scenario: Sendable, CustomTestStringConvertible {
    var validators: Int
    var behaviour: Behaviour
    var testDescription: String { "n=\(validators) \(behaviour.rawValue)" }

    static let all: [Scenario] = [4, 7, 10].flatMap { n in Behaviour.allCases.map { Scenario(validators: n, behaviour: $0) } }
}

@Suite("Byzantine simulator")
struct SimulationTests {
    /// 39 scenarios, 31 seeds each (6 for flood): every behaviour at n = 4, 7, 10 with f faulty
    /// validators, random delays, loss, full-queue loss, reordering and (on about half the seeds) a
    /// healing partition; every run checked by the ordering oracle and for validity.
    @Test("safety and liveness hold for every behaviour", arguments: Scenario.all)
    func sweep(scenario: Scenario) {
        let f = (scenario.validators - 1) / 3
        var config = SimulationConfig(validators: scenario.validators, byzantine: scenario.behaviour == .honest ? 0 : f,
                                      behaviour: scenario.behaviour, rounds: 32, seed: 0)
        config.recordsPerTick = 1
        let first = UInt64(scenario.validators * 1000 + Behaviour.allCases.firstIndex(of: scenario.behaviour)! * 50)
        // A flooding validator makes every run tens of times heavier; tools/soak-consensus runs many more.
        let seeds: UInt64 = scenario.behaviour == .flood ? 6 : 31
        let summary = SimulationSummary.run(config, seeds: first ..< first + seeds)
        #expect(summary.runs == Int(seeds))
        #expect(summary.safetyViolations == 0, "failing seeds \(summary.failingSeeds): \(summary.violations.prefix(3))")
        #expect(summary.commits > 0)
        // DAG-Rider's bound is an expectation of ≤ 1.5 waves per commit; faults and partitions push
        // individual scenarios above it, never past 2 on average here.
        #expect(summary.wavesPerCommit < 2.0, "waves per commit \(summary.wavesPerCommit)")
        // Buffers stay within the bounds D39 set, whatever the faulty validators send.
        let limits = DAGRiderSettings(committee: Committee(size: scenario.validators, chain: .zero), me: 0)
        #expect(summary.maxBufferedProposals <= limits.maxBufferedProposalsPerAuthor * scenario.validators)
        #expect(summary.maxBufferedCertificates <= limits.maxBufferedCertificatesPerAuthor * scenario.validators)
        if scenario.behaviour == .flood {
            #expect(summary.rejected[RejectReason.fetchFlood.rawValue, default: 0] > 0)
            #expect(summary.rejected[RejectReason.tooManyWeakEdges.rawValue, default: 0] == 0, "flood proposals carry exactly the maximum")
        }
    }

    @Test("f+1 crashed: no commit while down, no safety violation, commits resume", arguments: [4, 7, 10])
    func crashQuorum(validators: Int) {
        var config = SimulationConfig(validators: validators, byzantine: 0, behaviour: .honest, rounds: 32, seed: 0)
        config.crashQuorum = true
        let summary = SimulationSummary.run(config, seeds: 500 ..< 508)
        #expect(summary.safetyViolations == 0, "failing seeds \(summary.failingSeeds): \(summary.violations.prefix(3))")
        #expect(summary.commits > 0)
    }

    /// Runs long enough for garbage collection to work (the GC line passes the future-round
    /// window), with crashed validators restoring from storage past that line and catching up
    /// from peers' storage — the path real nodes take after a long outage.
    @Test("long runs: restarts past the GC line catch up from storage and stay in agreement", arguments: [
        (4, Behaviour.crash, false, UInt64(300), 10),
        (7, Behaviour.crash, false, UInt64(250), 4),
        (4, Behaviour.honest, true, UInt64(300), 6),
        (4, Behaviour.mixed, false, UInt64(300), 6),
    ])
    func longRuns(validators: Int, behaviour: Behaviour, crashQuorum: Bool, rounds: UInt64, seeds: Int) {
        var config = SimulationConfig(validators: validators, byzantine: behaviour == .honest ? 0 : (validators - 1) / 3,
                                      behaviour: behaviour, rounds: rounds, seed: 0)
        config.crashQuorum = crashQuorum
        let first = UInt64(70_000 + validators * 1000 + (crashQuorum ? 500 : 0) + Behaviour.allCases.firstIndex(of: behaviour)! * 50)
        let summary = SimulationSummary.run(config, seeds: first ..< first + UInt64(seeds))
        #expect(summary.safetyViolations == 0, "failing seeds \(summary.failingSeeds): \(summary.violations.prefix(3))")
        // Long enough that every honest validator committed past the GC window.
        #expect(summary.commits / Double(summary.runs) > 40)
    }

    /// Shares are combined for real (Shamir over a prime field), so the verifier's share check is
    /// what keeps a Byzantine share from splitting the leader choice: with it switched off, the
    /// invalid-coin behaviour must make the checker report a violation.
    @Test("an unchecked invalid coin share splits the leader choice, and the checker sees it")
    func invalidShareMatters() {
        var config = SimulationConfig(validators: 4, byzantine: 1, behaviour: .invalidCoin, rounds: 32, seed: 0)
        config.recordsPerTick = 1
        let checked = SimulationSummary.run(config, seeds: 300 ..< 306)
        #expect(checked.safetyViolations == 0, "\(checked.violations.prefix(2))")
        #expect(checked.rejected[RejectReason.invalidCoinShare.rawValue, default: 0] > 0)
        config.verifierCoin = { seed, validators, me in AcceptingCoin(real: SimulatedCoin(seed: seed, validators: validators, me: me)) }
        let unchecked = SimulationSummary.run(config, seeds: 300 ..< 306)
        #expect(unchecked.safetyViolations > 0, "a garbage share changed nothing: the simulated coin ignores share values")
    }

    @Test("a failing seed reproduces exactly")
    func reproducible() {
        var config = SimulationConfig(validators: 7, byzantine: 2, behaviour: .mixed, rounds: 24, seed: 77)
        config.recordDAG = true
        var a = Simulation(config: config)
        var b = Simulation(config: config)
        let ra = a.run()
        let rb = b.run()
        #expect(ra.export == rb.export)
        #expect(ra.verticesDelivered == rb.verticesDelivered)
        #expect(!ra.export.isEmpty)
    }
}

/// A coin whose verifier accepts every share (the missing check the test above plants).
struct AcceptingCoin: CoinScheme {
    let real: SimulatedCoin
    func makeShare(wave: UInt64) throws -> CoinShare { try real.makeShare(wave: wave) }
    func verify(_ share: CoinShare, wave: UInt64) -> Bool { share.wave == wave }
    func combine(wave: UInt64, shares: [CoinShare]) throws -> (leader: Int, beacon: Digest) { try real.combine(wave: wave, shares: shares) }
}
