import ArgumentParser
import CairnAudit
import CairnChain
import CairnCore
import CairnCrypto
import CairnLedger
import CairnNode
import CairnStorage
import Foundation

/// `cairn audit bounds|print|vertex|record|window|state`: read a node's stored history, human
/// readable by default, `--output json` for scripts. Reads a secondary view (the node may run).
struct InspectOptions: ParsableArguments {
    @Option(help: "The node's home directory.")
    var home: String

    @Option(help: "text (default) or json.")
    var output: OutputFormat = .text

    /// Prints `object` as one JSON line, or `text` lines.
    func emit(_ object: some Encodable, text: @autoclosure () -> [String]) throws {
        if output == .json {
            try printJSON(object)
        } else {
            for line in text() { print(line) }
        }
    }
}

struct AuditBounds: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "bounds", abstract: "What the node stores: positions, rounds, windows.")
    @OptionGroup var options: InspectOptions

    func run() throws {
        try Audit.withDatabase(home: options.home) { database, _ in
            let store = ConsensusStore(database: database)
            let progress = try store.progress()
            let lowest = try store.certificates(rounds: 0, to: .max, limit: 1).first?.vertex.round
            var highest: UInt64?
            try database.scan(ColumnFamily.rounds.rawValue) { key, _ in
                if key.count >= 8 { highest = key.prefix(8).reduce(0) { $0 << 8 | UInt64($1) } }
                return true
            }
            var windows: UInt64 = 0
            while try store.closedWindow(windows) != nil { windows += 1 }
            let pruned = try store.prunedBelow()
            struct Bounds: Encodable {
                var delivered: UInt64
                @NullWhenAbsent var lowest_round: UInt64?
                @NullWhenAbsent var highest_round: UInt64?
                var windows_closed: UInt64
                var pruned_below_round: UInt64
                var state_root: String
            }
            let object = Bounds(delivered: progress.delivered, lowest_round: lowest, highest_round: highest, windows_closed: windows,
                                pruned_below_round: pruned, state_root: progress.stateRoot.hex)
            try options.emit(object, text: [
                "positions   0 … \(progress.delivered == 0 ? "(none)" : String(progress.delivered - 1)) delivered",
                "rounds      \(lowest.map(String.init) ?? "–") … \(highest.map(String.init) ?? "–") certified (pruned below \(pruned))",
                "windows     \(windows) closed (0 … \(windows == 0 ? "–" : String(windows - 1)))",
                "state root  \(progress.stateRoot.hex)",
            ])
        }
    }
}

struct AuditPrint: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "print", abstract: "The delivered sequence from --from to --to: position, round, author, digest, leader round, records.")
    @OptionGroup var options: InspectOptions
    @Option(help: "First position.") var from: UInt64 = 0
    @Option(help: "Last position (default: from + 49).") var to: UInt64?

    func run() throws {
        let last = to ?? from &+ 49
        guard last >= from, last - from < 100_000 else { throw ValidationError("--to must be ≥ --from and at most 100,000 positions after it") }
        try Audit.withDatabase(home: options.home) { database, _ in
            let store = ConsensusStore(database: database)
            let delivered = try store.progress().delivered
            struct Row: Encodable {
                var position: UInt64, round: UInt64, author: UInt32, digest: String, leader_round: UInt64, records: Int, timestamp_ms: UInt64
            }
            var rows: [Row] = []
            var lines: [String] = []
            var position = from
            while position <= last, position < delivered {
                guard let (entry, certificate) = try store.delivered(at: position) else {
                    throw CLIError("position \(position): sequence entry or certificate missing; run cairn audit verify")
                }
                let v = certificate.vertex
                rows.append(Row(position: position, round: v.round, author: v.author, digest: entry.digest.hex,
                                leader_round: entry.leaderRound, records: v.payload.count, timestamp_ms: v.timestampMs))
                lines.append(String(format: "%8llu  round %6llu  author %3u  %@…  leader %6llu  %4d records", position, v.round, v.author,
                                    String(entry.digest.hex.prefix(16)), entry.leaderRound, v.payload.count))
                position += 1
            }
            struct Vertices: Encodable { var vertices: [Row] }
            try options.emit(Vertices(vertices: rows), text: lines.isEmpty ? ["no positions in \(from)…\(last) (\(delivered) delivered)"] : lines)
        }
    }
}

struct AuditVertex: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "vertex", abstract: "One certified vertex: round, author, edges, votes, records, and its position if delivered.")
    @OptionGroup var options: InspectOptions
    @Argument(help: "The vertex digest (64 hex characters).") var digest: String

    func run() throws {
        guard let id = try? Digest(hex: digest) else { throw ValidationError("the digest must be 64 hex characters") }
        try Audit.withDatabase(home: options.home) { database, _ in
            let store = ConsensusStore(database: database)
            guard let certificate = try store.certificates([id]).first else { throw CLIError("no certificate \(id.hex) in this node's storage") }
            let v = certificate.vertex
            var position: UInt64?
            let delivered = try store.progress().delivered
            var p: UInt64 = 0
            while p < delivered, position == nil {
                if try store.sequenceEntry(p)?.digest == id { position = p }
                p += 1
            }
            let records = v.payload.map { Hashing.digest(.record, $0).hex }
            struct VertexOutput: Encodable {
                var digest: String, round: UInt64, author: UInt32, timestamp_ms: UInt64, strong: [String], weak: [String], voters: [UInt32]
                var records: [String], coin_share: Bool
                @NullWhenAbsent var position: UInt64?
            }
            let object = VertexOutput(digest: id.hex, round: v.round, author: v.author, timestamp_ms: v.timestampMs,
                                      strong: v.strongEdges.map(\.hex), weak: v.weakEdges.map(\.hex), voters: certificate.votes.map(\.voter),
                                      records: records, coin_share: v.coinShare != nil, position: position)
            try options.emit(object, text: [
                "vertex      \(id.hex)", "round       \(v.round), author \(v.author), timestamp \(v.timestampMs) ms",
                "position    \(position.map(String.init) ?? "not delivered")",
                "votes       \(certificate.votes.map { String($0.voter) }.joined(separator: ", "))",
                "strong      \(v.strongEdges.map { String($0.hex.prefix(16)) + "…" }.joined(separator: " "))",
                "weak        \(v.weakEdges.isEmpty ? "none" : v.weakEdges.map { String($0.hex.prefix(16)) + "…" }.joined(separator: " "))",
                "coin share  \(v.coinShare != nil ? "yes" : "no")",
                "records     \(records.count)",
            ] + records.map { "  \($0)" })
        }
    }
}

struct AuditRecord: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "record", abstract: "One record: its position, outcome, author, nonce and body.")
    @OptionGroup var options: InspectOptions
    @Argument(help: "The record id (64 hex characters).") var id: String

    func run() throws {
        guard let recordID = try? Digest(hex: id) else { throw ValidationError("the record id must be 64 hex characters") }
        try Audit.withDatabase(home: options.home) { database, _ in
            let store = ConsensusStore(database: database)
            guard let status = try store.recordStatus(recordID) else { throw CLIError("record \(recordID.hex) was never executed on this node") }
            guard let (entry, certificate) = try store.delivered(at: status.position),
                  let bytes = certificate.vertex.payload.first(where: { Hashing.digest(.record, $0) == recordID }),
                  let record = try? SignedRecord(canonicalBytes: bytes) else {
                throw CLIError("record \(recordID.hex): its vertex at position \(status.position) does not carry it; run cairn audit verify")
            }
            let body = try? RecordBody(canonicalBytes: record.body)
            let outcome = status.rejection.map { "rejected: \($0)" } ?? "executed"
            struct RecordOutput: Encodable {
                var id: String, position: UInt64, vertex: String, author: String, nonce: UInt64, kind: String, outcome: String, body: String
            }
            let object = RecordOutput(id: recordID.hex, position: status.position, vertex: entry.digest.hex, author: record.author.hex,
                                      nonce: record.nonce, kind: body?.kind.name ?? "undecodable", outcome: outcome,
                                      body: body.map { "\($0)" } ?? Hex.encode(record.body))
            try options.emit(object, text: [
                "record      \(recordID.hex)", "position    \(status.position) (vertex \(entry.digest.hex.prefix(16))…)",
                "author      \(record.author.hex)", "nonce       \(record.nonce)", "kind        \(body?.kind.name ?? "undecodable")",
                "outcome     \(outcome)", "body        \(body.map { "\($0)" } ?? Hex.encode(record.body))",
            ])
        }
    }
}

struct AuditWindow: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "window", abstract: "One closed window: roots, model, checkpoint, rewards, trainers' results.")
    @OptionGroup var options: InspectOptions
    @Argument(help: "The window number.") var window: UInt64

    func run() throws {
        try Audit.withDatabase(home: options.home) { database, _ in
            let store = ConsensusStore(database: database)
            guard let closed = try store.closedWindow(window) else { throw CLIError("window \(window) has not closed on this node") }
            let rewards = try store.ledgerValue(StateKey.windowRewards(window)).map { try WindowRewards(canonicalBytes: $0) }
            let model = window < .max ? try store.model(window: window + 1) : nil
            let certified = try store.checkpoint(window)
            struct TrainerOutput: Encodable {
                var trainer: String, name: String, rank: UInt32
                @NullWhenAbsent var score_ppb: Int64?
                var final: Double, payout: UInt64, penalties: [String]
            }
            var trainers: [TrainerOutput] = []
            for entry in try store.stateEntries(prefix: StateKey.trainerWindows(window)) {
                let key = Array(entry.key.suffix(PublicKey.byteCount))
                let r = try TrainerWindowResult(canonicalBytes: entry.value)
                let name = (try store.ledgerValue(StateKey.trainerPrefix + key)).flatMap { try? Trainer(canonicalBytes: $0) }?.name ?? ""
                trainers.append(TrainerOutput(trainer: Hex.encode(key), name: name, rank: r.rank, score_ppb: r.scorePPB,
                                              final: TrainerRating.double(r.finalNano), payout: r.payout, penalties: r.penalties.names))
            }
            trainers.sort { ($0.rank, $0.trainer) < ($1.rank, $1.trainer) }
            struct WindowOutput: Encodable {
                var window: UInt64, state_root: String, sequence_hash: String, delivered: UInt64
                @NullWhenAbsent var model_hash: String?
                var certified: Bool, emitted: UInt64, trainers_paid: UInt64, validators_paid: UInt64, burned: UInt64, trainers: [TrainerOutput]
            }
            let object = WindowOutput(window: window, state_root: closed.stateRoot.hex, sequence_hash: closed.sequenceHash.hex,
                                      delivered: closed.delivered, model_hash: model?.hash.hex, certified: certified != nil,
                                      emitted: rewards?.emitted ?? 0, trainers_paid: rewards?.trainersPaid ?? 0,
                                      validators_paid: rewards?.validatorsPaid ?? 0, burned: rewards?.burned ?? 0, trainers: trainers)
            var lines = ["window      \(window) (closed at position \(closed.delivered))", "state root  \(closed.stateRoot.hex)",
                         "sequence    \(closed.sequenceHash.hex)", "next model  \(model?.hash.hex ?? "none")",
                         "checkpoint  \(certified.map { "certified by \($0.signers.map { String($0.validator) }.joined(separator: ", "))" } ?? "not certified")",
                         "rewards     emitted \(rewards?.emitted ?? 0): trainers \(rewards?.trainersPaid ?? 0), validators \(rewards?.validatorsPaid ?? 0), burned \(rewards?.burned ?? 0)"]
            for t in trainers {
                let name = t.name.padding(toLength: 16, withPad: " ", startingAt: 0)
                lines.append(String(format: "  rank %2d  ", t.rank) + name
                             + String(format: " final %8.4f  payout %12llu  ", t.final, t.payout) + t.penalties.joined(separator: " "))
            }
            try options.emit(object, text: lines)
        }
    }
}

struct AuditState: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "state", abstract: "Ledger state entries (key, size, value): the node's current state, or --at WINDOW as the replay from genesis computes it.")
    @OptionGroup var options: InspectOptions
    @Option(help: "Replay from genesis and show the state right after this window closed (certificates, records and roots checked up to there; the order and checkpoint checks of `verify` run over the whole history only).") var at: UInt64?
    @Option(help: "Only keys starting with this text, e.g. a/ or wr/.") var prefix: String = ""
    @Option(help: "At most this many entries.") var limit = 1000

    func run() throws {
        try Audit.withDatabase(home: options.home) { database, genesis in
            let entries: [(key: [UInt8], value: [UInt8])]
            if let at {
                entries = try Auditor(database: database, genesis: genesis, genesisHash: genesis.hash).state(afterClose: at)
                    .filter { $0.key.starts(with: Array(prefix.utf8)) }
            } else {
                entries = try ConsensusStore(database: database).stateEntries(prefix: Array(prefix.utf8))
            }
            let shown = entries.prefix(max(0, limit))
            struct Entry: Encodable { var key: String, describe: String, value: String }
            /// `at`: the window number, or "current".
            struct StateOutput: Encodable {
                var at: String, entries: [Entry], total: Int
                func encode(to encoder: any Encoder) throws {
                    enum Keys: String, CodingKey { case at, entries, total }
                    var container = encoder.container(keyedBy: Keys.self)
                    if let window = UInt64(at) { try container.encode(window, forKey: .at) } else { try container.encode(at, forKey: .at) }
                    try container.encode(entries, forKey: .entries)
                    try container.encode(total, forKey: .total)
                }
            }
            let rows = shown.map { Entry(key: Hex.encode($0.key), describe: StateKey.describe($0.key), value: Hex.encode($0.value)) }
            try options.emit(StateOutput(at: at.map(String.init) ?? "current", entries: rows, total: entries.count),
                             text: shown.map { "\(StateKey.describe($0.key))  (\($0.value.count) bytes)  \(Hex.encode(Array($0.value.prefix(48))))\($0.value.count > 48 ? "…" : "")" }
                                + ["\(entries.count) entries\(entries.count > shown.count ? ", \(shown.count) shown (--limit)" : "")\(at.map { " after window \($0) closed (replayed from genesis)" } ?? "")"])
        }
    }
}
