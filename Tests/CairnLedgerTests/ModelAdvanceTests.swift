import CairnCore
import CairnCrypto
import CairnLedger
import Testing

/// A transition that records its calls and names the next model after its inputs.
final class RecordingTransition: ModelTransition, @unchecked Sendable {  // mutated only inside a test's single thread
    var calls: [(base: ModelRecord, applied: [AcceptedContribution], window: UInt64)] = []
    /// Kept index sets by blob (the copycat rule); a blob not listed does not decode.
    var indices: [Digest: [UInt32]] = [:]
    /// Δ norms by blob (the oversize rule); 1 when not listed.
    var norms: [Digest: Double] = [:]

    func profile(ofBlob blob: Digest) throws -> ContributionProfile? {
        indices[blob].map { ContributionProfile(indices: $0, norm: norms[blob] ?? 1) }
    }

    func next(from base: ModelRecord, applying contributions: [AcceptedContribution], window: UInt64) throws -> ModelRecord {
        calls.append((base, contributions, window))
        let digest = Hashing.digest(.model, base.hash.bytes + contributions.flatMap(\.id.bytes))
        return ModelRecord(hash: digest, blob: Hashing.digest(.blob, digest.bytes))
    }
}

/// A ledger over an in-memory store, executing one committed leader per `run`.
struct LeaderRunner {
    let ledger: Ledger
    var store: MemoryStore
    let verify: (SignedRecord) -> Bool
    var position: UInt64 = 0

    init(_ ledger: Ledger, _ store: MemoryStore, verify: @escaping (SignedRecord) -> Bool) {
        self.ledger = ledger
        self.store = store
        self.verify = verify
    }

    mutating func run(_ payload: [[UInt8]], time: UInt64, beacon: Digest = .zero) throws -> LeaderExecution {
        var overlay = Overlay()
        let result = try ledger.execute([DeliveredVertex(position: position, payload: payload)], leaderTimeMs: time,
                                        beacon: beacon, store: store, overlay: &overlay, verify: verify)
        store.commit(overlay)
        position += 1
        return result
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
        var runner = LeaderRunner(ledger, MemoryStore(entries: genesis), verify: world.verify)
        func run(_ payload: [[UInt8]], time: UInt64) throws -> LeaderExecution {
            try runner.run(payload, time: time, beacon: Hashing.digest(.coinLeader, time.canonicalBytes))
        }
        func model(_ window: UInt64) throws -> ModelRecord? {
            try runner.store.state[StateKey.model(window)].map { try ModelRecord(canonicalBytes: $0) }
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
            world.record(world.validators[v], .evaluationCommit(EvaluationCommit(contribution: ids[i], commitment: world.commitment(evaluations[i][v], by: v)))) } }, time: 3)
        #expect(try run([], time: 9).closedWindows == [0])
        #expect(try model(1) == theta0)                  // window 0 had nothing finalized: carried over
        #expect(transition.calls.isEmpty)
        _ = try run([], time: 15)
        _ = try run(ids.indices.flatMap { i in (0 ..< 4).map { v in world.record(world.validators[v], .evaluation(evaluations[i][v])) } }, time: 16)
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
            func profile(ofBlob blob: Digest) throws -> ContributionProfile? { nil }
        }
        // A state where window 1 closes with one accepted contribution of window 0, built by the
        // recording transition's test flow in miniature: one trainer, four agreeing reveals.
        var world = World(seed: 32, users: 1, windowMs: 8)
        let ledger = Ledger(parameters: world.ledger.parameters, transition: Failing())
        let theta0 = ModelRecord(hash: Hashing.digest(.model, [1]), blob: Hashing.digest(.blob, [1]))
        let store = MemoryStore(entries: try Ledger.genesisState(accounts: [(world.users[0].publicKey, 10_000)], validators: world.validators.map(\.publicKey), model: theta0))
        var runner = LeaderRunner(ledger, store, verify: world.verify)
        func run(_ payload: [[UInt8]], time: UInt64) throws -> LeaderExecution { try runner.run(payload, time: time) }
        _ = try run([world.record(world.users[0], .register(Register(name: "t")))], time: 1)
        let record = world.record(world.users[0], .contribution(Contribution(baseWindow: 0, blob: .zero, blobSize: 1,
            compression: CompressionParameters(chunkSize: 4096, topK: 64, valueBits: 8, indexBits: 16), assignment: .zero)))
        _ = try run([record], time: 2)
        let id = Hashing.digest(.record, record)
        let evaluations = (0 ..< 4).map { v in Evaluation(contribution: id, own: LossPair(before: 2, after: 1), random: LossPair(before: 2, after: 1.5),
                                                          simHash: [UInt8](repeating: 1, count: 32), flags: [], salt: Hashing.digest(.evaluationCommitment, [UInt8(v)])) }
        _ = try run((0 ..< 4).map { world.record(world.validators[$0], .evaluationCommit(EvaluationCommit(contribution: id, commitment: world.commitment(evaluations[$0], by: $0)))) }, time: 3)
        _ = try run([], time: 9)
        _ = try run([], time: 15)
        _ = try run((0 ..< 4).map { world.record(world.validators[$0], .evaluation(evaluations[$0])) }, time: 16)
        let before = runner.store.root
        #expect(throws: Missing.self) { try run([], time: 17) }
        #expect(runner.store.root == before)
    }

    @Test("copycats (D51): the later of two contributions whose index sets overlap ≥ the genesis threshold is marked and left out of the outer step, whatever its score; a trainer's second contribution in a window is rejected")
    func copycats() throws {
        let transition = RecordingTransition()
        var world = World(seed: 33, users: 4, windowMs: 8)
        var parameters = world.ledger.parameters
        parameters.maxAggregated = 2
        parameters.copycatOverlapPPM = 500_000
        let ledger = Ledger(parameters: parameters, transition: transition)
        let theta0 = ModelRecord(hash: Hashing.digest(.model, [0]), blob: Hashing.digest(.blob, [0]))
        let store = MemoryStore(entries: try Ledger.genesisState(accounts: world.users.map { ($0.publicKey, 10_000) },
                                                                 validators: world.validators.map(\.publicKey), model: theta0))
        var runner = LeaderRunner(ledger, store, verify: world.verify)
        func run(_ payload: [[UInt8]], time: UInt64) throws -> LeaderExecution { try runner.run(payload, time: time) }
        _ = try run(world.users.prefix(3).enumerated().map { world.record($1, .register(Register(name: "t\($0)"))) }, time: 1)
        // Trainer 0 keeps indices 0…99; trainer 1 60…159 (40% shared with 0: below the threshold);
        // trainer 2 50…149 (50% shared with 0: exactly the threshold) and scores best.
        let ranges: [Range<UInt32>] = [0 ..< 100, 60 ..< 160, 50 ..< 150]
        var ids: [Digest] = []
        var records: [[UInt8]] = []
        for (i, trainer) in world.users.prefix(3).enumerated() {
            let blob = Hashing.digest(.blob, [UInt8(i)])
            transition.indices[blob] = Array(ranges[i])
            let record = world.record(trainer, .contribution(Contribution(
                baseWindow: 0, blob: blob, blobSize: 100,
                compression: CompressionParameters(chunkSize: 4096, topK: 64, valueBits: 8, indexBits: 16), assignment: .zero)))
            records.append(record)
            ids.append(Hashing.digest(.record, record))
        }
        // A second contribution of trainer 0 in the same window, after the others.
        records.append(world.record(world.users[0], .contribution(Contribution(
            baseWindow: 0, blob: Hashing.digest(.blob, [9]), blobSize: 100,
            compression: CompressionParameters(chunkSize: 4096, topK: 64, valueBits: 8, indexBits: 16), assignment: .zero))))
        let executed = try run(records, time: 2)
        #expect(executed.records.map(\.outcome).prefix(3).allSatisfy { $0 == .accepted })
        guard case let .rejected(rejection)? = executed.records.last?.outcome else { Issue.record("the second contribution was accepted"); return }
        #expect(rejection.reason == .duplicateContribution && rejection.detail.contains("window 0"))
        let gains: [Float] = [0.1, 0.2, 0.3]
        let evaluations = ids.indices.map { i in
            (0 ..< 4).map { v in Evaluation(contribution: ids[i], own: LossPair(before: 2, after: 2 - 2 * gains[i]), random: LossPair(before: 2, after: 2 - gains[i]),
                                             simHash: [UInt8](repeating: 0x3c, count: 32), flags: [], salt: Hashing.digest(.evaluationCommitment, [UInt8(i), UInt8(v)])) }
        }
        _ = try run(ids.indices.flatMap { i in (0 ..< 4).map { v in
            world.record(world.validators[v], .evaluationCommit(EvaluationCommit(contribution: ids[i], commitment: world.commitment(evaluations[i][v], by: v)))) } }, time: 3)
        _ = try run([], time: 9)
        _ = try run([], time: 15)
        _ = try run(ids.indices.flatMap { i in (0 ..< 4).map { v in world.record(world.validators[v], .evaluation(evaluations[i][v])) } }, time: 16)
        #expect(try run([], time: 17).closedWindows == [1])
        func outcome(_ id: Digest) throws -> EvaluationQuorum.Outcome {
            try EvaluationQuorum.Outcome(canonicalBytes: #require(runner.store.state[StateKey.contributionOutcome(id)]))
        }
        #expect(try outcome(ids[2]).copycatOf == ids[0])
        #expect(try outcome(ids[2]).score ?? 0 > 0, "the copycat keeps its quorum's score on record")
        #expect(try outcome(ids[0]).copycatOf == nil && outcome(ids[1]).copycatOf == nil)
        let call = try #require(transition.calls.first)
        #expect(Set(call.applied.map(\.id)) == [ids[0], ids[1]], "the copycat was aggregated")
    }

    @Test("index-set overlap in parts per million of the smaller set: bounds and edge cases")
    func overlap() {
        #expect(Copycats.overlapPPM([], [1, 2]) == 0)
        #expect(Copycats.overlapPPM([1, 2, 3], [1, 2, 3]) == 1_000_000)
        #expect(Copycats.overlapPPM([1, 2, 3, 4], [3, 4]) == 1_000_000)     // a subset copies fully
        #expect(Copycats.overlapPPM([1, 2, 3], [4, 5, 6]) == 0)
        #expect(Copycats.overlapPPM([0, 1, 2], [2, 3, 4]) == 333_333)      // rounded down
        #expect(Copycats.overlapPPM([.max - 1, .max], [.max]) == 1_000_000)
    }
}
