import CairnCore
import CairnCrypto
@testable import CairnNode
import CairnStorage
import CairnTestKit
import Foundation
import Testing
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

@Suite("API limits and blobs")
struct APILimitsTests {
    @Test("a token bucket admits the burst, then the rate, and says how long to wait")
    func tokenBucket() {
        var bucket = TokenBucket(rate: 10, burst: 5, nowNanos: 0)
        for _ in 0 ..< 5 { #expect(bucket.take(nowNanos: 0) == nil) }
        let wait = bucket.take(nowNanos: 0)
        #expect(wait != nil && abs(wait! - 0.1) < 1e-9)
        // 0.25 s later: 2.5 tokens back, two requests pass, the third waits 0.05 s.
        #expect(bucket.take(nowNanos: 250_000_000) == nil)
        #expect(bucket.take(nowNanos: 250_000_000) == nil)
        let next = bucket.take(nowNanos: 250_000_000)
        #expect(next != nil && abs(next! - 0.05) < 1e-9)
        // Never more than the burst, however long the client was quiet.
        for _ in 0 ..< 5 { #expect(bucket.take(nowNanos: 100_000_000_000) == nil) }
        #expect(bucket.take(nowNanos: 100_000_000_000) != nil)
    }

    @Test("the limiter keeps clients apart and bounds how many it tracks")
    func limiter() {
        let limiter = RateLimiter(requestsPerSecond: 1, burst: 2, maxClients: 3)
        #expect(limiter.admit(client: "a", nowNanos: 0) == nil)
        #expect(limiter.admit(client: "a", nowNanos: 0) == nil)
        #expect(limiter.admit(client: "a", nowNanos: 0) != nil)
        #expect(limiter.admit(client: "b", nowNanos: 0) == nil)  // b has its own bucket
        #expect(limiter.admit(client: "c", nowNanos: 0) == nil)
        // Full of active clients: a newcomer waits rather than evicting a busy one.
        #expect(limiter.admit(client: "d", nowNanos: 0) != nil)
        #expect(limiter.trackedClients == 3)
        // Ten seconds on, everyone has refilled: idle buckets are forgotten to make room.
        #expect(limiter.admit(client: "d", nowNanos: 10_000_000_000) == nil)
        #expect(limiter.trackedClients == 1)
    }

    @Test("blobs are stored under their domain-tagged hash, idempotently; a wrong hash stores nothing")
    func blobStore() throws {
        let path = FileManager.default.temporaryDirectory.path + "/cairn-blobs-\(UInt64.random(in: 0 ... .max))"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let database = try NodeDatabase.open(path: path, genesisHash: Hashing.digest(.genesis, [1]))
        defer { database.close() }
        let store = BlobStore(database: database)
        let bytes = (0 ..< 100_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let id = BlobStore.id(of: bytes)
        #expect(id == SHA256.hash([DomainTag.blob.rawValue] + bytes))
        #expect(try store.put(bytes, expected: id))
        #expect(try !store.put(bytes, expected: id))
        #expect(try store.get(id) == bytes)
        let wrong = SHA256.hash(bytes)  // the untagged hash is not the id
        #expect(throws: BlobStore.PutError.hashMismatch(expected: wrong, actual: id)) { try store.put(bytes, expected: wrong) }
        #expect(try store.get(wrong) == nil)
    }

    @Test("config.toml [limits] is read, and bad values are refused with the key named")
    func configLimits() throws {
        let path = FileManager.default.temporaryDirectory.path + "/cairn-config-\(UInt64.random(in: 0 ... .max)).toml"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let base = "[node]\nname = \"n\"\n[p2p]\nlisten = \"127.0.0.1:1\"\n[api]\nlisten = \"127.0.0.1:2\"\n"
        try Data((base + "[limits]\napi_requests_per_second = 7\napi_burst = 9\nmax_blob_bytes = 1024\n").utf8).write(to: URL(fileURLWithPath: path))
        let config = try NodeConfig.load(path: path)
        #expect(config.limits.apiRequestsPerSecond == 7 && config.limits.apiBurst == 9 && config.limits.maxBlobBytes == 1024)
        try Data((base + "[consensus]\nmin_round_interval_ms = 10\nmax_round_interval_ms = 500\n").utf8).write(to: URL(fileURLWithPath: path))
        let paced = try NodeConfig.load(path: path)
        #expect(paced.minRoundIntervalMs == 10 && paced.maxRoundIntervalMs == 500)
        for (line, key) in [("[limits]\napi_burst = 0", "limits.api_burst"), ("[limits]\nmax_blob_bytes = \"big\"", "limits.max_blob_bytes"),
                            ("[limits]\nrate = 1", "limits.rate"), ("[consensus]\nmin_round_interval_ms = 0", "consensus.min_round_interval_ms"),
                            ("[consensus]\nmin_round_interval_ms = 90\nmax_round_interval_ms = 80", "consensus.min_round_interval_ms")] {
            try Data((base + "\(line)\n").utf8).write(to: URL(fileURLWithPath: path))
            do {
                _ = try NodeConfig.load(path: path)
                Issue.record("\(line) was accepted")
            } catch {
                #expect("\(error)".contains(key), "\(error)")
            }
        }
    }

    /// One real `cairn node` process (its peers absent: the API serves regardless).
    @Test("a node serves PUT/GET /v1/blobs and answers 429 with Retry-After past its rate limit")
    func nodeAPI() async throws {
        let net = try LocalNetwork(validators: 4)
        defer { net.stopAll(); try? FileManager.default.removeItem(atPath: net.directory) }
        let configPath = "\(net.directory)/node0/config/config.toml"
        var config = try String(contentsOfFile: configPath, encoding: .utf8)
        config = config.replacingOccurrences(of: "api_requests_per_second = 500", with: "api_requests_per_second = 2")
            .replacingOccurrences(of: "api_burst = 1000", with: "api_burst = 12")
            .replacingOccurrences(of: "max_blob_bytes = 67108864", with: "max_blob_bytes = 4096")
        try config.write(toFile: configPath, atomically: true, encoding: .utf8)
        try net.start(0)
        #expect(await net.eventually(seconds: 30) { await net.get(0, "/status") != nil })  // 1 request or more

        func request(_ method: String, _ path: String, _ body: [UInt8]? = nil) async throws -> (Int, Data, HTTPURLResponse) {
            var request = URLRequest(url: net.url(0, path))
            request.httpMethod = method
            request.httpBody = body.map { Data($0) }
            let (data, response) = try await URLSession.shared.data(for: request)
            let http = response as! HTTPURLResponse
            return (http.statusCode, data, http)
        }
        let blob = Array("a compressed pseudo-gradient".utf8)
        let id = BlobStore.id(of: blob).hex
        #expect(try await request("PUT", "/v1/blobs/\(id)", blob).0 == 201)
        #expect(try await request("PUT", "/v1/blobs/\(id)", blob).0 == 200)
        let (status, data, _) = try await request("GET", "/v1/blobs/\(id)")
        #expect(status == 200 && Array(data) == blob)
        let mismatch = try await request("PUT", "/v1/blobs/\(SHA256.hash(blob).hex)", blob)
        #expect(mismatch.0 == 400 && String(decoding: mismatch.1, as: UTF8.self).contains("hash_mismatch"))
        #expect(try await request("PUT", "/v1/blobs/\(id)", [UInt8](repeating: 1, count: 5000)).0 == 413)
        #expect(try await request("GET", "/v1/blobs/\(String(repeating: "0", count: 64))").0 == 404)
        #expect(try await request("GET", "/v1/blobs/nothex").0 == 400)

        // The burst is spent by now: further requests are refused until tokens come back.
        var limited: HTTPURLResponse?
        for _ in 0 ..< 20 {
            let (code, body, response) = try await request("GET", "/status")
            if code == 429 {
                #expect(String(decoding: body, as: UTF8.self).contains("rate_limited"))
                limited = response
                break
            }
        }
        let retryAfter = try #require(limited?.value(forHTTPHeaderField: "Retry-After"))
        #expect((Int(retryAfter) ?? 0) >= 1)

        // Pruning is offline: refused, with the reason, while the node holds its database.
        let prune = try runProcess(net.cairn, ["prune", "--home", "\(net.directory)/node0", "--below-round", "1"])
        #expect(prune.status != 0 && prune.stderr.contains("stop it first"), "\(prune.stderr)")
        net.stopAll()
        let idle = try runProcess(net.cairn, ["prune", "--home", "\(net.directory)/node0", "--below-round", "5"])
        #expect(idle.status != 0 && idle.stderr.contains("at most 0"), "\(idle.stderr)")
    }
}
