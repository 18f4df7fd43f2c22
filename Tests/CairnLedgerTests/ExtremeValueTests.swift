import CairnCore
import CairnCrypto
import CairnLedger
import CairnTestKit
import Testing

/// Every integer field of every record kind at 0, 1, max − 1 and max, signed by a registered
/// trainer, a plain account and a validator, against a state with trainers, accounts, a window
/// past 0 and a stored contribution (DECISIONS D38). A trap here would halt every validator.
@Suite("Ledger: extreme values")
struct ExtremeValueTests {
    static func extremes<T: FixedWidthInteger>(_: T.Type) -> [T] { [0, 1, T.max - 1, T.max] }

    /// A state with a registered trainer (users[0]), funded accounts, window 3 open and one
    /// contribution committed in it; returns the world, the store and the contribution's id.
    static func populated(seed: UInt64) throws -> (World, MemoryStore, Digest) {
        var world = World(seed: seed)
        var store = MemoryStore(entries: world.genesis)
        let trainer = world.users[0]
        _ = try world.execute([world.record(trainer, .register(Register(name: "trainer-\(seed)")))], in: &store)
        for (i, time) in [9, 17, 25].enumerated() {  // window 0 opened at 1; windows 0–2 close
            #expect(try world.execute([], position: UInt64(1 + i), time: UInt64(time), in: &store).closedWindows == [UInt64(i)])
        }
        let contribution = world.record(trainer, .contribution(Contribution(
            baseWindow: 3, blob: Digest.zero, blobSize: 1000,
            compression: CompressionParameters(chunkSize: 4096, topK: 64, valueBits: 8, indexBits: 16), assignment: Digest.zero)))
        let result = try world.execute([contribution], position: 4, time: 26, in: &store)
        #expect(outcome(result, 0) == .accepted)
        return (world, store, Hashing.digest(.record, contribution))
    }

    /// Bodies with one field at an extreme each (the others ordinary or drawn from `g`).
    static func bodies(contribution: Digest, to recipient: PublicKey, _ g: inout SeededGenerator) -> [RecordBody] {
        var bodies: [RecordBody] = []
        let compression = CompressionParameters(chunkSize: 4096, topK: 64, valueBits: 8, indexBits: 16)
        for amount in extremes(UInt64.self) + [UInt64.random(in: 0 ... .max, using: &g)] {
            bodies.append(.transfer(Transfer(to: recipient, amount: amount)))
        }
        for window in extremes(UInt64.self) + [2, 3, 4, UInt64.random(in: 0 ... .max, using: &g)] {
            bodies.append(.contribution(Contribution(baseWindow: window, blob: Digest.zero, blobSize: 10, compression: compression, assignment: Digest.zero)))
            bodies.append(.checkpointVote(CheckpointVote(window: window, sequenceHash: Digest.zero, stateRoot: Digest.zero, modelHash: Digest.zero)))
        }
        for size in extremes(UInt64.self) {
            bodies.append(.contribution(Contribution(baseWindow: 3, blob: Digest.zero, blobSize: size, compression: compression, assignment: Digest.zero)))
        }
        for value in extremes(UInt32.self) {
            for params in [CompressionParameters(chunkSize: value, topK: 64, valueBits: 8, indexBits: 16),
                           CompressionParameters(chunkSize: 4096, topK: value, valueBits: 8, indexBits: 16)] {
                bodies.append(.contribution(Contribution(baseWindow: 3, blob: Digest.zero, blobSize: 10, compression: params, assignment: Digest.zero)))
            }
        }
        for bits in extremes(UInt8.self) {
            for params in [CompressionParameters(chunkSize: 4096, topK: 64, valueBits: bits, indexBits: 16),
                           CompressionParameters(chunkSize: 4096, topK: 64, valueBits: 8, indexBits: bits)] {
                bodies.append(.contribution(Contribution(baseWindow: 3, blob: Digest.zero, blobSize: 10, compression: params, assignment: Digest.zero)))
            }
        }
        let losses: [Float] = [0, -0.0, .leastNonzeroMagnitude, .greatestFiniteMagnitude, -.greatestFiniteMagnitude, .infinity, .nan]
        for loss in losses {
            for target in [contribution, Digest.zero] {
                bodies.append(.evaluation(Evaluation(contribution: target, own: LossPair(before: loss, after: 1), random: LossPair(before: 1, after: loss),
                                                     simHash: [UInt8](repeating: 0xff, count: Evaluation.maxSimHashBytes), flags: [])))
            }
        }
        for flags in [UInt32(0), 1, Evaluation.Flags.known.rawValue, UInt32.max - 1, UInt32.max] {
            bodies.append(.evaluation(Evaluation(contribution: contribution, own: LossPair(before: 2, after: 1), random: LossPair(before: 2, after: 1),
                                                 simHash: [], flags: Evaluation.Flags(rawValue: flags))))
        }
        for target in [contribution, Digest.zero] {
            for commitment in [Digest.zero, try! Digest(bytes: [UInt8](repeating: 0xff, count: 32))] {
                bodies.append(.evaluationCommit(EvaluationCommit(contribution: target, commitment: commitment)))
            }
        }
        bodies.append(.register(Register(name: String(repeating: "a", count: Register.maxNameBytes))))
        return bodies
    }

    @Test("no record traps: each is accepted or rejected with a reason, and re-execution gives the same root",
          arguments: 1 ... 8 as ClosedRange<UInt64>)
    func extremeRecords(seed: UInt64) throws {
        var g = SeededGenerator(seed: seed)
        let (base, baseStore, contributionID) = try Self.populated(seed: seed)
        let authors = [base.users[0], base.users[1], base.validators[0]]  // trainer, account, validator
        for author in authors {
            for body in Self.bodies(contribution: contributionID, to: base.users[2].publicKey, &g) {
                var nonces = [base.nonces[author.publicKey, default: 0]]
                nonces += Self.extremes(UInt64.self) + [nonces[0] + Ledger.maxNonceGap - 1, nonces[0] + Ledger.maxNonceGap]
                for nonce in nonces {
                    var world = base
                    let bytes = world.record(author, body, nonce: nonce)
                    var first = baseStore, second = baseStore
                    let time = UInt64.random(in: 26 ... 66, using: &g)
                    let a = try world.execute([bytes], position: 5, time: time, in: &first)
                    let b = try world.execute([bytes], position: 5, time: time, in: &second)
                    #expect(first.root == second.root, "seed \(seed): \(body) nonce \(nonce) executed twice gave different roots")
                    #expect(a.records.count == 1 && a.records == b.records)
                    if case let .rejected(rejection) = a.records[0].outcome {
                        #expect(!rejection.detail.isEmpty)
                    }
                }
            }
        }
    }

    @Test("the reported attack: base window 2^64 − 1 is rejected as wrong_window, and the ledger goes on")
    func maximalBaseWindow() throws {
        var (world, store, _) = try Self.populated(seed: 42)
        let trainer = world.users[0]
        let hostile = world.record(trainer, .contribution(Contribution(
            baseWindow: .max, blob: Digest.zero, blobSize: 10,
            compression: CompressionParameters(chunkSize: 4096, topK: 64, valueBits: 8, indexBits: 16), assignment: Digest.zero)))
        let result = try world.execute([hostile], position: 5, time: 27, in: &store)
        #expect(reason(result, 0) == .wrongWindow)
        // The same trainer's next record still executes: the rejected one did not use its nonce.
        let next = world.record(trainer, .transfer(Transfer(to: world.users[1].publicKey, amount: 1)), nonce: world.nonces[trainer.publicKey]! - 1)
        #expect(outcome(try world.execute([next], position: 6, time: 28, in: &store), 0) == .accepted)
    }

    @Test("nonce 2^64 − 1 is refused (it has no successor); a window end past 2^64 − 1 never closes")
    func maximalCounters() throws {
        var world = World(seed: 7)
        var store = MemoryStore(entries: world.genesis)
        let alice = world.users[0]
        // Reachable only through gaps; the gap bound keeps it from this fresh account.
        let far = world.record(alice, .transfer(Transfer(to: world.users[1].publicKey, amount: 1)), nonce: .max)
        #expect(reason(try world.execute([far], in: &store), 0) == .wrongNonce)
        // Window ends near the top of the range are computed without trapping; one past 2^64 − 1
        // is never reached, and neither is a window number past 2^64 − 1.
        let late = WindowState(current: 5, openedAtPosition: 1, openedAtMs: .max - 3, clockMs: .max - 3)
        #expect(late.advanced(leaderTimeMs: .max, windowMs: 8, nextPosition: 2).closed == nil)
        #expect(late.advanced(leaderTimeMs: .max, windowMs: 8, nextPosition: 2).state.clockMs == .max)
        let edge = WindowState(current: 5, openedAtPosition: 1, openedAtMs: .max - 10, clockMs: .max - 10)
        let closed = edge.advanced(leaderTimeMs: .max - 1, windowMs: 8, nextPosition: 2)
        #expect(closed.closed == 5 && closed.state.openedAtMs == .max - 2)  // restart point overflows: stays on the grid
        let last = WindowState(current: .max, openedAtPosition: 1, openedAtMs: 10, clockMs: 10)
        #expect(last.advanced(leaderTimeMs: 100, windowMs: 8, nextPosition: 2).closed == nil)
        #expect(WindowState(current: 0, openedAtPosition: 0, openedAtMs: 10, clockMs: 10).advanced(leaderTimeMs: 100, windowMs: 0, nextPosition: 1).closed == nil)
    }
}
