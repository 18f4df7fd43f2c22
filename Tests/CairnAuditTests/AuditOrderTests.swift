import CairnChain
import CairnCore
import CairnCrypto
import CairnStorage
import CairnTestKit
import Foundation
import Testing

extension NodeProcesses {
    /// `cairn audit` re-derives the order from the certificates (D54).
    @Suite("Audit: the order re-derived from certificates", .serialized)
    struct AuditOrderTests {
        @Test("two record-free vertices swapped in a node's stored sequence, every stored hash rewritten: the old checks pass, the re-derived DAG-Rider order names the position")
        func swappedVertices() async throws {
            // One long window: no window closes, so no stored window record pins the sequence hash.
            let net = try LocalNetwork(validators: 4, windowMs: 600_000)
            defer { net.stopAll() }
            for i in 0 ..< 4 { try net.start(i) }
            #expect(await net.eventually(seconds: 120) { await (0 ..< 4).asyncAll { await net.delivered($0) > 120 } }, "too few deliveries")
            net.stopAll()
            try await Task.sleep(for: .milliseconds(500))

            let home = "\(net.directory)/node1"
            let clean = try runProcess(net.cairn, ["audit", "--home", home])
            #expect(clean.status == 0 && clean.stdout.contains("audit OK") && clean.stdout.contains("positions as DAG-Rider decides them"),
                    "\(clean.stdout) \(clean.stderr)")

            let genesis = try GenesisFile.load(path: "\(net.directory)/genesis.json")
            let database = try NodeDatabase.open(path: "\(home)/data/db", genesisHash: genesis.hash)
            let store = ConsensusStore(database: database)
            let delivered = try store.progress().delivered
            // Two positions of one leader's batch whose vertices carry no records (so execution,
            // state roots and record outcomes are unchanged by swapping them).
            var entries: [(digest: Digest, round: UInt64, leaderRound: UInt64, sequenceHash: Digest)] = []
            for position in 0 ..< delivered { entries.append(try #require(try store.sequenceEntry(position))) }
            var swap: (Int, Int)?
            search: for p in entries.indices {
                for q in (p + 1) ..< min(entries.count, p + 8) where entries[q].leaderRound == entries[p].leaderRound && entries[q].round != entries[p].round {
                    let certificates = try store.certificates([entries[p].digest, entries[q].digest])
                    if certificates.count == 2, certificates.allSatisfy({ $0.vertex.payload.isEmpty }) { swap = (p, q); break search }
                }
            }
            let (p, q) = try #require(swap, "no two record-free vertices in one leader's batch")
            entries.swapAt(p, q)
            // Rewrite the chained sequence hash from p to the end, as a careful forger would.
            var hash = p == 0 ? Digest.zero : entries[p - 1].sequenceHash
            for position in p ..< entries.count {
                hash = Hashing.digest(.sequence, hash.bytes + entries[position].digest.bytes)
                entries[position].sequenceHash = hash
                let e = entries[position]
                try database.put(ColumnFamily.sequence.rawValue, StorageKey.uint64(UInt64(position)),
                                 e.digest.bytes + StorageKey.uint64(e.round) + StorageKey.uint64(e.leaderRound) + e.sequenceHash.bytes)
            }
            database.close()

            let tampered = try runProcess(net.cairn, ["audit", "--home", home])
            #expect(tampered.status != 0, "the swap went unnoticed: \(tampered.stdout)")
            let output = tampered.stdout + tampered.stderr
            #expect(output.contains("position \(p)") && output.contains("DAG-Rider"), "\(output)")
        }
    }
}
