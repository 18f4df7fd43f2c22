import ArgumentParser
import CairnAPI
import CairnAudit
import CairnChain
import CairnCore
import CairnCrypto
import CairnLedger
import CairnNode
import CairnStorage
import CairnTraining
import Foundation

/// `cairn audit`: the auditor's shell (CairnAudit). `cairn audit --home DIR` is `verify`.
struct Audit: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Verify a node's stored history from genesis, check checkpoint certificates, export what it stored.",
        subcommands: [AuditVerify.self, AuditCheckpoint.self, AuditExportCommand.self, AuditArchive.self, AuditRestore.self, AuditReportCommand.self, AuditStorage.self,
                      AuditBounds.self, AuditPrint.self, AuditVertex.self, AuditRecord.self, AuditWindow.self, AuditState.self],
        defaultSubcommand: AuditVerify.self)

    /// Opens HOME's database as a RocksDB secondary instance (safe while the node runs: a fixed
    /// view of the moment it opened) and hands it to `body`.
    static func withDatabase<T>(home: String, _ body: (Database, Genesis) throws -> T) throws -> T {
        let nodeHome = NodeHome(home)
        let genesis = try nodeHome.loadGenesis()
        let scratch = FileManager.default.temporaryDirectory.path + "/cairn-audit-\(UInt64.random(in: 0 ... .max))"
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let database = try NodeDatabase.openSecondary(path: nodeHome.databaseDirectory, scratch: scratch, genesisHash: genesis.hash)
        defer { database.close() }
        return try body(database, genesis)
    }
}

extension Audit {
    /// Checks and restores an archive into a scratch database, opens it, and hands it to `body`.
    static func withArchive<T>(_ path: String, _ body: (Database, Genesis) throws -> T) throws -> T {
        let scratch = FileManager.default.temporaryDirectory.path + "/cairn-archive-\(UInt64.random(in: 0 ... .max))"
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let (genesisJSON, _) = try Archive.restore(path, into: scratch + "/db")
        let genesisPath = scratch + "/genesis.json"
        guard FileManager.default.createFile(atPath: genesisPath, contents: Data(genesisJSON)) else { throw CLIError("cannot write \(genesisPath)") }
        let genesis = try GenesisFile.load(path: genesisPath)
        let database = try NodeDatabase.open(path: scratch + "/db", genesisHash: genesis.hash)
        defer { database.close() }
        return try body(database, genesis)
    }
}

struct AuditArchive: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "archive",
        abstract: "Write a node's history to one portable, checksummed file that `cairn audit verify --archive` checks with no node.",
        discussion: """
            The file holds the genesis file and every entry of every column family (certificates, \
            sequence, records, state, blobs and models), each family's section with its SHA-256 and \
            the whole file with another. Safe while the node runs (a secondary view).
            """)

    @Option(help: "The node's home directory.")
    var home: String

    @Option(help: "The archive file to write.")
    var out: String

    func run() throws {
        let genesisJSON = try Array(Data(contentsOf: URL(fileURLWithPath: NodeHome(home).genesisFile)))
        let summary = try Audit.withDatabase(home: home) { database, _ in try Archive.write(database, genesisJSON: genesisJSON, to: out) }
        for family in summary.families { print("\(family.name.padding(toLength: 14, withPad: " ", startingAt: 0)) \(family.entries) entries") }
        print("archive     \(out): \(summary.bytes) bytes")
    }
}

struct AuditRestore: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Restore a node's database from an archive into a home whose data/db is absent (the node stopped).",
        discussion: """
            The archive is checked end to end (every section's SHA-256 and the file's), must hold             the same genesis as HOME/config/genesis.json, and is restored beside data/db and renamed             into place only once it opens as that chain's database: a failure leaves the home as it             was. The node then catches up from its peers. An older backup makes the node forget             votes it cast after it: safety tolerates that as one of the f faults, so restore one             validator at a time (docs/OPERATING.md).
            """)

    @Option(help: "The node's home directory (config/genesis.json present, data/db absent).")
    var home: String

    @Option(help: "The archive written by `cairn audit archive`.")
    var archive: String

    func run() throws {
        let home = NodeHome(home)
        let fm = FileManager.default
        guard !fm.fileExists(atPath: home.databaseDirectory) else {
            throw CLIError("\(home.databaseDirectory) exists; stop the node and move it aside first (restore never overwrites a database)")
        }
        let genesis = try home.loadGenesis()
        try home.createDirectories()
        let staging = home.dataDirectory + "/db.restoring-\(getpid())"
        defer { try? fm.removeItem(atPath: staging) }
        let (genesisJSON, summary) = try Archive.restore(archive, into: staging)
        let archived = try Genesis.parseJSON(Data(genesisJSON))
        guard archived.hash == genesis.hash else {
            throw CLIError("\(archive) holds chain \(archived.chainID) (genesis \(archived.hash.short)…), but \(home.genesisFile) is \(genesis.hash.short)…")
        }
        try NodeDatabase.open(path: staging, genesisHash: genesis.hash).close()
        guard rename(staging, home.databaseDirectory) == 0 else {
            throw CLIError("cannot move the restored database into \(home.databaseDirectory): \(String(cString: strerror(errno)))")
        }
        print("restored \(summary.bytes) bytes from \(archive) into \(home.databaseDirectory) (chain \(genesis.chainID), genesis \(genesis.hash.short)…)")
        print("next: cairn audit verify --home \(home.root), then start the node; it catches up from its peers")
    }
}

struct AuditReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write an HTML report (held-out loss, ratings, payouts, disagreements, latency) that opens with no network access.")

    @Option(help: "The node's home directory.")
    var home: String?

    @Option(help: "An archive written by `cairn audit archive` (instead of --home).")
    var archive: String?

    @Option(help: "The directory to write index.html into (created if missing).")
    var out: String

    @Option(help: "The corpus directory genesis hashes, to recompute the held-out loss (default: the node's [training] corpus, or /usr/share/games/fortunes).")
    var corpus: String?

    @Flag(help: "Chart only the node's own held-out measurement; do not recompute it (no corpus needed).")
    var nodeLossOnly = false

    func validate() throws {
        guard (home == nil) != (archive == nil) else { throw ValidationError("give exactly one of --home DIR and --archive FILE") }
    }

    func run() throws {
        let corpusDirectory = try corpus ?? home.map { try NodeConfig.load(path: NodeHome($0).configFile).corpusDirectory } ?? "/usr/share/games/fortunes"
        let terminal = isatty(STDERR_FILENO) == 1
        let body: (Database, Genesis) throws -> String = { database, genesis in
            let report = AuditReport(database: database, genesis: genesis)
            var data = try report.collect()
            if !nodeLossOnly {
                let text: CorpusText
                do {
                    text = try CorpusText(directory: corpusDirectory, expected: genesis.task.corpus)
                } catch {
                    throw CLIError("cannot recompute the held-out loss: \(error); give --corpus DIR (the corpus genesis hashes) or --node-loss-only")
                }
                let task = try ReferenceTask(corpus: text, model: genesis.task.model)
                try report.recomputeHeldOut(task: task, into: &data) { done, total in
                    guard terminal else { return }
                    FileHandle.standardError.write(Data("\r\u{1B}[Krecomputing the held-out loss: window \(done)/\(total)".utf8))
                }
                if terminal { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
            }
            return AuditReport.html(data, chain: genesis.chainID, generated: ISO8601DateFormatter().string(from: Date()))
        }
        let html = try home.map { try Audit.withDatabase(home: $0, body) } ?? Audit.withArchive(archive!, body)
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let path = out + "/index.html"
        guard FileManager.default.createFile(atPath: path, contents: Data(html.utf8)) else { throw CLIError("cannot write \(path)") }
        print("report      \(path)")
    }
}

struct AuditVerify: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Replay a node's stored history from genesis and check everything it computed.",
        discussion: """
            Opens HOME/data/db read-only as a secondary instance (the node may keep running), \
            then, trusting only genesis: checks every delivered certificate's 2f+1 votes; \
            re-derives DAG-Rider's order (leaders from the combined coin, direct and recursive \
            commits, delivery order) from every stored certificate and compares it with the stored \
            sequence; recomputes the sequence hash chain; re-executes the ledger (every record \
            signature again, windows, quorums, ratings, penalties, payouts, the outer step from the \
            stored blobs); checks the supply identity at every window close, the node's record of \
            every close, every checkpoint certificate's signatures, state root, sequence hash and \
            model hash, and every stored state entry. Missing data is a failure. Exit status 0 when \
            everything matches; 1 with the first difference (position, window or state key, and \
            both values) otherwise.
            """)

    @Option(help: "The node's home directory.")
    var home: String?

    @Option(help: "An archive written by `cairn audit archive` (instead of --home): checked and verified with no node.")
    var archive: String?

    @Option(help: "text (default) or json: one JSON object.")
    var output: OutputFormat = .text

    @Flag(help: "Same as --output json.")
    var json = false

    @Option(help: "The genesis file you trust for this chain: the audited data must be of exactly this chain (required with --archive, whose embedded genesis could be anyone's).")
    var genesis: String?

    @Option(help: "Instead of --genesis: the genesis hash you trust (64 hex characters, as `cairn genesis hash` prints it).")
    var genesisHash: String?

    @Flag(help: "Also evaluate every contribution again and check it falls inside the quorum the ledger recorded (about 0.1 s each).")
    var reevaluate = false

    @Option(help: "With --reevaluate: the corpus directory genesis hashes (default: the node's [training] corpus, or /usr/share/games/fortunes).")
    var corpus: String?

    func validate() throws {
        guard (home == nil) != (archive == nil) else { throw ValidationError("give exactly one of --home DIR and --archive FILE") }
        guard genesis == nil || genesisHash == nil else { throw ValidationError("give --genesis FILE or --genesis-hash HEX, not both") }
        if archive != nil, genesis == nil, genesisHash == nil {
            throw ValidationError("--archive needs --genesis FILE or --genesis-hash HEX: the archive's own genesis proves nothing about which chain it is")
        }
        if let genesisHash, (try? Digest(hex: genesisHash)) == nil { throw ValidationError("--genesis-hash must be 64 hex characters") }
    }

    /// The genesis hash the auditor trusts, when it named one.
    func trustedGenesisHash() throws -> Digest? {
        if let genesis { return try GenesisFile.load(path: genesis).hash }
        return try genesisHash.map { try Digest(hex: $0) }
    }

    func run() throws {
        let asJSON = json || output == .json
        let trusted = try trustedGenesisHash()
        let terminal = isatty(STDERR_FILENO) == 1
        let started = ContinuousClock.now
        let open: ((Database, Genesis) throws -> Auditor.Report) throws -> Auditor.Report = { body in
            if let home { return try Audit.withDatabase(home: home, body) }
            return try Audit.withArchive(archive!, body)
        }
        var reevaluation: Reevaluation.Result?
        let corpusDirectory = reevaluate ? try corpus ?? home.map { try NodeConfig.load(path: NodeHome($0).configFile).corpusDirectory } ?? "/usr/share/games/fortunes" : ""
        var chain = ""
        let report = try open { database, genesis in
            chain = "\(genesis.chainID) \(genesis.hash.hex)"
            if let trusted, trusted != genesis.hash {
                throw CLIError("audit FAILED: the data is of chain \(genesis.chainID) with genesis hash \(genesis.hash.hex), not the trusted \(trusted.hex)")
            }
            var report = try Auditor(database: database, genesis: genesis, genesisHash: genesis.hash).run { done, total in
                guard terminal, total > 0 else { return }
                let seconds = max(0.001, Self.seconds(since: started))
                let rate = Double(done) / seconds
                let eta = rate > 0 ? Double(total - min(done, total)) / rate : 0
                let filled = Int(30 * Double(done) / Double(total))
                FileHandle.standardError.write(Data(String(format: "\r[%@%@] %llu/%llu positions  %.0f/s  ETA %.0f s ",
                                                           String(repeating: "#", count: filled), String(repeating: ".", count: 30 - filled),
                                                           done, total, rate, eta).utf8))
            }
            if reevaluate, report.problem == nil {
                let task = try ReferenceTask(corpus: try CorpusText(directory: corpusDirectory, expected: genesis.task.corpus), model: genesis.task.model)
                let again = try Reevaluation(database: database, genesis: genesis, genesisHash: genesis.hash, task: task).run { done, total in
                    guard terminal else { return }
                    FileHandle.standardError.write(Data("\r\u{1B}[Kre-evaluating \(done)/\(total) contributions".utf8))
                }
                reevaluation = again
                if let problem = again.problem { report.problem = "re-evaluation: \(problem)" }
            }
            return report
        }
        if terminal { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        let seconds = Self.seconds(since: started)
        if asJSON {
            try printJSON(VerifyOutput(report: report, reevaluation: reevaluation, chain: chain, genesisTrusted: trusted != nil))
        } else {
            print("chain       \(chain)\(trusted != nil ? " (the trusted genesis)" : " (genesis read from the audited data; pass --genesis to pin it)")")
            print("replayed    \(report.positions) positions, \(report.leaders) leaders in \(String(format: "%.1f", seconds)) s")
            print("records     \(report.recordsExecuted) executed, \(report.recordsRejected) rejected")
            print("order       \(report.orderChecked) positions as DAG-Rider decides them from the stored certificates (\(report.leadersRederived) leaders re-derived)")
            print("windows     \(report.windowsClosed) closed, \(report.checkpointsChecked) checkpoint certificates checked (signatures, state root, sequence hash, model hash), supply conserved at \(report.supplyChecks) closes, \(report.stateCopiesChecked) kept window states match")
            print("state       \(report.stateEntriesChecked) stored entries equal to the replay's")
            if let reevaluation {
                print("re-evaluated \(reevaluation.reevaluated) contributions inside their recorded quorums (\(reevaluation.withoutQuorum) had no quorum)")
            }
            print("sequence    \(report.sequenceHash)")
            print("state root  \(report.stateRoot) (node: \(report.nodeStateRoot))")
        }
        if let problem = report.problem {
            throw CLIError("audit FAILED: \(problem)")
        }
        if !asJSON { print("audit OK: every certificate, record, window, checkpoint and state entry matches") }
    }

    static func seconds(since start: ContinuousClock.Instant) -> Double {
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }
}

enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json
}

/// The light-client check: a checkpoint certificate from any node, verified against genesis alone.
struct AuditCheckpoint: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "checkpoint",
        abstract: "Verify a window's checkpoint certificate from a node against a genesis file alone.",
        discussion: """
            Fetches GET /v1/checkpoints/WINDOW from --node and checks that 2f+1 distinct validators \
            of GENESIS signed that (window, sequence hash, state root, model hash) as records of \
            this chain. With --account, --rating or --key it then fetches that state entry's Merkle \
            proof (GET /v1/checkpoints/WINDOW/proof/KEY) and checks it against the certified state \
            root, so the balance or rating printed is the one 2f+1 validators certified — or its \
            absence is. The node is not trusted: a certificate or proof it made up fails. Exit \
            status 0 when everything holds.
            """)

    @Option(help: "The node's API URL, e.g. http://127.0.0.1:26601.")
    var node: String

    @Option(help: "The window whose checkpoint to check.")
    var window: UInt64

    @Option(help: "The chain's genesis.json (the only thing trusted).")
    var genesis: String

    @Option(help: "Also prove this account's balance and nonce at the window (64-hex public key).")
    var account: String?

    @Option(help: "Also prove this trainer's rating at the window (64-hex public key).")
    var rating: String?

    @Option(help: "Also prove this raw state key's value at the window (hex).")
    var key: String?

    @Option(help: "text (default) or json.")
    var output: OutputFormat = .text

    func validate() throws {
        guard [account, rating, key].compactMap({ $0 }).count <= 1 else {
            throw ValidationError("give at most one of --account, --rating and --key")
        }
    }

    /// The state key asked about, if any.
    func stateKey() throws -> [UInt8]? {
        func publicKey(_ text: String, _ option: String) throws -> PublicKey {
            guard let bytes = Hex.decode(text), let key = try? PublicKey(bytes: bytes) else {
                throw ValidationError("--\(option) must be a 64-hex-character Ed25519 public key")
            }
            return key
        }
        if let account { return StateKey.account(try publicKey(account, "account")) }
        if let rating { return StateKey.trainerRating(try publicKey(rating, "rating")) }
        if let key {
            guard let bytes = Hex.decode(key), !bytes.isEmpty, bytes.count <= StateKey.maxLength else {
                throw ValidationError("--key must be a state key as hex, 1 to \(StateKey.maxLength) bytes")
            }
            return bytes
        }
        return nil
    }

    func run() async throws {
        let genesis = try GenesisFile.load(path: self.genesis)
        let stateKey = try stateKey()
        let client = try NodeClient(node)
        let certificate = try Self.certificate(from: try await client.get("v1/checkpoints/\(window)", as: CheckpointReply.self), window: window)
        let problems = CheckpointCheck.problems(certificate, genesis: genesis, genesisHash: genesis.hash)
        let vote = certificate.vote
        // The entry is proven only under a certificate that holds: a proof against a made-up root
        // proves nothing.
        var proven: (key: [UInt8], value: [UInt8]?)?
        if let stateKey, problems.isEmpty {
            let proof: StateProof
            do {
                proof = try await client.get("v1/checkpoints/\(window)/proof/\(Hex.encode(stateKey))", as: ProofReply.self).proof
            } catch let error as APIError {
                throw CLIError("the node has no proof: \(error)")
            }
            do {
                proven = (stateKey, try proof.verify(key: stateKey, root: vote.stateRoot))
            } catch {
                throw CLIError("proof INVALID: \(error.description); the node's state at window \(window) is not the certified one (ask another node)")
            }
        }
        if output == .json {
            struct Proven: Encodable {
                var key: String, present: Bool
                @NullWhenAbsent var value: String?
                var meaning: String
            }
            struct CheckpointOutput: Encodable {
                var window: UInt64, valid: Bool, problems: [String], state_root: String, sequence_hash: String, model_hash: String, signers: [Int]
                var proven: Proven?
            }
            try printJSON(CheckpointOutput(
                window: vote.window, valid: problems.isEmpty, problems: problems, state_root: vote.stateRoot.hex, sequence_hash: vote.sequenceHash.hex,
                model_hash: vote.modelHash.hex, signers: certificate.signers.map { Int($0.validator) },
                proven: proven.map { Proven(key: Hex.encode($0.key), present: $0.value != nil, value: $0.value.map { Hex.encode($0) },
                                            meaning: CheckpointCheck.describe(key: $0.key, value: $0.value)) }))
        } else {
            print("window         \(vote.window)")
            print("state root     \(vote.stateRoot.hex)")
            print("sequence hash  \(vote.sequenceHash.hex)")
            print("model hash     \(vote.modelHash.hex)")
            print("signers        \(certificate.signers.map { genesis.validators.indices.contains(Int($0.validator)) ? genesis.validators[Int($0.validator)].name : "#\($0.validator)" }.joined(separator: ", "))")
            if let proven {
                print("entry          \(StateKey.describe(proven.key))")
                print("value          \(CheckpointCheck.describe(key: proven.key, value: proven.value))")
            }
        }
        guard problems.isEmpty else { throw CLIError("checkpoint INVALID: \(problems.joined(separator: "; "))") }
        if output == .text {
            print("checkpoint OK: 2f+1 validators of genesis \(genesis.hash.hex.prefix(12))… certified this state")
            if proven != nil { print("proof OK: the entry above is in the certified state root") }
        }
    }

    /// The certificate from `/v1/checkpoints/{k}`'s JSON; every field is checked, nothing trusted.
    static func certificate(from reply: CheckpointReply, window: UInt64) throws -> CheckpointCertificate {
        func digest(_ text: String, _ field: String) throws -> Digest {
            guard let value = try? Digest(hex: text) else { throw CLIError("the node's answer has no valid \(field)") }
            return value
        }
        let (signers, nonces, signatures) = (reply.signers, reply.nonces, reply.signatures)
        guard signers.count == nonces.count, signers.count == signatures.count, signers.count <= 10_000 else {
            throw CLIError("the node's answer lacks matching signers, nonces and signatures lists")
        }
        var list: [CheckpointCertificate.Signer] = []
        for i in signers.indices {
            // A nonce that is not the signer's (even one wrapped from a negative number) fails
            // the signature check below; nothing here can trap.
            let nonce = nonces[i]
            guard let validator = UInt32(exactly: signers[i]), let bytes = Hex.decode(signatures[i]), let signature = try? Signature(bytes: bytes) else {
                throw CLIError("signer \(i) in the node's answer is malformed")
            }
            list.append(CheckpointCertificate.Signer(validator: validator, nonce: nonce, signature: signature))
        }
        let vote = CheckpointVote(window: window, sequenceHash: try digest(reply.sequenceHash, "sequence_hash"), stateRoot: try digest(reply.stateRoot, "state_root"),
                                  modelHash: try digest(reply.modelHash, "model_hash"))
        return CheckpointCertificate(vote: vote, signers: list)
    }
}

struct AuditExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Export what a node stored: the certified DAG, records, windows, ratings or payouts.",
        discussion: """
            --what dag writes JSON lines in the `cairn sim --export-dag` format: one \
            {"digest","round","author","strong","weak"} per certified vertex (2f+1 valid votes), one \
            {"wave","leader"} per wave DAG-Rider decides from them, then {"delivered":[…]} with the \
            node's stored order — enough to re-derive the order with another implementation. The \
            other tables come from the node's state; run `cairn audit verify` first to know they \
            are the ones its history produces.
            """)

    @Option(help: "The node's home directory.")
    var home: String

    @Option(help: "dag, records, windows, ratings or payouts.")
    var what: AuditExport.What

    @Option(help: "jsonl (default) or csv (not for dag).")
    var format: AuditExport.Format = .jsonl

    @Option(help: "Write to this file instead of standard output.")
    var out: String?

    func run() throws {
        var lines: [String] = []
        try Audit.withDatabase(home: home) { database, genesis in
            try AuditExport(database: database, genesis: genesis, genesisHash: genesis.hash).write(what, format: format) { lines.append($0) }
        }
        let text = lines.isEmpty ? "" : lines.joined(separator: "\n") + "\n"
        if let out {
            guard FileManager.default.createFile(atPath: out, contents: Data(text.utf8)) else { throw CLIError("cannot write \(out)") }
        } else {
            FileHandle.standardOutput.write(Data(text.utf8))
        }
    }
}

extension AuditExport.What: ExpressibleByArgument {}
extension AuditExport.Format: ExpressibleByArgument {}

struct AuditStorage: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "analyze-storage",
        abstract: "Key counts and sizes per column family of a node's database, and per state prefix.")

    @Option(help: "The node's home directory.")
    var home: String

    @Option(help: "text (default) or json.")
    var output: OutputFormat = .text

    func run() throws {
        let (families, prefixes) = try Audit.withDatabase(home: home) { database, _ in
            try StorageAnalysis.measure(database)
        }
        if output == .json {
            struct Family: Encodable { var family: String, keys: UInt64, key_bytes: UInt64, value_bytes: UInt64 }
            struct Prefix: Encodable { var prefix: String, keys: UInt64, key_bytes: UInt64, value_bytes: UInt64 }
            struct StorageOutput: Encodable { var families: [Family], state_prefixes: [Prefix] }
            try printJSON(StorageOutput(
                families: families.map { Family(family: $0.name, keys: $0.keys, key_bytes: $0.keyBytes, value_bytes: $0.valueBytes) },
                state_prefixes: prefixes.map { Prefix(prefix: $0.name, keys: $0.keys, key_bytes: $0.keyBytes, value_bytes: $0.valueBytes) }))
            return
        }
        func row(_ s: StorageAnalysis.Sizes) -> String {
            s.name.padding(toLength: 26, withPad: " ", startingAt: 0) + String(format: "%10llu keys %12.1f KiB keys %12.1f KiB values",
                                                                                 s.keys, Double(s.keyBytes) / 1024, Double(s.valueBytes) / 1024)
        }
        print("column families")
        for family in families { print("  " + row(family)) }
        print("state by key prefix")
        for prefix in prefixes { print("  " + row(prefix)) }
    }
}

/// `cairn audit verify --output json`: the report's fields, the re-evaluation's, the chain and
/// whether genesis was pinned (one object, as scripts read it).
struct VerifyOutput: Encodable {
    var report: Auditor.Report
    var reevaluation: Reevaluation.Result?
    var chain: String
    var genesisTrusted: Bool

    enum Keys: String, CodingKey { case reevaluation, chain, genesis_trusted }

    func encode(to encoder: any Encoder) throws {
        try report.encode(to: encoder)  // the report's keys at the top level, as before
        var container = encoder.container(keyedBy: Keys.self)
        try container.encodeIfPresent(reevaluation, forKey: .reevaluation)
        try container.encode(chain, forKey: .chain)
        try container.encode(genesisTrusted, forKey: .genesis_trusted)
    }
}
