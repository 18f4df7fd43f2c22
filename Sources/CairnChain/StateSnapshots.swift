import CairnCore
import CairnLedger
import CairnStorage
import NIOConcurrencyHelpers

/// The ledger state as it stood when each recent window closed, in the `checkpoints` column family
/// (window ‖ state key → value), so the node can prove one entry under the state root that a
/// checkpoint certificate for that window signed (D58). The live `state` family has moved on by
/// the time a certificate forms; these copies have not.
extension ConsensusStore {
    /// Closed windows whose state is kept by default (`[storage] proof_windows`): a certificate
    /// forms within a window or two of the close, so eight leave a light client slack while
    /// bounding the copies to eight times the state.
    public static let defaultProofWindows: UInt64 = 8
    /// The most an operator may keep: each kept window is a whole copy of the state.
    public static let maxProofWindows: UInt64 = 4096

    static func snapshotPrefix(_ window: UInt64) -> [UInt8] { StorageKey.uint64(window) }

    /// Adds to `batch` the snapshots of windows that closed in it, and drops each one's
    /// predecessor `proofWindows` closes back. A window too old to be kept by the end of
    /// the batch (a catching-up node can close many in one step) is not written at all.
    func keepStateSnapshots(_ snapshots: [(window: UInt64, entries: [(key: [UInt8], value: [UInt8])])], in batch: inout WriteBatch) throws {
        guard let newest = snapshots.map(\.window).max() else { return }
        let family = ColumnFamily.checkpoints.rawValue
        for (window, entries) in snapshots {
            if newest - window < proofWindows {
                let prefix = Self.snapshotPrefix(window)
                for (key, value) in entries { batch.put(family, prefix + key, value) }
            }
            if window >= proofWindows {
                try database.scan(family, prefix: Self.snapshotPrefix(window - proofWindows)) { key, _ in
                    batch.delete(family, key)
                    return true
                }
            }
        }
    }

    /// Drops kept states older than the last `proofWindows` closes: after a restart with a smaller
    /// `[storage] proof_windows`, the closes to come would only drop one window each. One scan
    /// at start (over the tombstones of earlier drops too, until compaction clears them).
    public func pruneStateSnapshots() throws {
        let open = try progress().window
        guard open > proofWindows else { return }
        let family = ColumnFamily.checkpoints.rawValue
        var batch = WriteBatch()
        try database.scan(family, from: [], below: Self.snapshotPrefix(open - proofWindows)) { key, _ in
            batch.delete(family, key)
            return true
        }
        if !batch.isEmpty { try database.write(batch, sync: false) }
    }

    /// The state at window `window`'s close, in key order, if this node still keeps it.
    public func stateSnapshot(window: UInt64) throws -> [(key: [UInt8], value: [UInt8])]? {
        let prefix = Self.snapshotPrefix(window)
        var entries: [(key: [UInt8], value: [UInt8])] = []
        try database.scan(ColumnFamily.checkpoints.rawValue, prefix: prefix) { key, value in
            entries.append((Array(key.dropFirst(prefix.count)), value))
            return true
        }
        return entries.isEmpty ? nil : entries
    }

    /// Why a proof at a window cannot be served.
    public enum ProofUnavailable: Error, Sendable, CustomStringConvertible {
        case notClosed(UInt64)
        case notKept(window: UInt64, oldestKept: UInt64?, kept: UInt64)
        /// The kept copy does not hash to the root this node recorded at the close.
        case damaged(window: UInt64, recorded: Digest, found: Digest)

        public var description: String {
            switch self {
            case let .notClosed(window): "window \(window) has not closed here yet"
            case let .notKept(window, oldest, kept):
                "this node keeps the state of its last \(kept) closed windows ([storage] proof_windows)\(oldest.map { " (from window \($0))" } ?? ""); window \(window) is not among them: ask for a later certified window"
            case let .damaged(window, recorded, found):
                "the kept state of window \(window) hashes to \(found.hex), not to the root \(recorded.hex) recorded at its close; the database is damaged"
            }
        }
    }

    /// A proof of `key`'s value (or absence) at window `window`'s close. Unless `rootChecked`
    /// (the caller checked this window's copy before; kept copies never change), the copy is first
    /// checked against the state root this node recorded at the close.
    public func stateProof(window: UInt64, key: [UInt8], rootChecked: Bool = false) throws -> (proof: StateProof, stateRoot: Digest) {
        guard let closed = try closedWindow(window) else { throw ProofUnavailable.notClosed(window) }
        guard let entries = try stateSnapshot(window: window) else {
            // Windows close in order and each close drops the copy 8 back: no scan over the
            // deleted copies' tombstones is needed to name the oldest one kept.
            let open = try progress().window
            throw ProofUnavailable.notKept(window: window, oldestKept: open == 0 ? nil : open - min(open, proofWindows), kept: proofWindows)
        }
        if !rootChecked {
            let found = Ledger.stateRoot(entries)
            guard found == closed.stateRoot else { throw ProofUnavailable.damaged(window: window, recorded: closed.stateRoot, found: found) }
        }
        return (StateProof.make(key: key, entries: entries), closed.stateRoot)
    }
}

/// The API's side of proofs: each costs hashing the whole kept state, so one runs at a time (a
/// client asking faster gets 503 `busy` rather than crowding consensus off the cores), and each
/// kept window's copy is checked against its recorded root once.
public final class StateProofService: Sendable {
    let store: ConsensusStore
    private let state = NIOLockedValueBox<(running: Bool, checked: Set<UInt64>)>((false, []))

    public init(store: ConsensusStore) { self.store = store }

    /// The proof, or nil when another one is being computed.
    public func prove(window: UInt64, key: [UInt8]) throws -> (proof: StateProof, stateRoot: Digest)? {
        let checked: Bool? = state.withLockedValue { state in
            guard !state.running else { return nil }
            state.running = true
            return state.checked.contains(window)
        }
        guard let checked else { return nil }
        defer { state.withLockedValue { $0.running = false } }
        let result = try store.stateProof(window: window, key: key, rootChecked: checked)
        state.withLockedValue { state in
            state.checked.insert(window)
            // Only the last few windows are kept; forget the rest.
            if UInt64(state.checked.count) > 2 * store.proofWindows, let newest = state.checked.max() {
                state.checked = state.checked.filter { $0 + store.proofWindows > newest }
            }
        }
        return result
    }
}
