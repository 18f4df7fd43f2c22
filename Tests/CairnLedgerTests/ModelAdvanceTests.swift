import CairnCore
import CairnCrypto
import CairnLedger
import Testing

/// A transition that records its calls and names the next model after its inputs.
final class RecordingTransition: ModelTransition, @unchecked Sendable {  // mutated only inside a test's single thread
    var calls: [(base: ModelRecord, applied: [AcceptedContribution], window: UInt64)] = []

    func next(from base: ModelRecord, applying contributions: [AcceptedContribution], window: UInt64) throws -> ModelRecord {
        calls.append((base, contributions, window))
        let digest = Hashing.digest(.model, base.hash.bytes + contributions.flatMap(\.id.bytes))
        return ModelRecord(hash: digest, blob: Hashing.digest(.blob, digest.bytes))
    }
}

@Suite("Ledger: the model per window")
struct ModelAdvanceTests {
    @Test("each close writes the next window's model: carried over without accepted contributions, else the top-G by score applied in id order to the previous model")
    func advance() throws {
        let transition = RecordingTransition()
        var world = World(seed: 31, users: 4, windowMs: 8)
        var parameters = world.ledger.parameters
        parameters.maxAggregated = 2
        let ledger = Ledger(parameters: parameters, transition: transition)
        let theta0 = ModelRecord(hash: Hashing.digest(.model, [0]), blob: Hashing.digest(.blob, [0]))
        let genesis = try Ledger.genesisState(accounts: world.users.map { ($0.publicKey, 10_000) }, validators: world.validators.map(\.publicKey), model: theta0)
        var store = MemoryStore(entries: genesis)
        var position: UInt64 = 0
        func run(_ payload: [[UInt8]], time: UInt64) throws -> LeaderExecution {
            var overlay = Overlay()
            let result = try ledger.execute([DeliveredVertex(position: position, payload: payload)], leaderTimeMs: time,
                                            beacon: Hashing.digest(.coinLeader, time.canonicalBytes), store: store, overlay: &overlay, verify: world.verify)
            store.commit(overlay)
            position += 1
            return result
        }
        func model(_ window: UInt64) throws -> ModelRecord? {
            try store.state[StateKey.model(window)].map { try ModelRecord(canonicalBytes: $0) }
        }
        // Three trainers contribute in window 0; every validator commits to evaluations where
        // trainer 0 improves by 0.1, trainer 1 by 0.3, trainer 2 by 0.2 (so top-2 = 1 and 2).
        _ = try run(world.users.prefix(3).enumerated().map { world.record($1, .register(Register(name: "t\($0)"))) }, time: 1)
        var ids: [Digest] = []
        var records: [[UInt8]] = []
        for (i, trainer) in world.users.prefix(3).enumerated() {
            let record = world.record(trainer, .contribution(Contribution(
                baseWindow: 0, blob: Hashing.digest(.blob, [UInt8(i)]), blobSize: 100,
                compression: CompressionParameters(chunkSize: 4096, topK: 64, valueBits: 8, indexBits: 16), assignment: .zero)))
            records.append(record)
            ids.append(Hashing.digest(.record, record))
        }
        _ = try run(records, time: 2)
        let gains: [Float] = [0.1, 0.3, 0.2]
        let evaluations = ids.indices.map { i in
            (0 ..< 4).map { v in Evaluation(contribution: ids[i], own: LossPair(before: 2, after: 2 - 2 * gains[i]), random: LossPair(before: 2, after: 2 - gains[i]),
                                             simHash: [UInt8](repeating: 0x3c, count: 32), flags: [], salt: Hashing.digest(.evaluationCommitment, [UInt8(i), UInt8(v)])) }
        }
        _ = try run(ids.indices.flatMap { i in (0 ..< 4).map { v in
            world.record(world.validators[v], .evaluationCommit(EvaluationCommit(contribution: ids[i], commitment: evaluations[i][v].commitment))) } }, time: 3)
        #expect(try run([], time: 9).closedWindows == [0])
        #expect(try model(1) == theta0)                  // window 0 had nothing finalized: carried over
        #expect(transition.calls.isEmpty)
        _ = try run([], time: 13)
        _ = try run(ids.indices.flatMap { i in (0 ..< 4).map { v in world.record(world.validators[v], .evaluation(evaluations[i][v])) } }, time: 14)
        #expect(try run([], time: 17).closedWindows == [1])
        let call = try #require(transition.calls.first)
        #expect(transition.calls.count == 1 && call.window == 0 && call.base == theta0)
        let expected = [ids[1], ids[2]].sorted { $0.bytes.lexicographicallyPrecedes($1.bytes) }
        #expect(call.applied.map(\.id) == expected)     // top-2 by score, handed over in id order
        #expect(call.applied.allSatisfy { $0.blob == Hashing.digest(.blob, [UInt8(ids.firstIndex(of: $0.id)!)]) })
        let theta2 = try #require(try model(2))
        let recomputed = try transition.next(from: theta0, applying: call.applied, window: 0)
        #expect(theta2 != theta0 && theta2 == recomputed)
        #expect(try run([], time: 25).closedWindows == [2])
        #expect(try model(3) == theta2)                  // window 1 had no contributions
    }

    @Test("a transition that cannot compute stops execution with its error, writing nothing")
    func failingTransition() throws {
        struct Missing: Error {}
        struct Failing: ModelTransition {
            func next(from base: ModelRecord, applying contributions: [AcceptedContribution], window: UInt64) throws -> ModelRecord { throw Missing() }
        }
        // A state where window 1 closes with one accepted contribution of window 0, built by the
        // recording transition's test flow in miniature: one trainer, four agreeing reveals.
        var world = World(seed: 32, users: 1, windowMs: 8)
        let ledger = Ledger(parameters: world.ledger.parameters, transition: Failing())
        let theta0 = ModelRecord(hash: Hashing.digest(.model, [1]), blob: Hashing.digest(.blob, [1]))
        var store = MemoryStore(entries: try Ledger.genesisState(accounts: [(world.users[0].publicKey, 10_000)], validators: world.validators.map(\.publicKey), model: theta0))
        var position: UInt64 = 0
        func run(_ payload: [[UInt8]], time: UInt64) throws -> LeaderExecution {
            var overlay = Overlay()
            let result = try ledger.execute([DeliveredVertex(position: position, payload: payload)], leaderTimeMs: time,
                                            beacon: .zero, store: store, overlay: &overlay, verify: world.verify)
            store.commit(overlay)
            position += 1
            return result
        }
        _ = try run([world.record(world.users[0], .register(Register(name: "t")))], time: 1)
        let record = world.record(world.users[0], .contribution(Contribution(baseWindow: 0, blob: .zero, blobSize: 1,
            compression: CompressionParameters(chunkSize: 4096, topK: 64, valueBits: 8, indexBits: 16), assignment: .zero)))
        _ = try run([record], time: 2)
        let id = Hashing.digest(.record, record)
        let evaluations = (0 ..< 4).map { v in Evaluation(contribution: id, own: LossPair(before: 2, after: 1), random: LossPair(before: 2, after: 1.5),
                                                          simHash: [UInt8](repeating: 1, count: 32), flags: [], salt: Hashing.digest(.evaluationCommitment, [UInt8(v)])) }
        _ = try run((0 ..< 4).map { world.record(world.validators[$0], .evaluationCommit(EvaluationCommit(contribution: id, commitment: evaluations[$0].commitment))) }, time: 3)
        _ = try run([], time: 9)
        _ = try run([], time: 13)
        _ = try run((0 ..< 4).map { world.record(world.validators[$0], .evaluation(evaluations[$0])) }, time: 14)
        let before = store.root
        #expect(throws: Missing.self) { try run([], time: 17) }
        #expect(store.root == before)
    }
}
