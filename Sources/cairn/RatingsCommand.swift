import ArgumentParser
import Foundation

/// `cairn ratings --node URL`: the trainers' leaderboard (D53) as a table.
struct RatingsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ratings",
        abstract: "Print the trainers' leaderboard: OpenSkill mu, sigma and ordinal, bma, final score and payouts.")

    @Option(help: "The node's API URL, e.g. http://127.0.0.1:26601.")
    var node: String

    @Flag(help: "Print the node's JSON answer unchanged.")
    var json = false

    func run() async throws {
        let client = try NodeClient(node)
        let (status, board) = try await client.call("GET", "v1/ratings")
        guard status == 200, let trainers = board["trainers"] as? [[String: Any]] else { throw CLIError(NodeClient.describe(board)) }
        if json {
            let data = try JSONSerialization.data(withJSONObject: board, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
            return
        }
        print(Self.table(trainers, window: board["window"] as? Int ?? 0))
    }

    static func table(_ trainers: [[String: Any]], window: Int) -> String {
        func pad(_ text: String, _ width: Int, right: Bool = false) -> String {
            let cut = String(text.prefix(width))
            let fill = String(repeating: " ", count: max(0, width - cut.count))
            return right ? fill + cut : cut + fill
        }
        let header = [pad("#", 4), pad("name", 18), pad("trainer", 10), pad("mu", 8, right: true), pad("sigma", 7, right: true),
                      pad("ordinal", 8, right: true), pad("bma", 7, right: true), pad("final", 9, right: true),
                      pad("last payout", 12, right: true), pad("total payout", 14, right: true)]
        var lines = ["leaderboard at window \(window) (\(trainers.count) trainers, best ordinal first)", header.joined(separator: " ")]
        for (i, t) in trainers.enumerated() {
            func number(_ field: String) -> Double { (t[field] as? Double) ?? Double(t[field] as? Int ?? 0) }
            let row = [pad("\(i + 1)", 4), pad(t["name"] as? String ?? "?", 18), pad(String((t["trainer"] as? String ?? "").prefix(8)) + "…", 10),
                       pad(String(format: "%.3f", number("mu")), 8, right: true), pad(String(format: "%.3f", number("sigma")), 7, right: true),
                       pad(String(format: "%.3f", number("ordinal")), 8, right: true), pad(String(format: "%.3f", number("bma")), 7, right: true),
                       pad(String(format: "%.4f", number("final")), 9, right: true), pad("\(t["last_payout"] as? Int ?? 0)", 12, right: true),
                       pad("\(t["total_payout"] as? Int ?? 0)", 14, right: true)]
            lines.append(row.joined(separator: " ") + ((t["active"] as? Bool ?? true) ? "" : "  (inactive)"))
        }
        return lines.joined(separator: "\n")
    }
}
