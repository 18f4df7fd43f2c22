import ArgumentParser
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// JSON over HTTP to one node's API, with errors that say what to check.
struct NodeClient {
    let base: URL

    init(_ node: String) throws {
        guard let url = URL(string: node.hasSuffix("/") ? String(node.dropLast()) : node), url.scheme != nil, url.host != nil else {
            throw ValidationError("--node '\(node)' is not a URL such as http://127.0.0.1:26601")
        }
        base = url
    }

    /// `path` under the base URL; a query (`?…`) stays a query.
    func url(_ path: String) -> URL {
        guard path.contains("?") else { return base.appendingPathComponent(path) }
        return URL(string: base.absoluteString + "/" + path) ?? base.appendingPathComponent(path)
    }

    /// (HTTP status, decoded JSON object) for `method path` with an optional JSON body.
    func call(_ method: String, _ path: String, json body: Any? = nil) async throws -> (Int, [String: Any]) {
        var request = URLRequest(url: url(path))
        request.httpMethod = method
        if let body {
            request.httpBody = try JSONSerialization.data(withJSONObject: body)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        let data: Data
        let response: URLResponse
        do {
            (data, response) = try await URLSession.shared.data(for: request)
        } catch {
            throw CLIError("cannot reach \(base): \(error.localizedDescription); is `cairn node` running there?")
        }
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw CLIError("\(method) \(path) on \(base) did not answer with a JSON object")
        }
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, object)
    }

    /// The error text of a JSON error reply.
    static func describe(_ object: [String: Any]) -> String {
        "\(object["error"] as? String ?? "error"): \(object["detail"] as? String ?? "\(object)")"
    }
}
