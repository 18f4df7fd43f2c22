import CairnCore
import CairnCrypto
import CairnLedger
@testable import CairnChain
import CairnStorage
import Foundation
import Testing

/// The window states a node keeps to prove entries under checkpoint certificates (D58).
@Suite("Kept window states: retention and proofs")
struct StateSnapshotTests {
    /// A small state that differs per window.
    static func state(_ window: UInt64) -> [(key: [UInt8], value: [UInt8])] {
        [(StateKey.supply, window.canonicalBytes), (StateKey.window, [UInt8(truncatingIfNeeded: window)]),
         (StateKey.windowRewards(window), [1, 2, 3])].sorted { $0.key.lexicographicallyPrecedes($1.key) }
    }

    @Test("the last eight closed windows are kept, whether they close one per batch or many in one; each proves its own state; a restart keeping fewer drops the rest at once")
    func retention() throws {
        let path = FileManager.default.temporaryDirectory.path + "/cairn-snapshots-\(UInt64.random(in: 0 ... .max))"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let database = try NodeDatabase.open(path: path, genesisHash: Hashing.digest(.genesis, [1]))
        defer { database.close() }
        let store = ConsensusStore(database: database)
        func close(_ windows: ClosedRange<UInt64>) throws {
            var batch = WriteBatch()
            for window in windows {
                batch.put(ClosedWindow(window: window, stateRoot: Ledger.stateRoot(Self.state(window)), sequenceHash: .zero, delivered: window),
                          .meta, ConsensusStore.closedWindowKey(window))
            }
            var progress = ConsensusStore.Progress()
            progress.window = windows.upperBound + 1
            batch.put(progress, .meta, ConsensusStore.progressKey)
            try store.keepStateSnapshots(windows.map { ($0, Self.state($0)) }, in: &batch)
            try database.write(batch, sync: false)
        }
        func kept() throws -> [UInt64] { try (0 ... 40).filter { try store.stateSnapshot(window: $0) != nil } }

        for window in UInt64(0) ... 11 { try close(window ... window) }
        #expect(try kept() == Array(4 ... 11))
        // A catching-up node closing fifteen windows in one step writes only the last eight.
        try close(12 ... 26)
        #expect(try kept() == Array(19 ... 26))
        try close(27 ... 27)
        #expect(try kept() == Array(20 ... 27))

        let key = StateKey.windowRewards(27)
        let (proof, root) = try store.stateProof(window: 27, key: key)
        #expect(root == Ledger.stateRoot(Self.state(27)))
        #expect(try proof.verify(root: root) == [1, 2, 3])
        // Window 26's state has no rewards entry for window 27: proven absent there.
        let (earlier, earlierRoot) = try store.stateProof(window: 26, key: key)
        #expect(try earlier.verify(root: earlierRoot) == nil)
        #expect(throws: StateProof.Failure.self) { try earlier.verify(root: root) }

        #expect { try store.stateProof(window: 5, key: key) } throws: { error in
            guard case let .notKept(window, oldest, 8) = error as? ConsensusStore.ProofUnavailable else { return false }
            return window == 5 && oldest == 20 && "\(error)".contains("from window 20")
        }
        #expect { try store.stateProof(window: 28, key: key) } throws: { error in
            guard case .notClosed(28) = error as? ConsensusStore.ProofUnavailable else { return false }
            return true
        }

        // Restarted keeping 3 (`[storage] proof_windows = 3`): the start drops the older copies at
        // once, and later closes keep 3.
        let smaller = ConsensusStore(database: database, proofWindows: 3)
        try smaller.pruneStateSnapshots()
        #expect(try kept() == Array(25 ... 27))
        var batch = WriteBatch()
        var progress = ConsensusStore.Progress()
        progress.window = 29
        batch.put(progress, .meta, ConsensusStore.progressKey)
        try smaller.keepStateSnapshots([(28, Self.state(28))], in: &batch)
        try database.write(batch, sync: false)
        #expect(try kept() == Array(26 ... 28))
        #expect { try smaller.stateProof(window: 25, key: key) } throws: { error in
            guard case let .notKept(25, oldest, 3) = error as? ConsensusStore.ProofUnavailable else { return false }
            return oldest == 26 && "\(error)".contains("last 3 closed windows")
        }
    }
}
