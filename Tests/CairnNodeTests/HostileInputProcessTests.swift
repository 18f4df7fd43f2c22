import CairnAPI
import CairnChain
import CairnCore
import CairnCrypto
import CairnNode
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
    /// Hostile input against real `cairn node` processes (DECISIONS D38–D42).
    @Suite("Hostile input against cairn node processes", .serialized)
    struct HostileInputProcessTests {
        /// Signs records for the chain of `net`.
        struct Signer {
            let chain: Digest

            init(_ net: LocalNetwork) throws { chain = try GenesisFile.load(path: "\(net.directory)/genesis.json").hash }

            func record(_ key: SigningKey, nonce: UInt64, _ body: RecordBody) -> [UInt8] {
                let bytes = body.canonicalBytes
                return SignedRecord(author: key.publicKey, nonce: nonce, body: bytes,
                                    signature: key.sign(SignedRecord.signingBytes(chain: chain, author: key.publicKey, nonce: nonce, body: bytes))).canonicalBytes
            }
        }

        @Test("the record that halted every validator (base window 2^64 − 1) and other extreme records are rejected with their reasons on every node and in cairn audit; all stay healthy and keep committing")
        func extremeRecords() async throws {
            let net = try LocalNetwork(validators: 4)
            defer { net.stopAll() }
            for i in 0 ..< 4 { try net.start(i) }
            #expect(await net.eventually(seconds: 120) { await (0 ..< 4).asyncAll { await net.delivered($0) > 0 } }, "no commits")
            let signer = try Signer(net)
            let trainer = try KeyFiles.readSigningKey(at: "\(net.directory)/trainers/trainer0.key")
            let other = try KeyFiles.readSigningKey(at: "\(net.directory)/trainers/trainer1.key")

            // Register, as the attacker did (one fee), and wait until it is executed.
            let registration = signer.record(trainer, nonce: 0, .register(Register(name: "attacker")))
            let registered = try #require(await net.post(0, record: registration)?.submitted?.id)
            #expect(await net.eventually(seconds: 30) { await net.record(0, registered)?.status == "committed" })

            let compression = CompressionParameters(chunkSize: 4096, topK: 64, valueBits: 8, indexBits: 16)
            // Contributions are taken only with their blob stored (D50): the hostile ones name a real,
            // tiny blob, on every node, so what they test is the ledger's handling of their fields.
            let blob = try net.pseudoGradientBlob(seed: 1)
            let blobID = Hashing.digest(.blob, blob)
            for i in 0 ..< 4 {
                let reply = try await net.upload(i, blob: blob, signer: trainer)
                #expect([200, 201].contains(reply.status), "node \(i) refused the blob: \(reply)")
            }
            // The window moves on about once a second here, so a base window of 0 may be refused as
            // stale before its size is looked at: either reason is a clean rejection.
            let hostile: [([UInt8], Set<String>)] = [
                (signer.record(trainer, nonce: 1, .contribution(Contribution(baseWindow: .max, blob: blobID, blobSize: 10, compression: compression, assignment: .zero))), ["wrong_window"]),
                (signer.record(trainer, nonce: 2, .contribution(Contribution(baseWindow: .max - 1, blob: blobID, blobSize: .max, compression: compression, assignment: .zero))), ["wrong_window"]),
                (signer.record(trainer, nonce: 3, .contribution(Contribution(baseWindow: 0, blob: blobID, blobSize: .max, compression: compression, assignment: .zero))), ["oversize", "wrong_window"]),
                (signer.record(trainer, nonce: 4, .transfer(Transfer(to: other.publicKey, amount: 0))), ["invalid_amount"]),
                (signer.record(trainer, nonce: 5, .transfer(Transfer(to: other.publicKey, amount: .max))), ["insufficient_balance"]),
                (signer.record(other, nonce: .max, .transfer(Transfer(to: trainer.publicKey, amount: 1))), ["wrong_nonce"]),
                (signer.record(other, nonce: .max - 1, .transfer(Transfer(to: trainer.publicKey, amount: 1))), ["wrong_nonce"]),
                (signer.record(trainer, nonce: 6, .checkpointVote(CheckpointVote(window: .max, sequenceHash: .zero, stateRoot: .zero, modelHash: .zero))), ["not_validator"]),
                (signer.record(trainer, nonce: 7, .evaluation(Evaluation(contribution: .zero, own: LossPair(before: .greatestFiniteMagnitude, after: 0),
                                                                       random: LossPair(before: 0, after: -.greatestFiniteMagnitude), simHash: [], flags: []))), ["not_validator"]),
                (signer.record(trainer, nonce: 8, .register(Register(name: "attacker"))), ["already_registered"]),
            ]
            var ids: [(String, Set<String>)] = []
            for (index, (record, reason)) in hostile.enumerated() {
                let reply = await net.post(index % 4, record: record)
                #expect(reply?.status == 202, "\(reason): \(String(describing: reply))")
                if let id = reply?.submitted?.id { ids.append((id, reason)) }
            }
            let leadersBefore = await net.leaders(0)
            for (id, reason) in ids {
                for node in 0 ..< 4 {
                    #expect(await net.eventually(seconds: 60) { await net.record(node, id)?.status == "rejected" },
                            "node \(node): \(reason) record \(id) has no outcome")
                    let reply = await net.record(node, id)
                    #expect(reason.contains(reply?.reason ?? ""), "node \(node): \(String(describing: reply))")
                    let detail = reply?.detail ?? ""
                    #expect(detail.isEmpty == false, "node \(node): no detail for \(reason)")
                }
            }
            // Everyone is healthy and commits go on.
            #expect(await net.eventually(seconds: 30) { await net.leaders(0) > leadersBefore + 3 })
            for node in 0 ..< 4 { #expect(await net.eventually(seconds: 20) { await net.get(node, "/health")?.status == 200 }, "node \(node) unhealthy") }
            // A restart re-executes nothing twice and stays up (it used to trap again on the same leader).
            net.kill(1, signal: SIGKILL)
            try net.start(1)
            let target = await net.delivered(0)
            #expect(await net.eventually(seconds: 60) { await net.delivered(1) >= target }, "node 1 did not come back")
            // cairn audit re-executes the same records and reaches the same outcomes and roots.
            net.stopAll()
            let audit = try runProcess(net.cairn, ["audit", "--home", "\(net.directory)/node2"])
            #expect(audit.status == 0 && audit.stdout.contains("audit OK"), "\(audit.stdout) \(audit.stderr)")
        }

        @Test("more idle API connections than the node's file-descriptor limit: the excess is refused, /health is served and commits go on")
        func connectionFlood() async throws {
            let net = try LocalNetwork(validators: 4)
            defer { net.stopAll() }
            // 700 descriptors: 646 are kept for RocksDB (512), 3 peers (6) and slack (128), so the API
            // may hold 54, at most 13 of them from one client address. The flood stays below 1,024 descriptors in this test process: libcurl
            // (URLSession here) uses select(), which breaks on descriptors past FD_SETSIZE.
            try net.start(0, fileDescriptorLimit: 700)
            for i in 1 ..< 4 { try net.start(i) }
            #expect(await net.eventually(seconds: 120) { await (0 ..< 4).asyncAll { await net.delivered($0) > 0 } }, "no commits")
            let port = UInt16(net.basePort + 1)

            // 800 connections from 127.0.0.2, each holding a partial request; the node has 700
            // descriptors in all (soft = hard limit), so it could never hold them.
            var sockets: [Int32] = []
            defer { for fd in sockets { close(fd) } }
            for _ in 0 ..< 800 {
                if let fd = Self.partialRequest(from: "127.0.0.2", to: port) { sockets.append(fd) }
            }
            #expect(sockets.count > 750, "could only open \(sockets.count) connections")
            let leaders = await net.leaders(0)
            // Served from another address while the flood holds its connections.
            for _ in 0 ..< 5 {
                let health = await net.get(0, "/health")
                #expect(health?.status == 200, "\(String(describing: health))")
                try await Task.sleep(for: .milliseconds(300))
            }
            #expect(await net.eventually(seconds: 20) { await net.leaders(0) > leaders + 3 }, "node 0 stopped committing")
            let (data, _) = try await URLSession.shared.data(from: net.url(0, "/metrics"))
            let metrics = String(decoding: data, as: UTF8.self)
            func value(_ prefix: String) -> Int {  // gauges print as floats ("54.0")
                Double(metrics.split(separator: "\n").first { $0.hasPrefix(prefix + " ") }?.split(separator: " ").last ?? "").map { Int($0) } ?? -1
            }
            #expect(value("cairn_api_connections_refused_total{reason=\"per_client\"}") > 650, "\(metrics.split(separator: "\n").filter { $0.contains("api_") })")
            #expect(value("cairn_api_connection_limit") == 700 - 646, "the API's share must leave RocksDB's, the peers' and the slack")
            #expect(value("cairn_api_connections_open") <= 13 + 8)
            // The process is alive and healthy after the flood goes away.
            for fd in sockets { close(fd) }
            sockets = []
            #expect(await net.get(0, "/health")?.status == 200)
        }

        @Test("records answered 202 survive a kill -9 of the validator that accepted them before proposing them")
        func acceptedRecordsSurviveCrash() async throws {
            let net = try LocalNetwork(validators: 4)
            defer { net.stopAll() }
            for i in 0 ..< 4 { try net.start(i) }
            #expect(await net.eventually(seconds: 120) { await (0 ..< 4).asyncAll { await net.delivered($0) > 0 } }, "no commits")
            let signer = try Signer(net)
            let payer = try KeyFiles.readSigningKey(at: "\(net.directory)/trainers/trainer0.key")
            let payee = try KeyFiles.readSigningKey(at: "\(net.directory)/trainers/trainer1.key")
            // Alone, node 0 cannot complete a round, so whatever it accepts stays pending in it.
            for i in 1 ..< 4 { net.kill(i, signal: SIGTERM) }
            try await Task.sleep(for: .seconds(1))
            let records = (0 ..< 300).map { signer.record(payer, nonce: UInt64($0), .transfer(Transfer(to: payee.publicKey, amount: 1))) }
            var request = URLRequest(url: net.url(0, "/v1/records"))
            request.httpMethod = "POST"
            request.httpBody = try JSONSerialization.data(withJSONObject: ["records": records.map(Hex.encode)])
            let (data, response) = try await URLSession.shared.data(for: request)
            #expect((response as? HTTPURLResponse)?.statusCode == 202, "\(String(decoding: data, as: UTF8.self))")
            let ids = try #require(try JSONDecoder().decode(SubmitReply.self, from: data).ids)
            #expect(ids.count == 300)
            net.kill(0, signal: SIGKILL)
            for i in 0 ..< 4 { try net.start(i) }
            #expect(await net.eventually(seconds: 90) {
                await ids.asyncAll { id in
                    let status = await net.record(2, id)?.status
                    return status == "committed" || status == "rejected"
                }
            }, "records accepted before the crash were lost")
            let committed = await ids.asyncFilter { await net.record(2, $0)?.status == "committed" }
            #expect(committed.count == 300, "\(committed.count) of 300 transfers executed")
            // None of them is left pending once committed, so a later restart proposes none again.
            // (The node's own checkpoint votes may be pending in flight; they are not counted.)
            let pendingAfter = try await Self.pendingRecords(net, node: 0).filter { ids.contains(Hashing.digest(.record, $0).hex) }
            #expect(pendingAfter.isEmpty, "\(pendingAfter.count) accepted records still pending after their commit")
        }

        /// Pending records of node `node`, read from its database while it is stopped.
        static func pendingRecords(_ net: LocalNetwork, node: Int) async throws -> [[UInt8]] {
            _ = await net.eventually(seconds: 10) { await net.status(node)?.pendingRecords == 0 }
            net.kill(node, signal: SIGTERM)
            defer { try? net.start(node) }
            let genesis = try GenesisFile.load(path: "\(net.directory)/genesis.json")
            let database = try NodeDatabase.open(path: "\(net.directory)/node\(node)/data/db", genesisHash: genesis.hash)
            defer { database.close() }
            return try ConsensusStore(database: database).pendingRecords()
        }

        /// A TCP connection from `source` to 127.0.0.1:`port` that sent half a request line, or nil.
        static func partialRequest(from source: String, to port: UInt16) -> Int32? {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { return nil }
            var timeout = timeval(tv_sec: 2, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            var local = sockaddr_in()
            local.sin_family = sa_family_t(AF_INET)
            inet_pton(AF_INET, source, &local.sin_addr)
            var remote = sockaddr_in()
            remote.sin_family = sa_family_t(AF_INET)
            remote.sin_port = port.bigEndian
            inet_pton(AF_INET, "127.0.0.1", &remote.sin_addr)
            let bound = withUnsafePointer(to: &local) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
            let connected = withUnsafePointer(to: &remote) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
            guard bound == 0, connected == 0 else { close(fd); return nil }
            let partial = Array("GET /health HTTP/1.1\r\nHost: cairn\r\n".utf8)
            _ = partial.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            return fd
        }
    }
}

extension Sequence {
    func asyncFilter(_ predicate: (Element) async -> Bool) async -> [Element] {
        var kept: [Element] = []
        for element in self where await predicate(element) { kept.append(element) }
        return kept
    }
}
