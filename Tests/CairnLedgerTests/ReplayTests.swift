import CairnCore
import CairnCrypto
@testable import CairnLedger
import Testing

/// Replays (issue 26, attack 4; D59): a blob is named by one contribution ever, and the copycat rule
/// compares a window's contributions with the previous window's too.
@Suite("Ledger: replayed blobs and cross-window copycats")
struct ReplayTests {
    static let compression = CompressionParameters(chunkSize: 4096, topK: 64, valueBits: 8, indexBits: 16)

    @Test("a blob named once is refused again (duplicate_blob) — by another trainer in the same window, or by its own trainer later; a re-valued replay of a previous window's Δ is a copycat of it and stays out of the step")
    func replays() throws {
        var world = World(seed: 61, users: 3, windowMs: 8)
        let transition = RecordingTransition()
        let theta0 = ModelRecord(hash: Hashing.digest(.model, [0]), blob: Hashing.digest(.blob, [0]), clipNorm: 1)
        let genesis = try Ledger.genesisState(accounts: world.users.map { ($0.publicKey, 10_000) }, validators: world.validators.map(\.publicKey), model: theta0)
        var runner = LeaderRunner(Ledger(parameters: world.ledger.parameters, transition: transition), MemoryStore(entries: genesis), verify: world.verify)
        let (a, b, c) = (world.users[0], world.users[1], world.users[2])
        _ = try runner.run([a, b, c].enumerated().map { world.record($1, .register(Register(name: "t\($0)"))) }, time: 1)
        func contribution(_ key: SigningKey, blob: Digest, base: UInt64) -> [UInt8] {
            world.record(key, .contribution(Contribution(baseWindow: base, blob: blob, blobSize: 100, compression: Self.compression, assignment: .zero)))
        }
        let x = Hashing.digest(.blob, [1]), y = Hashing.digest(.blob, [2]), z = Hashing.digest(.blob, [3])
        transition.indices[x] = Array(0 ..< 100)
        transition.indices[y] = Array(0 ..< 100)          // y is x re-valued: the same kept indices
        transition.indices[z] = Array(5000 ..< 5100)

        // Window 0: a names x; b names the same blob.
        let first = try runner.run([contribution(a, blob: x, base: 0), contribution(b, blob: x, base: 0)], time: 2)
        #expect(first.records.indices.map { reason(first, $0) } == [nil, .duplicateBlob])
        let original = first.records[0].id
        func evaluate(_ id: Digest, window: UInt64) -> [Evaluation] {
            (0 ..< 4).map { v in Evaluation(contribution: id, own: LossPair(before: 2, after: 1.6), random: LossPair(before: 2, after: 1.8),
                                            simHash: [UInt8](repeating: 9, count: 32), flags: [], salt: Hashing.digest(.evaluationCommitment, id.bytes + [UInt8(v)])) }
        }
        func commits(_ evaluations: [Evaluation], window: UInt64) -> [[UInt8]] {
            evaluations.enumerated().map { v, e in world.record(world.validators[v], .evaluationCommit(EvaluationCommit(contribution: e.contribution, commitment: world.commitment(e, by: v, window: window)))) }
        }
        let e0 = evaluate(original, window: 0)
        _ = try runner.run(commits(e0, window: 0), time: 3)
        #expect(try runner.run([], time: 9).closedWindows == [0])

        // Window 1: a names x again (its own blob, one window later); b replays x re-valued as y;
        // c submits its own z.
        let second = try runner.run([contribution(a, blob: x, base: 1), contribution(b, blob: y, base: 1), contribution(c, blob: z, base: 1)], time: 10)
        #expect(second.records.indices.map { reason(second, $0) } == [.duplicateBlob, nil, nil])
        let (replay, own) = (second.records[1].id, second.records[2].id)
        let e1 = evaluate(replay, window: 1), e2 = evaluate(own, window: 1)
        _ = try runner.run(commits(e1, window: 1) + commits(e2, window: 1), time: 11)
        _ = try runner.run([], time: 15)
        _ = try runner.run(e0.enumerated().map { world.record(world.validators[$0], .evaluation($1)) }, time: 16)
        #expect(try runner.run([], time: 17).closedWindows == [1])  // window 0 finalized: x aggregated
        _ = try runner.run([], time: 23)
        _ = try runner.run((e1 + e2).enumerated().map { world.record(world.validators[$0 % 4], .evaluation($1)) }, time: 24)
        #expect(try runner.run([], time: 25).closedWindows == [2])  // window 1 finalized

        let replayed = try EvaluationQuorum.Outcome(canonicalBytes: #require(runner.store.state[StateKey.contributionOutcome(replay)]))
        #expect(replayed.copycatOf == original, "a re-valued replay of the previous window's Δ is its copycat")
        #expect(try EvaluationQuorum.Outcome(canonicalBytes: #require(runner.store.state[StateKey.contributionOutcome(own)])).copycatOf == nil)
        let step = try #require(transition.calls.last)
        #expect(step.applied.map(\.id) == [own], "the replay was aggregated a second time: \(step.applied.map(\.id))")
        #expect(runner.store.state[StateKey.blobContribution(x)] == original.bytes)
    }
}
