import CairnAPI
import CairnChain
import CairnCore
import CairnCrypto
import CairnNode
import CairnTestKit
import CairnTraining
import Foundation
import Testing
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

extension NodeProcesses {
    /// D59: a trainer met a model it could not use and exited ("training diverged"); nothing
    /// contributed again. `cairn submit` against an API (python3's http.server over files) whose
    /// model blob hashes right but holds a NaN.
    @Suite("cairn submit and a broken model", .serialized)
    struct SubmitBrokenModelTests {
        @Test("an honest cairn submit reports a model it cannot use and waits for the next finite one instead of exiting")
        func waitsForAFiniteModel() async throws {
            let net = try LocalNetwork(validators: 4)  // only its genesis, corpus and keys: no node runs
            defer { try? FileManager.default.removeItem(atPath: net.directory) }
            let genesis = try GenesisFile.load(path: "\(net.directory)/genesis.json")
            let root = "\(net.directory)/api"
            try FileManager.default.createDirectory(atPath: "\(root)/v1/blobs", withIntermediateDirectories: true)
            // θ_0 with one parameter turned into NaN after encoding: the hash matches, the decoder refuses.
            let layout = try ModelLayout(genesis.task.model)
            var blob = try ModelBlob.encode(InitialModel.parameters(layout: layout, seed: ModelUpdater.initialSeed(chainID: genesis.chainID)),
                                            task: genesis.task.name, spec: genesis.task.model)
            let nan = Float.nan.bitPattern
            for k in 0 ..< 4 { blob[blob.count - 4 + k] = UInt8(truncatingIfNeeded: nan >> (8 * UInt32(k))) }
            let blobID = BlobStore.id(of: blob)
            try Data(blob).write(to: URL(fileURLWithPath: "\(root)/v1/blobs/\(blobID.hex)"))
            // The node's replies as the API defines them (CairnAPI), written as files.
            let now = UInt64(Date().timeIntervalSince1970 * 1000)
            try JSONEncoder().encode(StatusReply(chainID: genesis.chainID, genesisHash: genesis.hash.hex, version: "test", node: "files", validatorIndex: 0,
                                                 round: 40, lastCommittedWave: 9, committedLeaders: 9, delivered: 120, sequenceHash: Digest.zero.hex,
                                                 stateRoot: Digest.zero.hex, window: 3, peers: 3, catchingUp: false, pendingRecords: 0))
                .write(to: URL(fileURLWithPath: "\(root)/status"))
            try JSONEncoder().encode(genesis.task).write(to: URL(fileURLWithPath: "\(root)/v1/task"))
            try JSONEncoder().encode(ModelReply(window: 3, modelHash: ModelBlob.hash(blob).hex, blob: blobID.hex, windowOpenedAtMs: now,
                                                windowMs: 30_000, consensusTimeMs: now))
                .write(to: URL(fileURLWithPath: "\(root)/v1/model"))

            // A file server on a port the kernel picks (it prints the port first).
            let server = Process()
            server.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            server.arguments = ["python3", "-c", """
                import functools, http.server, sys
                handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=sys.argv[1])
                server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
                print(server.server_address[1], flush=True)
                server.serve_forever()
                """, root]
            let announced = Pipe()
            server.standardOutput = announced
            server.standardError = FileHandle.nullDevice
            try server.run()
            // SIGKILL, not terminate(): the child inherits the test process's blocked SIGTERM and
            // outlived every run (one python3 left behind per `swift test`).
            defer { kill(server.processIdentifier, SIGKILL); server.waitUntilExit() }
            var line = Data()
            while !line.contains(0x0a) {
                let byte = announced.fileHandleForReading.readData(ofLength: 1)
                guard !byte.isEmpty else { break }
                line.append(byte)
            }
            let port = try #require(Int(String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)),
                                    "the file server did not print its port")
            #expect(await net.eventually(seconds: 10) {
                (try? await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(port)/status")!)) != nil
            }, "python3 -m http.server did not start")

            let submit = Process()
            submit.executableURL = URL(fileURLWithPath: net.cairn)
            submit.arguments = ["submit", "--node", "http://127.0.0.1:\(port)", "--key", "\(net.directory)/trainers/trainer0.key",
                                "--corpus", net.corpus, "--windows", "1", "--no-wait-score", "--threads", "1"]
            let output = Pipe()
            submit.standardOutput = output
            submit.standardError = output
            try submit.run()
            try await Task.sleep(for: .seconds(6))
            let running = submit.isRunning
            submit.terminate()
            submit.waitUntilExit()
            let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            #expect(running, "cairn submit exited on a broken model: \(text)")
            #expect(text.contains("window 3: the model") && text.contains("waiting for the next finite model"), "\(text)")
            #expect(text.contains("nan") || text.contains("not finite"), "\(text)")
        }
    }
}
