import ArgumentParser
import CairnAPI
import CairnCore
import CairnCrypto
import Foundation
import Synchronization
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `cairn bench load`: signed records at a fixed rate, latency until committed on every node.
struct Load: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Submit signed records to running nodes at a fixed rate; report committed records/s and commit latency.",
        discussion: """
            Records are transfers of 1 base unit, signed client side with increasing nonces and \
            sent in batches, round-robin over --nodes. With --keys DIR (e.g. the trainers/ \
            directory `cairn testnet` writes) they are paid from those funded accounts, one \
            account per node, so the ledger executes them; without it from a fresh key, so the \
            ledger rejects them (unknown account) — they are ordered and committed all the same. \
            A record's latency runs from its submission until every node reports it committed \
            (polled every 50 ms). After --duration the generator waits up to 15 s for stragglers; \
            records never committed are reported as lost. Every record is signed before the clock \
            starts, so the generator's own signing is off the measured path; batches go as \
            length-prefixed binary (`--intake binary`, the default) or hex in JSON (`--intake json`). \
            A refused batch (503 when a validator's intake is at its bound) is counted, not retried.
            """)

    @Option(help: "Comma-separated API URLs of the nodes, e.g. http://127.0.0.1:26601,http://127.0.0.1:26611.")
    var nodes: String

    @Option(help: "Offered load in records per second.")
    var rate: Double = 500

    @Option(help: "Seconds to submit for.")
    var duration: Double = 10

    @Option(help: "Directory of funded key files (*.key) to pay the transfers from.")
    var keys: String?

    @Option(help: "How batches are posted: binary (application/octet-stream, length-prefixed records) or json (hex strings).")
    var intake = "binary"

    @Flag(help: "Print one JSON object.")
    var json = false

    @Flag(help: "Also print the 10 slowest records: which node took them, and when the first and the last node reported them committed.")
    var traceSlow = false

    var urls: [URL] { nodes.split(separator: ",").compactMap { URL(string: String($0).trimmingCharacters(in: .whitespaces)) } }

    func validate() throws {
        guard !urls.isEmpty, urls.count == nodes.split(separator: ",").count, urls.allSatisfy({ $0.scheme != nil }) else {
            throw ValidationError("--nodes must be comma-separated URLs such as http://127.0.0.1:26601")
        }
        guard rate > 0, rate <= 100_000, duration > 0, duration <= 3600 else {
            throw ValidationError("--rate must be in (0, 100000] and --duration in (0, 3600]")
        }
        guard rate * duration <= 2_000_000 else { throw ValidationError("--rate × --duration must be at most 2000000 records (all are signed in memory first)") }
        guard ["binary", "json"].contains(intake) else { throw ValidationError("--intake must be binary or json") }
    }

    func run() async throws {
        let chain = try await fetchChain(urls[0])
        let state = LoadState(nodes: urls.count)
        let payers = try await loadPayers(chainFrom: urls[0])
        let signed = presign(payers: payers, chain: chain)
        let start = ContinuousClock.now
        let end = start + .milliseconds(Int(duration * 1000))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                try await submitLoop(state: state, signed: signed, start: start, end: end)
                await state.endSubmission(at: ContinuousClock.now)
            }
            group.addTask { await pollLoop(state: state, until: end + .seconds(15)) }
            try await group.waitForAll()
        }
        let report = await state.report(duration: duration)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            print(String(format: "offered     %.0f records/s (%d submitted, %d refused)", report.offered_per_second, report.submitted, report.refused))
            print(String(format: "committed   %.0f records/s on all %d nodes", report.committed_per_second, urls.count))
            print(String(format: "latency     p50 %.0f ms, p95 %.0f ms, p99 %.0f ms (submit → committed everywhere)", report.p50_ms, report.p95_ms, report.p99_ms))
            print(String(format: "submission  p50 %.0f ms, p99 %.0f ms (HTTP round trip of the submitting request)", report.submit_p50_ms, report.submit_p99_ms))
            print("lost        \(report.lost)")
        }
        if traceSlow {
            for line in await state.slowest(10) { FileHandle.standardError.write(Data((line + "\n").utf8)) }
        }
    }

    func fetchChain(_ url: URL) async throws -> Digest {
        guard let status: StatusReply = await Self.fetch(url.appendingPathComponent("status")), let chain = try? Digest(hex: status.genesisHash) else {
            throw CLIError("cannot read /status from \(url); is `cairn node` running there?")
        }
        return chain
    }

    /// One paying account per node (records of one author go to one node, in nonce order), with
    /// its next nonce; a fresh, unfunded key when no --keys directory is given.
    func loadPayers(chainFrom url: URL) async throws -> [(key: SigningKey, nonce: UInt64)] {
        guard let directory = keys else { return [(SigningKey.generate(), 0)] }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory))?.filter { $0.hasSuffix(".key") }.sorted() ?? []
        guard !names.isEmpty else { throw CLIError("--keys \(directory) holds no *.key files") }
        var payers: [(key: SigningKey, nonce: UInt64)] = []
        for name in names.prefix(max(1, urls.count)) {
            let key = try KeyFiles.readSigningKey(at: directory + "/" + name)
            var nonce: UInt64 = 0
            if let account: AccountReply = await Self.fetch(url.appendingPathComponent("v1/accounts/\(key.publicKey.hex)")) {
                nonce = account.nonce
            }
            payers.append((key, nonce))
        }
        return payers
    }

    /// Each payer's records for the whole run, signed before it starts (nonces in order from the
    /// account's current one); payer i pays payer i+1.
    func presign(payers: [(key: SigningKey, nonce: UInt64)], chain: Digest) -> [[(bytes: [UInt8], id: Digest)]] {
        // Batches go to the nodes in turn and node n's batches come from payer n mod payers, so a
        // payer signs at most its share of the run plus one batch.
        let total = Int((rate * duration).rounded(.up))
        let perPayer = total / max(1, min(payers.count, urls.count)) + 1_001
        let signed = Mutex([[(bytes: [UInt8], id: Digest)]](repeating: [], count: payers.count))
        DispatchQueue.concurrentPerform(iterations: payers.count) { payer in  // payers in parallel, over every core
            let key = payers[payer].key
            let body = RecordBody.transfer(CairnCore.Transfer(to: payers[(payer + 1) % payers.count].key.publicKey, amount: 1)).canonicalBytes
            let records = (0 ..< UInt64(perPayer)).map { offset in
                let nonce = payers[payer].nonce + offset
                let signature = key.sign(SignedRecord.signingBytes(chain: chain, author: key.publicKey, nonce: nonce, body: body))
                let bytes = SignedRecord(author: key.publicKey, nonce: nonce, body: body, signature: signature).canonicalBytes
                return (bytes: bytes, id: Hashing.digest(.record, bytes))
            }
            signed.withLock { $0[payer] = records }
        }
        return signed.withLock { $0 }
    }

    /// Every 20 ms, sends the records that are due, to one node in turn.
    func submitLoop(state: LoadState, signed: [[(bytes: [UInt8], id: Digest)]], start: ContinuousClock.Instant, end: ContinuousClock.Instant) async throws {
        var next = [Int](repeating: 0, count: signed.count)
        var target = 0
        var turn = 0
        while ContinuousClock.now < end {
            let elapsed = ContinuousClock.now - start
            let due = Int(rate * (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18)) - target
            let payer = turn % urls.count % signed.count
            let count = min(due, 1000, signed[payer].count - next[payer])
            if count > 0 {
                let batch = signed[payer][next[payer] ..< next[payer] + count]
                next[payer] += count
                target += count
                let ids = batch.map(\.id)
                let body: (data: Data, type: String) = intake == "json"
                    ? ((try? JSONEncoder().encode(RecordSubmissionRequest(records: batch.map { Hex.encode($0.bytes) }))) ?? Data(), "application/json")
                    : (Data(RecordFraming.frame(batch.map(\.bytes))), "application/octet-stream")
                let target = turn % urls.count
                let node = urls[target]
                turn += 1
                let sentAt = ContinuousClock.now
                await state.postStarted()
                Task {
                    let accepted = await post(node.appendingPathComponent("v1/records"), body: body.data, contentType: body.type)
                    await state.submitted(ids, accepted: accepted, at: sentAt, answeredAt: ContinuousClock.now, node: target)
                }
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Follows each node's committed records in sequence order (every 50 ms, all nodes at once),
    /// so observing a commit costs the same however many records are outstanding.
    func pollLoop(state: LoadState, until deadline: ContinuousClock.Instant) async {
        await withTaskGroup(of: Void.self) { group in
            for (index, url) in urls.enumerated() {
                group.addTask {
                    var next: UInt64 = 0
                    // Start at the node's current end: earlier records are not this run's.
                    if let status: StatusReply = await Self.fetch(url.appendingPathComponent("status")) { next = status.delivered }
                    while ContinuousClock.now < deadline {
                        var components = URLComponents(url: url.appendingPathComponent("v1/committed"), resolvingAgainstBaseURL: false)!
                        components.queryItems = [URLQueryItem(name: "from", value: "\(next)"), URLQueryItem(name: "limit", value: "2000")]
                        if let page: CommittedRecords = await Self.fetch(components.url!) {
                            let after = page.next
                            await state.committed(page.records, node: index, at: ContinuousClock.now)
                            if after > next {
                                next = after
                                continue  // more may be waiting
                            }
                        }
                        if await state.done, await state.submissionOver { return }
                        try? await Task.sleep(for: .milliseconds(50))
                    }
                }
            }
        }
    }

    /// Whether the node accepted the submission (any 2xx answer).
    func post(_ url: URL, body: Data, contentType: String) async -> Bool {
        var request = URLRequest(url: url)
        request.httpMethod = "POST"
        request.setValue(contentType, forHTTPHeaderField: "Content-Type")
        request.httpBody = body
        guard let (_, response) = try? await URLSession.shared.data(for: request),
              let code = (response as? HTTPURLResponse)?.statusCode else { return false }
        return (200 ..< 300).contains(code)
    }

    /// A 2xx answer of GET `url` decoded as `Reply`, or nil (the load client keeps going; a
    /// missed poll is retried).
    static func fetch<Reply: Decodable>(_ url: URL) async -> Reply? {
        guard let (data, response) = try? await URLSession.shared.data(from: url),
              let code = (response as? HTTPURLResponse)?.statusCode, (200 ..< 300).contains(code) else { return nil }
        return try? JSONDecoder().decode(Reply.self, from: data)
    }
}

/// Submission times and per-node commit observations.
actor LoadState {
    let nodes: Int
    var submittedAt: [Digest: ContinuousClock.Instant] = [:]
    var seenBy: [Digest: (count: Int, last: ContinuousClock.Instant)] = [:]
    var pendingPerNode: [Set<Digest>]
    var latencies: [Double] = []
    var refused = 0
    var submittedCount = 0
    var firstSubmit: ContinuousClock.Instant?
    var lastCommit: ContinuousClock.Instant?
    var submissionEnd: ContinuousClock.Instant?
    var commitTimes: [ContinuousClock.Instant] = []
    /// Commits seen before their submission was recorded (the POST reply can lag the commit).
    var early: [Digest: [Int: ContinuousClock.Instant]] = [:]

    func endSubmission(at time: ContinuousClock.Instant) { submissionEnd = time }
    var submissionOver: Bool { submissionEnd != nil && inFlightPosts == 0 }
    var inFlightPosts = 0
    func postStarted() { inFlightPosts += 1 }

    init(nodes: Int) {
        self.nodes = nodes
        pendingPerNode = Array(repeating: [], count: nodes)
    }

    var postMilliseconds: [Double] = []

    /// Per record: the node it was submitted to, and when each node reported it (for --trace-slow).
    var submittedTo: [Digest: Int] = [:]
    var seenAt: [Digest: [Int: ContinuousClock.Instant]] = [:]

    func slowest(_ count: Int) -> [String] {
        func ms(_ d: Duration) -> Int { Int(d.components.seconds) * 1000 + Int(d.components.attoseconds / 1_000_000_000_000_000) }
        let finished = seenAt.filter { $0.value.count == nodes }.compactMap { id, seen -> (Digest, Int, [Int: Int])? in
            guard let sent = submittedAt[id] else { return nil }
            return (id, ms(seen.values.max()! - sent), seen.mapValues { ms($0 - sent) })
        }
        return finished.sorted { $0.1 > $1.1 }.prefix(count).map { id, total, perNode in
            "slow \(id.short)… submitted to node \(submittedTo[id] ?? -1): \(total) ms; per node " + perNode.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        }
    }

    func submitted(_ ids: [Digest], accepted: Bool, at time: ContinuousClock.Instant, answeredAt: ContinuousClock.Instant, node target: Int) {
        for id in ids { submittedTo[id] = target }
        inFlightPosts -= 1
        let d = answeredAt - time
        postMilliseconds.append(Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) * 1e-15)
        guard accepted else { refused += ids.count; return }
        firstSubmit = min(firstSubmit ?? time, time)
        submittedCount += ids.count
        for id in ids {
            submittedAt[id] = time
            for node in 0 ..< nodes { pendingPerNode[node].insert(id) }
            for (node, seen) in early.removeValue(forKey: id) ?? [:] { observe(id, node: node, at: seen) }
        }
    }

    var done: Bool { pendingPerNode.allSatisfy(\.isEmpty) }

    func committed(_ hexIDs: [String], node: Int, at time: ContinuousClock.Instant) {
        for hex in hexIDs {
            guard let id = try? Digest(hex: hex) else { continue }
            if submittedAt[id] == nil {
                early[id, default: [:]][node] = time
                continue
            }
            observe(id, node: node, at: time)
        }
    }

    private func observe(_ id: Digest, node: Int, at time: ContinuousClock.Instant) {
        guard pendingPerNode[node].remove(id) != nil else { return }
        seenAt[id, default: [:]][node] = time
        let seen = (seenBy[id]?.count ?? 0) + 1
        seenBy[id] = (seen, time)
        if seen == nodes, let sent = submittedAt[id] {
            let d = time - sent
            latencies.append(max(0, Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) * 1e-15))
            lastCommit = max(lastCommit ?? time, time)
            commitTimes.append(time)
        }
    }

    struct Report: Encodable {
        var offered_per_second: Double
        var committed_per_second: Double
        var p50_ms: Double
        var p95_ms: Double
        var p99_ms: Double
        var lost: Int
        var submitted: Int
        var refused: Int
        /// Round trip of the submitting HTTP request: the part of the latency spent before a
        /// validator even has the records.
        var submit_p50_ms: Double
        var submit_p99_ms: Double
    }

    func quantile(_ values: [Double], _ p: Double) -> Double {
        let sorted = values.sorted()
        return sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
    }

    func report(duration: Double) -> Report {
        let sorted = latencies.sorted()
        func percentile(_ p: Double) -> Double { sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))] }
        // Throughput over the submission window: records committed everywhere while load was
        // being offered, per second of that window (the drain afterwards is not counted).
        var committedRate = 0.0
        if let first = firstSubmit, let end = submissionEnd, end > first {
            let d = end - first
            let window = Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
            committedRate = Double(commitTimes.filter { $0 <= end }.count) / window
        }
        return Report(offered_per_second: Double(submittedCount + refused) / duration,
                      committed_per_second: committedRate,
                      p50_ms: percentile(0.5), p95_ms: percentile(0.95), p99_ms: percentile(0.99),
                      lost: submittedCount - latencies.count, submitted: submittedCount, refused: refused,
                      submit_p50_ms: quantile(postMilliseconds, 0.5), submit_p99_ms: quantile(postMilliseconds, 0.99))
    }
}
