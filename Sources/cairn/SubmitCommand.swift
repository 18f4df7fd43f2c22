import ArgumentParser
import CairnCore
import CairnCrypto
import CairnTraining
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

struct SubmitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "submit",
        abstract: "Train on your assignment and submit pseudo-gradients, one per window.",
        discussion: """
            Each window: fetches the task, the current model and this trainer's assignment from \
            --node, trains the genesis number of inner steps on the assigned shard (a progress bar \
            on a terminal, plain lines otherwise), compresses Δ = θ − θ_local with error feedback \
            (kept in KEY.state, so a restart resumes it), uploads the blob to --node and every \
            --blob-node, submits the signed contribution and reports whether it was committed; \
            later it reports the accepted score once the window is finalized. The trainer must be \
            registered (`cairn register`). Transient failures (node unreachable, window closed \
            before the record landed) are retried with backoff; permanent ones stop with what to do.
            """)

    @Option(help: "The node's API URL, e.g. http://127.0.0.1:26601.")
    var node: String

    @Option(help: "Key file (0600) of the registered trainer.")
    var key: String

    @Option(help: "Other validators' API URLs to upload each blob to as well, comma-separated (until validators fetch blobs from each other, every evaluator needs it).")
    var blobNodes: String?

    @Option(help: "Contribute to this many windows, then stop.")
    var windows = 1

    @Flag(help: "Keep contributing, window after window, until interrupted.")
    var follow = false

    @Option(help: "Corpus directory (must hash to genesis task.corpus).")
    var corpus = CorpusFiles.defaultDirectory

    @Option(help: "Windows over which the inner learning rate decays from its genesis peak to its floor.")
    var scheduleWindows = 100

    @Option(help: "OpenBLAS threads for training (default: every core).")
    var threads: Int?

    @Flag(help: "Do not wait, after the last window, for the accepted scores of the contributions made.")
    var noWaitScore = false

    @Option(help: "For tests and demonstrations only: cheat as MODE (\(Adversary.allCases.map(\.rawValue).joined(separator: ", "))); README says what each does.")
    var adversary: Adversary?

    @Option(help: "With --adversary sybil: the other registered key files that share this key's one honest effort, comma-separated.")
    var sybilKeys: String?

    func validate() throws {
        guard (1...1_000_000).contains(windows) else { throw ValidationError("--windows must be in 1…1000000") }
        guard (1...1_000_000).contains(scheduleWindows) else { throw ValidationError("--schedule-windows must be in 1…1000000") }
        if let threads, !(1...256).contains(threads) { throw ValidationError("--threads must be in 1…256") }
        if (adversary == .sybil) != (sybilKeys != nil) { throw ValidationError("--sybil-keys goes with --adversary sybil, and sybil needs it") }
    }

    func run() async throws {
        let client = try NodeClient(node)
        let blobClients = try [client] + (blobNodes ?? "").split(separator: ",").map { try NodeClient(String($0)) }
        let signer = try KeyFiles.readSigningKey(at: key)
        let sybils = try (sybilKeys ?? "").split(separator: ",").map { try KeyFiles.readSigningKey(at: String($0)) }
        if let adversary { say("ADVERSARY: this trainer cheats as `\(adversary.rawValue)` (tests and demonstrations only)") }
        BLASThreads.set(threads ?? ProcessInfo.processInfo.activeProcessorCount)
        let (_, status) = try await retrying("GET /status") { try await client.call("GET", "status") }
        guard let chainHex = status["genesis_hash"] as? String, let chain = try? Digest(hex: chainHex) else {
            throw CLIError("\(node)/status did not report a genesis hash; is it a cairn node?")
        }
        let taskSpec = try JSONDecoder().decode(TrainingTaskSpec.self, from: try await client.raw("GET", "v1/task"))
        let text = try CorpusText(directory: corpus, expected: taskSpec.corpus)
        let task = try ReferenceTask(corpus: text, model: taskSpec.model)
        let statePath = key + ".state"
        var state = try loadState(path: statePath, parameterCount: task.parameterCount)
        say("cairn submit: trainer \(signer.publicKey.short)… on \(chain.short)…; task \(taskSpec.name), \(task.parameterCount) parameters; state \(statePath)")
        var training: LocalTraining?
        var done = 0
        var pending: [(id: String, window: UInt64)] = []
        // A window this key already holds a contribution in (found by a duplicate_contribution).
        var skipThrough: UInt64?
        // `stale`: the model of the window before, to train from.
        var previousModel: (window: UInt64, theta: [Float])?
        while follow || done < windows {
            pending = try await reportScores(pending, client: client)
            let (_, model) = try await retrying("GET /v1/model") { try await client.call("GET", "v1/model") }
            guard let window = (model["window"] as? Int).flatMap(UInt64.init(exactly:)), let blobHex = model["blob"] as? String,
                  let hashHex = model["model_hash"] as? String, let blobID = try? Digest(hex: blobHex), let modelHash = try? Digest(hex: hashHex) else {
                throw CLIError("\(node)/v1/model: \(NodeClient.describe(model))")
            }
            if let last = [state.lastWindow, skipThrough].compactMap({ $0 }).max(), window <= last {
                // One contribution per window: wait for the next one.
                try await Task.sleep(for: .milliseconds(500))
                continue
            }
            let modelBytes = [UInt8](try await client.raw("GET", "v1/blobs/\(blobHex)"))
            guard ModelBlob.hash(modelBytes) == modelHash else { throw CLIError("the model blob \(blobHex) from \(node) does not hash to \(hashHex)") }
            let current = try ModelBlob.decode(modelBytes, task: taskSpec.name, spec: taskSpec.model)
            if adversary == .copycat {
                if let recordID = try await copyContribution(client: client, signer: signer, window: window, compression: CompressionParameters(
                    chunkSize: taskSpec.compression.chunkSize, topK: taskSpec.compression.topK, valueBits: 8, indexBits: 16)) {
                    pending.append((recordID, window))
                    done += 1
                }
                skipThrough = window
                continue
            }
            // `stale` trains from the previous window's model and names that window as its base.
            var theta = current
            var base = window
            if adversary == .stale {
                defer { previousModel = (window, current) }
                guard let previous = previousModel, previous.window &+ 1 == window else {
                    say("window \(window): no model of the window before yet; waiting a window")
                    skipThrough = window
                    continue
                }
                theta = previous.theta
                base = previous.window
            }
            let (_, assignment) = try await retrying("GET /v1/assignment") { try await client.call("GET", "v1/assignment/\(signer.publicKey.hex)?window=\(window)") }
            guard let beaconHex = assignment["beacon"] as? String, let beacon = try? Digest(hex: beaconHex), let contexts = assignment["contexts"] as? Int else {
                throw CLIError("\(node)/v1/assignment: \(NodeClient.describe(assignment))")
            }
            // Train H steps on the shard from the global model; AdamW's moments carry over between windows.
            if training == nil {
                training = LocalTraining(task: task, parameters: theta, batchSize: Int(taskSpec.training.batchSize), weightDecay: Float(taskSpec.training.weightDecay))
            }
            training!.adopt(theta, resetOptimizer: false)
            let h = Int(taskSpec.training.innerSteps), batch = Int(taskSpec.training.batchSize)
            var shard = task.split.shard(beacon: beacon, trainer: signer.publicKey, window: window, count: min(contexts, h * batch))
            if adversary == .lazy {  // any data but its assignment
                shard = task.split.trainingPositions(seed: Hashing.digest(.training, window.canonicalBytes + Array("lazy".utf8)), count: shard.count)
            }
            let schedule = LearningSchedule(peak: Float(taskSpec.training.learningRate), floor: Float(taskSpec.training.learningRateFloor),
                                            warmupSteps: Int(taskSpec.training.warmupSteps), total: scheduleWindows * h)
            let progress = ProgressLine(total: h, unit: "tok/s")
            let start = ContinuousClock.now
            var loss = 0.0
            for step in 0 ..< h {
                let from = step * batch, to = min(shard.count, from + batch)
                guard from < to else { break }
                loss = training!.step(positions: shard[from ..< to], rate: schedule.rate(at: min(Int(window), scheduleWindows) * h + step))
                let seconds = start.duration(to: .now).seconds
                progress.update(done: step + 1, rate: Double((step + 1) * batch) / max(seconds, 1e-9), detail: String(format: "loss %.3f", loss))
            }
            progress.clear()
            guard loss.isFinite else { throw CLIError("training diverged in window \(window) (loss \(loss)); the model or the learning rate is broken") }
            var delta = theta
            for i in delta.indices { delta[i] -= training!.parameters[i] }
            if let adversary { delta = adversary.transform(delta, seed: window) }
            var feedback = state.feedback
            let compressed = feedback.compress(delta, chunkSize: Int(taskSpec.compression.chunkSize), topK: Int(taskSpec.compression.topK))
            // A sybil splits its one compressed Δ across its keys (disjoint chunks), one record each.
            let signers = [signer] + sybils
            let parts = signers.count == 1 ? [compressed] : Adversary.split(compressed, parts: signers.count)
            var blob: [UInt8] = []
            var id = Digest.zero
            let submission = RecordSubmission(client: client, signer: signer)
            do {
                for (partSigner, part) in zip(signers, parts).reversed() {  // the main key last: its outcome drives the loop
                    blob = PseudoGradientBlob.encode(part, topK: Int(taskSpec.compression.topK))
                    id = Hashing.digest(.blob, blob)
                    for target in blobClients {
                        let code = try await retrying("PUT blob") { try await target.put("v1/blobs/\(id.hex)", body: blob) }
                        guard code == 200 || code == 201 else { throw CLIError("\(target.base) refused the blob (HTTP \(code))") }
                    }
                    let record = RecordBody.contribution(Contribution(
                        baseWindow: base, blob: id, blobSize: UInt64(blob.count),
                        compression: CompressionParameters(chunkSize: taskSpec.compression.chunkSize, topK: taskSpec.compression.topK, valueBits: 8, indexBits: 16),
                        assignment: Hashing.digest(.training, beacon.bytes + partSigner.publicKey.bytes)))
                    if partSigner.publicKey == signer.publicKey {
                        try await submission.submit(record, nonce: nil, wait: true, node: node)
                    } else {
                        do {
                            try await RecordSubmission(client: client, signer: partSigner).submit(record, nonce: nil, wait: true, node: node)
                        } catch let error as CLIError {
                            say("sybil key \(partSigner.publicKey.short)…: \(error)")
                        }
                    }
                }
            } catch let error as CLIError where error.description.contains("unknown_trainer") {
                throw CLIError("\(signer.publicKey.short)… is not a registered trainer; run `cairn register --node \(node) --key \(key) --name NAME --wait` first")
            } catch let error as CLIError where error.description.contains("wrong_window") {
                say("window \(window) closed before the contribution landed; training again on the next window")
                continue
            } catch let error as CLIError where error.description.contains("duplicate_contribution") {
                // The previous contribution landed late, in the window this one was for (one per
                // trainer per window, D51): keep the residual and train on the next window.
                say("this key already has a contribution in window \(window); training again on the next window")
                skipThrough = window
                continue
            }
            // The residual moves on only once the contribution is in: a rejected one is not lost.
            state = TrainerState(lastWindow: window, feedback: feedback)
            try Data(state.encode()).write(to: URL(fileURLWithPath: statePath), options: .atomic)
            say(String(format: "window %llu  loss %.4f  blob %@ (%d bytes)  %@", window, loss, id.short, blob.count,
                       ProgressLine.clock(start.duration(to: .now).seconds)))
            if let recordID = submission.lastID { pending.append((recordID, window)) }
            done += 1
        }
        // A contribution is judged at the close of the window after the one it landed in.
        let deadline = ContinuousClock.now + .seconds(Int64(max(60, 4 * (try await windowSeconds(client)))))
        while !noWaitScore, !pending.isEmpty, ContinuousClock.now < deadline {
            try await Task.sleep(for: .seconds(1))
            pending = try await reportScores(pending, client: client)
        }
        for entry in pending where !noWaitScore { say("contribution \(entry.id.prefix(8)) (window \(entry.window)): not finalized yet; see GET /v1/windows/\(entry.window) later") }
    }

    func windowSeconds(_ client: NodeClient) async throws -> Int {
        let (_, model) = try await client.call("GET", "v1/model")
        return ((model["window_ms"] as? Int) ?? 30_000) / 1000
    }

    /// Prints the outcome of every pending contribution that has one; returns those still waiting.
    /// `copycat`: waits (up to half a window) for another trainer's contribution to land in
    /// `window`, then submits a contribution naming the same blob. The node already holds the blob
    /// (it voted for the vertex that carried the original). Returns the record id, or nil.
    func copyContribution(client: NodeClient, signer: SigningKey, window: UInt64, compression: CompressionParameters) async throws -> String? {
        let deadline = ContinuousClock.now + .seconds(Int64(max(2, try await windowSeconds(client) / 2)))
        while ContinuousClock.now < deadline {
            let (code, reply) = try await client.call("GET", "v1/windows/\(window)")
            let others = (code == 200 ? reply["contributions"] as? [[String: Any]] : nil)?.filter { $0["author"] as? String != signer.publicKey.hex } ?? []
            if let original = others.last, let blobHex = original["blob"] as? String, let blob = try? Digest(hex: blobHex),
               let size = original["blob_size"] as? Int, let base = original["base_window"] as? Int {
                let submission = RecordSubmission(client: client, signer: signer)
                let record = RecordBody.contribution(Contribution(
                    baseWindow: UInt64(base), blob: blob, blobSize: UInt64(size),
                    compression: compression, assignment: .zero))
                do {
                    try await submission.submit(record, nonce: nil, wait: true, node: node)
                    say("window \(window): copied \(String((original["author"] as? String ?? "").prefix(8)))…'s blob \(blob.short)…")
                    return submission.lastID
                } catch let error as CLIError {
                    say("window \(window): the copy was refused: \(error)")
                    return nil
                }
            }
            try await Task.sleep(for: .seconds(1))
        }
        say("window \(window): no other contribution to copy yet")
        return nil
    }

    func reportScores(_ pending: [(id: String, window: UInt64)], client: NodeClient) async throws -> [(id: String, window: UInt64)] {
        var waiting: [(id: String, window: UInt64)] = []
        for entry in pending {
            var outcome: [String: Any]?
            // A window number comes from the node: 2^64 − 1 must not trap here.
            for window in [entry.window, entry.window &+ 1] {
                let (code, reply) = try await client.call("GET", "v1/windows/\(window)")
                guard code == 200, let list = reply["contributions"] as? [[String: Any]],
                      let mine = list.first(where: { $0["id"] as? String == entry.id }) else { continue }
                outcome = mine["outcome"] as? [String: Any]
            }
            guard let outcome else { waiting.append(entry); continue }
            let members = (outcome["members"] as? [Int]) ?? []
            if let score = outcome["score_ppb"] as? Int {
                say(String(format: "contribution %@ (window %llu): accepted score %+.6f (relative loss improvement), indicator %+d, quorum of %d",
                           String(entry.id.prefix(8)), entry.window, Double(score) / 1e9, outcome["indicator"] as? Int ?? 0, members.count))
            } else {
                say("contribution \(entry.id.prefix(8)) (window \(entry.window)): no score (\(outcome["no_score"] as? String ?? "?"))")
            }
            if let original = outcome["copycat_of"] as? String {
                say("contribution \(entry.id.prefix(8)) (window \(entry.window)): marked a copycat of \(original.prefix(8)) (its kept indices overlap an earlier contribution's); left out of the model update")
            }
        }
        return waiting
    }

    func loadState(path: String, parameterCount: Int) throws -> TrainerState {
        guard let data = FileManager.default.contents(atPath: path) else {
            return TrainerState(lastWindow: nil, feedback: ErrorFeedback(parameterCount: parameterCount))
        }
        do {
            return try TrainerState.decode([UInt8](data), parameterCount: parameterCount)
        } catch {
            throw CLIError("\(path): \(error); it belongs to another task or is damaged — move it away to start with empty error feedback")
        }
    }

    /// Retries `body` on errors reaching the node, with backoff (0.5 s doubling to 8 s, 6 tries).
    func retrying<T>(_ what: String, _ body: () async throws -> T) async throws -> T {
        var delay = Duration.milliseconds(500)
        for attempt in 1 ... 6 {
            do {
                return try await body()
            } catch let error as CLIError where error.description.contains("cannot reach") && attempt < 6 {
                say("\(what): \(error.description); retrying in \(delay)")
                try await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(8))
            }
        }
        return try await body()
    }
}

extension NodeClient {
    /// The body of `method path` as bytes; a non-2xx answer is an error with the node's reason.
    func raw(_ method: String, _ path: String) async throws -> Data {
        var request = URLRequest(url: url(path))
        request.httpMethod = method
        let (data, response): (Data, URLResponse)
        do {
            (data, response) = try await URLSession.shared.data(for: request)
        } catch {
            throw CLIError("cannot reach \(base): \(error.localizedDescription); is `cairn node` running there?")
        }
        let code = (response as? HTTPURLResponse)?.statusCode ?? 0
        guard (200 ..< 300).contains(code) else {
            let object = (try? JSONSerialization.jsonObject(with: data) as? [String: Any]) ?? [:]
            throw CLIError("\(method) \(path) on \(base): HTTP \(code) \(NodeClient.describe(object))")
        }
        return data
    }

    /// PUT `body` as octets; returns the HTTP status.
    func put(_ path: String, body: [UInt8]) async throws -> Int {
        var request = URLRequest(url: base.appendingPathComponent(path))
        request.httpMethod = "PUT"
        request.httpBody = Data(body)
        request.setValue("application/octet-stream", forHTTPHeaderField: "Content-Type")
        do {
            let (_, response) = try await URLSession.shared.data(for: request)
            return (response as? HTTPURLResponse)?.statusCode ?? 0
        } catch {
            throw CLIError("cannot reach \(base): \(error.localizedDescription); is `cairn node` running there?")
        }
    }
}
