import CairnAPI
import CairnChain
import CairnCore
import CairnCrypto
@testable import CairnNode
import CairnStorage
import CairnTestKit
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

extension NodeProcesses {
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
            #expect(paced.minRoundIntervalMs == 10 && paced.maxRoundIntervalMs == 500 && paced.proofWindows == 8)
            try Data((base + "[storage]\nproof_windows = 3\n").utf8).write(to: URL(fileURLWithPath: path))
            #expect(try NodeConfig.load(path: path).proofWindows == 3)
            for (line, key) in [("[limits]\napi_burst = 0", "limits.api_burst"), ("[limits]\nmax_blob_bytes = \"big\"", "limits.max_blob_bytes"),
                                ("[limits]\nrate = 1", "limits.rate"), ("[consensus]\nmin_round_interval_ms = 0", "consensus.min_round_interval_ms"),
                                ("[consensus]\nmin_round_interval_ms = 90\nmax_round_interval_ms = 80", "consensus.min_round_interval_ms"),
                                ("[storage]\nproof_windows = 0", "storage.proof_windows"), ("[storage]\nproof_windows = 4097", "storage.proof_windows")] {
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
            // Uploads need a registered trainer's signed headers (D59; the full path is in
            // BlobUploadTests): without them 401, a valid signature of an unregistered key 403.
            let blob = try net.pseudoGradientBlob(seed: 3)
            let id = BlobStore.id(of: blob).hex
            let unsigned = try await request("PUT", "/v1/blobs/\(id)", blob)
            #expect(unsigned.0 == 401 && String(decoding: unsigned.1, as: UTF8.self).contains("unauthorized"))
            let stranger = try SigningKey(seed: [UInt8](repeating: 5, count: 32))
            let refused = try await net.upload(0, blob: blob, signer: stranger, retryUnregistered: false)
            #expect(refused.status == 403 && refused.error?.code == .notRegistered, "\(refused)")
            #expect(try await request("GET", "/v1/blobs/\(id)").0 == 404)
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

        @Test("malformed and oversize bodies, wrong content types, bad hex, unknown ids and idle partial requests are refused with their reasons and counted; the node keeps serving")
        func badRequests() async throws {
            let net = try LocalNetwork(validators: 4)
            defer { net.stopAll(); try? FileManager.default.removeItem(atPath: net.directory) }
            let configPath = "\(net.directory)/node0/config/config.toml"
            let config = try String(contentsOfFile: configPath, encoding: .utf8)
                .replacingOccurrences(of: "max_blob_bytes = 67108864", with: "max_blob_bytes = 4096\napi_idle_timeout_seconds = 1")
            try config.write(toFile: configPath, atomically: true, encoding: .utf8)
            // Node 1 bounds its intake to one record in flight (D62).
            let tightPath = "\(net.directory)/node1/config/config.toml"
            let tight = try String(contentsOfFile: tightPath, encoding: .utf8)
                .replacingOccurrences(of: "max_blob_bytes = 67108864", with: "max_blob_bytes = 67108864\nintake_min_records = 1\nintake_delay_ms = 50")
            try tight.write(toFile: tightPath, atomically: true, encoding: .utf8)
            for i in 0 ..< 4 { try net.start(i) }
            #expect(await net.eventually(seconds: 120) {
                let first = await net.delivered(0), second = await net.delivered(1)
                return first > 0 && second > 0
            })

            func request(_ method: String, _ path: String, _ body: [UInt8]? = nil, contentType: String? = nil) async throws -> (Int, String) {
                var request = URLRequest(url: net.url(0, path))
                request.httpMethod = method
                request.httpBody = body.map { Data($0) }
                if let contentType { request.setValue(contentType, forHTTPHeaderField: "Content-Type") }
                let (data, response) = try await URLSession.shared.data(for: request)
                return ((response as! HTTPURLResponse).statusCode, String(decoding: data, as: UTF8.self))
            }
            let genesis = try GenesisFile.load(path: "\(net.directory)/genesis.json")
            let trainer = try KeyFiles.readSigningKey(at: "\(net.directory)/trainers/trainer0.key")
            let body = RecordBody.transfer(Transfer(to: trainer.publicKey, amount: 1)).canonicalBytes
            func signed(_ key: SigningKey, nonce: UInt64) -> [UInt8] {
                SignedRecord(author: key.publicKey, nonce: nonce, body: body,
                             signature: key.sign(SignedRecord.signingBytes(chain: genesis.hash, author: key.publicKey, nonce: nonce, body: body))).canonicalBytes
            }
            let valid = Array("{\"record\": \"\(Hex.encode(signed(trainer, nonce: 0)))\"}".utf8)

            // Bodies.
            let big = try await request("POST", "/v1/records", [UInt8](repeating: 0x20, count: 300 * 1024))
            #expect(big.0 == 413 && big.1.contains("too_large"), "\(big)")
            let notJSON = try await request("POST", "/v1/records", Array("not json".utf8))
            #expect(notJSON.0 == 400 && notJSON.1.contains("bad_request"), "\(notJSON)")
            #expect(try await request("POST", "/v1/records", Array("{\"records\": []}".utf8)).0 == 400)
            let tooMany = Array(("{\"records\": [" + Array(repeating: "\"00\"", count: 1001).joined(separator: ",") + "]}").utf8)
            #expect(try await request("POST", "/v1/records", tooMany).0 == 400)
            let notHex = try await request("POST", "/v1/records", Array("{\"record\": \"zz\"}".utf8))
            #expect(notHex.0 == 400 && notHex.1.contains("not hexadecimal"), "\(notHex)")
            let garbage = try await request("POST", "/v1/records", Array("{\"record\": \"0102\"}".utf8))
            #expect(garbage.0 == 400 && garbage.1.contains("invalid_record"), "\(garbage)")
            // The content type is not trusted either way: the body must be the JSON shape whatever the
            // header says, and a JSON body under another header is judged by its content.
            let wrongType = try await request("POST", "/v1/records", Array("record=zz".utf8), contentType: "application/x-www-form-urlencoded")
            #expect(wrongType.0 == 400 && wrongType.1.contains("bad_request"), "\(wrongType)")
            let plain = try await request("POST", "/v1/records", valid, contentType: "text/plain")
            #expect(plain.0 == 202, "\(plain)")
            // The same record again is accepted without a second signature check (the intake cache).
            #expect(try await request("POST", "/v1/records", valid).0 == 202)

            // Binary intake: canonical records, each behind a 4-byte big-endian length.
            let second = signed(trainer, nonce: 1)
            let binary = try await request("POST", "/v1/records", RecordFraming.frame([second]), contentType: "application/octet-stream")
            #expect(binary.0 == 202 && binary.1.contains(Hashing.digest(.record, second).hex), "\(binary)")
            let cut = try await request("POST", "/v1/records", [0, 0, 0, 9, 1], contentType: "application/octet-stream")
            #expect(cut.0 == 400 && cut.1.contains("claims 9 bytes but only 1 remain"), "\(cut)")
            let forged = RecordFraming.frame([Array(second.dropLast()) + [second.last! ^ 1]])
            let badSignature = try await request("POST", "/v1/records", forged, contentType: "application/octet-stream")
            #expect(badSignature.0 == 400 && badSignature.1.contains("invalid_record"), "\(badSignature)")

            // Bounded intake on node 1: a batch is taken whole while nothing is in flight; the next
            // request is refused at once with 503, code overloaded and Retry-After, until it commits.
            let payer = try KeyFiles.readSigningKey(at: "\(net.directory)/trainers/trainer1.key")
            func submit(to node: Int, _ records: [[UInt8]]) async throws -> (Int, String, String?) {
                var request = URLRequest(url: net.url(node, "/v1/records"))
                request.httpMethod = "POST"
                request.httpBody = Data(RecordFraming.frame(records))
                request.setValue("application/octet-stream", forHTTPHeaderField: "Content-Type")
                let (data, response) = try await URLSession.shared.data(for: request)
                let http = response as! HTTPURLResponse
                return (http.statusCode, String(decoding: data, as: UTF8.self), http.value(forHTTPHeaderField: "Retry-After"))
            }
            let first = try await submit(to: 1, (0 ..< 3).map { signed(payer, nonce: $0) })
            #expect(first.0 == 202, "\(first)")
            let refused = try await submit(to: 1, [signed(payer, nonce: 3)])
            #expect(refused.0 == 503 && refused.1.contains("\"overloaded\"") && refused.1.contains("not yet committed"), "\(refused)")
            #expect(refused.2.flatMap { Int($0) }.map { (1 ... 60).contains($0) } == true, "Retry-After: \(refused.2 ?? "none")")
            #expect(await net.eventually(seconds: 30) { (try? await submit(to: 1, [signed(payer, nonce: 3)]).0) == 202 })
            let tightMetrics = try await URLSession.shared.data(from: net.url(1, "/metrics")).0
            #expect(String(decoding: tightMetrics, as: UTF8.self).contains("cairn_records_rejected_total{reason=\"overloaded\"}"))

            // Ids and numbers in paths and queries.
            let zeros = String(repeating: "0", count: 64)
            for (path, status, code) in [("/v1/records/\(zeros)", 404, "unknown_record"), ("/v1/records/xyz", 400, "bad_request"),
                                         ("/v1/accounts/zz", 400, "bad_request"), ("/v1/accounts/\(zeros)", 404, "unknown_account"),
                                         ("/v1/sequence/-1", 400, "bad_request"), ("/v1/sequence/18446744073709551615", 404, "not_delivered"),
                                         ("/v1/sequence/18446744073709551616", 400, "bad_request"),
                                         ("/v1/checkpoints/18446744073709551615", 404, "not_certified"), ("/v1/committed", 400, "bad_request"),
                                         ("/v1/committed?from=18446744073709551615&limit=5000", 200, "records"),
                                         ("/v1/blobs/nothex", 400, "bad_request")] {
                let reply = try await request("GET", path)
                #expect(reply.0 == status && reply.1.contains(code), "\(path): \(reply)")
            }
            let status = try await request("POST", "/v1/records/status", Array("{\"ids\": 5}".utf8))
            #expect(status.0 == 400, "\(status)")
            // An unsigned upload is refused before its body is read (BlobUploadTests has the rest).
            let unsigned = try await request("PUT", "/v1/blobs/\(String(repeating: "ab", count: 32))", [UInt8](repeating: 1, count: 5000))
            #expect(unsigned.0 == 401 && unsigned.1.contains("unauthorized"), "\(unsigned)")

            // A slow client: half a request line, then nothing. Closed after the idle timeout (1 s).
            let fd = try #require(HostileInputProcessTests.partialRequest(from: "127.0.0.3", to: UInt16(net.basePort + 1)))
            defer { close(fd) }
            var timeout = timeval(tv_sec: 5, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            let started = ContinuousClock.now
            var byte: UInt8 = 0
            let received = recv(fd, &byte, 1, 0)
            #expect(received == 0, "the partial request was not closed (recv returned \(received))")
            #expect(ContinuousClock.now - started < .seconds(4))

            // Every refusal is counted by its code, and the node still serves and commits.
            let metrics = try await request("GET", "/metrics").1
            for code in ["too_large", "bad_request", "invalid_record", "unknown_record", "unknown_account", "not_delivered", "not_certified", "unauthorized"] {
                #expect(metrics.contains("cairn_api_errors_total{error=\"\(code)\"}"), "\(code) not counted")
            }
            #expect(metrics.contains("cairn_records_rejected_total{reason=\"not_hex\"} 1"))
            #expect(metrics.contains("cairn_records_rejected_total{reason=\"bad_framing\"} 1"))
            // One signature check per record at intake; the repeated one hit the cache.
            #expect(metrics.contains("cairn_signature_cache_hits_total{site=\"intake\"} 1"), "\(metrics)")
            #expect(metrics.contains("cairn_signature_checks_total{site=\"intake\"} 3"))
            let leaders = await net.leaders(0)
            #expect(await net.eventually(seconds: 20) { await net.leaders(0) > leaders + 2 })
            #expect(try await request("GET", "/health").0 == 200)

            // With two of four validators stopped nothing commits, so node 1 stays at its bound: the
            // CLI waits Retry-After and retries a few times, then fails with the node's reason.
            net.kill(2, signal: SIGTERM)
            net.kill(3, signal: SIGTERM)
            _ = try await submit(to: 1, (10 ..< 13).map { signed(payer, nonce: $0) })
            let cli = try runProcess(net.cairn, ["transfer", "--node", net.url(1, "").absoluteString, "--key", "\(net.directory)/trainers/trainer0.key",
                                                 "--to", payer.publicKey.hex, "--amount", "1"])
            #expect(cli.status != 0, "\(cli)")
            #expect((cli.stdout + cli.stderr).components(separatedBy: "retrying in").count - 1 == 5, "\(cli)")
            #expect((cli.stdout + cli.stderr).contains("overloaded"), "\(cli)")
        }
    }
}
