import ArgumentParser
import CairnAPI
import CairnCore
import CairnCrypto
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The node could not be reached at all (connection refused, reset, timed out): worth a retry,
/// unlike an answer.
struct NodeUnreachable: Error, CustomStringConvertible {
    let base: URL
    let reason: String
    var description: String { "cannot reach \(base): \(reason); is `cairn node` running there?" }
}

/// A record the ledger executed and rejected, with the rejection's stable code (`wrong_window`,
/// `unknown_trainer`, …; ARCHITECTURE §5) and the node's explanation.
struct RecordRejected: Error, CustomStringConvertible {
    let id: String
    let position: UInt64
    let reason: String
    let detail: String
    var description: String { "rejected at position \(position): \(reason): \(detail)" }
}

/// The node's HTTP API through the shared reply types (CairnAPI): a 2xx answer decodes into the
/// asked type, any other into the node's `APIError` (its stable `code` is what callers branch on).
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

    func get<Reply: Decodable>(_ path: String, as type: Reply.Type = Reply.self) async throws -> Reply {
        try decode(Reply.self, "GET", path, try await raw("GET", path))
    }

    func post<Reply: Decodable>(_ path: String, json body: some Encodable, as type: Reply.Type = Reply.self) async throws -> Reply {
        var request = URLRequest(url: url(path))
        request.httpMethod = "POST"
        request.httpBody = try JSONEncoder().encode(body)
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        return try decode(Reply.self, "POST", path, try await exchange(request, "POST", path))
    }

    /// The body of `method path` as bytes (blobs, the genesis task).
    func raw(_ method: String, _ path: String) async throws -> Data {
        var request = URLRequest(url: url(path))
        request.httpMethod = method
        return try await exchange(request, method, path)
    }

    /// PUT a blob as octets with the trainer's signed upload headers (D59).
    func putBlob(_ body: [UInt8], id: Digest, signer: SigningKey, chain: Digest) async throws -> BlobReceipt {
        var request = URLRequest(url: base.appendingPathComponent("v1/blobs/\(id.hex)"))
        request.httpMethod = "PUT"
        request.httpBody = Data(body)
        request.setValue("application/octet-stream", forHTTPHeaderField: "Content-Type")
        let time = UInt64(max(0, Date().timeIntervalSince1970 * 1000))
        request.setValue(signer.publicKey.hex, forHTTPHeaderField: BlobUpload.trainerHeader)
        request.setValue(String(time), forHTTPHeaderField: BlobUpload.timeHeader)
        request.setValue(signer.sign(BlobUpload.signingBytes(chain: chain, trainer: signer.publicKey, blob: id, timeMs: time)).hex,
                         forHTTPHeaderField: BlobUpload.signatureHeader)
        return try decode(BlobReceipt.self, "PUT", "v1/blobs/\(id.hex)", try await exchange(request, "PUT", "v1/blobs/\(id.hex)"))
    }

    /// One exchange: the body of a 2xx answer, or the node's error as an `APIError` carrying the
    /// HTTP status (an answer that is not the API's error object becomes `http_<status>`).
    func exchange(_ request: URLRequest, _ method: String, _ path: String) async throws -> Data {
        // A node at its bounded intake (503 overloaded, D62) or a client over its rate (429) says
        // when to come back; every request this client makes is safe to repeat (a record resubmitted
        // is the same record), so it waits and retries a few times before giving up.
        var attempt = 0
        while true {
            let data: Data
            let response: URLResponse
            do {
                (data, response) = try await URLSession.shared.data(for: request)
            } catch {
                throw NodeUnreachable(base: base, reason: error.localizedDescription)
            }
            let http = response as? HTTPURLResponse
            let status = http?.statusCode ?? 0
            if (200 ..< 300).contains(status) { return data }
            var error = (try? JSONDecoder().decode(APIError.self, from: data))
                ?? APIError(code: APIErrorCode(rawValue: "http_\(status)"),
                            detail: "\(method) \(path) on \(base): \(String(decoding: data.prefix(200), as: UTF8.self))")
            error.status = status
            attempt += 1
            guard [.overloaded, .rateLimited].contains(error.code), attempt <= Self.loadRetries else { throw error }
            let seconds = min(5, max(1, http?.value(forHTTPHeaderField: "Retry-After").flatMap { Int($0) } ?? 1))
            say("\(method) \(path): \(error.code) (\(error.detail)); retrying in \(seconds) s")
            try await Task.sleep(for: .seconds(seconds))
        }
    }

    /// Retries of a request refused for load (503 overloaded, 429 rate_limited) before its error is thrown.
    static let loadRetries = 5

    func decode<Reply: Decodable>(_ type: Reply.Type, _ method: String, _ path: String, _ data: Data) throws -> Reply {
        do {
            return try JSONDecoder().decode(Reply.self, from: data)
        } catch {
            throw CLIError("\(method) \(path) on \(base) did not answer with the API's \(Reply.self): \(error)")
        }
    }
}
