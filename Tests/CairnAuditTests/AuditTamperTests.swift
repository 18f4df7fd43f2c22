import CairnAPI
import CairnAudit
import CairnChain
import CairnCore
import CairnCrypto
import CairnLedger
import CairnStorage
import CairnTestKit
import Foundation
import Testing

extension NodeProcesses {
    /// Issue 17's tamper cases on copies of one node's data: each altered copy fails `cairn audit`
    /// with the spot named, while the untouched data passes.
    @Suite("Audit: tampered copies are caught", .serialized)
    struct AuditTamperTests {
        @Test("a flipped certificate byte, a changed payout in state, a forged vote, a removed vertex, a removed window-close entry and a flipped archive byte each fail the audit, named; the archive of clean data verifies")
        func tamperedCopies() async throws {
            // Short windows so that several close (with rewards and checkpoint certificates).
            let net = try LocalNetwork(validators: 4, windowMs: 1500)
            defer { net.stopAll() }
            // Node 2 keeps the state of only its last 2 closes for proofs (`[storage] proof_windows`).
            let node2Config = "\(net.directory)/node2/config/config.toml"
            let configText = try String(contentsOfFile: node2Config, encoding: .utf8)
            #expect(configText.contains("proof_windows = 8"))
            try configText.replacingOccurrences(of: "proof_windows = 8", with: "proof_windows = 2").write(toFile: node2Config, atomically: true, encoding: .utf8)
            for i in 0 ..< 4 { try net.start(i) }
            let genesis = try GenesisFile.load(path: "\(net.directory)/genesis.json")
            let home = "\(net.directory)/node1"
            #expect(await net.eventually(seconds: 120) {
                await net.get(1, "/v1/checkpoints/3")?.status == 200
            }, "window 3 was never certified")
            // The light client: node1's certificate of window 3 against the genesis file alone.
            let light = try runProcess(net.cairn, ["audit", "checkpoint", "--node", "http://127.0.0.1:\(net.basePort + 11)", "--window", "3",
                                                   "--genesis", "\(net.directory)/genesis.json"])
            #expect(light.status == 0 && light.stdout.contains("checkpoint OK"), "\(light.stdout) \(light.stderr)")
            // ...and one balance under it (a Merkle proof to the certified root, D58), and a rating
            // proven absent (validators are not trainers).
            let funded = try #require(genesis.accounts.first).publicKey
            let lightArguments = ["audit", "checkpoint", "--node", "http://127.0.0.1:\(net.basePort + 11)", "--window", "3",
                                  "--genesis", "\(net.directory)/genesis.json"]
            let balance = try runProcess(net.cairn, lightArguments + ["--account", funded.hex, "--output", "json"])
            let balanceJSON = try JSONSerialization.jsonObject(with: Data(balance.stdout.utf8)) as? [String: Any]
            let proven = balanceJSON?["proven"] as? [String: Any]
            #expect(balance.status == 0 && proven?["present"] as? Bool == true && (proven?["meaning"] as? String)?.hasPrefix("balance ") == true,
                    "\(balance.stdout) \(balance.stderr)")
            let absent = try runProcess(net.cairn, lightArguments + ["--rating", genesis.validators[0].publicKey.hex])
            #expect(absent.status == 0 && absent.stdout.contains("proof OK") && absent.stdout.contains("absent"), "\(absent.stdout) \(absent.stderr)")
            let ambiguous = try runProcess(net.cairn, lightArguments + ["--key", "00", "--rating", funded.hex])
            #expect(ambiguous.status != 0 && ambiguous.stderr.contains("at most one"), "\(ambiguous.stderr)")
            // Windows the node has not closed have no proof yet.
            if let answer = await net.get(1, "/v1/checkpoints/100000/proof/\(Hex.encode(StateKey.account(funded)))") {
                #expect(answer.status == 404 && answer.error?.code == .notClosed, "\(answer)")
            } else {
                Issue.record("node 1 did not answer the proof request")
            }
            net.stopAll()
            try await Task.sleep(for: .milliseconds(500))

            // Node 2 kept exactly its last 2 closes; node 1, the default 8 (or every close so far).
            for (node, kept) in [(2, UInt64(2)), (1, UInt64(8))] {
                let database = try NodeDatabase.open(path: "\(net.directory)/node\(node)/data/db", genesisHash: genesis.hash)
                defer { database.close() }
                let store = ConsensusStore(database: database)
                let open = try store.progress().window
                let windows = try (0 ..< open).filter { try store.stateSnapshot(window: $0) != nil }
                #expect(open >= 4 && windows == Array(open - min(open, kept) ..< open), "node \(node): kept \(windows) with window \(open) open")
            }

            let clean = try runProcess(net.cairn, ["audit", "verify", "--home", home])
            #expect(clean.status == 0 && clean.stdout.contains("audit OK") && clean.stdout.contains("checkpoint certificates checked"),
                    "\(clean.stdout) \(clean.stderr)")
            let cleanJSON = try runProcess(net.cairn, ["audit", "--home", home, "--output", "json"])
            let report = try JSONSerialization.jsonObject(with: Data(cleanJSON.stdout.utf8)) as? [String: Any]
            #expect((report?["checkpoints_checked"] as? Int ?? 0) >= 3 && (report?["state_entries_checked"] as? Int ?? 0) > 10, "\(cleanJSON.stdout)")

            // What to tamper with, read from the clean data.
            let (delivered, target, voteSignedBy) = try {
                let database = try NodeDatabase.open(path: "\(home)/data/db", genesisHash: genesis.hash)
                defer { database.close() }
                let store = ConsensusStore(database: database)
                let delivered = try store.progress().delivered
                let position = delivered / 2
                let entry = try #require(try store.sequenceEntry(position))
                return (delivered, (position: position, digest: entry.digest), try #require(try store.certificates([entry.digest]).first).votes[0].voter)
            }()
            #expect(delivered > 20)

            // The same check as a function: a certificate whose vote was altered, or that lost signers, fails.
            let certified = try {
                let database = try NodeDatabase.open(path: "\(home)/data/db", genesisHash: genesis.hash)
                defer { database.close() }
                return try #require(try ConsensusStore(database: database).checkpoint(3))
            }()
            #expect(CheckpointCheck.problems(certified, genesis: genesis, genesisHash: genesis.hash).isEmpty)
            var altered = certified
            altered.vote.stateRoot = Hashing.digest(.blob, [1])
            #expect(CheckpointCheck.problems(altered, genesis: genesis, genesisHash: genesis.hash).contains { $0.contains("does not verify") })
            var thin = certified
            thin.signers = Array(thin.signers.prefix(2))
            #expect(CheckpointCheck.problems(thin, genesis: genesis, genesisHash: genesis.hash).contains { $0.contains("2f+1") })
            var doubled = certified
            doubled.signers = [certified.signers[0], certified.signers[0], certified.signers[1]]
            #expect(CheckpointCheck.problems(doubled, genesis: genesis, genesisHash: genesis.hash).contains { $0.contains("signs twice") })

            /// Copies node1's home, alters the copy's database, audits it; returns the audit's output.
            func audit(_ name: String, _ alter: (Database) throws -> Void) throws -> (status: Int32, output: String) {
                let copy = "\(net.directory)/tampered-\(name)"
                try FileManager.default.copyItem(atPath: home, toPath: copy)
                let database = try NodeDatabase.open(path: "\(copy)/data/db", genesisHash: genesis.hash)
                try alter(database)
                database.close()
                let result = try runProcess(net.cairn, ["audit", "verify", "--home", copy])
                return (result.status, result.stdout + result.stderr)
            }
            let certificates = ColumnFamily.certificates.rawValue

            // (a) One flipped byte in a delivered certificate's stored bytes (the last vote's signature).
            let flipped = try audit("flipped-byte") { database in
                var bytes = try #require(try database.get(certificates, target.digest.bytes))
                bytes[bytes.count - 1] ^= 0x01
                try database.put(certificates, target.digest.bytes, bytes)
            }
            #expect(flipped.status != 0 && flipped.output.contains("position \(target.position)") && flipped.output.contains("2f+1 valid votes"), "\(flipped.output)")

            // (c) A changed payout in state: window 1's burned amount one unit higher.
            let payout = try audit("payout") { database in
                let key = StateKey.windowRewards(1)
                var rewards = try WindowRewards(canonicalBytes: try #require(try database.get(ColumnFamily.state.rawValue, key)))
                rewards.burned += 1
                try database.put(ColumnFamily.state.rawValue, key, rewards.canonicalBytes)
            }
            #expect(payout.status != 0 && payout.output.contains("wr/ (window rewards) window 1") && payout.output.contains("altered"), "\(payout.output)")

            // (e) A forged vote: one of the certificate's votes re-signed by a key that is not the voter's.
            let forged = try audit("forged-vote") { database in
                var certificate = try Certificate(canonicalBytes: try #require(try database.get(certificates, target.digest.bytes)))
                let forger = SigningKey.generate()
                certificate.votes[0].signature = forger.sign(Array("a vote I did not cast".utf8))
                try database.put(certificates, target.digest.bytes, certificate.canonicalBytes)
            }
            #expect(forged.status != 0 && forged.output.contains("position \(target.position)") && forged.output.contains("2f+1 valid votes"),
                    "vote of validator \(voteSignedBy): \(forged.output)")

            // (f) A removed vertex: its certificate deleted from storage.
            let removed = try audit("removed-vertex") { database in
                try database.delete(certificates, target.digest.bytes)
            }
            #expect(removed.status != 0 && removed.output.contains("position \(target.position)") && removed.output.contains("missing from storage"), "\(removed.output)")

            // A certified vertex not (yet) delivered, with certified children, deleted with its
            // certificate: no stored position moves, yet the DAG the children name is incomplete.
            let orphan: Digest? = try {
                let database = try NodeDatabase.open(path: "\(home)/data/db", genesisHash: genesis.hash)
                defer { database.close() }
                let store = ConsensusStore(database: database)
                var delivered = Set<Digest>()
                for position in 0 ..< (try store.progress().delivered) { if let entry = try store.sequenceEntry(position) { delivered.insert(entry.digest) } }
                let all = try store.certificates(rounds: 0, to: .max, limit: 1_000_000)
                let top = all.map(\.vertex.round).max() ?? 0
                let parents = Set(all.filter { $0.vertex.round == top }.flatMap(\.vertex.strongEdges))
                return all.first { $0.vertex.round + 1 == top && !delivered.contains(Hashing.digest(.vertex, $0.vertex)) && parents.contains(Hashing.digest(.vertex, $0.vertex)) }
                    .map { Hashing.digest(.vertex, $0.vertex) }
            }()
            // The newest rounds are never delivered yet when a node stops (a wave commits 4 rounds later).
            #expect(orphan != nil, "no undelivered certified vertex with certified children")
            if let orphan {
                let hidden = try audit("undelivered-removed") { database in try database.delete(certificates, orphan.bytes) }
                #expect(hidden.status != 0 && hidden.output.contains(orphan.hex) && hidden.output.contains("not stored"), "\(hidden.output)")
            }

            // (g) A removed window-close entry.
            let unclosed = try audit("removed-close") { database in
                try database.delete(ColumnFamily.meta.rawValue, Array("closed/".utf8) + StorageKey.uint64(2))
            }
            #expect(unclosed.status != 0 && unclosed.output.contains("window 2") && unclosed.output.contains("window-close entry is missing"), "\(unclosed.output)")

            // A kept window state that no longer matches its close: the node refuses to prove from
            // it, and the audit names the window.
            let damagedCopy = try audit("kept-state") { database in
                let key = StorageKey.uint64(3) + StateKey.account(funded)
                var account = try Account(canonicalBytes: try #require(try database.get(ColumnFamily.checkpoints.rawValue, key)))
                account.balance += 1
                try database.put(ColumnFamily.checkpoints.rawValue, key, account.canonicalBytes)
                #expect(throws: ConsensusStore.ProofUnavailable.self) { try ConsensusStore(database: database).stateProof(window: 3, key: StateKey.account(funded)) }
            }
            #expect(damagedCopy.status != 0 && damagedCopy.output.contains("window 3") && damagedCopy.output.contains("state copy"), "\(damagedCopy.output)")
            #expect((report?["state_copies_checked"] as? Int ?? 0) >= 3, "\(cleanJSON.stdout)")

            // (h) An archive verifies with no node; one flipped byte anywhere in it fails, named.
            let archivePath = "\(net.directory)/node1.cairn-archive"
            let written = try runProcess(net.cairn, ["audit", "archive", "--home", home, "--out", archivePath])
            #expect(written.status == 0, "\(written.stdout) \(written.stderr)")
            let fromArchive = try runProcess(net.cairn, ["audit", "verify", "--archive", archivePath, "--genesis", "\(net.directory)/genesis.json", "--output", "json"])
            let archived = try JSONSerialization.jsonObject(with: Data(fromArchive.stdout.utf8)) as? [String: Any]
            #expect(fromArchive.status == 0 && archived?["state_root"] as? String == report?["state_root"] as? String
                    && archived?["positions"] as? Int == report?["positions"] as? Int, "\(fromArchive.stdout) \(fromArchive.stderr)")
            let original = try Data(contentsOf: URL(fileURLWithPath: archivePath))
            var g = SeededGenerator(seed: 17)
            for offset in [9, original.count / 3, original.count / 2, original.count - 40, original.count - 1, Int(g.next() % UInt64(original.count))] {
                var damaged = original
                damaged[offset] ^= 0x20
                let path = "\(net.directory)/damaged-\(offset).cairn-archive"
                try damaged.write(to: URL(fileURLWithPath: path))
                let result = try runProcess(net.cairn, ["audit", "verify", "--archive", path, "--genesis-hash", genesis.hash.hex])
                #expect(result.status != 0 && (result.stdout + result.stderr).contains("damaged"), "byte \(offset): \(result.stdout) \(result.stderr)")
            }

            // Restore: into a home without a database only; the restored node audits to the same root.
            let fresh = "\(net.directory)/restored"
            try FileManager.default.createDirectory(atPath: fresh + "/config", withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: "\(net.directory)/genesis.json", toPath: fresh + "/config/genesis.json")
            let restored = try runProcess(net.cairn, ["audit", "restore", "--home", fresh, "--archive", archivePath])
            #expect(restored.status == 0, "\(restored.stdout) \(restored.stderr)")
            let again = try runProcess(net.cairn, ["audit", "restore", "--home", fresh, "--archive", archivePath])
            #expect(again.status != 0 && again.stderr.contains("exists"), "\(again.stderr)")
            try FileManager.default.createDirectory(atPath: "\(net.directory)/restored-damaged/config", withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: "\(net.directory)/genesis.json", toPath: "\(net.directory)/restored-damaged/config/genesis.json")
            let damagedRestore = try runProcess(net.cairn, ["audit", "restore", "--home", "\(net.directory)/restored-damaged",
                                                            "--archive", "\(net.directory)/damaged-9.cairn-archive"])
            #expect(damagedRestore.status != 0 && damagedRestore.stderr.contains("damaged")
                    && !FileManager.default.fileExists(atPath: "\(net.directory)/restored-damaged/data/db"), "\(damagedRestore.stderr)")
            let restoredAudit = try runProcess(net.cairn, ["audit", "verify", "--home", fresh, "--genesis", "\(net.directory)/genesis.json", "--output", "json"])
            let restoredReport = try JSONSerialization.jsonObject(with: Data(restoredAudit.stdout.utf8)) as? [String: Any]
            #expect(restoredAudit.status == 0 && restoredReport?["state_root"] as? String == report?["state_root"] as? String, "\(restoredAudit.stdout) \(restoredAudit.stderr)")

            // An archive is checked against the chain its auditor trusts, never only its own genesis.
            let unpinned = try runProcess(net.cairn, ["audit", "verify", "--archive", archivePath])
            #expect(unpinned.status != 0 && unpinned.stderr.contains("--genesis"), "\(unpinned.stderr)")
            let otherChain = try runProcess(net.cairn, ["audit", "verify", "--archive", archivePath, "--genesis-hash", String(repeating: "ab", count: 32)])
            #expect(otherChain.status != 0 && (otherChain.stdout + otherChain.stderr).contains("not the trusted"), "\(otherChain.stdout) \(otherChain.stderr)")

            // Inspection: the state the replay computes at window 2's close is the one the node
            // recorded there (same root); it holds window 1's rewards (settled at that close) and not yet window 2's.
            let at = try runProcess(net.cairn, ["audit", "state", "--home", home, "--at", "2", "--output", "json", "--limit", "100000"])
            let atObject = try JSONSerialization.jsonObject(with: Data(at.stdout.utf8)) as? [String: Any]
            let rows = atObject?["entries"] as? [[String: Any]] ?? []
            #expect(at.status == 0 && rows.contains { $0["describe"] as? String == "wr/ (window rewards) window 1" }
                    && !rows.contains { $0["describe"] as? String == "wr/ (window rewards) window 2" }, "\(at.stdout.prefix(300)) \(at.stderr)")
            let entries = rows.compactMap { row -> (key: [UInt8], value: [UInt8])? in
                guard let k = row["key"] as? String, let v = row["value"] as? String, let key = try? Hex.decode(k), let value = try? Hex.decode(v) else { return nil }
                return (key, value)
            }
            let window2 = try runProcess(net.cairn, ["audit", "window", "--home", home, "2", "--output", "json"])
            let w2 = try JSONSerialization.jsonObject(with: Data(window2.stdout.utf8)) as? [String: Any]
            #expect(w2?["state_root"] as? String == Ledger.stateRoot(entries).hex, "\(window2.stdout)")
            let bounds = try runProcess(net.cairn, ["audit", "bounds", "--home", home, "--output", "json"])
            #expect((try JSONSerialization.jsonObject(with: Data(bounds.stdout.utf8)) as? [String: Any])?["delivered"] as? Int == Int(delivered))

            // The export of the clean node's DAG: one line per certified vertex, the waves, then its order.
            let export = try runProcess(net.cairn, ["audit", "export", "--home", home, "--what", "dag"])
            #expect(export.status == 0, "\(export.stderr)")
            let lines = export.stdout.split(separator: "\n").map(String.init)
            let last = try #require(lines.last.flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] })
            #expect((last["delivered"] as? [String])?.count == Int(delivered))
            #expect(lines.contains { $0.hasPrefix("{\"wave\":") } && lines.contains { $0.contains("\"strong\":") })
            let csv = try runProcess(net.cairn, ["audit", "export", "--home", home, "--what", "windows", "--format", "csv"])
            #expect(csv.status == 0 && csv.stdout.hasPrefix("window,state_root,") && csv.stdout.split(separator: "\n").count >= 5, "\(csv.stdout) \(csv.stderr)")
        }
    }
}
