import Foundation
import TOMLKit

/// `<home>/config/config.toml` (ARCHITECTURE §10). Unknown keys are refused, like genesis.json's.
public struct NodeConfig: Sendable, Hashable {
    public var name: String
    public var p2pListen: HostPort
    public var apiListen: HostPort
    public var logFormat: String = "plain"
    public var logLevel: String = "info"
    public var limits = Limits()
    /// `[training]`: where the corpus genesis hashes lives, and whether this validator evaluates
    /// contributions (one that does not earns no validator share once rewards exist).
    public var corpusDirectory: String = "/usr/share/games/fortunes"
    public var evaluate = true
    /// `[testing] evaluator`: a dishonest evaluator, for tests and demonstrations only (README).
    public var evaluatorBehaviour: EvaluatorBehaviour = .honest
    /// `[testing] accept_missing_blobs`: take contribution records whose blob was never
    /// uploaded here, so this validator proposes vertices nobody can get the blob of (tests of
    /// D50 only; an honest node refuses them at submission).
    public var acceptMissingBlobs = false
    /// `[testing] clock_offset_ms`: stamp this validator's proposals with a wrong clock — an
    /// integer offset in ms (a clock running ahead or behind) or "max" (every timestamp 2^64 − 1, a
    /// Byzantine clock); for the consensus-time tests only (D59).
    public var clockSkew: ClockSkew?

    public enum ClockSkew: Sendable, Hashable {
        case offset(Int64)
        case maximum
    }

    /// `[consensus]`: this validator's own round pacing, overriding genesis' defaults (pacing is
    /// local: validators with different intervals still agree, they only propose at other times).
    public var minRoundIntervalMs: UInt64?
    public var maxRoundIntervalMs: UInt64?
    /// `[storage] proof_windows`: closed windows whose whole state is kept so that
    /// `/v1/checkpoints/{k}/proof/{key}` can answer for them (D58); each is a copy of the state.
    public var proofWindows: UInt64 = 8
    /// `[storage] min_free_bytes`: below this much free space on the database's disk, blob uploads
    /// are refused (507) while consensus goes on (D59). 1 GiB by default.
    public var minFreeBytes: UInt64 = 1 << 30

    /// `[limits]`: what one client may ask of the API.
    public struct Limits: Sendable, Hashable {
        /// Requests per second per client IP address, and the burst allowed above that rate.
        public var apiRequestsPerSecond = 500
        public var apiBurst = 1000
        /// Largest blob accepted by `PUT /v1/blobs/{id}` (the genesis task's largest pseudo-gradient
        /// caps it too, D59).
        public var maxBlobBytes = 64 << 20
        /// Open API connections in all (further ones wait in the kernel's accept queue) and per
        /// client address (further ones are closed at once); both are also capped by the
        /// file-descriptor budget at start (D41).
        public var apiMaxConnections = 1024
        public var apiMaxConnectionsPerClient = 64
        /// A connection that sends nothing for this long (mid-request included) is closed.
        public var apiIdleTimeoutSeconds = 30
        /// Bytes one trainer may upload here per window (D59); nil: eight of the genesis task's
        /// largest pseudo-gradients (a trainer needs one, its retries are free).
        public var uploadBytesPerWindow: Int?
        /// Bounded intake (D62): accepted records not yet committed may wait about this long at
        /// this validator's own commit rate; at least `intakeMinRecords` are always allowed.
        public var intakeDelayMs = 800
        public var intakeMinRecords = 512

        public init() {}
    }

    public struct HostPort: Sendable, Hashable, CustomStringConvertible {
        public var host: String
        public var port: Int
        public var description: String { "\(host):\(port)" }

        public init(host: String, port: Int) {
            self.host = host
            self.port = port
        }

        init(parsing text: String, key: String) throws {
            guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
                  (0 ... 65535).contains(port), colon > text.startIndex else {
                throw NodeConfig.Error(description: "\(key) = \"\(text)\" is not host:port (port 0–65535)")
            }
            host = String(text[..<colon])
            self.port = port
        }
    }

    public struct Error: Swift.Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    static let knownKeys: [String: Set<String>] = [
        "node": ["name"], "p2p": ["listen"], "api": ["listen"], "log": ["format", "level"],
        "limits": ["api_requests_per_second", "api_burst", "max_blob_bytes", "api_max_connections",
                   "api_max_connections_per_client", "api_idle_timeout_seconds", "upload_bytes_per_window",
                   "intake_delay_ms", "intake_min_records"],
        "consensus": ["min_round_interval_ms", "max_round_interval_ms"],
        "training": ["corpus", "evaluate"],
        "storage": ["proof_windows", "min_free_bytes"],
        "testing": ["evaluator", "accept_missing_blobs", "clock_offset_ms"],
    ]

    public static func load(path: String) throws -> NodeConfig {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw Error(description: "\(path) does not exist or is not UTF-8 text; `cairn testnet` writes one")
        }
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch {
            throw Error(description: "\(path): not valid TOML: \(error)")
        }
        for key in table.keys.sorted() {
            guard let allowed = knownKeys[key] else { throw Error(description: "\(path): unknown section [\(key)]") }
            for inner in table[key]?.table?.keys.sorted() ?? [] where !allowed.contains(inner) {
                throw Error(description: "\(path): unknown key \(key).\(inner)")
            }
        }
        func string(_ section: String, _ key: String) throws -> String {
            guard let value = table[section]?[key]?.string else {
                throw Error(description: "\(path): missing \(section).\(key) (a string)")
            }
            return value
        }
        var config = NodeConfig(
            name: try string("node", "name"),
            p2pListen: try HostPort(parsing: try string("p2p", "listen"), key: "p2p.listen"),
            apiListen: try HostPort(parsing: try string("api", "listen"), key: "api.listen"))
        if let format = table["log"]?["format"]?.string {
            guard ["plain", "json"].contains(format) else { throw Error(description: "\(path): log.format must be plain or json") }
            config.logFormat = format
        }
        if let level = table["log"]?["level"]?.string { config.logLevel = level }
        if let value = table["training"]?["corpus"] {
            guard let corpus = value.string, !corpus.isEmpty else { throw Error(description: "\(path): training.corpus must be a directory path (a string)") }
            config.corpusDirectory = corpus
        }
        if let value = table["testing"]?["evaluator"] {
            guard let name = value.string, let behaviour = EvaluatorBehaviour(rawValue: name) else {
                throw Error(description: "\(path): testing.evaluator must be one of \(EvaluatorBehaviour.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            config.evaluatorBehaviour = behaviour
        }
        if let value = table["testing"]?["accept_missing_blobs"] {
            guard let accept = value.bool else { throw Error(description: "\(path): testing.accept_missing_blobs must be true or false") }
            config.acceptMissingBlobs = accept
        }
        if let value = table["testing"]?["clock_offset_ms"] {
            if value.string == "max" {
                config.clockSkew = .maximum
            } else if let offset = value.int, (-86_400_000 ... 86_400_000).contains(offset) {
                config.clockSkew = .offset(Int64(offset))
            } else {
                throw Error(description: "\(path): testing.clock_offset_ms must be an integer of ms within a day either way, or \"max\"")
            }
        }
        if let value = table["training"]?["evaluate"] {
            guard let evaluate = value.bool else { throw Error(description: "\(path): training.evaluate must be true or false") }
            config.evaluate = evaluate
        }
        func positive(_ key: String, _ range: ClosedRange<Int>) throws -> Int? {
            guard let value = table["limits"]?[key] else { return nil }
            guard let int = value.int, range.contains(int) else {
                throw Error(description: "\(path): limits.\(key) must be an integer in \(range.lowerBound)…\(range.upperBound)")
            }
            return int
        }
        if let rate = try positive("api_requests_per_second", 1 ... 1_000_000) { config.limits.apiRequestsPerSecond = rate }
        if let burst = try positive("api_burst", 1 ... 10_000_000) { config.limits.apiBurst = burst }
        if let size = try positive("max_blob_bytes", 1 ... 1 << 30) { config.limits.maxBlobBytes = size }
        if let count = try positive("api_max_connections", 1 ... 1_000_000) { config.limits.apiMaxConnections = count }
        if let count = try positive("api_max_connections_per_client", 1 ... 1_000_000) { config.limits.apiMaxConnectionsPerClient = count }
        if let seconds = try positive("api_idle_timeout_seconds", 1 ... 3600) { config.limits.apiIdleTimeoutSeconds = seconds }
        if let bytes = try positive("upload_bytes_per_window", 1 ... 1 << 40) { config.limits.uploadBytesPerWindow = bytes }
        if let ms = try positive("intake_delay_ms", 50 ... 60_000) { config.limits.intakeDelayMs = ms }
        if let count = try positive("intake_min_records", 1 ... 1_000_000) { config.limits.intakeMinRecords = count }
        if let value = table["storage"]?["min_free_bytes"] {
            guard let int = value.int, int >= 0 else {
                throw Error(description: "\(path): storage.min_free_bytes must be a whole number of bytes ≥ 0 (uploads are refused below it)")
            }
            config.minFreeBytes = UInt64(int)
        }
        if let value = table["storage"]?["proof_windows"] {
            guard let int = value.int, (1 ... 4096).contains(int) else {
                throw Error(description: "\(path): storage.proof_windows must be an integer in 1…4096 (closed windows whose state is kept for proofs; each is a copy of the state)")
            }
            config.proofWindows = UInt64(int)
        }
        for (key, range) in [("min_round_interval_ms", 1 ... 60_000), ("max_round_interval_ms", 1 ... 600_000)] {
            guard let value = table["consensus"]?[key] else { continue }
            guard let int = value.int, range.contains(int) else {
                throw Error(description: "\(path): consensus.\(key) must be an integer in \(range.lowerBound)…\(range.upperBound)")
            }
            if key == "min_round_interval_ms" { config.minRoundIntervalMs = UInt64(int) } else { config.maxRoundIntervalMs = UInt64(int) }
        }
        if let low = config.minRoundIntervalMs, let high = config.maxRoundIntervalMs, low > high {
            throw Error(description: "\(path): consensus.min_round_interval_ms (\(low)) exceeds max_round_interval_ms (\(high))")
        }
        return config
    }

    public init(name: String, p2pListen: HostPort, apiListen: HostPort) {
        self.name = name
        self.p2pListen = p2pListen
        self.apiListen = apiListen
    }
}
