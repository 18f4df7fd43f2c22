import CairnAudit
import CairnAPI
import CairnChain
import CairnCore
import CairnCrypto
import CairnLedger
import CairnNode
import CairnStorage
import CairnTestKit
import CairnTraining
import Foundation
import Testing
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

extension NodeProcesses {
    /// Training on the ledger, end to end on real `cairn node` processes (D47): a trainer's
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
            let trainer = try KeyFiles.readSigningKey(at: "\(net.directory)/trainers/trainer0.key")
            let (id, window) = try await Self.contribute(net, validators: 4)
            // Committed in window w (w or w + 1); finalized at the close of w + 1; so by window w + 3 every
            // node has closed it. Windows are 6 s.
            #expect(await net.eventually(seconds: 60) { await (0 ..< 4).asyncAll { (await net.status($0)?.window ?? 0) >= window + 3 } })
            for i in 0 ..< 4 { #expect(await net.metric(i, "cairn_evaluations_total{step=\"revealed\"}") ?? 0 >= 1, "node \(i) revealed nothing") }
            for i in [0, 2, 3] { #expect(await net.metric(i, "cairn_blobs_fetched_total") ?? 0 >= 1, "node \(i) fetched no blob from its peers") }

            // The training API tells the same story on every node.
            var beacons: Set<String> = []
            for i in 0 ..< 4 {
                #expect(await net.reply(i, "/v1/task", as: TrainingTaskSpec.self)?.name == genesis.task.name)
                let model = await net.reply(i, "/v1/model", as: ModelReply.self)
                #expect(model?.modelHash.count == 64 && (model?.window ?? 0) >= window + 3)
                let assignment = await net.reply(i, "/v1/assignment/\(trainer.publicKey.hex)?window=\(window)", as: AssignmentReply.self)
                #expect(assignment?.contexts == Int(genesis.task.training.maxInnerSteps * genesis.task.training.batchSize))
                beacons.insert(assignment?.beacon ?? "")
                let windows = await [net.window(i, window), net.window(i, window + 1)]
                let listed = windows.compactMap { $0?.contributions }.flatMap { $0 }.first { $0.id == id }
                let entry = try #require(listed, "node \(i): /v1/windows does not list the contribution")
                #expect(entry.evaluations.filter(\.revealed).count == 4)
                #expect(entry.outcome?.members == [0, 1, 2, 3])
                // What an independent evaluator reads (D65): the claimed steps, the window's
                // contribution count, and the blob and clip norm of the model it is evaluated on.
                let home = windows.compactMap { $0 }.first { $0.contributions.contains { $0.id == id } }
                #expect(entry.innerSteps >= 1 && (home?.contributionCount ?? 0) >= 1)
                if let k = home?.window, let next = await net.window(i, k + 1) {
                    #expect(next.modelBlob?.count == 64 && next.clipNorm != nil)
                } else {
                    Issue.record("node \(i): no reply for the window after the contribution's")
                }
                #expect(await net.get(i, "/v1/windows/99999")?.status == 404)
                #expect(await net.get(i, "/v1/assignment/zz")?.status == 400)
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

            // The auditor evaluates the contribution again and finds it inside the recorded quorum;
            // its HTML report draws every chart that has data here.
            let audit = try runProcess(net.cairn, ["audit", "verify", "--home", "\(net.directory)/node2", "--reevaluate", "--output", "json"])
            let report = try JSONSerialization.jsonObject(with: Data(audit.stdout.utf8)) as? [String: Any]
            let again = report?["reevaluation"] as? [String: Any]
            #expect(audit.status == 0 && (again?["reevaluated"] as? Int ?? 0) >= 1 && report?["problem"] == nil, "\(audit.stdout) \(audit.stderr)")
            // (b) A changed evaluation value: node2's stored reveal of validator 1 says its random-data
            // loss after was lower. The node's roots still agree with the replay; the audit names the entry.
            let copy = "\(net.directory)/node2-tampered"
            try FileManager.default.copyItem(atPath: "\(net.directory)/node2", toPath: copy)
            do {
                let database = try NodeDatabase.open(path: "\(copy)/data/db", genesisHash: genesis.hash)
                defer { database.close() }
                let key = StateKey.evaluation(contribution: contributionID, validator: 1)
                var stored = try StoredEvaluation(canonicalBytes: #require(try database.get(ColumnFamily.state.rawValue, key)))
                stored.evaluation.random.after -= 0.01
                try database.put(ColumnFamily.state.rawValue, key, stored.canonicalBytes)
            }
            let tampered = try runProcess(net.cairn, ["audit", "verify", "--home", copy])
            #expect(tampered.status != 0 && tampered.stderr.contains("e/ (evaluation) \(contributionID.hex)"), "\(tampered.stdout) \(tampered.stderr)")
            let html = try runProcess(net.cairn, ["audit", "report", "--home", "\(net.directory)/node2", "--out", "\(net.directory)/report"])
            let page = try String(contentsOfFile: "\(net.directory)/report/index.html", encoding: .utf8)
            #expect(html.status == 0 && page.contains("id=\"payouts\"") && page.contains("id=\"ratings\"") && page.contains("recomputed by this audit"),
                    "\(html.stderr)")
            // The held-out loss the report recomputes from each window's model is the node's own
            // measurement (same function; summation may differ in the last bits across BLAS threads).
            do {
                let home = "\(net.directory)/node2"
                let database = try NodeDatabase.open(path: "\(home)/data/db", genesisHash: genesis.hash)
                defer { database.close() }
                let corpus = try CorpusText(directory: try NodeConfig.load(path: NodeHome(home).configFile).corpusDirectory, expected: genesis.task.corpus)
                let auditReport = AuditReport(database: database, genesis: genesis)
                var data = try auditReport.collect()
                try auditReport.recomputeHeldOut(task: try ReferenceTask(corpus: corpus, model: genesis.task.model), into: &data)
                #expect(data.heldOutRecomputed.count >= 2 && !data.heldOut.isEmpty)
                for measured in data.heldOut {
                    let recomputed = try #require(data.heldOutRecomputed.first { $0.window == measured.window })
                    #expect(abs(recomputed.loss - measured.loss) <= 1e-5 * measured.loss, "window \(measured.window): \(recomputed.loss) vs \(measured.loss)")
                }
            }
        }

        /// Contribution `id` as node `i`'s `/v1/windows` lists it, with the window it landed in (the
        /// one it was submitted in, or the next).
        static func listed(_ net: LocalNetwork, _ i: Int, id: String, submittedIn window: UInt64) async -> (window: WindowReply, entry: ContributionReply)? {
            for k in [window, window + 1] {
                guard let reply = await net.window(i, k), let entry = reply.contributions.first(where: { $0.id == id }) else { continue }
                return (reply, entry)
            }
            return nil
        }

        /// The score (ppb) the random-data losses of `evaluation` give, as the ledger computes it.
        static func score(_ evaluation: EvaluationReply) -> Int64? {
            guard let before = evaluation.randomBefore, let after = evaluation.randomAfter else { return nil }
            return EvaluationQuorum.improvement(LossPair(before: before, after: after))
        }

        /// Registers trainer0, trains a Δ from θ_0 (a few AdamW steps on any data: the random-data score
        /// is what counts), uploads its blob to every validator and submits the contribution; returns
        /// its record id and the window it was submitted in.
        static func contribute(_ net: LocalNetwork, validators: Int) async throws -> (String, UInt64) {
            let genesis = try GenesisFile.load(path: "\(net.directory)/genesis.json")
            let signer = try HostileInputProcessTests.Signer(net)
            let trainer = try KeyFiles.readSigningKey(at: "\(net.directory)/trainers/trainer0.key")
            let registration = signer.record(trainer, nonce: 0, .register(Register(name: "honest")))
            let registered = try #require(await net.post(0, record: registration)?.submitted?.id)
            try #require(await net.eventually(seconds: 30) { await net.record(0, registered)?.status == "committed" })

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
            for i in [1] {  // only to the validator that takes the record: the others fetch it over the mesh (D50)
                let reply = try await net.upload(i, blob: blob, signer: trainer)
                #expect([200, 201].contains(reply.status), "node \(i) refused the blob: \(reply)")
            }
            let window = try #require(await net.status(0)?.window)
            let contribution = signer.record(trainer, nonce: 1, .contribution(Contribution(
                baseWindow: window, blob: blobID, blobSize: UInt64(blob.count),
                compression: CompressionParameters(chunkSize: genesis.task.compression.chunkSize, topK: genesis.task.compression.topK, valueBits: 8, indexBits: 16),
                assignment: .zero)))
            let id = try #require(await net.post(1, record: contribution)?.submitted?.id)
            try #require(await net.eventually(seconds: 30) { await net.record(1, id)?.status == "committed" })
            return (id, window)
        }

        @Test("of seven validators, a lazy one (Δ never applied) lands outside the quorum and is flagged; a copying one's reveal is rejected and it is flagged unrevealed; the score is the honest validators' own")
        func lazyAndCopyingValidators() async throws {
            let net = try LocalNetwork(validators: 7, windowMs: 8000)
            defer { net.stopAll() }
            for (node, behaviour) in [(5, "lazy"), (6, "copy")] {
                let path = "\(net.directory)/node\(node)/config/config.toml"
                let config = try String(contentsOfFile: path, encoding: .utf8) + "\n[testing]\nevaluator = \"\(behaviour)\"\n"
                try config.write(toFile: path, atomically: true, encoding: .utf8)
            }
            for i in 0 ..< 7 { try net.start(i) }
            #expect(await net.eventually(seconds: 120) { await (0 ..< 7).asyncAll { await net.delivered($0) > 0 } }, "no commits")
            let (id, window) = try await Self.contribute(net, validators: 7)
            #expect(await net.eventually(seconds: 90) { await (0 ..< 7).asyncAll { (await net.status($0)?.window ?? 0) >= window + 3 } })
            for i in 0 ..< 7 {
                let (reply, entry) = try #require(await Self.listed(net, i, id: id, submittedIn: window), "node \(i): the contribution is not listed")
                let outcome = try #require(entry.outcome, "node \(i): not finalized")
                #expect(outcome.members == [0, 1, 2, 3, 4], "node \(i): \(outcome)")
                // The accepted score is exactly what the honest validators revealed (bit-identical here).
                let honest = entry.evaluations.filter { $0.validator < 5 && $0.revealed }
                #expect(honest.count == 5)
                let scores = Set(honest.compactMap(Self.score))
                #expect(scores.count == 1 && outcome.scorePpb == scores.first, "node \(i): \(scores) vs \(outcome)")
                #expect(entry.evaluations.first { $0.validator == 6 }?.revealed == false, "node \(i): the copy was accepted")
                let flags = reply.validatorFlags
                #expect(flags.contains { $0.validator == 5 && $0.outsideQuorum == 1 }, "node \(i): lazy not flagged: \(flags)")
                #expect(flags.contains { $0.validator == 6 && $0.unrevealed == 1 }, "node \(i): copier not flagged: \(flags)")
                #expect(flags.count == 2)
            }
            #expect(await net.metric(0, "cairn_records_rejected_in_ledger_total{reason=\"reveal_mismatch\"}") ?? 0 >= 1)
        }

        @Test("a contribution whose blob was never uploaded is never certified (honest validators wait, ask every peer, and do not vote); consensus and the proposer's later records go on")
        func missingBlob() async throws {
            let net = try LocalNetwork(validators: 4, windowMs: 4000)
            defer { net.stopAll() }
            // Validator 1 takes contribution records without their blob, as a Byzantine proposer would.
            let path = "\(net.directory)/node1/config/config.toml"
            try (try String(contentsOfFile: path, encoding: .utf8) + "\n[testing]\naccept_missing_blobs = true\n").write(toFile: path, atomically: true, encoding: .utf8)
            for i in 0 ..< 4 { try net.start(i) }
            try #require(await net.eventually(seconds: 120) { await (0 ..< 4).asyncAll { await net.delivered($0) > 0 } }, "no commits")
            let genesis = try GenesisFile.load(path: "\(net.directory)/genesis.json")
            let signer = try HostileInputProcessTests.Signer(net)
            let trainer = try KeyFiles.readSigningKey(at: "\(net.directory)/trainers/trainer0.key")
            let registered = try #require(await net.post(0, record: signer.record(trainer, nonce: 0, .register(Register(name: "t"))))?.submitted?.id)
            try #require(await net.eventually(seconds: 30) { await net.record(0, registered)?.status == "committed" })
            let window = try #require(await net.status(0)?.window)
            let nobodysBlob = Hashing.digest(.blob, Array("never uploaded".utf8))
            let record = signer.record(trainer, nonce: 1, .contribution(Contribution(
                baseWindow: window, blob: nobodysBlob, blobSize: 14,
                compression: CompressionParameters(chunkSize: genesis.task.compression.chunkSize, topK: genesis.task.compression.topK, valueBits: 8, indexBits: 16),
                assignment: .zero)))
            // An honest validator refuses it at submission, naming the upload to do first.
            let refused = await net.post(0, record: record)
            #expect(refused?.status == 400 && (refused?.error?.detail ?? "").contains("PUT /v1/blobs/\(nobodysBlob.hex)"), "\(String(describing: refused))")
            let id = try #require(await net.post(1, record: record)?.submitted?.id, "validator 1 did not take the record")
            let leadersBefore = await Array(0 ..< 4).asyncMap { await net.leaders($0) }
            // Honest validators hold the proposal, ask for the blob and let it expire (10 s) unvoted.
            #expect(await net.eventually(seconds: 60) {
                await [0, 2, 3].asyncAll { await net.metric($0, "cairn_consensus_refused_total{reason=\"blob_unavailable\"}") ?? 0 >= 1 }
            }, "the honest validators did not give up on the blob")
            for i in [0, 2, 3] { #expect(await net.metric(i, "cairn_blob_requests_sent_total") ?? 0 >= 1) }
            // Consensus went on everywhere, validator 1 included, and its later records commit.
            for i in 0 ..< 4 { #expect(await net.eventually(seconds: 30) { await net.leaders(i) > leadersBefore[i] + 3 }, "node \(i) stopped committing") }
            let later = try #require(await net.post(1, record: signer.record(try KeyFiles.readSigningKey(at: "\(net.directory)/trainers/trainer1.key"), nonce: 0,
                                                                          .register(Register(name: "later"))))?.submitted?.id)
            #expect(await net.eventually(seconds: 60) { await net.record(1, later)?.status == "committed" }, "validator 1's later record never committed")
            for i in 0 ..< 4 {
                let status = await net.record(i, id)?.status
                #expect(status != "committed" && status != "rejected", "node \(i): the blob-less contribution was ordered (\(status ?? "nil"))")
            }
        }

        @Test("a validator killed with SIGKILL while it evaluates restarts and completes its commitment and reveal (or is flagged for the window it missed); its state matches the others'")
        func killedDuringEvaluation() async throws {
            let net = try LocalNetwork(validators: 4, windowMs: 6000)
            defer { net.stopAll() }
            for i in 0 ..< 4 { try net.start(i) }
            try #require(await net.eventually(seconds: 120) { await (0 ..< 4).asyncAll { await net.delivered($0) > 0 } }, "no commits")
            let (id, window) = try await Self.contribute(net, validators: 4)
            // Committed: validator 2's evaluation service picks it up within 250 ms and evaluates it.
            try await Task.sleep(for: .milliseconds(400))
            net.kill(2, signal: SIGKILL)
            try await Task.sleep(for: .milliseconds(300))
            try net.start(2)
            #expect(await net.eventually(seconds: 90) { await (0 ..< 4).asyncAll { (await net.status($0)?.window ?? 0) >= window + 4 } },
                    "the network (or the restarted validator) did not reach window \(window + 4)")
            var outcomes: Set<String> = []
            for i in 0 ..< 4 {
                let (reply, entry) = try #require(await Self.listed(net, i, id: id, submittedIn: window), "node \(i): the contribution is not listed")
                let outcome = try #require(entry.outcome, "node \(i): not finalized")
                outcomes.insert("\(outcome.members) \(outcome.scorePpb.map(String.init) ?? "-")")
                let members = outcome.members
                let flags = reply.validatorFlags
                let flagged = flags.contains { $0.validator == 2 && $0.unrevealed == 1 }
                // Either it finished what it started, or the ledger says it did not: nothing in between.
                #expect(members.contains(2) != flagged, "node \(i): validator 2 is \(members.contains(2) ? "in the quorum and flagged" : "neither in the quorum nor flagged"): \(outcome) \(flags)")
                #expect(members.count >= 3)
                #expect(await net.get(i, "/health")?.status == 200, "node \(i) unhealthy (diverged?)")
            }
            #expect(outcomes.count == 1, "nodes finalized differently: \(outcomes)")
            // Nothing lost: /health above is 200 only without a state-root divergence; the certified checkpoint is one.
            let roots = await Array(0 ..< 4).asyncMap { await net.reply($0, "/v1/checkpoints/\(window + 2)", as: CheckpointReply.self)?.stateRoot }
            #expect(Set(roots.compactMap { $0 }).count == 1 && roots.allSatisfy { $0 != nil }, "\(roots)")
        }

        @Test("a validator revealing skewed losses with the honest hash stays in the quorum, changes no accepted score, is flagged deviant and is not paid")
        func skewedValidator() async throws {
            let net = try LocalNetwork(validators: 4, windowMs: 6000)
            defer { net.stopAll() }
            let path = "\(net.directory)/node3/config/config.toml"
            try (try String(contentsOfFile: path, encoding: .utf8) + "\n[testing]\nevaluator = \"skew\"\n").write(toFile: path, atomically: true, encoding: .utf8)
            for i in 0 ..< 4 { try net.start(i) }
            try #require(await net.eventually(seconds: 120) { await (0 ..< 4).asyncAll { await net.delivered($0) > 0 } }, "no commits")
            let (id, window) = try await Self.contribute(net, validators: 4)
            #expect(await net.eventually(seconds: 60) { await (0 ..< 4).asyncAll { (await net.status($0)?.window ?? 0) >= window + 3 } })
            for i in 0 ..< 4 {
                let (reply, entry) = try #require(await Self.listed(net, i, id: id, submittedIn: window), "node \(i): the contribution is not listed")
                let outcome = try #require(entry.outcome, "node \(i): not finalized")
                #expect(outcome.members == [0, 1, 2, 3], "node \(i): the skewed validator's hash should agree: \(outcome)")
                let honest = Set(entry.evaluations.filter { $0.validator < 3 }.compactMap(Self.score))
                #expect(honest.count == 1 && outcome.scorePpb == honest.first, "node \(i): \(honest) vs \(outcome)")
                let flags = reply.validatorFlags
                #expect(flags.contains { $0.validator == 3 && $0.deviant == 1 }, "node \(i): \(flags)")
                let paid = reply.rewards?.validators.map(\.validator)
                #expect(paid == [0, 1, 2], "node \(i): validators paid \(String(describing: paid))")
                // The leaderboard lists the trainer; a contribution on θ_0 (no clip norm yet) is recorded
                // in its window's results but not rated (D57).
                let trainer = try KeyFiles.readSigningKey(at: "\(net.directory)/trainers/trainer0.key").publicKey.hex
                let board = try #require(await net.reply(i, "/v1/ratings", as: Leaderboard.self)?.trainers)
                let listedTrainer = board.first { $0.trainer == trainer }
                #expect(listedTrainer != nil, "node \(i): \(board)")
                let result = reply.trainers.first { $0.trainer == trainer }
                let unrated = result?.penalties.contains("unrated_window") ?? false
                #expect(result != nil && (unrated ? listedTrainer?.ratedWindows == 0 : (listedTrainer?.ratedWindows ?? 0) >= 1),
                        "node \(i): \(String(describing: result)) \(String(describing: listedTrainer))")
            }
        }

        @Test("cairn submit trains on its assignment, uploads the blob, submits and keeps its error feedback; every validator finalizes the contribution with a quorum of four")
        func submitCommand() async throws {
            let net = try LocalNetwork(validators: 4, windowMs: 6000)
            defer { net.stopAll() }
            for i in 0 ..< 4 { try net.start(i) }
            try #require(await net.eventually(seconds: 120) { await (0 ..< 4).asyncAll { await net.delivered($0) > 0 } }, "no commits")
            let key = "\(net.directory)/trainers/trainer0.key"
            let urls = (0 ..< 4).map { "http://127.0.0.1:\(net.basePort + 10 * $0 + 1)" }
            func cairn(_ arguments: [String]) async -> ProcessResult? {
                await withCheckedContinuation { continuation in
                    // Off the cooperative pool: the child runs for seconds.
                    DispatchQueue.global().async { continuation.resume(returning: try? runProcess(net.cairn, arguments)) }
                }
            }
            let registered = await cairn(["register", "--node", urls[0], "--key", key, "--name", "cli-trainer", "--wait"])
            try #require(registered?.status == 0, "\(registered?.stderr ?? "register did not run")")
            let submitted = await cairn(["submit", "--node", urls[0], "--key", key,
                                         "--windows", "1", "--corpus", net.corpus, "--threads", "1"])
            try #require(submitted?.status == 0, "\(submitted?.stderr ?? "submit did not run")")
            #expect(submitted?.stdout.contains("submitted contribution") == true, "\(submitted?.stdout ?? "")")
            // It waits for the verdict and reports it.
            #expect(submitted?.stdout.contains("accepted score +") == true && submitted?.stdout.contains("quorum of 4") == true, "\(submitted?.stdout ?? "")")
            let genesis = try GenesisFile.load(path: "\(net.directory)/genesis.json")
            let layout = try ModelLayout(genesis.task.model)
            let state = try TrainerState.decode([UInt8](try Data(contentsOf: URL(fileURLWithPath: key + ".state"))), parameterCount: layout.parameterCount)
            let window = try #require(state.lastWindow)
            #expect(state.feedback.residual.contains { $0 != 0 }, "error feedback kept nothing")
            try #require(await net.eventually(seconds: 60) { await (0 ..< 4).asyncAll { (await net.status($0)?.window ?? 0) >= window + 3 } })
            for i in 0 ..< 4 {
                let windows = await [net.window(i, window), net.window(i, window + 1)]
                let entries = windows.compactMap { $0?.contributions }.flatMap { $0 }
                let trainer = try KeyFiles.readSigningKey(at: key).publicKey.hex
                let mine = try #require(entries.first { $0.author == trainer }, "node \(i): no contribution from the trainer")
                #expect(mine.outcome?.members == [0, 1, 2, 3], "node \(i): \(mine)")
            }
        }
    }
}