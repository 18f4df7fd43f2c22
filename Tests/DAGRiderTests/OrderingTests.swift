import CairnCore
import ConsensusSimulator
import DAGRider
import Foundation
import Testing

@Suite("Deterministic ordering")
struct OrderingTests {
    /// Feeds one validator's certified DAG, in many random orders, to fresh cores (which never
    /// propose): every order must deliver the identical sequence. The DAG is many GC depths long
    /// (depth 8, 30 commits), so garbage collection, below-floor parents and buffered
    /// certificates whose parents fell below the floor are all exercised.
    @Test("the same certified DAG in random delivery orders gives one sequence", arguments: [4, 7])
    func randomOrders(validators: Int) throws {
        let fixture = Fixture(n: validators, gcDepth: 8)
        // Build a DAG with a real run of cores on a lossless, in-order loopback network.
        var network = LoopbackNetwork(fixture: fixture)
        network.run(untilCommits: 30)
        let certificates = network.allCertificates()
        #expect(certificates.count >= validators * 100)
        #expect(certificates.map(\.vertex.round).max()! > 10 * fixture.gcDepth)
        var reference: (digests: [Digest], waves: [UInt64])?
        var generator = SystemRandomNumberGenerator()
        for trial in 0 ..< 30 {
            // A window covering the whole DAG: a live validator re-fetches what it dropped as too
            // far ahead, but this test feeds every certificate exactly once.
            var core = fixture.core(0, futureRoundWindow: 10_000)
            let verifier = fixture.verifier(0)
            var delivered: [Digest] = []
            var waves: [UInt64] = []
            let order = trial == 0 ? certificates : certificates.shuffled(using: &generator)
            for certificate in order {
                let message = try verifier.verify(.certificate(certificate), from: 1).get()
                for directive in core.onMessage(message, from: 1, nowMs: 0) {
                    if case let .commit(committed) = directive {
                        delivered += committed.certificates.map(\.digest)
                        waves.append(committed.wave)
                    }
                }
            }
            #expect(!delivered.isEmpty)
            if let reference {
                #expect(delivered == reference.digests,
                        "trial \(trial): committed waves \(waves) (\(delivered.count) vertices) vs \(reference.waves) (\(reference.digests.count))")
            } else {
                reference = (delivered, waves)
            }
        }
    }

    /// The exported JSON lines carry enough to re-derive the order independently: replay the
    /// paper's delivery rule over the exported vertices and decided leaders.
    @Test("exported DAGs re-derive the delivered order")
    func exportRederivation() throws {
        var config = SimulationConfig(validators: 4, byzantine: 1, behaviour: .equivocate, rounds: 40, seed: 9)
        config.recordDAG = true
        var simulation = Simulation(config: config)
        let result = simulation.run()
        #expect(result.violations.isEmpty)
        for (validator, lines) in result.export {
            var vertices: [String: (round: Int, author: Int, edges: [String])] = [:]
            var bySlot: [String: String] = [:]
            var leaders: [(wave: Int, leader: Int)] = []
            var delivered: [String] = []
            for line in lines {
                let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
                if let digest = object["digest"] as? String {
                    let round = object["round"] as! Int, author = object["author"] as! Int
                    vertices[digest] = (round, author, (object["strong"] as! [String]) + (object["weak"] as! [String]))
                    bySlot["\(round)/\(author)"] = digest
                } else if let wave = object["wave"] as? Int {
                    leaders.append((wave, object["leader"] as! Int))
                } else {
                    delivered = object["delivered"] as! [String]
                }
            }
            // DAG-Rider Alg. 3 order_vertices, with the exported gc depth of 50 rounds.
            var derived: [String] = []
            var done = Set<String>()
            for (wave, author) in leaders {
                let leader = try #require(bySlot["\(4 * (wave - 1) + 1)/\(author)"])
                let line = max(0, vertices[leader]!.round - 50)
                var stack = [leader]
                var batch: [String] = []
                var seen: Set<String> = [leader]
                while let digest = stack.popLast() {
                    guard let vertex = vertices[digest], !done.contains(digest), vertex.round >= line else { continue }
                    batch.append(digest)
                    for edge in vertex.edges where seen.insert(edge).inserted { stack.append(edge) }
                }
                batch.sort { (vertices[$0]!.round, vertices[$0]!.author) < (vertices[$1]!.round, vertices[$1]!.author) }
                derived += batch
                done.formUnion(batch)
            }
            #expect(derived == delivered, "validator \(validator): re-derived order differs")
            #expect(!delivered.isEmpty)
        }
    }
}
