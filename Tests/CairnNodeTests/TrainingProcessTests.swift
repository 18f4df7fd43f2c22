import CairnCore
import CairnCrypto
import CairnLedger
import CairnNode
import CairnStorage
import CairnTraining
import Foundation
import Testing
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Training on the ledger, end to end on real `cairn node` processes (issue 15): a trainer's
/// contribution is evaluated by every validator's evaluation service, committed, revealed,
/// finalized with an LSH quorum, and aggregated into the next model — the same on every node.
@Suite("Training on cairn node processes", .serialized)
struct TrainingProcessTests {
    @Test("a contribution is evaluated by all four validators, gets a quorum of four and a positive score, and moves the model; every node holds the same model")
    func contributionToModel() async throws {
        let net = try LocalNetwork(validators: 4, windowMs: 6000)
        defer { net.stopAll() }
        for i in 0 ..< 4 { try net.start(i) }
        #expect(await net.eventually(seconds: 120) { await (0 ..< 4).asyncAll { await net.delivered($0) > 0 } }, "no commits")
        let genesis = try GenesisFile.load(path: "\(net.directory)/genesis.json")
        let signer = try HostileInputProcessTests.Signer(net)
        let trainer = try KeyFiles.readSigningKey(at: "\(net.directory)/trainers/trainer0.key")
        let registration = signer.record(trainer, nonce: 0, .register(Register(name: "honest")))
        let registered = try #require(await net.post(0, record: registration)?.1["id"] as? String)
        #expect(await net.eventually(seconds: 30) { await net.get(0, "/v1/records/\(registered)")?.1["status"] as? String == "committed" })

        // Δ from a few steps of AdamW on the genesis model (trained on any data: the random-data
        // score is what counts), compressed as the genesis says.
        let task = try ReferenceTask(corpus: try CorpusText(directory: net.corpus, expected: genesis.task.corpus), model: genesis.task.model)
        let theta0 = task.initialParameters(seed: ModelUpdater.initialSeed(chainID: genesis.chainID))
        var local = LocalTraining(task: task, parameters: theta0, batchSize: 64, weightDecay: 0)
        for step in 0 ..< 20 {
            _ = local.step(positions: task.split.trainingPositions(seed: DataSplit.seed("test-train", [UInt8(step)]), count: 64)[...], rate: 2e-3)
        }
        var feedback = ErrorFeedback(parameterCount: task.parameterCount)
        let delta = feedback.compress(zip(theta0, local.parameters).map { $0 - $1 }, chunkSize: Int(genesis.task.compression.chunkSize),
                                      topK: Int(genesis.task.compression.topK))
        let blob = PseudoGradientBlob.encode(delta, topK: Int(genesis.task.compression.topK))
        let blobID = BlobStore.id(of: blob)
        for i in 0 ..< 4 {  // no blob fetching between validators yet: upload to each
            var request = URLRequest(url: net.url(i, "/v1/blobs/\(blobID.hex)"))
            request.httpMethod = "PUT"
            request.httpBody = Data(blob)
            let (_, response) = try await URLSession.shared.data(for: request)
            #expect([200, 201].contains((response as? HTTPURLResponse)?.statusCode ?? 0), "node \(i) refused the blob")
        }
        let window = UInt64(try #require(await net.status(0)?["window"] as? Int))
        let contribution = signer.record(trainer, nonce: 1, .contribution(Contribution(
            baseWindow: window, blob: blobID, blobSize: UInt64(blob.count),
            compression: CompressionParameters(chunkSize: genesis.task.compression.chunkSize, topK: genesis.task.compression.topK, valueBits: 8, indexBits: 16),
            assignment: .zero)))
        let id = try #require(await net.post(1, record: contribution)?.1["id"] as? String)
        #expect(await net.eventually(seconds: 30) { await net.get(1, "/v1/records/\(id)")?.1["status"] as? String == "committed" })
        // Committed in window w (w or w + 1); finalized at the close of w + 1; so by window w + 3 every
        // node has closed it. Windows are 6 s.
        #expect(await net.eventually(seconds: 60) { await (0 ..< 4).asyncAll { (await net.status($0)?["window"] as? Int ?? 0) >= Int(window) + 3 } })
        for i in 0 ..< 4 { #expect(await net.metric(i, "cairn_evaluations_total{step=\"revealed\"}") ?? 0 >= 1, "node \(i) revealed nothing") }

        // The training API tells the same story on every node.
        var beacons: Set<String> = []
        for i in 0 ..< 4 {
            #expect(await net.get(i, "/v1/task")?.1["name"] as? String == genesis.task.name)
            let model = await net.get(i, "/v1/model")?.1
            #expect((model?["model_hash"] as? String)?.count == 64 && (model?["window"] as? Int ?? 0) >= Int(window) + 3)
            let assignment = await net.get(i, "/v1/assignment/\(trainer.publicKey.hex)?window=\(window)")?.1
            #expect(assignment?["contexts"] as? Int == Int(genesis.task.training.innerSteps * genesis.task.training.batchSize))
            beacons.insert(assignment?["beacon"] as? String ?? "")
            let windows = await [net.get(i, "/v1/windows/\(window)")?.1, net.get(i, "/v1/windows/\(window + 1)")?.1]
            let listed = windows.compactMap { $0?["contributions"] as? [[String: Any]] }.flatMap { $0 }.first { $0["id"] as? String == id }
            let entry = try #require(listed, "node \(i): /v1/windows does not list the contribution")
            #expect((entry["evaluations"] as? [[String: Any]])?.filter { $0["revealed"] as? Bool == true }.count == 4)
            #expect((entry["outcome"] as? [String: Any])?["members"] as? [Int] == [0, 1, 2, 3])
            #expect(await net.get(i, "/v1/windows/99999")?.0 == 404)
            #expect(await net.get(i, "/v1/assignment/zz")?.0 == 400)
        }
        #expect(beacons.count == 1 && beacons.first?.count == 64, "assignment beacons differ: \(beacons)")
        net.stopAll()
        try await Task.sleep(for: .milliseconds(500))

        let contributionID = try Digest(hex: id)
        var models: Set<ModelRecord> = []
        for i in 0 ..< 4 {
            let database = try NodeDatabase.open(path: "\(net.directory)/node\(i)/data/db", genesisHash: genesis.hash)
            defer { database.close() }
            let outcome = try EvaluationQuorum.Outcome(canonicalBytes: #require(try database.get(ColumnFamily.state.rawValue, StateKey.contributionOutcome(contributionID))))
            #expect(outcome.members == [0, 1, 2, 3], "node \(i): \(outcome)")
            #expect((outcome.score ?? 0) > 0, "node \(i): \(outcome)")
            // The window after the one finalizing it trains from a model that includes it.
            let contributionWindow = try UInt64(canonicalBytes: #require(try database.get(ColumnFamily.state.rawValue, StateKey.contributionWindow(contributionID))))
            let moved = try #require(try database.get(ModelRecord.self, .state, StateKey.model(contributionWindow + 2)))
            let before = try #require(try database.get(ModelRecord.self, .state, StateKey.model(contributionWindow + 1)))
            #expect(moved != before, "node \(i): the model did not change")
            models.insert(moved)
        }
        #expect(models.count == 1, "nodes hold different models: \(models)")
    }
}
