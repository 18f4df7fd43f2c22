import Foundation
import TOMLKit

/// `<home>/config/config.toml` (DESIGN §10). Unknown keys are refused, like genesis.json's.
public struct NodeConfig: Sendable, Hashable {
    public var name: String
    public var p2pListen: HostPort
    public var apiListen: HostPort
    public var logFormat: String = "plain"
    public var logLevel: String = "info"

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
        return config
    }

    public init(name: String, p2pListen: HostPort, apiListen: HostPort) {
        self.name = name
        self.p2pListen = p2pListen
        self.apiListen = apiListen
    }
}
