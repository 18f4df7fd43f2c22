import ArgumentParser
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print a running validator's status (like `cometbft status`).")

    @Option(help: "The node's API URL, e.g. http://127.0.0.1:26601.")
    var node: String

    func run() async throws {
        guard let url = URL(string: node.hasSuffix("/") ? node + "status" : node + "/status"), url.scheme != nil else {
            throw ValidationError("--node '\(node)' is not a URL such as http://127.0.0.1:26601")
        }
        let data: Data
        let response: URLResponse
        do {
            (data, response) = try await URLSession.shared.data(from: url)
        } catch {
            throw CLIError("cannot reach \(url): \(error.localizedDescription); is `cairn node` running there?")
        }
        guard (response as? HTTPURLResponse)?.statusCode == 200,
              let object = try? JSONSerialization.jsonObject(with: data) else {
            throw CLIError("\(url) did not answer with a status object")
        }
        let pretty = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
        print(String(decoding: pretty, as: UTF8.self))
    }
}
