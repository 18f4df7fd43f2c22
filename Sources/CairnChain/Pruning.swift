import CairnCore
import CairnStorage

/// The operator's pruning option (ARCHITECTURE §8): drop consensus history below a round to
/// give disk back. Full history is the default, and pruning is offline (`cairn prune`, node
/// stopped) so it never races the node's own writes.
///
/// What goes: certificates of rounds below the line (with their `rounds` index entries) and this
/// validator's own stored proposals and votes there. What stays: the delivered sequence (digest,
/// round and sequence hash at every position) and the record index, so `/v1/sequence`,
/// `/v1/records/{id}` and audits of the sequence hash still work; only the payloads of pruned
/// vertices are gone (`/v1/committed` answers 410 for them) and peers catching up from below the
/// line must ask a validator that kept its history.
extension ConsensusStore {
    static let prunedBelowKey = Array("pruned_below".utf8)

    /// Rounds below this were pruned (0: full history).
    public func prunedBelow() throws -> UInt64 {
        try database.get(ColumnFamily.meta.rawValue, Self.prunedBelowKey).flatMap(StorageKey.uint64(from:)) ?? 0
    }

    /// The highest line `prune` accepts: the node restores from rounds ≥ lastCommittedRound − gcDepth.
    public func pruneLimit(gcDepth: UInt64) throws -> UInt64 {
        let last = try progress().lastCommittedRound
        return last > gcDepth ? last - gcDepth : 0
    }

    public struct PruneReport: Sendable, Equatable {
        public var from: UInt64
        public var below: UInt64
        public var certificates = 0
        public var ownProposals = 0
        public var ownVotes = 0
    }

    public struct PruneError: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    /// Deletes history below `round`, in batches, recording progress as it goes (an interrupted
    /// prune is simply run again), then compacts the freed ranges.
    public func prune(below round: UInt64, gcDepth: UInt64) throws -> PruneReport {
        let limit = try pruneLimit(gcDepth: gcDepth)
        guard round <= limit else {
            throw PruneError(description: "cannot prune below round \(round): the node restores from round \(limit) "
                + "(last committed leader round − gcDepth), so the line can be at most \(limit)")
        }
        let from = try prunedBelow()
        var report = PruneReport(from: from, below: round)
        guard round > from else { return report }

        // Certificates, through the round index (below-floor proofs are indexed there too).
        var keys: [(index: [UInt8], digest: [UInt8])] = []
        try database.scan(ColumnFamily.rounds.rawValue, from: StorageKey.uint64(from), below: StorageKey.uint64(round)) { key, value in
            keys.append((key, value))
            return true
        }
        for start in stride(from: 0, to: keys.count, by: 5_000) {
            var batch = WriteBatch()
            for entry in keys[start ..< min(keys.count, start + 5_000)] {
                batch.delete(ColumnFamily.rounds.rawValue, entry.index)
                batch.delete(ColumnFamily.certificates.rawValue, entry.digest)
            }
            try database.write(batch, sync: false)
        }
        report.certificates = keys.count

        // Own proposals (`proposal/<round>`) and votes (`vote/<author>/<round>`) below the line.
        var batch = WriteBatch()
        try database.scan(ColumnFamily.meta.rawValue, prefix: Array("proposal/".utf8)) { key, _ in
            if let r = StorageKey.uint64(from: Array(key.suffix(8))), r < round {
                batch.delete(ColumnFamily.meta.rawValue, key)
                report.ownProposals += 1
            }
            return true
        }
        try database.scan(ColumnFamily.meta.rawValue, prefix: Array("vote/".utf8)) { key, _ in
            if let r = StorageKey.uint64(from: Array(key.suffix(8))), r < round {
                batch.delete(ColumnFamily.meta.rawValue, key)
                report.ownVotes += 1
            }
            return true
        }
        batch.put(ColumnFamily.meta.rawValue, Self.prunedBelowKey, StorageKey.uint64(round))
        try database.write(batch, sync: true)

        for family in [ColumnFamily.certificates, .rounds, .meta] { try database.compactRange(family.rawValue) }
        return report
    }
}
