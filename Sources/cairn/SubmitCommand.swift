import ArgumentParser
import CairnAPI
import CairnCore
import CairnCrypto
import CairnLedger
import CairnTraining
import Foundation
import Synchronization
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

struct SubmitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "submit",
        abstract: "Train on your assignment and submit pseudo-gradients, one per window.",
        discussion: """
            Each window: fetches the task, the current model and this trainer's assignment from \
            --node, trains on the assigned shard — from the model the ledger will reach once it applies the \
            window before's Δs, predicted from trusted trainers' Δs while training runs (--eager, \
            D60, D67, D68) — from the moment the model is \
            known until the \
            window's submission deadline (its close less --margin-ms, leaving time to upload and \
            commit), up to genesis max_inner_steps, at genesis's inner schedule (a progress bar on a \
            terminal, plain lines otherwise), reports the steps taken and the utilization (training \
            seconds ÷ window seconds), compresses Δ = θ − θ_local with error feedback \
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

    @Option(help: "Other validators' API URLs to upload each blob to as well, comma-separated. Optional: validators fetch a blob named by a vertex from each other (D50); uploading to several makes it available sooner.")
    var blobNodes: String?

    @Option(help: "Contribute to this many windows, then stop.")
    var windows = 1

    @Flag(help: "Keep contributing, window after window, until interrupted.")
    var follow = false

    @Option(help: "Corpus directory (must hash to genesis task.corpus).")
    var corpus = CorpusFiles.defaultDirectory

    @Option(help: "Stop training this many milliseconds before the window closes, to upload and commit (default: a sixth of the window, at least 4000).")
    var marginMs: Int?

    @Option(help: "OpenBLAS threads for training (default: every core).")
    var threads: Int?

    @Flag(help: "Do not wait, after the last window, for the accepted scores of the contributions made.")
    var noWaitScore = false

    @Option(help: "Where each window's training starts (D67, D68): all (the model less the step the window before's Δs of trusted trainers will make, predicted while training runs; the default), own (less this trainer's own pending Δ only) or none.")
    var eager: EagerStart = .all

    @Option(help: "For tests and demonstrations only: cheat as MODE (\(Adversary.allCases.map(\.rawValue).joined(separator: ", "))); README says what each does.")
    var adversary: Adversary?

    @Option(help: "With --adversary sybil (required), inflate or spam: the other registered key files that act with this key, comma-separated.")
    var sybilKeys: String?

    func validate() throws {
        guard (1...1_000_000).contains(windows) else { throw ValidationError("--windows must be in 1…1000000") }
        if let marginMs, !(0...3_600_000).contains(marginMs) { throw ValidationError("--margin-ms must be in 0…3600000") }
        if let threads, !(1...256).contains(threads) { throw ValidationError("--threads must be in 1…256") }
        if adversary == .sybil, sybilKeys == nil { throw ValidationError("--adversary sybil needs --sybil-keys") }
        if sybilKeys != nil, !(adversary?.takesExtraKeys ?? false) { throw ValidationError("--sybil-keys goes with --adversary sybil, inflate or spam") }
    }

    /// What one window's attempt came to.
    enum Attempt {
        /// Contributions submitted (record ids), and what to say about them.
        case submitted([String], String)
        /// Nothing submitted this window, and why; the next window is tried.
        case skipped(String)
    }

    /// Everything a window's attempt needs that does not change between windows.
    struct Session {
        let client: NodeClient
        let blobClients: [NodeClient]
        let signer: SigningKey
        let extraKeys: [SigningKey]
        let chain: Digest
        let taskSpec: TrainingTaskSpec
        let task: ReferenceTask
        var compression: CompressionParameters {
            CompressionParameters(chunkSize: taskSpec.compression.chunkSize, topK: taskSpec.compression.topK, valueBits: 8, indexBits: 16)
        }
    }

    /// The node, its chain and genesis task (checked: the reply is untrusted), the corpus checked
    /// against it, and the keys.
    func openSession() async throws -> Session {
        let client = try NodeClient(node)
        let blobClients = try [client] + (blobNodes ?? "").split(separator: ",").map { try NodeClient(String($0)) }
        let signer = try KeyFiles.readSigningKey(at: key)
        let extraKeys = try (sybilKeys ?? "").split(separator: ",").map { try KeyFiles.readSigningKey(at: String($0)) }
        let status = try await retrying("GET /status") { try await client.get("status", as: StatusReply.self) }
        guard let chain = try? Digest(hex: status.genesisHash) else {
            throw CLIError("\(node)/status did not report a genesis hash; is it a cairn node?")
        }
        let taskSpec = try JSONDecoder().decode(TrainingTaskSpec.self, from: try await client.raw("GET", "v1/task"))
        // The node's reply is untrusted: a task genesis would refuse (a batch of 0, a shard past
        // 2^24 contexts) must not reach the arithmetic below.
        let problems = taskSpec.problems()
        guard problems.isEmpty else { throw CLIError("\(node)/v1/task is not a valid genesis task: \(problems.joined(separator: "; "))") }
        let text = try CorpusText(directory: corpus, expected: taskSpec.corpus)
        let task = try ReferenceTask(corpus: text, model: taskSpec.model)
        return Session(client: client, blobClients: blobClients, signer: signer, extraKeys: extraKeys, chain: chain,
                       taskSpec: taskSpec, task: task)
    }

    func run() async throws {
        if let adversary { say("ADVERSARY: this trainer cheats as `\(adversary.rawValue)` (tests and demonstrations only)") }
        BLASThreads.set(threads ?? ProcessInfo.processInfo.activeProcessorCount)
        let session = try await openSession()
        let (client, signer, chain, taskSpec, task) = (session.client, session.signer, session.chain, session.taskSpec, session.task)
        let statePath = key + ".state"
        var state = try loadState(path: statePath, parameterCount: task.parameterCount)
        say("cairn submit: trainer \(signer.publicKey.short)… on \(chain.short)…; task \(taskSpec.name), \(task.parameterCount) parameters; state \(statePath)")
        var training: LocalTraining?
        var done = 0
        var pending: [(id: String, window: UInt64)] = []
        // The last window tried (submitted to, or given up on): one attempt per window.
        var tried: UInt64?
        // `stale`: the model of the window before, to train from.
        var previousModel: (window: UInt64, theta: [Float])?
        // The Δ submitted last window: not in this window's model yet (the ledger applies window
        // k's Δs to window k+2's model), so training starts from the model minus it (D60, eager).
        var lastSent: (window: UInt64, delta: PseudoGradient)?
        while follow || done < windows {
            pending = try await reportScores(pending, client: client)
            let model = try await retrying("GET /v1/model") { try await client.get("v1/model", as: ModelReply.self) }
            let (window, blobHex) = (model.window, model.blob)
            guard let modelHash = try? Digest(hex: model.modelHash) else {
                throw CLIError("\(node)/v1/model names no valid model hash (\(model.modelHash.prefix(80)))")
            }
            let clock = WindowClock(model: model, marginMs: marginMs)
            if let last = [state.lastWindow, tried].compactMap({ $0 }).max(), window <= last {
                try await Task.sleep(for: .milliseconds(500))  // one contribution per window: wait for the next
                continue
            }
            tried = window
            // A model that does not decode (a non-finite or damaged one) is reported, not crashed on:
            // the network skips steps that would produce one (D59), so wait for the next window's.
            let current: [Float]
            do {
                let modelBytes = [UInt8](try await client.raw("GET", "v1/blobs/\(blobHex)"))
                guard ModelBlob.hash(modelBytes) == modelHash else { throw CLIError("the model blob \(blobHex) does not hash to \(model.modelHash)") }
                current = try ModelBlob.decode(modelBytes, task: taskSpec.name, spec: taskSpec.model)
            } catch {
                say("window \(window): the model \(model.modelHash.prefix(12))… cannot be used (\(error)); waiting for the next finite model")
                continue
            }
            defer { previousModel = (window, current) }
            var attempt: Attempt
            do {
                if let copied = try await attemptWithoutTraining(session, window: window) {
                    attempt = copied
                } else {
                    var base = window
                    var theta = current
                    if adversary == .stale {  // trains from the previous window's model and names it
                        guard let previous = previousModel, previous.window &+ 1 == window else {
                            say("window \(window): no model of the window before yet; waiting a window")
                            continue
                        }
                        (theta, base) = (previous.theta, previous.window)
                    }
                    if training == nil {
                        training = LocalTraining(task: task, parameters: theta, batchSize: Int(taskSpec.training.batchSize),
                                                 weightDecay: Float(taskSpec.training.weightDecay))
                    }
                    var feedback = state.feedback
                    attempt = try await trainAndSubmit(session, window: window, base: base, theta: theta, clock: clock, training: &training!,
                                                       feedback: &feedback, pending: &lastSent)
                    if case .submitted = attempt {
                        // The residual moves on only once the contribution is in: a rejected one is not lost.
                        state = TrainerState(lastWindow: window, feedback: feedback)
                        try Data(state.encode()).write(to: URL(fileURLWithPath: statePath), options: .atomic)
                    }
                }
            } catch {
                attempt = try skipping(error, signer: signer)
            }
            switch attempt {
            case let .submitted(ids, line):
                say(line)
                pending += ids.map { ($0, window) }
                done += 1
            case let .skipped(reason):
                say("window \(window): nothing submitted (\(reason)); trying again in the next window")
            }
        }
        // A contribution is judged at the close of the window after the one it landed in.
        let deadline = ContinuousClock.now + .seconds(Int64(max(60, 4 * (try await windowSeconds(client)))))
        while !noWaitScore, !pending.isEmpty, ContinuousClock.now < deadline {
            try await Task.sleep(for: .seconds(1))
            pending = try await reportScores(pending, client: client)
        }
        for entry in pending where !noWaitScore { say("contribution \(entry.id.prefix(8)) (window \(entry.window)): not finalized yet; see GET /v1/windows/\(entry.window) later") }
    }

    /// The attempts of the adversaries that do not train (`copycat`, `replay`, `spam`); nil for
    /// everyone else.
    func attemptWithoutTraining(_ session: Session, window: UInt64) async throws -> Attempt? {
        switch adversary {
        case .copycat?:
            return try await submitCopy(session, from: window, base: window)
        case .replay?:
            return window > 0 ? try await submitCopy(session, from: window - 1, base: window) : .skipped("no previous window to replay yet")
        case .spam?:
            return try await submitSpam(session, window: window)
        default:
            return nil
        }
    }

    /// What a failed attempt means, by the node's codes: an unregistered trainer ends the run with
    /// the fix; a window that closed or filled before the record landed, a duplicate, an upload
    /// refused for now (quota, disk) skip to the next window, nothing lost. An adversary's refusals
    /// are its expected fate, never the end of its run. Anything else is rethrown.
    func skipping(_ error: any Error, signer: SigningKey) throws -> Attempt {
        let unregistered = (error as? RecordRejected)?.reason == Rejection.Reason.unknownTrainer.rawValue
            || (error as? APIError)?.code == .notRegistered
        if unregistered {
            throw CLIError("\(signer.publicKey.short)… is not a registered trainer; run `cairn register --node \(node) --key \(key) --name NAME --wait` first")
        }
        switch error {
        case let rejected as RecordRejected where Self.nextWindowRejections.contains(rejected.reason) || adversary != nil:
            return .skipped(rejected.description)
        case let refused as APIError where Self.nextWindowRefusals.contains(refused.code) || adversary != nil:
            return .skipped(refused.description)
        case let failure as CLIError where adversary != nil:
            return .skipped(failure.description)
        default:
            throw error
        }
    }

    /// Ledger rejections (their codes) after which the next window is simply tried (D51, D59).
    static let nextWindowRejections = Set([Rejection.Reason.wrongWindow, .windowFull, .duplicateContribution, .duplicateBlob, .insufficientBalance].map(\.rawValue))
    /// Upload refusals after which the next window is simply tried.
    static let nextWindowRefusals: Set<APIErrorCode> = [.quotaExceeded, .insufficientStorage]

    /// Trains from `theta` on this trainer's assignment for `window` until the clock's deadline
    /// (at most genesis `max_inner_steps`), compresses Δ with error feedback, applies the
    /// adversary's change if any, uploads and submits it (split across the extra keys for sybil and
    /// inflate), naming the steps taken.
    func trainAndSubmit(_ session: Session, window: UInt64, base: UInt64, theta: [Float], clock: WindowClock, training: inout LocalTraining,
                        feedback: inout ErrorFeedback, pending: inout (window: UInt64, delta: PseudoGradient)?) async throws -> Attempt {
        let (client, taskSpec, task, signer) = (session.client, session.taskSpec, session.task, session.signer)
        let assignment = try await retrying("GET /v1/assignment") {
            try await client.get("v1/assignment/\(signer.publicKey.hex)?window=\(window)", as: AssignmentReply.self)
        }
        guard let beacon = try? Digest(hex: assignment.beacon) else {
            throw CLIError("\(node)/v1/assignment names no valid beacon (\(assignment.beacon.prefix(80)))")
        }
        let contexts = assignment.contexts
        // Train until the deadline on the shard, from the global model less the step the ledger
        // has not applied yet (--eager, D60, D67); AdamW's moments carry over between windows.
        // Training starts at once from θ less its own pending Δ. With `--eager all` the predicted
        // step of trusted peers' Δs is fetched meanwhile — at a window's start validators are
        // busy evaluating, and it took 3–12 s on a loaded localnet — and the model in training is
        // moved onto it when it arrives, keeping the steps already made.
        var (origin, start) = base == window ? ownOrigin(session, window: window, theta: theta, own: pending) : (theta, "the model")
        let prediction = PredictionBox()
        let predicting = base == window && window > 0 && eager == .all
            ? Task { [prediction] in await prediction.fill { try await predictedModel(session, window: window, theta: theta) } } : nil
        defer { predicting?.cancel() }
        training.adopt(origin, resetOptimizer: false)
        let maximum = Int(taskSpec.training.maxInnerSteps), batch = Int(taskSpec.training.batchSize)
        var shard = task.split.shard(beacon: beacon, trainer: signer.publicKey, window: window, count: min(contexts, maximum * batch))
        if adversary == .lazy {  // any data but its assignment
            shard = task.split.trainingPositions(seed: Hashing.digest(.training, window.canonicalBytes + Array("lazy".utf8)), count: shard.count)
        }
        guard shard.count >= batch else {
            return .skipped("the assignment has \(shard.count) contexts, fewer than one batch of \(batch)")
        }
        let schedule = InnerSchedule(taskSpec.training)
        // `overclaim` trains a tenth of the steps it has time for and claims the maximum.
        let budget = adversary == .overclaim ? max(1, clock.remainingSeconds / 10) : clock.remainingSeconds
        let progress = ProgressLine(total: shard.count / batch, unit: "tok/s")
        let began = ContinuousClock.now
        var loss = 0.0, steps = 0
        // At least one step, so a trainer that got the model late still contributes.
        while steps * batch + batch <= shard.count, steps == 0 || began.duration(to: .now).seconds < budget {
            if let outcome = prediction.take() {
                switch outcome {
                case let .success((predicted, count, seconds)):
                    training.rebase(from: origin, to: predicted)
                    origin = predicted
                    start = String(format: "the model less the pending step of %d Δ(s) (predicted in %.2f s, from step %d)", count, seconds, steps)
                case let .failure(reason):
                    say("window \(window): cannot predict the pending step from window \(window - 1)'s Δs (\(reason)); \(start) instead")
                }
            }
            loss = training.step(positions: shard[(steps * batch) ..< (steps * batch + batch)],
                                 rate: schedule.rate(window: window, optimizerStep: training.optimizer.step))
            steps += 1
            let seconds = began.duration(to: .now).seconds
            progress.update(done: steps, rate: Double(steps * batch) / max(seconds, 1e-9), detail: String(format: "loss %.3f", loss))
        }
        progress.clear()
        let trainingSeconds = began.duration(to: .now).seconds
        let claimed = adversary == .overclaim ? shard.count / batch : steps
        guard loss.isFinite else {
            // Reported, not crashed on (D59): the local optimizer state is reset with the next model.
            training = LocalTraining(task: task, parameters: theta, batchSize: batch, weightDecay: Float(taskSpec.training.weightDecay))
            return .skipped("training diverged from the window's model (loss \(loss)); waiting for the next finite model")
        }
        var delta = origin
        for i in delta.indices { delta[i] -= training.parameters[i] }
        if let adversary { delta = adversary.transform(delta, seed: window) }
        var compressed: PseudoGradient
        if adversary == .freeride, window > 0, let published = try await publishedDeltas(session, window: window - 1) {
            (compressed, delta) = freeride(own: delta, published: published, feedback: feedback, taskSpec: taskSpec)
            _ = feedback.compress(delta, chunkSize: Int(taskSpec.compression.chunkSize), topK: Int(taskSpec.compression.topK),
                                  decay: Float(taskSpec.training.feedbackDecay))
        } else {
            compressed = feedback.compress(delta, chunkSize: Int(taskSpec.compression.chunkSize), topK: Int(taskSpec.compression.topK),
                                           decay: Float(taskSpec.training.feedbackDecay))
        }
        if adversary == .inflate { compressed = Adversary.inflate(compressed) }
        // A sybil (or an inflating majority) splits its one compressed Δ across its keys, one record each.
        let signers = [signer] + session.extraKeys
        let parts = signers.count == 1 ? [compressed] : Adversary.split(compressed, parts: signers.count)
        var ids: [String] = []
        var bytes = 0
        for (partSigner, part) in zip(signers, parts).reversed() {  // the main key last: its outcome drives the loop
            let blob = PseudoGradientBlob.encode(part, topK: Int(taskSpec.compression.topK))
            bytes += blob.count
            do {
                if let id = try await submitBlob(session, blob: blob, signer: partSigner, base: base, beacon: beacon, steps: claimed) { ids.append(id) }
            } catch let error as CLIError where partSigner.publicKey != signer.publicKey {
                say("extra key \(partSigner.publicKey.short)…: \(error)")
            }
        }
        // Parsed by tools/localnet for summary.json: keep "steps N" and "utilization U".
        if !ids.isEmpty { pending = (window, compressed) }
        return .submitted(ids, String(format: "window %llu  steps %d  utilization %.3f (%.1f s of a %.0f s window)  loss %.4f  %d contribution(s), %d bytes  %@  from %@",
                                      window, steps, trainingSeconds / clock.windowSeconds, trainingSeconds, clock.windowSeconds, loss, ids.count, bytes,
                                      ProgressLine.clock(began.duration(to: .now).seconds), start))
    }

    /// Uploads `blob` (signed by `signer`) to every blob node and submits the contribution naming
    /// it from `signer`; the record id once committed.
    func submitBlob(_ session: Session, blob: [UInt8], signer: SigningKey, base: UInt64, beacon: Digest, steps: Int = 1) async throws -> String? {
        let id = Hashing.digest(.blob, blob)
        for target in session.blobClients {
            try await upload(blob, id: id, to: target, signer: signer, chain: session.chain)
        }
        let record = RecordBody.contribution(Contribution(baseWindow: base, blob: id, blobSize: UInt64(blob.count), compression: session.compression,
                                                          assignment: Hashing.digest(.training, beacon.bytes + signer.publicKey.bytes),
                                                          innerSteps: UInt32(clamping: steps)))
        let submission = RecordSubmission(client: session.client, signer: signer)
        try await submission.submit(record, nonce: nil, wait: true, node: node)
        return submission.lastID
    }

    /// Uploads `blob` to `target` signed by `signer` (the key that will name it), with retries on
    /// connection errors; a refusal is an error with the node's reason.
    func upload(_ blob: [UInt8], id: Digest, to target: NodeClient, signer: SigningKey, chain: Digest) async throws {
        do {
            _ = try await retrying("PUT blob") { try await target.putBlob(blob, id: id, signer: signer, chain: chain) }
        } catch var refusal as APIError {
            refusal.detail = "\(target.base) refused the blob (HTTP \(refusal.status)): \(refusal.detail)"
            throw refusal
        }
    }

    func windowSeconds(_ client: NodeClient) async throws -> Int {
        Int(clamping: try await client.get("v1/model", as: ModelReply.self).windowMs / 1000)
    }

    /// `copycat` (another trainer's contribution of this window) and `replay` (of the previous
    /// window): waits up to half a window for one to copy, then uploads it re-valued under this
    /// key and submits it with base window `base`.
    func submitCopy(_ session: Session, from source: UInt64, base: UInt64) async throws -> Attempt {
        let deadline = ContinuousClock.now + .seconds(Int64(max(2, try await windowSeconds(session.client) / 2)))
        while ContinuousClock.now < deadline {
            if let original = try await otherContributions(session, window: source).last {
                let (bytes, gradient) = try await fetchDelta(session, blob: original.blob)
                let copy = PseudoGradientBlob.encode(Adversary.revalue(gradient), topK: Int(session.taskSpec.compression.topK))
                let beacon = try await assignmentBeacon(session, window: base)
                guard let id = try await submitBlob(session, blob: copy, signer: session.signer, base: base, beacon: beacon) else {
                    return .skipped("the copy was not committed")
                }
                return .submitted([id], "window \(base): copied \(original.author.prefix(8))…'s contribution of window \(source) (\(bytes.count) bytes, re-valued)")
            }
            try await Task.sleep(for: .seconds(1))
        }
        return .skipped("no other contribution of window \(source) to copy")
    }

    /// `spam`: a random Δ (norm 1, no training) from this key and each extra key, every window.
    func submitSpam(_ session: Session, window: UInt64) async throws -> Attempt {
        let beacon = try await assignmentBeacon(session, window: window)
        var ids: [String] = []
        var refused: [String] = []
        for (n, signer) in ([session.signer] + session.extraKeys).enumerated() {
            let dense = Adversary.randomDelta(count: session.task.parameterCount, norm: 1, seed: window &* 1_000 &+ UInt64(n))
            let gradient = PseudoGradient.compress(dense, chunkSize: Int(session.taskSpec.compression.chunkSize), topK: Int(session.taskSpec.compression.topK))
            do {
                if let id = try await submitBlob(session, blob: PseudoGradientBlob.encode(gradient, topK: Int(session.taskSpec.compression.topK)),
                                                 signer: signer, base: window, beacon: beacon) { ids.append(id) }
            } catch let error as CLIError {
                refused.append("\(signer.publicKey.short)…: \(error)")
            }
        }
        if ids.isEmpty { return .skipped(refused.joined(separator: "; ")) }
        return .submitted(ids, "window \(window): \(ids.count) random contribution(s) submitted" + (refused.isEmpty ? "" : ", \(refused.count) refused (\(refused.joined(separator: "; ")))"))
    }

    /// `freeride`: the other trainers' contributions of `window`, decoded (nil when there are none).
    func publishedDeltas(_ session: Session, window: UInt64) async throws -> [PseudoGradient]? {
        let others = try await otherContributions(session, window: window)
        guard !others.isEmpty else { return nil }
        var deltas: [PseudoGradient] = []
        for other in others { deltas.append(try await fetchDelta(session, blob: other.blob).1) }
        return deltas
    }

    /// `freeride`: own Δ + λ · mean(published Δs), with the largest λ in 1, ½, ¼, ⅛ whose compressed
    /// result overlaps every published Δ's kept indices by less than 85% — the cheapest way past a
    /// copycat rule at 90%, which a trainer can check before it submits. Returns the compressed Δ
    /// and the dense one it came from (for the error feedback).
    func freeride(own: [Float], published: [PseudoGradient], feedback: ErrorFeedback, taskSpec: TrainingTaskSpec) -> (PseudoGradient, [Float]) {
        var mean = [Float](repeating: 0, count: own.count)
        for delta in published { delta.forEachEntry { index, value in mean[index] += value / Float(published.count) } }
        var best: (PseudoGradient, [Float])?
        for lambda: Float in [1, 0.5, 0.25, 0.125] {
            let dense = zip(own, mean).map { $0 + lambda * $1 }
            var trial = feedback
            let compressed = trial.compress(dense, chunkSize: Int(taskSpec.compression.chunkSize), topK: Int(taskSpec.compression.topK),
                                            decay: Float(taskSpec.training.feedbackDecay))
            best = (compressed, dense)
            let overlap = published.map { Copycats.overlap(compressed, $0) }.max() ?? 0
            if overlap < 0.85 {
                say(String(format: "freeride: adding %.3f × the mean of %d published Δs (largest overlap %.2f)", lambda, published.count, overlap))
                break
            }
        }
        return best!
    }

    /// Where window `window`'s training starts before any prediction (D67): θ less this trainer's
    /// own pending Δ (`--eager own`, and `all` until its prediction arrives), or θ itself (`none`,
    /// or nothing pending). Returns it with a few words on where it is, for the window's line.
    func ownOrigin(_ session: Session, window: UInt64, theta: [Float], own: (window: UInt64, delta: PseudoGradient)?) -> ([Float], String) {
        guard eager != .none, let own, own.window &+ 1 == window else { return (theta, "the model") }
        let rate = Float(session.taskSpec.training.outerLearningRate)
        return (PendingStep.own(global: theta, pending: own.delta, rate: rate), "the model less its own pending Δ")
    }

    /// θ_{window+1} as the ledger would compute it (`PendingStep`) if it accepted window − 1's
    /// contributions trained from that window's model by this trainer and by the trainers the
    /// ledger accepted in window − 2 — the latest judged window when window `window`'s model is
    /// known — weighted by those accepted scores; and how many it used. Δs not yet judged are
    /// untrusted: predicting from every published Δ, unweighted, an adversarial localnet rose 5.2%
    /// in one window, with this filter 0.36% (D67).
    func predictedModel(_ session: Session, window: UInt64, theta: [Float]) async throws -> ([Float], Int) {
        guard let current = try await windowReply(session.client, window), let previous = try await windowReply(session.client, window - 1) else {
            throw CLIError("GET /v1/windows/\(window - 1) or /\(window) refused")
        }
        // Accepted scores of the latest judged window, by author: who is trusted, and the weight
        // its Δ gets (the ledger weights by score; this window's are not known yet).
        var scores: [String: Int64] = [:]
        if window >= 2, let judged = try await windowReply(session.client, window - 2) { scores = judged.trustedScores() }
        let me = session.signer.publicKey.hex
        // Its own Δ is always in, at its own last score or, without one, the median of the others'.
        let known = scores.values.sorted()
        let ownWeight = scores[me] ?? (known.isEmpty ? 1 : known[(known.count - 1) / 2])
        // The ledger applies the first `max_aggregated` by id; only those blobs are fetched, so a
        // hostile node's endless list costs ids, not downloads.
        var chosen: [(id: Digest, blob: String, weight: Int64)] = []
        for contribution in previous.contributions where contribution.baseWindow == window - 1 {
            guard let weight = contribution.author == me ? ownWeight : scores[contribution.author] else { continue }
            guard let id = try? Digest(hex: contribution.id) else { throw CLIError("contribution id \(contribution.id.prefix(80)) is not a digest") }
            chosen.append((id, contribution.blob, weight))
        }
        chosen.sort { $0.id.bytes.lexicographicallyPrecedes($1.id.bytes) }
        var pending: [Aggregation.Contribution] = []
        for entry in chosen.prefix(Int(max(1, session.taskSpec.training.maxAggregated))) {
            pending.append(Aggregation.Contribution(id: entry.id, delta: try await fetchDelta(session, blob: entry.blob).1, weight: entry.weight))
        }
        guard !pending.isEmpty else { throw CLIError("window \(window - 1) has no contribution of a trusted trainer") }
        let clipNorm = current.clipNorm.flatMap { $0.isFinite && $0 > 0 ? $0 : nil }
        return (PendingStep.predict(global: theta, clipNorm: clipNorm, pending: pending, training: session.taskSpec.training), pending.count)
    }

    /// Contributions of `window` by other trainers, in the node's order.
    func otherContributions(_ session: Session, window: UInt64) async throws -> [(author: String, blob: String)] {
        let list = try await windowReply(session.client, window)?.contributions ?? []
        return list.filter { $0.author != session.signer.publicKey.hex }.map { ($0.author, $0.blob) }
    }

    /// A contribution's blob from the node, decoded.
    func fetchDelta(_ session: Session, blob: String) async throws -> ([UInt8], PseudoGradient) {
        let bytes = [UInt8](try await session.client.raw("GET", "v1/blobs/\(blob)"))
        do {
            return (bytes, try PseudoGradientBlob.decode(bytes, task: session.taskSpec))
        } catch {
            throw CLIError("blob \(blob.prefix(12))… does not decode: \(error)")
        }
    }

    func assignmentBeacon(_ session: Session, window: UInt64) async throws -> Digest {
        let assignment = try await session.client.get("v1/assignment/\(session.signer.publicKey.hex)?window=\(window)", as: AssignmentReply.self)
        guard let beacon = try? Digest(hex: assignment.beacon) else {
            throw CLIError("\(node)/v1/assignment names no valid beacon (\(assignment.beacon.prefix(80)))")
        }
        return beacon
    }

    /// Prints the outcome of every pending contribution that has one; returns those still waiting.
    func reportScores(_ pending: [(id: String, window: UInt64)], client: NodeClient) async throws -> [(id: String, window: UInt64)] {
        var waiting: [(id: String, window: UInt64)] = []
        for entry in pending {
            var outcome: OutcomeReply?
            // A window number comes from the node: 2^64 − 1 must not trap here.
            for window in [entry.window, entry.window &+ 1] {
                guard let mine = try await windowReply(client, window)?.contributions.first(where: { $0.id == entry.id }) else { continue }
                outcome = mine.outcome
            }
            guard let outcome else { waiting.append(entry); continue }
            if let score = outcome.scorePpb {
                say(String(format: "contribution %@ (window %llu): accepted score %+.6f (relative loss improvement), indicator %+d, quorum of %d",
                           String(entry.id.prefix(8)), entry.window, Double(score) / 1e9, outcome.indicator, outcome.members.count))
            } else {
                say("contribution \(entry.id.prefix(8)) (window \(entry.window)): no score (\(outcome.noScore ?? "?"))")
            }
            if let original = outcome.copycatOf {
                say("contribution \(entry.id.prefix(8)) (window \(entry.window)): marked a copycat of \(original.prefix(8)) (its kept indices overlap an earlier contribution's); left out of the model update")
            }
        }
        return waiting
    }

    /// Window `window` as the node reports it; nil when the node has nothing for it yet
    /// (`not_open`) or refuses the number.
    func windowReply(_ client: NodeClient, _ window: UInt64) async throws -> WindowReply? {
        do {
            return try await client.get("v1/windows/\(window)", as: WindowReply.self)
        } catch is APIError {
            return nil
        }
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
            } catch let error as NodeUnreachable where attempt < 6 {
                say("\(what): \(error.description); retrying in \(delay)")
                try await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(8))
            }
        }
        return try await body()
    }
}

/// When a window's training must stop (D60): the window's close in consensus time (the node's
/// `window_opened_at_ms` + `window_ms`, Unix milliseconds) less a margin to upload and commit.
struct WindowClock {
    let windowSeconds: Double
    let deadline: Double

    init(model: ModelReply, marginMs: Int?) {
        let windowMs = max(1, Int(clamping: model.windowMs))
        let opened = Int(clamping: model.windowOpenedAtMs)
        let margin = marginMs ?? max(4_000, windowMs / 6)
        windowSeconds = Double(windowMs) / 1000
        // Values from a node: wrapping arithmetic, so a hostile one cannot trap the trainer (a wrapped
        // deadline means one step and an early submission).
        deadline = Double(opened.addingReportingOverflow(windowMs).partialValue.subtractingReportingOverflow(margin).partialValue) / 1000
    }

    /// Seconds of training left, 0 when the deadline has passed, at most one window.
    var remainingSeconds: Double { min(windowSeconds, max(0, deadline - Date().timeIntervalSince1970)) }
}

/// The prediction of a window's start (D67), filled by a task while training runs and taken once
/// by the training loop between steps.
final class PredictionBox: Sendable {
    typealias Outcome = Result<(parameters: [Float], count: Int, seconds: Double), PredictionFailure>
    struct PredictionFailure: Error, CustomStringConvertible { let description: String }
    private let slot = Mutex<Outcome?>(nil)

    func fill(_ predict: () async throws -> ([Float], Int)) async {
        let began = ContinuousClock.now
        let outcome: Outcome
        do {
            let (parameters, count) = try await predict()
            outcome = .success((parameters, count, began.duration(to: .now).seconds))
        } catch {
            // Any failure (a node gone, a blob pruned or damaged) costs only the prediction.
            outcome = .failure(PredictionFailure(description: "\(error)"))
        }
        slot.withLock { $0 = outcome }
    }

    /// The outcome, once; nil before it is there and after it was taken.
    func take() -> Outcome? { slot.withLock { outcome in defer { outcome = nil }; return outcome } }
}
