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
    /// Issue 26, attack 8 (D59): `PUT /v1/blobs/{id}` took 64 MiB per request from anyone, kept it
    /// forever and never looked at the disk. On real `cairn node` processes.
    @Suite("Blob uploads: signed, bounded, pruned, floored", .serialized)
    struct BlobUploadTests {
        @Test("a 16 MiB upload from an unregistered client is refused (401, 403) and nothing is stored; a registered trainer's signed pseudo-gradient is stored once, within its quota per window; junk and stale signatures are refused; blobs no contribution names are dropped after the retention windows, named ones kept; below the disk floor uploads get 507 while consensus goes on")
        func uploads() async throws {
            let net = try LocalNetwork(validators: 4, windowMs: 3000, testnetArguments: ["--blob-retention-windows", "2"])
            defer { net.stopAll(); try? FileManager.default.removeItem(atPath: net.directory) }
            // Node 0 allows three blobs' worth per trainer per window; node 3 keeps 2^62 bytes free.
            let one = try net.pseudoGradientBlob(seed: 0).count
            for (i, line) in [(0, "upload_bytes_per_window = \(3 * one)")] {
                let path = "\(net.directory)/node\(i)/config/config.toml"
                let config = try String(contentsOfFile: path, encoding: .utf8)
                    .replacingOccurrences(of: "max_blob_bytes = 67108864", with: "max_blob_bytes = 67108864\n\(line)")
                try config.write(toFile: path, atomically: true, encoding: .utf8)
            }
            for i in 0 ..< 4 { try net.start(i) }
            #expect(await net.eventually(seconds: 120) { await (0 ..< 4).asyncAll { await net.delivered($0) > 0 } }, "no commits")
            let signer = try HostileInputProcessTests.Signer(net)
            let trainer = try KeyFiles.readSigningKey(at: "\(net.directory)/trainers/trainer0.key")
            let stranger = try KeyFiles.readSigningKey(at: "\(net.directory)/trainers/trainer1.key")  // funded, never registered

            // 16 MiB from a client without a signature, and from a funded key that never registered.
            let big = [UInt8](repeating: 0x5a, count: 16 << 20)
            let bigID = BlobStore.id(of: big)
            let anonymous = try await net.upload(0, blob: big, signer: nil)
            #expect(anonymous.status == 401 && anonymous.error?.code.rawValue == "unauthorized", "\(anonymous)")
            let unregistered = try await net.upload(0, blob: big, signer: stranger, retryUnregistered: false)
            #expect(unregistered.status == 403 && unregistered.error?.code.rawValue == "not_registered", "\(unregistered)")
            #expect(await net.statusCode(0, "/v1/blobs/\(bigID.hex)") == 404)

            let registration = signer.record(trainer, nonce: 0, .register(Register(name: "uploader")))
            let registered = try #require(await net.post(0, record: registration)?.submitted?.id)
            #expect(await net.eventually(seconds: 30) { await (0 ..< 4).asyncAll { await net.record($0, registered)?.status == "committed" } })

            // A registered trainer: a valid pseudo-gradient is stored, once; a second upload is free.
            let named = try net.pseudoGradientBlob(seed: 100)
            let namedID = BlobStore.id(of: named)
            #expect(try await net.upload(1, blob: named, signer: trainer).status == 201)
            #expect(try await net.upload(1, blob: named, signer: trainer).status == 200)
            // Still too big, still refused, even signed (larger than any pseudo-gradient of the task).
            let signedBig = try await net.upload(1, blob: big, signer: trainer)
            #expect(signedBig.status == 413 && signedBig.error?.code.rawValue == "too_large", "\(signedBig)")
            #expect(await net.statusCode(1, "/v1/blobs/\(bigID.hex)") == 404)
            // Not a pseudo-gradient; an all-zero one; another id; a signature ten minutes and more old.
            let junk = try await net.upload(1, blob: Array("not a pseudo-gradient".utf8), signer: trainer)
            #expect(junk.status == 400 && junk.error?.code.rawValue == "invalid_blob", "\(junk)")
            let task = try GenesisFile.load(path: "\(net.directory)/genesis.json").task
            let count = task.model.parameterCount
            let empty = PseudoGradientBlob.encode(PseudoGradient(parameterCount: count, chunkSize: Int(task.compression.chunkSize), chunks:
                (0 ..< PseudoGradient.chunkCount(parameterCount: count, chunkSize: Int(task.compression.chunkSize))).map { _ in
                    PseudoGradient.Chunk(scale: 0, indices: [], values: []) }), topK: Int(task.compression.topK))
            let zero = try await net.upload(1, blob: empty, signer: trainer)
            #expect(zero.status == 400 && (zero.error?.detail ?? "").contains("0"), "\(zero)")
            let other = try await net.upload(1, blob: named, signer: trainer, id: BlobStore.id(of: empty))
            #expect(other.status == 400 && (other.error?.detail ?? "").contains("hashes to"), "\(other)")
            let stale = try await net.upload(1, blob: try net.pseudoGradientBlob(seed: 101), signer: trainer,
                                             timeMs: UInt64(Date().timeIntervalSince1970 * 1000) - 11 * 60 * 1000)
            #expect(stale.status == 401, "\(stale)")

            // The blob `named` becomes a contribution's; the quota on node 0 is three blobs a window.
            let window = try #require(await net.status(1)?.window)
            let contribution = signer.record(trainer, nonce: 1, .contribution(Contribution(
                baseWindow: window, blob: namedID, blobSize: UInt64(named.count),
                compression: CompressionParameters(chunkSize: task.compression.chunkSize, topK: task.compression.topK, valueBits: 8, indexBits: 16),
                assignment: .zero)))
            let contributionID = try #require(await net.post(1, record: contribution)?.submitted?.id)
            var stored: [Digest] = []
            var refusal: LocalNetwork.Answer?
            for seed in UInt32(200) ..< 220 {
                let blob = try net.pseudoGradientBlob(seed: seed)
                let reply = try await net.upload(0, blob: blob, signer: trainer)
                if reply.status == 201 { stored.append(BlobStore.id(of: blob)) } else { refusal = reply; break }
            }
            // Three a window: each window boundary the uploads straddle allows up to three more
            // (3-second windows; a loaded machine straddles several), and the loop ends at a refusal.
            #expect(stored.count >= 3 && refusal?.status == 413 && refusal?.error?.code.rawValue == "quota_exceeded",
                    "\(stored.count) stored, then \(String(describing: refusal))")
            // The last window's three are held (earlier ones may already be past the 2-window retention).
            for id in stored.suffix(3) { #expect(await net.statusCode(0, "/v1/blobs/\(id.hex)") == 200) }
            #expect(await net.eventually(seconds: 30) { await net.record(1, contributionID)?.status == "committed" })

            // Two windows on (retention 2), node 0 drops the blobs nothing names; the named one stays everywhere.
            #expect(await net.eventually(seconds: 30) {
                var dropped = true
                for id in stored where await net.statusCode(0, "/v1/blobs/\(id.hex)") != 404 { dropped = false }
                return dropped
            }, "uploads no contribution names were not pruned")
            for i in 0 ..< 4 { #expect(await net.statusCode(i, "/v1/blobs/\(namedID.hex)") == 200, "node \(i) lost the named blob") }

            // Below the disk floor: node 3 refuses uploads (507) and keeps committing.
            net.kill(3, signal: SIGTERM)
            try await Task.sleep(for: .milliseconds(500))
            let path = "\(net.directory)/node3/config/config.toml"
            try (try String(contentsOfFile: path, encoding: .utf8))
                .replacingOccurrences(of: "min_free_bytes = 1073741824", with: "min_free_bytes = \(UInt64(1) << 62)")
                .write(toFile: path, atomically: true, encoding: .utf8)
            try net.start(3)
            #expect(await net.eventually(seconds: 60) { await net.get(3, "/health")?.status == 200 })
            let full = try await net.upload(3, blob: try net.pseudoGradientBlob(seed: 300), signer: trainer)
            #expect(full.status == 507 && full.error?.code.rawValue == "insufficient_storage", "\(full)")
            let delivered = await net.delivered(3)
            #expect(await net.eventually(seconds: 30) { await net.delivered(3) > delivered + 4 }, "node 3 stopped committing")
            let metrics = await net.metric(3, "cairn_api_errors_total{error=\"insufficient_storage\"}")
            #expect(metrics ?? 0 >= 1)
        }
    }
}
