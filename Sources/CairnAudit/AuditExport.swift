import CairnCore
import CairnCrypto
import CairnLedger
import CairnChain
import CairnStorage
import ConsensusOracle
import DAGRider
import Foundation

/// `cairn audit export`: what a node stored, in formats other tools read. `dag` is the format
/// `cairn sim --export-dag` writes (one line per certified vertex, one per decided wave, then the
/// node's delivered sequence), so anyone can re-derive the order with their own DAG-Rider; the
/// others are tables of the ledger state (one row per record, window, trainer, or trainer and
/// window), as JSON lines or CSV.
public struct AuditExport {
    public enum What: String, CaseIterable, Sendable {
        case dag, records, windows, ratings, payouts
    }

    public enum Format: String, CaseIterable, Sendable {
        case jsonl, csv
    }

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    let store: ConsensusStore
    let genesis: Genesis
    let genesisHash: Digest

    public init(database: Database, genesis: Genesis, genesisHash: Digest) {
        store = ConsensusStore(database: database)
        self.genesis = genesis
        self.genesisHash = genesisHash
    }

    /// Writes the table line by line through `emit` (one call per line, without the newline).
    public func write(_ what: What, format: Format, emit: (String) -> Void) throws {
        switch what {
        case .dag:
            guard format == .jsonl else { throw Failure(description: "--what dag is JSON lines only (the `cairn sim --export-dag` format); drop --format csv") }
            try writeDAG(emit: emit)
        case .records: try table(Self.recordColumns, rows: recordRows(), format: format, emit: emit)
        case .windows: try table(Self.windowColumns, rows: windowRows(), format: format, emit: emit)
        case .ratings: try table(Self.ratingColumns, rows: ratingRows(), format: format, emit: emit)
        case .payouts: try table(Self.payoutColumns, rows: payoutRows(), format: format, emit: emit)
        }
    }

    // MARK: DAG

    func writeDAG(emit: (String) -> Void) throws {
        var authors: [Digest: UInt32] = [:]
        let dag = try CertifiedDAG(store: store, genesis: genesis, genesisHash: genesisHash, history: 0)
        let oracle = try dag.rederive { digest, certificate in
            authors[digest] = certificate.vertex.author
            emit(DAGExport.vertexLine(certificate.vertex))
        }
        if let problem = dag.issues.first { throw Failure(description: "\(problem); audit this node (`cairn audit verify`)") }
        for leader in oracle.leaders {
            emit("{\"wave\":\(leader.wave),\"leader\":\(authors[leader.digest].map(String.init) ?? "null")}")
        }
        var delivered: [String] = []
        let count = try store.progress().delivered
        for position in 0 ..< count {
            guard let entry = try store.sequenceEntry(position) else {
                throw Failure(description: "position \(position): no sequence entry although the node reports \(count) delivered; audit it (`cairn audit verify`)")
            }
            delivered.append("\"\(entry.digest.hex)\"")
        }
        emit("{\"delivered\":[" + delivered.joined(separator: ",") + "]}")
    }

    // MARK: Tables

    /// A cell: a JSON number, string, boolean or null; CSV writes it bare or quoted.
    enum Cell {
        case int(Int64), uint(UInt64), double(Double), text(String), bool(Bool), null

        var json: String {
            switch self {
            case let .int(v): return String(v)
            case let .uint(v): return String(v)
            case let .double(v): return v.isFinite ? "\(v)" : "null"
            case let .text(v): return JSONText.quote(v)
            case let .bool(v): return v ? "true" : "false"
            case .null: return "null"
            }
        }

        var csv: String {
            switch self {
            case let .text(v): return v.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" }) ? "\"" + v.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : v
            case .null: return ""
            default: return json
            }
        }
    }

    func table(_ columns: [String], rows: [[Cell]], format: Format, emit: (String) -> Void) throws {
        switch format {
        case .csv:
            emit(columns.joined(separator: ","))
            for row in rows { emit(row.map(\.csv).joined(separator: ",")) }
        case .jsonl:
            for row in rows {
                emit("{" + zip(columns, row).map { "\(JSONText.quote($0)):\($1.json)" }.joined(separator: ",") + "}")
            }
        }
    }

    static let recordColumns = ["position", "id", "author", "nonce", "kind", "status", "reason"]

    func recordRows() throws -> [[Cell]] {
        var rows: [[Cell]] = []
        let count = try store.progress().delivered
        for position in 0 ..< count {
            guard let (_, certificate) = try store.delivered(at: position) else {
                throw Failure(description: "position \(position): the sequence entry or its certificate is missing; audit this node (`cairn audit verify`)")
            }
            for bytes in certificate.vertex.payload {
                let id = Hashing.digest(.record, bytes)
                let record = try? SignedRecord(canonicalBytes: bytes)
                let kind = record.flatMap { try? RecordBody(canonicalBytes: $0.body) }?.kind.name
                let status = try store.recordStatus(id)
                rows.append([.uint(position), .text(id.hex), record.map { .text($0.author.hex) } ?? .null, record.map { .uint($0.nonce) } ?? .null,
                             kind.map { .text($0) } ?? .null,
                             .text(status == nil ? "duplicate_or_undecodable" : status?.rejection == nil ? "executed" : "rejected"),
                             status?.rejection.map { .text("\($0)") } ?? .null])
            }
        }
        return rows
    }

    static let windowColumns = ["window", "state_root", "sequence_hash", "delivered", "model_hash", "certified",
                                "emitted", "trainers_paid", "validators_paid", "burned", "validators_paid_count"]

    func windowRows() throws -> [[Cell]] {
        var rows: [[Cell]] = []
        var window: UInt64 = 0
        while let closed = try store.closedWindow(window) {
            let rewards = try store.ledgerValue(StateKey.windowRewards(window)).map { try WindowRewards(canonicalBytes: $0) }
            let model = window < .max ? try store.model(window: window + 1) : nil
            rows.append([.uint(window), .text(closed.stateRoot.hex), .text(closed.sequenceHash.hex), .uint(closed.delivered),
                         model.map { .text($0.hash.hex) } ?? .null, .bool(try store.checkpoint(window) != nil),
                         rewards.map { .uint($0.emitted) } ?? .null, rewards.map { .uint($0.trainersPaid) } ?? .null,
                         rewards.map { .uint($0.validatorsPaid) } ?? .null, rewards.map { .uint($0.burned) } ?? .null,
                         rewards.map { .uint(UInt64($0.validators.count)) } ?? .null])
            guard window < .max else { break }
            window += 1
        }
        return rows
    }

    static let ratingColumns = ["trainer", "name", "mu", "sigma", "ordinal", "bma", "final", "rated_windows", "active", "last_payout", "total_payout"]

    func ratingRows() throws -> [[Cell]] {
        try stateRows(prefix: StateKey.trainerRatings).map { key, value in
            let trainer = Array(key.dropFirst(StateKey.trainerRatings.count))
            let rating = try TrainerRating(canonicalBytes: value)
            return [.text(Hex.encode(trainer)), try name(trainer), .double(rating.mu), .double(rating.sigma),
                    .double(TrainerRating.double(rating.ordinalNano)), .double(Double(rating.bmaPPM) / 1e6),
                    .double(TrainerRating.double(rating.finalNano)), .uint(UInt64(rating.ratedWindows)), .bool(rating.active),
                    .uint(rating.lastPayout), .uint(rating.totalPayout)]
        }
    }

    static let payoutColumns = ["window", "trainer", "name", "contribution", "score_ppb", "rank_score_ppb", "rank", "mu_before", "sigma_before",
                                "mu_after", "sigma_after", "bma", "final", "penalties", "payout"]

    func payoutRows() throws -> [[Cell]] {
        let prefix = Array("tw/".utf8)
        return try stateRows(prefix: prefix).map { key, value in
            let rest = Array(key.dropFirst(prefix.count))
            guard rest.count == 8 + PublicKey.byteCount, let window = try? UInt64(canonicalBytes: Array(rest.prefix(8))) else {
                throw Failure(description: "state key \(StateKey.describe(key)) is malformed; audit this node (`cairn audit verify`)")
            }
            let trainer = Array(rest.dropFirst(8))
            let r = try TrainerWindowResult(canonicalBytes: value)
            return [.uint(window), .text(Hex.encode(trainer)), try name(trainer), r.contribution.map { .text($0.hex) } ?? .null,
                    r.scorePPB.map { .int($0) } ?? .null, r.rankScorePPB.map { .int($0) } ?? .null, .uint(UInt64(r.rank)),
                    .double(TrainerRating.double(r.muBeforeNano)), .double(TrainerRating.double(r.sigmaBeforeNano)),
                    .double(TrainerRating.double(r.muAfterNano)), .double(TrainerRating.double(r.sigmaAfterNano)),
                    .double(Double(r.bmaPPM) / 1e6), .double(TrainerRating.double(r.finalNano)),
                    .text(r.penalties.names.joined(separator: " ")), .uint(r.payout)]
        }
    }

    func stateRows(prefix: [UInt8]) throws -> [(key: [UInt8], value: [UInt8])] {
        try store.stateEntries(prefix: prefix)
    }

    /// The trainer's registered name, or null.
    func name(_ key: [UInt8]) throws -> Cell {
        guard key.count == PublicKey.byteCount, let bytes = try store.ledgerValue(StateKey.trainerPrefix + key),
              let trainer = try? Trainer(canonicalBytes: bytes) else { return .null }
        return .text(trainer.name)
    }
}

/// JSON string quoting for hand-written lines (RFC 8259 escapes).
enum JSONText {
    static func quote(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
