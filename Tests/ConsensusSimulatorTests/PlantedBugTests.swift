import CairnCore
import ConsensusSimulator
import DAGRider
import Testing

/// Wrong ordering rules, compiled into the test target only (D43). Each is a mistake a real
/// implementation of DAG-Rider could make; the simulator's checker must report every one.
enum PlantedBug: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case supportWithFPlusOne = "support counted with f+1"
    case anyPathSupport = "any path instead of a strong path"
    case noRecursiveCommit = "no recursive commit"
    case deliveryByAuthorOnly = "delivery sorted by author only"

    var testDescription: String { rawValue }

    var rules: any OrderingRules {
        switch self {
        case .supportWithFPlusOne: FPlusOneSupport()
        case .anyPathSupport: AnyPathSupport()
        case .noRecursiveCommit: NoRecursiveCommit()
        case .deliveryByAuthorOnly: DeliveryByAuthorOnly()
        }
    }
}

/// A wrong rule set: the standard rules except where a planted bug overrides one.
protocol PlantedRules: OrderingRules {}

extension PlantedRules {
    var standard: StandardOrderingRules { StandardOrderingRules() }
    func commitQuorum(_ committee: Committee) -> Int { standard.commitQuorum(committee) }
    func support(of leader: Digest, through round: UInt64, in dag: DAGView) -> Int { standard.support(of: leader, through: round, in: dag) }
    func links(from newer: Digest, to older: Digest, in dag: DAGView) -> Bool { standard.links(from: newer, to: older, in: dag) }
    var commitsRecursively: Bool { true }
    func deliveredBefore(_ a: DAGView.Vertex, _ b: DAGView.Vertex) -> Bool { standard.deliveredBefore(a, b) }
}

struct FPlusOneSupport: PlantedRules {
    func commitQuorum(_ committee: Committee) -> Int { committee.validity }
}

/// Follows weak edges too when counting support and linking leaders.
struct AnyPathSupport: PlantedRules {
    func support(of leader: Digest, through round: UInt64, in dag: DAGView) -> Int {
        dag.digests(round: round).filter { anyPath(from: $0, to: leader, in: dag) }.count
    }
    func links(from newer: Digest, to older: Digest, in dag: DAGView) -> Bool { anyPath(from: newer, to: older, in: dag) }

    func anyPath(from: Digest, to: Digest, in dag: DAGView) -> Bool {
        var seen: Set<Digest> = []
        var stack = [from]
        while let digest = stack.popLast() {
            if digest == to { return true }
            guard seen.insert(digest).inserted, let vertex = dag.vertex(digest) else { continue }
            stack += vertex.strongEdges + vertex.weakEdges
        }
        return false
    }
}

struct NoRecursiveCommit: PlantedRules {
    var commitsRecursively: Bool { false }
}

struct DeliveryByAuthorOnly: PlantedRules {
    func deliveredBefore(_ a: DAGView.Vertex, _ b: DAGView.Vertex) -> Bool { a.author < b.author }
}

@Suite("Planted ordering bugs")
struct PlantedBugTests {
    /// Every honest validator runs the wrong rule, so the validators agree with one another: only
    /// the independent oracle can tell. The seed budget: 8 seeds × 3 behaviours × n ∈ {4, 7}
    /// (48 runs); the test reports how many runs it took. Support with f+1 is the subtle one: it
    /// yields the same final sequence (D43) and shows only as a commit made too early, which
    /// needs a leader that some of its wave's last-round vertices do not reach — common after
    /// restarts and catch-up, rare otherwise.
    @Test("the checker catches every planted bug within the seed budget", arguments: PlantedBug.allCases)
    func caught(bug: PlantedBug) {
        var caughtAt: UInt64?
        var scenarios = 0
        search: for behaviour in [Behaviour.crash, .adversarialEdges, .withholdVotes] {
            for n in [4, 7] {
                var config = SimulationConfig(validators: n, byzantine: (n - 1) / 3, behaviour: behaviour, rounds: 32, seed: 0)
                config.recordsPerTick = 1
                config.orderingRules = bug.rules
                for seed in UInt64(900) ..< 908 {
                    scenarios += 1
                    config.seed = seed
                    var simulation = Simulation(config: config)
                    if simulation.run().violations.contains(where: { $0.contains("oracle") || $0.contains("diverge") }) {
                        caughtAt = seed
                        break search
                    }
                }
            }
        }
        #expect(caughtAt != nil, "\(bug.rawValue) went unnoticed in \(scenarios) runs")
        print("planted bug '\(bug.rawValue)': caught after \(scenarios) runs")
    }

    /// The same runs with the standard rules pass: the oracle is not simply always failing.
    @Test("the standard rules pass the same runs")
    func standardPasses() {
        for behaviour in [Behaviour.crash, .adversarialEdges, .withholdVotes] {
            for n in [4, 7] {
                var config = SimulationConfig(validators: n, byzantine: (n - 1) / 3, behaviour: behaviour, rounds: 32, seed: 0)
                config.recordsPerTick = 1
                let summary = SimulationSummary.run(config, seeds: 900 ..< 908)
                #expect(summary.safetyViolations == 0, "\(behaviour) n=\(n): \(summary.violations.prefix(2))")
            }
        }
    }
}
