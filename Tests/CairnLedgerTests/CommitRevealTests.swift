import CairnCore
import CairnCrypto
import CairnLedger
import Testing

/// Evaluations are committed, then revealed (ARCHITECTURE §6, D47): the phases follow the consensus
/// clock, a reveal must open its validator's own commitment, and nothing is accepted out of phase.
@Suite("Ledger: evaluation commit–reveal")
struct CommitRevealTests {
    static func evaluation(of contribution: Digest, drop: Float, salt: UInt8) -> Evaluation {
        Evaluation(contribution: contribution, own: LossPair(before: 2.5, after: 2.5 - drop), random: LossPair(before: 2.5, after: 2.5 - drop / 2),
                   simHash: [UInt8](repeating: 0x5a, count: 32), flags: [], salt: Hashing.digest(.evaluationCommitment, [salt]))
    }

    /// A world with window 0 opened at time 1, a registered trainer and its contribution (id
    /// returned) committed in window 0 at time 2; the next position is 2.
    static func contribution(seed: UInt64) throws -> (World, MemoryStore, Digest) {
        var world = World(seed: seed, windowMs: 8)
        var store = MemoryStore(entries: world.genesis)
        let trainer = world.users[0]
        _ = try world.execute([world.record(trainer, .register(Register(name: "trainer")))], time: 1, in: &store)
        let record = world.record(trainer, .contribution(Contribution(
            baseWindow: 0, blob: .zero, blobSize: 100,
            compression: CompressionParameters(chunkSize: 4096, topK: 64, valueBits: 8, indexBits: 16), assignment: .zero)))
        _ = try world.execute([record], position: 1, time: 2, in: &store)
        return (world, store, Hashing.digest(.record, record))
    }

    @Test("commitments in the contribution's window and the first three quarters of the next, reveals in the last quarter; mismatched, uncommitted, late, duplicate and foreign records are rejected with their reasons")
    func phases() throws {
        var (world, store, c) = try Self.contribution(seed: 21)
        let trainer = world.users[0], v = world.validators
        let honest = (0 ..< 4).map { Self.evaluation(of: c, drop: 0.25, salt: UInt8($0)) }

        // Window 0: validator 0 commits; its reveal is too early.
        let early = try world.execute([
            world.record(v[0], .evaluationCommit(EvaluationCommit(contribution: c, commitment: world.commitment(honest[0], by: 0)))),
            world.record(v[0], .evaluation(honest[0])),
            world.record(v[1], .evaluationCommit(EvaluationCommit(contribution: .zero, commitment: world.commitment(honest[1], by: 1)))),
            world.record(trainer, .evaluationCommit(EvaluationCommit(contribution: c, commitment: world.commitment(honest[1], by: 1)))),
        ], position: 2, time: 3, in: &store)
        #expect(early.records.indices.map { reason(early, $0) } == [nil, .wrongPhase, .unknownContribution, .notValidator])

        #expect(try world.execute([], position: 3, time: 9, in: &store).closedWindows == [0])  // window 1: 9 … 17, deadline 15
        // Before the deadline of window 1: commitments still count; a second one from validator 0 does not.
        let late = try world.execute([
            world.record(v[1], .evaluationCommit(EvaluationCommit(contribution: c, commitment: world.commitment(honest[1], by: 1)))),
            world.record(v[2], .evaluationCommit(EvaluationCommit(contribution: c, commitment: world.commitment(honest[2], by: 2)))),
            world.record(v[0], .evaluationCommit(EvaluationCommit(contribution: c, commitment: world.commitment(honest[3], by: 0)))),
        ], position: 4, time: 12, in: &store)
        #expect(late.records.indices.map { reason(late, $0) } == [nil, nil, .duplicateCommitment])

        _ = try world.execute([], position: 5, time: 15, in: &store)  // the clock reaches the deadline
        var altered = honest[2]
        altered.random.after -= 0.01  // validator 2 changes its losses after seeing the others
        let reveals = try world.execute([
            world.record(v[3], .evaluationCommit(EvaluationCommit(contribution: c, commitment: world.commitment(honest[3], by: 3)))),  // after the deadline
            world.record(v[0], .evaluation(honest[0])),
            world.record(v[1], .evaluation(honest[0])),  // validator 0's evaluation, copied from the DAG
            world.record(v[2], .evaluation(altered)),
            world.record(v[3], .evaluation(honest[3])),
            world.record(v[0], .evaluation(honest[0])),  // the same evaluation again, with a new nonce
        ], position: 6, time: 16, in: &store)
        #expect(reveals.records.indices.map { reason(reveals, $0) } == [.wrongPhase, nil, .revealMismatch, .revealMismatch, .noCommitment, .duplicateEvaluation])
        let stored = try #require(store.state[StateKey.evaluation(contribution: c, validator: 0)])
        #expect(try StoredEvaluation(canonicalBytes: stored) == StoredEvaluation(evaluation: honest[0], window: 0))
        #expect(store.state[StateKey.evaluation(contribution: c, validator: 1)] == nil)

        // Window 2: window 0's evaluations are closed.
        #expect(try world.execute([], position: 7, time: 17, in: &store).closedWindows == [1])
        let closed = try world.execute([world.record(v[1], .evaluation(honest[1]))], position: 8, time: 18, in: &store)
        #expect(reason(closed, 0) == .wrongPhase)
    }

    @Test("the commitment binds the chain, the window, the validator, every field and the salt")
    func binding() {
        let chain = Hashing.digest(.genesis, [1]), other = Hashing.digest(.genesis, [2])
        let keys = (0 ..< 2).map { try! SigningKey(seed: [UInt8](repeating: UInt8($0 + 1), count: 32)).publicKey }
        let base = Self.evaluation(of: Hashing.digest(.record, [1]), drop: 0.25, salt: 0)
        let reference = base.commitment(chain: chain, window: 5, validator: keys[0])
        #expect(base.commitment(chain: other, window: 5, validator: keys[0]) != reference)
        #expect(base.commitment(chain: chain, window: 6, validator: keys[0]) != reference)
        #expect(base.commitment(chain: chain, window: 5, validator: keys[1]) != reference)
        #expect(base.commitment(chain: chain, window: 5, validator: keys[0]) == reference)
        var variants: [Evaluation] = []
        var e = base; e.contribution = Hashing.digest(.record, [2]); variants.append(e)
        e = base; e.own.before = 2.4; variants.append(e)
        e = base; e.own.after = 2.4; variants.append(e)
        e = base; e.random.before = 2.4; variants.append(e)
        e = base; e.random.after = 2.4; variants.append(e)
        e = base; e.simHash[31] ^= 1; variants.append(e)
        e = base; e.simHash.removeLast(); variants.append(e)
        e = base; e.flags = .nonFinite; variants.append(e)
        e = base; e.salt = Hashing.digest(.evaluationCommitment, [1]); variants.append(e)
        let commitments = Set(([base] + variants).map { $0.commitment(chain: chain, window: 5, validator: keys[0]) })
        #expect(commitments.count == variants.count + 1)
    }

    @Test("finalization at the next window's close: the agreeing reveals form the quorum and set the score; a lazy validator is flagged outside it, one that never revealed is flagged unrevealed")
    func finalization() throws {
        var (world, store, c) = try Self.contribution(seed: 22)
        let v = world.validators
        var evaluations = (0 ..< 4).map { Self.evaluation(of: c, drop: 0.25, salt: UInt8($0)) }
        evaluations[1].simHash[0] ^= 1                      // a last-bit difference: still agrees
        evaluations[1].random.after += 0.001
        evaluations[2].simHash = [UInt8](repeating: 0xa5, count: 32)  // lazy: Δ never applied
        _ = try world.execute((0 ..< 4).map { world.record(v[$0], .evaluationCommit(EvaluationCommit(contribution: c, commitment: world.commitment(evaluations[$0], by: $0)))) },
                              position: 2, time: 3, in: &store)
        _ = try world.execute([], position: 3, time: 9, in: &store)   // window 0 closes; nothing of it is final yet
        #expect(store.state[StateKey.contributionOutcome(c)] == nil)
        _ = try world.execute([], position: 4, time: 15, in: &store)  // reveal phase
        let reveals = try world.execute((0 ..< 3).map { world.record(v[$0], .evaluation(evaluations[$0])) }, position: 5, time: 16, in: &store)
        #expect(reveals.records.allSatisfy { $0.outcome == .accepted })  // validator 3 never reveals
        #expect(try world.execute([], position: 6, time: 17, in: &store).closedWindows == [1])
        let outcome = try EvaluationQuorum.Outcome(canonicalBytes: #require(store.state[StateKey.contributionOutcome(c)]))
        // Only validators 0 and 1 agree: 2 < 2f+1 = 3, so no score.
        #expect(outcome.noScore == .noQuorum && outcome.members.isEmpty)
        #expect(try ValidatorFlags(canonicalBytes: #require(store.state[StateKey.validatorFlags(window: 0, validator: 3)])) == ValidatorFlags(unrevealed: 1))
        #expect(store.state[StateKey.validatorFlags(window: 0, validator: 2)] == nil)  // no quorum formed: nobody is outside one

        // The same with validator 3 revealing honestly: 0, 1, 3 form the quorum, 2 is flagged.
        var (again, second, _) = try Self.contribution(seed: 22)
        _ = try again.execute((0 ..< 4).map { again.record(v[$0], .evaluationCommit(EvaluationCommit(contribution: c, commitment: again.commitment(evaluations[$0], by: $0)))) },
                              position: 2, time: 3, in: &second)
        _ = try again.execute([], position: 3, time: 9, in: &second)
        _ = try again.execute([], position: 4, time: 15, in: &second)
        _ = try again.execute((0 ..< 4).map { again.record(v[$0], .evaluation(evaluations[$0])) }, position: 5, time: 16, in: &second)
        _ = try again.execute([], position: 6, time: 17, in: &second)
        let agreed = try EvaluationQuorum.Outcome(canonicalBytes: #require(second.state[StateKey.contributionOutcome(c)]))
        #expect(agreed.members == [0, 1, 3])
        #expect(agreed.score == EvaluationQuorum.improvement(evaluations[0].random))  // lower median of 0.05, 0.0496, 0.05
        #expect(agreed.indicator == 1)  // own-data improvement 0.1 > random 0.05
        #expect(try ValidatorFlags(canonicalBytes: #require(second.state[StateKey.validatorFlags(window: 0, validator: 2)])) == ValidatorFlags(outsideQuorum: 1))
        #expect(second.state[StateKey.validatorFlags(window: 0, validator: 3)] == nil)
    }

    @Test("a validator that copies another's commitment and then its reveal byte for byte opens nothing: reveal_mismatch, flagged unrevealed, outside the quorum (D59, attack 1)")
    func copiedCommitment() throws {
        var (world, store, c) = try Self.contribution(seed: 23)
        let v = world.validators
        let honest = (0 ..< 4).map { Self.evaluation(of: c, drop: 0.25, salt: UInt8($0)) }
        // Validators 0, 2, 3 commit honestly; validator 1 evaluates nothing and copies validator 0's commitment.
        let copied = world.commitment(honest[0], by: 0)
        let commits = try world.execute([0, 2, 3].map { world.record(v[$0], .evaluationCommit(EvaluationCommit(contribution: c, commitment: world.commitment(honest[$0], by: $0)))) }
                                        + [world.record(v[1], .evaluationCommit(EvaluationCommit(contribution: c, commitment: copied)))],
                                        position: 2, time: 3, in: &store)
        #expect(commits.records.allSatisfy { $0.outcome == .accepted })  // a commitment is opaque: the copy lands
        _ = try world.execute([], position: 3, time: 9, in: &store)
        _ = try world.execute([], position: 4, time: 15, in: &store)
        // Validator 0 reveals; validator 1 then submits the same evaluation, salt included.
        let reveals = try world.execute([world.record(v[0], .evaluation(honest[0])), world.record(v[1], .evaluation(honest[0])),
                                         world.record(v[2], .evaluation(honest[2])), world.record(v[3], .evaluation(honest[3]))],
                                        position: 5, time: 16, in: &store)
        #expect(reveals.records.indices.map { reason(reveals, $0) } == [nil, .revealMismatch, nil, nil])
        #expect(store.state[StateKey.evaluation(contribution: c, validator: 1)] == nil)
        #expect(try world.execute([], position: 6, time: 17, in: &store).closedWindows == [1])
        let outcome = try EvaluationQuorum.Outcome(canonicalBytes: #require(store.state[StateKey.contributionOutcome(c)]))
        #expect(outcome.members == [0, 2, 3])
        #expect(try ValidatorFlags(canonicalBytes: #require(store.state[StateKey.validatorFlags(window: 0, validator: 1)])) == ValidatorFlags(unrevealed: 1))
    }
}
