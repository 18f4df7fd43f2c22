import ArgumentParser
import CairnAPI
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
        if json {
            // The node's answer unchanged (its key order included).
            print(String(decoding: try await client.raw("GET", "v1/ratings"), as: UTF8.self))
            return
        }
        let board = try await client.get("v1/ratings", as: Leaderboard.self)
        print(Self.table(board.trainers, window: board.window))
    }

    static func table(_ trainers: [RatingReply], window: UInt64) -> String {
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
            let row = [pad("\(i + 1)", 4), pad(t.name ?? "?", 18), pad(String(t.trainer.prefix(8)) + "…", 10),
                       pad(String(format: "%.3f", t.mu), 8, right: true), pad(String(format: "%.3f", t.sigma), 7, right: true),
                       pad(String(format: "%.3f", t.ordinal), 8, right: true), pad(String(format: "%.3f", t.bma), 7, right: true),
                       pad(String(format: "%.4f", t.finalScore), 9, right: true), pad("\(t.lastPayout)", 12, right: true),
                       pad("\(t.totalPayout)", 14, right: true)]
            lines.append(row.joined(separator: " ") + (t.active ? "" : "  (inactive)"))
        }
        return lines.joined(separator: "\n")
    }
}
