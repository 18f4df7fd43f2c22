import CairnCore
import CairnCrypto
import CairnLedger
import CairnTestKit
import Testing

typealias MemoryStore = InMemoryLedgerStore

extension InMemoryLedgerStore {
    func account(_ key: PublicKey) -> Account? { state[StateKey.account(key)].flatMap { try? Account(canonicalBytes: $0) } }
}

/// Keys, a ledger and helpers to sign records.
struct World {
    let chain = Hashing.digest(.genesis, Array("ledger-test".utf8))
    let validators: [SigningKey]
    let users: [SigningKey]
    let ledger: Ledger
    let genesis: [(key: [UInt8], value: [UInt8])]
    var nonces: [PublicKey: UInt64] = [:]

    init(seed: UInt64, users: Int = 4, fee: UInt64 = 100, windowMs: UInt64 = 8) {
        func key(_ label: String, _ i: Int) -> SigningKey {
            try! SigningKey(seed: Array(SHA256.hash(Array("\(label)-\(seed)-\(i)".utf8)).bytes))
        }
        validators = (0 ..< 4).map { key("validator", $0) }
        self.users = (0 ..< users).map { key("user", $0) }
        var parameters = Ledger.Parameters(chain: chain, validators: validators.map(\.publicKey), registrationFee: fee, windowMs: windowMs)
        parameters.maxContributionBytes = 1 << 20
        ledger = Ledger(parameters: parameters)
        genesis = try! Ledger.genesisState(accounts: self.users.map { ($0.publicKey, 10_000) }, validators: validators.map(\.publicKey))
    }

    func verify(_ record: SignedRecord) -> Bool {
        record.author.verify(record.signature, for: SignedRecord.signingBytes(chain: chain, author: record.author, nonce: record.nonce, body: record.body))
    }

    /// A signed record with the author's next nonce (or `nonce` when given).
    mutating func record(_ author: SigningKey, _ body: RecordBody, nonce: UInt64? = nil) -> [UInt8] {
        let n = nonce ?? nonces[author.publicKey, default: 0]
        if nonce == nil { nonces[author.publicKey] = n + 1 }
        let bytes = body.canonicalBytes
        let signature = author.sign(SignedRecord.signingBytes(chain: chain, author: author.publicKey, nonce: n, body: bytes))
        return SignedRecord(author: author.publicKey, nonce: n, body: bytes, signature: signature).canonicalBytes
    }

    /// Validator `v`'s commitment to `evaluation` of a contribution made in `window` (D59).
    func commitment(_ evaluation: Evaluation, by v: Int, window: UInt64 = 0) -> Digest {
        evaluation.commitment(chain: chain, window: window, validator: validators[v].publicKey)
    }

    /// Executes one leader's payload at consensus time `time` (its beacon derived from the time).
    func execute(_ payload: [[UInt8]], position: UInt64 = 0, time: UInt64 = 1, in store: inout MemoryStore) throws -> LeaderExecution {
        var overlay = Overlay()
        let result = try ledger.execute([DeliveredVertex(position: position, payload: payload)], leaderTimeMs: time,
                                        beacon: Hashing.digest(.coinLeader, time.canonicalBytes), store: store, overlay: &overlay, verify: verify)
        store.commit(overlay)
        return result
    }
}

func outcome(_ result: LeaderExecution, _ index: Int) -> RecordOutcome { result.records[index].outcome }
func reason(_ result: LeaderExecution, _ index: Int) -> Rejection.Reason? {
    if case let .rejected(rejection) = result.records[index].outcome { rejection.reason } else { nil }
}

@Suite("Ledger execution")
struct LedgerTests {
    @Test("record bodies round-trip; bad kinds, names and flags are refused with the field named")
    func bodies() throws {
        let bodies: [RecordBody] = [
            .register(Register(name: "trainer-7")),
            .transfer(Transfer(to: PublicKey(uncheckedBytes: [UInt8](repeating: 9, count: 32)), amount: 42)),
            .contribution(Contribution(baseWindow: 3, blob: Digest.zero, blobSize: 1234,
                                       compression: CompressionParameters(chunkSize: 4096, topK: 64, valueBits: 8, indexBits: 16), assignment: Digest.zero)),
            .evaluation(Evaluation(contribution: Digest.zero, own: LossPair(before: 2.5, after: 2.25), random: LossPair(before: 2.5, after: 2.4),
                                   simHash: [UInt8](repeating: 0xa5, count: 32), flags: [.outOfSync], salt: Hashing.digest(.evaluationCommitment, [7]))),
            .checkpointVote(CheckpointVote(window: 9, sequenceHash: Digest.zero, stateRoot: Digest.zero, modelHash: Digest.zero)),
            .evaluationCommit(EvaluationCommit(contribution: Hashing.digest(.record, [1]), commitment: Hashing.digest(.evaluationCommitment, [2]))),
        ]
        for body in bodies { #expect(try RecordBody(canonicalBytes: body.canonicalBytes) == body) }
        #expect(Set(bodies.map(\.kind)) == Set(RecordBody.Kind.allCases))
        #expect(throws: CodecError.self) { try RecordBody(canonicalBytes: [RecordBody.version, 99]) }
        #expect(throws: CodecError.self) { try RecordBody(canonicalBytes: [1, 1]) }  // version 1 bodies are no longer read
        #expect(throws: CodecError.self) { try RecordBody(canonicalBytes: RecordBody.register(Register(name: "Upper")).canonicalBytes) }
        var badFlags = bodies[3].canonicalBytes
        badFlags[badFlags.count - 32 - 1] = 0x80  // the flags' last byte, before the 32-byte salt
        #expect(throws: CodecError.self) { try RecordBody(canonicalBytes: badFlags) }
    }

    @Test("every invalid-record kind is rejected with its reason, changes nothing, and execution goes on")
    func rejections() throws {
        var world = World(seed: 1)
        var store = MemoryStore(entries: world.genesis)
        let alice = world.users[0], bob = world.users[1]
        let stranger = try SigningKey(seed: [UInt8](repeating: 3, count: 32))
        var forged = try SignedRecord(canonicalBytes: world.record(alice, .transfer(Transfer(to: bob.publicKey, amount: 1)), nonce: 0))
        forged.signature = alice.sign([1, 2, 3])
        let before = store.root
        let result = try world.execute([
            forged.canonicalBytes,                                                                  // bad signature
            world.record(alice, .transfer(Transfer(to: bob.publicKey, amount: 1)), nonce: 1 << 21), // wrong nonce (too far ahead)
            world.record(stranger, .transfer(Transfer(to: bob.publicKey, amount: 1))),              // unknown account
            world.record(alice, .transfer(Transfer(to: bob.publicKey, amount: 10_001)), nonce: 0),  // insufficient balance
            world.record(alice, .contribution(Contribution(baseWindow: 0, blob: .zero, blobSize: 1,
                                                           compression: CompressionParameters(chunkSize: 4096, topK: 1, valueBits: 8, indexBits: 16),
                                                           assignment: .zero)), nonce: 0),          // unknown trainer
            world.record(alice, .transfer(Transfer(to: bob.publicKey, amount: 0)), nonce: 0),       // invalid amount
            world.record(alice, .checkpointVote(CheckpointVote(window: 0, sequenceHash: .zero, stateRoot: .zero, modelHash: .zero)), nonce: 0),  // not a validator
            world.record(world.validators[0], .checkpointVote(CheckpointVote(window: 0, sequenceHash: .zero, stateRoot: .zero, modelHash: .zero)), nonce: 0),  // window 0 still open
            [1, 2, 3],                                                                              // malformed
            // Correctly signed, but the body breaks the name rule: the API and the vote check
            // look only at the envelope and signature, so only execution can refuse it.
            world.record(alice, .register(Register(name: "Upper")), nonce: 0),
        ], time: 0, in: &store)  // time 0: the consensus clock does not move either
        #expect(result.records.map { reason(result, result.records.firstIndex(of: $0)!) } == [
            .badSignature, .wrongNonce, .unknownAccount, .insufficientBalance, .unknownTrainer, .invalidAmount, .notValidator, .wrongWindow, .malformed,
            .malformed,
        ])
        #expect(store.root == before)  // rejected records change no state
        #expect(store.state.count == world.genesis.count)
        #expect(store.account(alice.publicKey) == Account(balance: 10_000, nonce: 0))

        // Registration, then contributions that are too big or for a stale window.
        let next = try world.execute([
            world.record(alice, .register(Register(name: "alice")), nonce: 0),
            world.record(alice, .register(Register(name: "again")), nonce: 1),
            world.record(alice, .contribution(Contribution(baseWindow: 0, blob: .zero, blobSize: 2 << 20,
                                                           compression: CompressionParameters(chunkSize: 4096, topK: 1, valueBits: 8, indexBits: 16),
                                                           assignment: .zero)), nonce: 1),
            world.record(alice, .contribution(Contribution(baseWindow: 7, blob: .zero, blobSize: 10,
                                                           compression: CompressionParameters(chunkSize: 4096, topK: 1, valueBits: 8, indexBits: 16),
                                                           assignment: .zero)), nonce: 1),
            // Inner steps claimed (D60): 0 and one past genesis's maximum.
            world.record(alice, .contribution(Contribution(baseWindow: 0, blob: .zero, blobSize: 10,
                                                           compression: CompressionParameters(chunkSize: 4096, topK: 1, valueBits: 8, indexBits: 16),
                                                           assignment: .zero, innerSteps: 0)), nonce: 1),
            world.record(alice, .contribution(Contribution(baseWindow: 0, blob: .zero, blobSize: 10,
                                                           compression: CompressionParameters(chunkSize: 4096, topK: 1, valueBits: 8, indexBits: 16),
                                                           assignment: .zero, innerSteps: world.ledger.parameters.maxInnerSteps + 1)), nonce: 1),
            world.record(alice, .transfer(Transfer(to: bob.publicKey, amount: 5)), nonce: 1),
        ], in: &store)
        #expect(next.records.indices.map { reason(next, $0) } == [nil, .alreadyRegistered, .oversize, .wrongWindow, .invalidSteps, .invalidSteps, nil])
        #expect(store.account(alice.publicKey) == Account(balance: 10_000 - 100 - 5, nonce: 2))
        #expect(store.account(bob.publicKey) == Account(balance: 10_005, nonce: 0))

        // Nonces only go up, with gaps: 9 is fine, then 9 again or 4 is a replay.
        let jumps = try world.execute([
            world.record(alice, .transfer(Transfer(to: bob.publicKey, amount: 1)), nonce: 9),
            world.record(alice, .transfer(Transfer(to: bob.publicKey, amount: 2)), nonce: 9),
            world.record(alice, .transfer(Transfer(to: bob.publicKey, amount: 3)), nonce: 4),
            world.record(alice, .transfer(Transfer(to: bob.publicKey, amount: 4)), nonce: 10),
        ], position: 2, in: &store)
        #expect(jumps.records.indices.map { reason(jumps, $0) } == [nil, .wrongNonce, .wrongNonce, nil])
        #expect(store.account(alice.publicKey) == Account(balance: 10_000 - 100 - 5 - 1 - 4, nonce: 11))
    }

    @Test("a record seen earlier in the sequence is ignored, even in the same vertex")
    func duplicates() throws {
        var world = World(seed: 2)
        var store = MemoryStore(entries: world.genesis)
        let transfer = world.record(world.users[0], .transfer(Transfer(to: world.users[1].publicKey, amount: 7)))
        let first = try world.execute([transfer, transfer], in: &store)
        #expect(first.records.count == 1 && outcome(first, 0) == .accepted)
        let again = try world.execute([transfer], position: 1, in: &store)
        #expect(again.records.isEmpty)
        #expect(store.account(world.users[1].publicKey)?.balance == 10_007)
    }

    @Test("with the phased rules a leader's time counts for at most 8 × max_round_interval_ms per round since the previous leader: clocks at 2^64 − 1 move the clock by the rounds elapsed, never shut a window unseen (D59, attack 7)")
    func clockBoundPerRound() throws {
        let world = World(seed: 4, windowMs: 100_000)
        var parameters = world.ledger.parameters
        parameters.maxRoundIntervalMs = 1000
        parameters.phasedWindows = true  // the per-round bound comes with the phased rules
        let ledger = Ledger(parameters: parameters)
        var store = MemoryStore(entries: world.genesis)
        var position: UInt64 = 0
        func leader(round: UInt64, time: UInt64) throws -> LeaderExecution {
            var overlay = Overlay()
            defer { position += 1 }
            let result = try ledger.execute([DeliveredVertex(position: position, payload: [])], leaderTimeMs: time, leaderRound: round,
                                            beacon: Hashing.digest(.coinLeader, time.canonicalBytes), store: store, overlay: &overlay, verify: world.verify)
            store.commit(overlay)
            return result
        }
        func clock() throws -> UInt64 { try WindowState(canonicalBytes: #require(store.state[StateKey.window])).clockMs }
        _ = try leader(round: 1, time: 100_000)              // the first time sets the clock; window 0: 100 s … 200 s
        #expect(try clock() == 100_000)
        _ = try leader(round: 5, time: 102_000)              // honest: 2 s over 4 rounds, under the 32 s allowed
        #expect(try clock() == 102_000)
        #expect(try leader(round: 9, time: .max).closedWindows == [])   // 2^64 − 1: four rounds allow 32 s
        #expect(try clock() == 134_000)
        #expect(try leader(round: 10, time: .max).closedWindows == [])  // one round: 8 s
        #expect(try clock() == 142_000)
        _ = try leader(round: 11, time: 105_000)             // an earlier time: the clock never goes back
        #expect(try clock() == 142_000)
    }

    @Test("with the phased rules one leader moves the clock across at most one boundary of the open window, a window closes only once the previous window's reveals have landed (or after a fallback of leaders), and the next opens at the closing leader's time (D59)")
    func revealPhaseSpansLeaders() throws {
        var world = World(seed: 5, windowMs: 30)
        var parameters = world.ledger.parameters
        parameters.phasedWindows = true
        let ledger = Ledger(parameters: parameters)
        var store = MemoryStore(entries: world.genesis)
        var position: UInt64 = 0
        func leader(time: UInt64, _ payload: [[UInt8]] = []) throws -> [UInt64] {
            var overlay = Overlay()
            defer { position += 1 }
            let result = try ledger.execute([DeliveredVertex(position: position, payload: payload)], leaderTimeMs: time,
                                            beacon: Hashing.digest(.coinLeader, time.canonicalBytes), store: store, overlay: &overlay, verify: world.verify)
            store.commit(overlay)
            #expect(result.records.allSatisfy { $0.outcome == .accepted }, "\(result.records.map(\.outcome))")
            return result.closedWindows
        }
        func state() throws -> WindowState { try WindowState(canonicalBytes: #require(store.state[StateKey.window])) }
        // Window 0: 100 … 130, commit deadline 122 (¾ in). A contribution, committed to by all four validators.
        let trainer = world.users[0]
        #expect(try leader(time: 100, [world.record(trainer, .register(Register(name: "t")))]) == [])
        let record = world.record(trainer, .contribution(Contribution(baseWindow: 0, blob: Hashing.digest(.blob, [1]), blobSize: 10,
                                                                     compression: ReplayTests.compression, assignment: .zero)))
        #expect(try leader(time: 101, [record]) == [])
        let id = Hashing.digest(.record, record)
        let evaluations = (0 ..< 4).map { v in Evaluation(contribution: id, own: LossPair(before: 2, after: 1.5), random: LossPair(before: 2, after: 1.8),
                                                          simHash: [UInt8](repeating: 3, count: 32), flags: [], salt: Hashing.digest(.evaluationCommitment, [UInt8(v)])) }
        #expect(try leader(time: 110) == [])
        #expect(try leader(time: 135) == [])                 // past the end, but this leader only reaches the deadline
        #expect(try state().clockMs == 122 && state().revealLeaders == 1)
        #expect(try leader(time: 136) == [0])                // the end: nothing to reveal yet, so it closes
        #expect(try state() == WindowState(current: 1, openedAtPosition: 5, openedAtMs: 136, clockMs: 136, revealLeaders: 0))
        // Window 1: 136 … 166, deadline 158. Window 0's contribution: four commitments, then two reveals.
        #expect(try leader(time: 140, (0 ..< 4).map { world.record(world.validators[$0], .evaluationCommit(EvaluationCommit(contribution: id, commitment: world.commitment(evaluations[$0], by: $0)))) }) == [])
        #expect(try leader(time: 159) == [] && state().clockMs == 158)  // the deadline
        #expect(try leader(time: 160, [world.record(world.validators[0], .evaluation(evaluations[0])), world.record(world.validators[1], .evaluation(evaluations[1]))]) == [])
        #expect(try leader(time: 170) == [] && state().clockMs == 166)  // at the end, two of four reveals: open
        #expect(try leader(time: 171) == [])
        #expect(try leader(time: 172, [world.record(world.validators[2], .evaluation(evaluations[2]))]) == [1])  // a quorum revealed: closes
        #expect(try state().openedAtMs == 172 && state().current == 2)
        let outcome = try EvaluationQuorum.Outcome(canonicalBytes: #require(store.state[StateKey.contributionOutcome(id)]))
        #expect(outcome.members == [0, 1, 2])
        // Reveals that never come: window 2 (172 … 202) holds a contribution three validators
        // commit to and one reveals; the window closes after the fallback of twelve leaders.
        let second = world.record(trainer, .contribution(Contribution(baseWindow: 2, blob: Hashing.digest(.blob, [2]), blobSize: 10,
                                                                     compression: ReplayTests.compression, assignment: .zero)))
        #expect(try leader(time: 173, [second]) == [])
        #expect(try leader(time: 210) == [] && leader(time: 211) == [2])  // window 1 had no contributions: nothing to wait for
        let secondID = Hashing.digest(.record, second)
        let late = (0 ..< 3).map { v in Evaluation(contribution: secondID, own: LossPair(before: 2, after: 1.5), random: LossPair(before: 2, after: 1.8),
                                                   simHash: [UInt8](repeating: 3, count: 32), flags: [], salt: Hashing.digest(.evaluationCommitment, [UInt8(v), 9])) }
        let opened = try state().openedAtMs                  // window 3
        #expect(try leader(time: opened + 1, (0 ..< 3).map { world.record(world.validators[$0], .evaluationCommit(EvaluationCommit(contribution: secondID, commitment: world.commitment(late[$0], by: $0, window: 2)))) }) == [])
        #expect(try leader(time: opened + 23) == [])         // the deadline: reveal leader 1
        #expect(try leader(time: opened + 24, [world.record(world.validators[0], .evaluation(late[0]))]) == [])  // reveal leader 2
        var closes: [UInt64] = []
        var more = 0
        while closes.isEmpty && more < 30 {
            more += 1
            closes = try leader(time: opened + 40 + UInt64(more))
        }
        #expect(closes == [3] && more == Int(WindowState.revealFallbackLeaders) - 2, "closed \(closes) after \(more) more leaders of reveal phase")
    }

    @Test("windows close on consensus time: one per leader, on a grid, restarting after a stall; the clock never goes back; 2f+1 matching votes certify a checkpoint, a dissenting vote does not count")
    func checkpoints() throws {
        var world = World(seed: 3, windowMs: 8)
        var store = MemoryStore(entries: world.genesis)
        func window() throws -> WindowState { try WindowState(canonicalBytes: #require(store.state[StateKey.window])) }
        #expect(try world.execute([], time: 0, in: &store).closedWindows == [])       // a round-1 leader: no time yet
        #expect(try world.execute([], time: 5, in: &store).closedWindows == [])       // window 0 opens at 5
        #expect(try window() == WindowState(current: 0, openedAtPosition: 0, openedAtMs: 5, clockMs: 5))
        #expect(try world.execute([], position: 1, time: 12, in: &store).closedWindows == [])
        #expect(try world.execute([], position: 2, time: 14, in: &store).closedWindows == [0])   // 5 + 8 ≤ 14
        #expect(try window() == WindowState(current: 1, openedAtPosition: 3, openedAtMs: 13, clockMs: 14))  // on the grid
        #expect(try world.execute([], position: 3, time: 3, in: &store).closedWindows == [])      // a stale leader time
        #expect(try window().clockMs == 14)
        #expect(try world.execute([], position: 4, time: 40, in: &store).closedWindows == [1])    // one close per leader
        #expect(try window() == WindowState(current: 2, openedAtPosition: 5, openedAtMs: 40, clockMs: 40))  // stalled: restart
        // Each closed window keeps the beacon of the wave that closed it.
        #expect(store.state[StateKey.windowBeacon(0)] == Hashing.digest(.coinLeader, UInt64(14).canonicalBytes).bytes)
        #expect(store.state[StateKey.windowBeacon(1)] == Hashing.digest(.coinLeader, UInt64(40).canonicalBytes).bytes)
        let good = CheckpointVote(window: 0, sequenceHash: Hashing.digest(.sequence, [1]), stateRoot: Hashing.digest(.stateRoot, [2]), modelHash: .zero)
        var bad = good
        bad.stateRoot = Hashing.digest(.stateRoot, [3])
        let votes = try world.execute([
            world.record(world.validators[0], .checkpointVote(good)),
            world.record(world.validators[1], .checkpointVote(bad)),
            world.record(world.validators[2], .checkpointVote(good)),
            world.record(world.validators[2], .checkpointVote(good)),
        ], position: 5, time: 41, in: &store)
        #expect(votes.records.indices.map { reason(votes, $0) } == [nil, nil, nil, .duplicateVote])
        #expect(votes.certified.isEmpty)
        let last = try world.execute([world.record(world.validators[3], .checkpointVote(good))], position: 6, time: 42, in: &store)
        let certificate = try #require(last.certified.first)
        #expect(certificate.vote == good && certificate.signers.map(\.validator) == [0, 2, 3])
        // Anyone can check the signatures again from the certificate alone.
        for signer in certificate.signers {
            let key = world.validators[Int(signer.validator)]
            #expect(key.publicKey.verify(signer.signature, for: SignedRecord.signingBytes(
                chain: world.chain, author: key.publicKey, nonce: signer.nonce, body: RecordBody.checkpointVote(good).canonicalBytes)))
        }
        #expect(store.state[StateKey.checkpoint(0)] == certificate.canonicalBytes)
    }

    /// The must-show property: random streams of valid and invalid records give the same state
    /// root executed twice, executed with a restart (fresh executor, state from the store) at a
    /// random point, and replayed from genesis; balances always add up to the supply.
    @Test("random record streams: same root twice, across a restart, and in a replay; balances add up", arguments: 0 ..< 12)
    func property(seed: UInt64) throws {
        var rng = SeededGenerator(seed: 0xC0FFEE + seed)
        var world = World(seed: seed, users: 5, fee: 50, windowMs: 6)
        var leaders: [(vertices: [DeliveredVertex], round: UInt64)] = []
        var position: UInt64 = 0
        let everyone = world.users + [try SigningKey(seed: [UInt8](repeating: 7, count: 32))]  // one unknown account
        for round in 1 ... UInt64(40) {
            var vertices: [DeliveredVertex] = []
            for _ in 0 ..< Int.random(in: 1 ... 3, using: &rng) {
                var payload: [[UInt8]] = []
                for _ in 0 ..< Int.random(in: 0 ... 6, using: &rng) {
                    let author = everyone.randomElement(using: &rng)!
                    let other = everyone.randomElement(using: &rng)!
                    let roll = Int.random(in: 0 ..< 100, using: &rng)
                    let body: RecordBody = switch roll {
                    case 0 ..< 55: .transfer(Transfer(to: other.publicKey, amount: UInt64.random(in: 0 ... 4_000, using: &rng)))
                    case 55 ..< 70: .register(Register(name: "t\(roll)"))
                    case 70 ..< 85: .contribution(Contribution(baseWindow: UInt64.random(in: 0 ... 7, using: &rng),
                                                              blob: Hashing.digest(.blob, [UInt8.random(in: 0 ... 7, using: &rng)]),
                                                              blobSize: UInt64.random(in: 0 ... 2 << 20, using: &rng),
                                                              compression: CompressionParameters(chunkSize: 4096, topK: 8, valueBits: 8, indexBits: 16),
                                                              assignment: .zero))
                    default: .checkpointVote(CheckpointVote(window: UInt64.random(in: 0 ... 5, using: &rng), sequenceHash: .zero, stateRoot: .zero, modelHash: .zero))
                    }
                    let signer = roll >= 85 ? world.validators.randomElement(using: &rng)! : author
                    var record = world.record(signer, body)
                    switch Int.random(in: 0 ..< 20, using: &rng) {
                    case 0: record[record.count - 1] ^= 1                                   // bad signature
                    case 1: record = world.record(signer, body, nonce: UInt64.random(in: 0 ... 50, using: &rng))  // stray nonce
                    case 2: if let earlier = leaders.last?.vertices.last?.payload.first { record = earlier }  // duplicate
                    default: break
                    }
                    payload.append(record)
                }
                vertices.append(DeliveredVertex(position: position, payload: payload))
                position += 1
            }
            leaders.append((vertices, round * UInt64.random(in: 1 ... 2, using: &rng)))
        }

        func run(restartAt: Int?) throws -> (MemoryStore, [Digest]) {
            var store = MemoryStore(entries: world.genesis)
            var roots: [Digest] = []
            var overlay = Overlay()
            var ledger = world.ledger
            for (i, leader) in leaders.enumerated() {
                if i == restartAt {
                    store.commit(overlay)  // what a crash leaves: everything up to the last batch
                    overlay = Overlay()
                    ledger = Ledger(parameters: world.ledger.parameters)
                }
                _ = try ledger.execute(leader.vertices, leaderTimeMs: leader.round, beacon: Hashing.digest(.coinLeader, leader.round.canonicalBytes),
                                       store: store, overlay: &overlay, verify: world.verify)
                roots.append(Ledger.stateRoot(try overlay.entries(prefix: [], in: store)))
                if Bool.random(using: &rng) {  // batches of one or several leaders
                    store.commit(overlay)
                    overlay = Overlay()
                }
            }
            store.commit(overlay)
            return (store, roots)
        }
        let (first, roots) = try run(restartAt: nil)
        let (second, rootsAgain) = try run(restartAt: nil)
        let (restarted, rootsRestarted) = try run(restartAt: Int.random(in: 1 ..< leaders.count, using: &rng))
        #expect(roots == rootsAgain && roots == rootsRestarted)
        #expect(first.root == second.root && first.root == restarted.root && first.root == roots.last)
        let supply = try Supply(canonicalBytes: first.state[StateKey.supply]!)
        let total = first.state.filter { $0.key.starts(with: Array("a/".utf8)) }.map { try! Account(canonicalBytes: $0.value).balance }.reduce(0, +)
        #expect(total == supply.circulating)
        #expect(supply.created == 5 * 10_000)
        #expect(Set(roots).count > 10, "the stream should change state often")
    }
}
