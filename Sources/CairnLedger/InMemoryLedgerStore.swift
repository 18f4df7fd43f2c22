import CairnCore

/// Ledger state in memory: what auditors replay into and tests execute against.
public struct InMemoryLedgerStore: LedgerStore, Sendable {
    public private(set) var state: [[UInt8]: [UInt8]] = [:]
    public private(set) var executed: Set<Digest> = []

    public init(entries: [(key: [UInt8], value: [UInt8])]) {
        for (key, value) in entries { state[key] = value }
    }

    public func value(_ key: [UInt8]) throws -> [UInt8]? { state[key] }

    public func entries(prefix: [UInt8]) throws -> [(key: [UInt8], value: [UInt8])] {
        state.filter { $0.key.starts(with: prefix) }.sorted { $0.key.lexicographicallyPrecedes($1.key) }.map { ($0.key, $0.value) }
    }

    public func recordExecuted(_ id: Digest) throws -> Bool { executed.contains(id) }

    /// Writes an overlay, as the node writes its batch.
    public mutating func commit(_ overlay: Overlay) {
        for (key, change) in overlay.changes { state[key] = change }
        executed.formUnion(overlay.executed)
    }

    public var root: Digest { Ledger.stateRoot(state.sorted { $0.key.lexicographicallyPrecedes($1.key) }.map { ($0.key, $0.value) }) }
}
