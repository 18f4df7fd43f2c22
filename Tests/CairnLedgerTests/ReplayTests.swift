import CairnCore
import CairnCrypto
@testable import CairnLedger
import Testing

/// Replays (D59, attack 4; D59): a blob is named by one contribution ever, and the copycat rule
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

    @Test("at most max_contributions_per_window contributions land in a window (window_full after), each pays the burned contribution fee; a trainer that cannot pay is refused; supply stays conserved (D59, attack 3)")
    func capAndFee() throws {
        var world = World(seed: 62, users: 4, windowMs: 8)
        var parameters = world.ledger.parameters
        parameters.maxContributionsPerWindow = 2
        parameters.contributionFee = 500
        var store = MemoryStore(entries: try Ledger.genesisState(accounts: world.users.enumerated().map { ($1.publicKey, $0 == 3 ? 600 : 10_000) },
                                                                 validators: world.validators.map(\.publicKey)))
        var runner = LeaderRunner(Ledger(parameters: parameters), store, verify: world.verify)
        _ = try runner.run(world.users.enumerated().map { world.record($1, .register(Register(name: "t\($0)"))) }, time: 1)
        func contribution(_ user: Int, window: UInt64) -> [UInt8] {
            world.record(world.users[user], .contribution(Contribution(baseWindow: window, blob: Hashing.digest(.blob, [UInt8(user), UInt8(window)]), blobSize: 100,
                                                              compression: Self.compression, assignment: .zero)))
        }
        // User 3 holds 600 − 100 (registration) = 500: exactly one fee.
        let first = try runner.run([contribution(3, window: 0), contribution(0, window: 0), contribution(1, window: 0)], time: 2)
        #expect(first.records.indices.map { reason(first, $0) } == [nil, nil, .windowFull])
        store = runner.store
        #expect(store.account(world.users[3].publicKey)?.balance == 0 && store.account(world.users[0].publicKey)?.balance == 10_000 - 100 - 500)
        #expect(store.account(world.users[1].publicKey)?.balance == 10_000 - 100)  // a refused contribution pays nothing
        let supply = try Supply(canonicalBytes: #require(store.state[StateKey.supply]))
        #expect(supply.burned == 4 * 100 + 2 * 500)
        let total = store.state.filter { $0.key.starts(with: StateKey.accounts) }.map { try! Account(canonicalBytes: $0.value).balance }.reduce(0, +)
        #expect(total == supply.circulating)
        // The next window takes two more; user 3 cannot pay.
        _ = try runner.run([], time: 9)
        let second = try runner.run([contribution(3, window: 1), contribution(1, window: 1), contribution(2, window: 1)], time: 10)
        #expect(second.records.indices.map { reason(second, $0) } == [.insufficientBalance, nil, nil])
        #expect(second.records[0].outcome == .rejected(Rejection(.insufficientBalance, "balance 0 < contribution fee 500")))
    }
}
