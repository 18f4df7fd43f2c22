import CairnAPI
import CairnChain
import CairnCore
import CairnCrypto
import CairnTraining
import Foundation
import Testing
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Real `cairn node` processes on loopback.
public final class LocalNetwork: @unchecked Sendable {
    public let cairn: String
    public let directory: String
    public let basePort: Int
    public var processes: [Int: Process] = [:]
    /// The corpus genesis hashes (the validators evaluate over it).
    public let corpus: String

    public init(validators: Int, windowMs: Int = 1000, testnetArguments: [String] = []) throws {
        cairn = try builtExecutable("cairn")
        directory = FileManager.default.temporaryDirectory.path + "/cairn-localnet-\(UInt64.random(in: 0 ... .max))"
        basePort = Self.allocateBasePort(validators: validators)
        corpus = try syntheticCorpus()
        let result = try runProcess(cairn, ["testnet", "--validators", "\(validators)", "--trainers", "2", "--output", directory,
                                            "--base-port", "\(basePort)", "--corpus", corpus,
                                            "--min-round-interval-ms", "20", "--max-round-interval-ms", "100",
                                            "--window-ms", "\(windowMs)"] + testnetArguments)  // by default about once a second, as most tests expect
        guard result.status == 0 else { throw CocoaError(.fileWriteUnknown, userInfo: [NSLocalizedDescriptionKey: result.stderr]) }
    }

    /// A network whose homes `prepare` writes (in `directory/node<i>`, node i on `basePort + 10·i`
    /// and API + 1, over `corpus`), e.g. by running the genesis ceremony through the CLI.
    public init(validators: Int, prepare: (_ cairn: String, _ directory: String, _ basePort: Int, _ corpus: String) throws -> Void) throws {
        cairn = try builtExecutable("cairn")
        directory = FileManager.default.temporaryDirectory.path + "/cairn-localnet-\(UInt64.random(in: 0 ... .max))"
        basePort = Self.allocateBasePort(validators: validators)
        corpus = try syntheticCorpus()
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try prepare(cairn, directory, basePort, corpus)
    }

    /// Port blocks that never overlap within this test process: networks of different tests run
    /// in parallel, and two that shared a port would talk to each other's nodes (another chain,
    /// other sequence hashes) or fail to bind. Starts at a random block so that concurrent test
    /// processes are unlikely to meet.
    public final class PortBlocks: @unchecked Sendable {  // guarded by `lock`
        let lock = NSLock()
        var next = Int.random(in: 0 ..< 250)
        /// `count` consecutive blocks; never split across the wrap-around.
        func take(_ count: Int) -> Int {
            lock.lock()
            defer { lock.unlock() }
            if next + count > 250 { next = 0 }
            let block = next
            next = (next + count) % 250
            return block
        }
    }
    public static let portBlocks = PortBlocks()
    public static func allocateBasePort(validators: Int) -> Int {
        // Node i uses base + 10·i and + 1; a block is 50 ports (5 validators), 7 take two. All below
        // Linux's ephemeral range (32768–60999): a listen port there can still be held by a client
        // socket of an earlier test (the 800-connection flood), and the node then fails to bind.
        20000 + 50 * portBlocks.take((validators + 4) / 5)
    }

    /// Starts node `i`; with `fileDescriptorLimit`, under `ulimit -n` (soft and hard) of that size.
    public func start(_ i: Int, fileDescriptorLimit: Int? = nil) throws {
        let process = Process()
        if let limit = fileDescriptorLimit {
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = ["-c", "ulimit -n \(limit) && exec \"$0\" node --home \"$1\"", cairn, "\(directory)/node\(i)"]
        } else {
            process.executableURL = URL(fileURLWithPath: cairn)
            process.arguments = ["node", "--home", "\(directory)/node\(i)"]
        }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        // CAIRN_NODE_STDERR=/tmp/node keeps each node's log in /tmp/node<i> (for debugging a failure).
        if let log = ProcessInfo.processInfo.environment["CAIRN_NODE_STDERR"] {
            FileManager.default.createFile(atPath: log + "\(i)", contents: nil)
            process.standardError = FileHandle(forWritingAtPath: log + "\(i)")
        }
        try process.run()
        processes[i] = process
    }

    public func kill(_ i: Int, signal: Int32) {
        guard let process = processes.removeValue(forKey: i) else { return }
        Foundation.kill(process.processIdentifier, signal)
        process.waitUntilExit()
    }

    public func stopAll() { for i in processes.keys.sorted() { kill(i, signal: SIGTERM) } }

    public func url(_ i: Int, _ path: String) -> URL { URL(string: "http://127.0.0.1:\(basePort + 10 * i + 1)\(path)")! }

    /// An HTTP answer of the API: its status and body, read through the shared reply types.
    public struct Answer: Sendable, CustomStringConvertible {
        public var status: Int
        public var body: Data
        /// The API's error reply (its stable `code` and `detail`), when it is one.
        public var error: APIError? { try? JSONDecoder().decode(APIError.self, from: body) }
        /// What `POST /v1/records` answered on acceptance.
        public var submitted: SubmitReply? { decode(SubmitReply.self) }
        public func decode<Reply: Decodable>(_ type: Reply.Type) -> Reply? { try? JSONDecoder().decode(Reply.self, from: body) }
        public var description: String { "HTTP \(status) \(String(decoding: body.prefix(400), as: UTF8.self))" }
    }

    /// GET `path` on node `i`, whatever the status (nil: no answer).
    public func get(_ i: Int, _ path: String) async -> Answer? {
        guard let (data, response) = try? await URLSession.shared.data(from: url(i, path)) else { return nil }
        return Answer(status: (response as? HTTPURLResponse)?.statusCode ?? 0, body: data)
    }

    /// A 2xx answer of GET `path` on node `i`, decoded as the API's reply type (nil: no answer,
    /// an error reply, or not that type).
    public func reply<Reply: Decodable>(_ i: Int, _ path: String, as type: Reply.Type = Reply.self) async -> Reply? {
        guard let (data, response) = try? await URLSession.shared.data(from: url(i, path)),
              let code = (response as? HTTPURLResponse)?.statusCode, (200 ..< 300).contains(code) else { return nil }
        return try? JSONDecoder().decode(Reply.self, from: data)
    }

    public func status(_ i: Int) async -> StatusReply? { await reply(i, "/status") }
    /// Where record `id` was committed and its outcome; nil until committed.
    public func record(_ i: Int, _ id: String) async -> RecordReply? { await reply(i, "/v1/records/\(id)") }
    public func window(_ i: Int, _ window: UInt64) async -> WindowReply? { await reply(i, "/v1/windows/\(window)") }

    public func delivered(_ i: Int) async -> Int { (await status(i)).map { Int(clamping: $0.delivered) } ?? -1 }
    public func leaders(_ i: Int) async -> Int { (await status(i)).map { Int(clamping: $0.committedLeaders) } ?? -1 }

    /// One sample of `/metrics`, by its full name with labels.
    public func metric(_ i: Int, _ name: String) async -> Double? {
        guard let (data, _) = try? await URLSession.shared.data(from: url(i, "/metrics")),
              let text = String(data: data, encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix(name + " ") { return Double(line.split(separator: " ").last ?? "") }
        return nil
    }

    public func post(_ i: Int, record: [UInt8]) async -> Answer? {
        var request = URLRequest(url: url(i, "/v1/records"))
        request.httpMethod = "POST"
        request.httpBody = try? JSONEncoder().encode(RecordSubmissionRequest(record: Hex.encode(record)))
        guard let (data, response) = try? await URLSession.shared.data(for: request) else { return nil }
        return Answer(status: (response as? HTTPURLResponse)?.statusCode ?? 0, body: data)
    }

    /// Polls until `condition` holds (or `seconds` pass); returns whether it held.
    /// The HTTP status of GET `path` on node `i` whatever its body (nil: no answer).
    public func statusCode(_ i: Int, _ path: String) async -> Int? {
        guard let (_, response) = try? await URLSession.shared.data(from: url(i, path)) else { return nil }
        return (response as? HTTPURLResponse)?.statusCode
    }

    /// A valid, nonzero pseudo-gradient blob for this network's genesis task (uploads must be one,
    /// D59), different for each `seed`.
    public func pseudoGradientBlob(seed: UInt32) throws -> [UInt8] {
        let task = try GenesisFile.load(path: "\(directory)/genesis.json").task
        let count = task.model.parameterCount
        var feedback = ErrorFeedback(parameterCount: count)
        let dense = (0 ..< count).map { j in Float(Int((UInt32(truncatingIfNeeded: j) &* 2_654_435_761 &+ seed &* 40_503) % 2001) - 1000) * 1e-5 }
        return PseudoGradientBlob.encode(feedback.compress(dense, chunkSize: Int(task.compression.chunkSize), topK: Int(task.compression.topK)),
                                         topK: Int(task.compression.topK))
    }

    /// PUT `blob` on node `i` with `signer`'s upload headers (D59; `signer` nil: none); the HTTP
    /// status and reply. A 403 (the trainer's registration not yet executed on that node) is
    /// retried for up to 10 s unless `retryUnregistered` is false.
    public func upload(_ i: Int, blob: [UInt8], signer: SigningKey?, id: Digest? = nil, timeMs: UInt64? = nil,
                retryUnregistered: Bool = true) async throws -> Answer {
        var reply = try await uploadOnce(i, blob: blob, signer: signer, id: id, timeMs: timeMs)
        let deadline = ContinuousClock.now + .seconds(10)
        while retryUnregistered, reply.status == 403, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(200))
            reply = try await uploadOnce(i, blob: blob, signer: signer, id: id, timeMs: timeMs)
        }
        return reply
    }

    private func uploadOnce(_ i: Int, blob: [UInt8], signer: SigningKey?, id: Digest?, timeMs: UInt64?) async throws -> Answer {
        let id = id ?? BlobStore.id(of: blob)
        var request = URLRequest(url: url(i, "/v1/blobs/\(id.hex)"))
        request.httpMethod = "PUT"
        request.httpBody = Data(blob)
        if let signer {
            let chain = try GenesisFile.load(path: "\(directory)/genesis.json").hash
            let time = timeMs ?? UInt64(Date().timeIntervalSince1970 * 1000)
            request.setValue(signer.publicKey.hex, forHTTPHeaderField: BlobUpload.trainerHeader)
            request.setValue(String(time), forHTTPHeaderField: BlobUpload.timeHeader)
            request.setValue(signer.sign(BlobUpload.signingBytes(chain: chain, trainer: signer.publicKey, blob: id, timeMs: time)).hex,
                             forHTTPHeaderField: BlobUpload.signatureHeader)
        }
        let (data, response) = try await URLSession.shared.data(for: request)
        return Answer(status: (response as? HTTPURLResponse)?.statusCode ?? 0, body: data)
    }

    public func eventually(seconds: Double, _ condition: () async -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        while ContinuousClock.now < deadline {
            if await condition() { return true }
            try? await Task.sleep(for: .milliseconds(100))
        }
        return await condition()
    }

    deinit {
        stopAll()
        try? FileManager.default.removeItem(atPath: directory)
        try? FileManager.default.removeItem(atPath: corpus)
    }
}

/// A small synthetic corpus so tests do not depend on the fortunes package.
public func syntheticCorpus() throws -> String {
    let dir = FileManager.default.temporaryDirectory.path + "/cairn-corpus-\(UInt64.random(in: 0 ... .max))"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    // Large enough for the reference task's data split (a validator that evaluates loads it):
    // ~60 KB of fortune-like lines, deterministic, so every test network hashes the same corpus.
    var text = ""
    let subjects = ["The cat", "A fool", "Every program", "The wise", "Nobody", "A bug", "Time", "The moon"]
    let verbs = ["waits for", "forgets", "loves", "finds", "breaks", "writes", "reads", "follows"]
    let objects = ["the answer.", "a better day.", "its own tail.", "the last byte.", "no one.", "the night.", "what it seeks.", "a fortune."]
    for i in 0 ..< 2000 { text += "\(subjects[i % 8]) \(verbs[(i / 8) % 8]) \(objects[(i / 64) % 8])\n%\n" }
    try Data("Q: Why?\nA: Because.\n%\n\(text)".utf8).write(to: URL(fileURLWithPath: dir + "/b"))
    try Data("All that glitters\n%\n".utf8).write(to: URL(fileURLWithPath: dir + "/a"))
    try Data("index".utf8).write(to: URL(fileURLWithPath: dir + "/a.dat"))
    try FileManager.default.createDirectory(atPath: dir + "/off", withIntermediateDirectories: true)
    return dir
}

extension Sequence {
    public func asyncAll(_ predicate: (Element) async -> Bool) async -> Bool {
        for element in self where !(await predicate(element)) { return false }
        return true
    }
}

/// Every suite that runs `cairn node` processes, one test at a time: each network burns CPU until
/// its test ends, and on two cores several networks at once (while CPU-bound simulator tests hold
/// the cooperative thread pool) starved each other past their deadlines.
@Suite("cairn node processes", .serialized)
public enum NodeProcesses {}
