import ArgumentParser
import CairnNode
import CairnStorage
import Foundation
import Logging

struct Node: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a validator from its home directory until SIGTERM or SIGINT.",
        discussion: """
            Reads HOME/config/{config.toml,genesis.json} and HOME/keys/{validator.key,coin.share}, \
            opens HOME/data/db (refusing a database made for another genesis), connects to every \
            validator in genesis over encrypted, mutually authenticated channels, runs DAG-Rider \
            and serves the HTTP API on api.listen: /health, /status, /metrics, POST /v1/records, \
            GET /v1/records/{id}, GET /v1/sequence/{position}. SIGTERM stops consensus and the API \
            and closes the database cleanly.
            """)

    @Option(help: "The node's home directory.")
    var home: String

    func run() async throws {
        let validator = try Validator.open(home: NodeHome(home))
        let format = validator.config.logFormat
        let level = Logger.Level(rawValue: validator.config.logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler: any LogHandler = format == "json" ? JSONLogHandler(label: label) : StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        try await validator.run(logger: Logger(label: "cairn.node"))
    }
}

/// One JSON object per line on stderr, for log collectors.
struct JSONLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var object: [String: String] = ["level": "\(event.level)", "label": label, "message": "\(event.message)",
                                        "time": ISO8601DateFormatter().string(from: Date())]
        for (key, value) in metadata.merging(event.metadata ?? [:], uniquingKeysWith: { $1 }) { object[key] = "\(value)" }
        if let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) {
            FileHandle.standardError.write(data + Data("\n".utf8))
        }
    }
}
