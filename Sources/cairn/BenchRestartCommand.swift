import ArgumentParser
import CairnChain
import CairnCore
import CairnCrypto
import CairnNode
import CairnStorage
import ConsensusSimulator
import DAGRider
import Foundation

extension Bench {
    /// Restart cost against history (D40): a validator database holding `--history` own
    /// votes and proposals below the GC floor, plus a recent DAG above it, reopened and restored
    /// in a fresh process, which reports the time and its peak resident memory.
    struct Restart: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Time and peak memory to restart a validator whose database holds N historical votes and proposals.")

        @Option(help: "Historical own votes plus own proposals below the GC floor (half each).")
        var history = 1_000

        @Option(help: "Where to build the database (removed afterwards).")
        var directory = FileManager.default.temporaryDirectory.path

        @Flag(help: "Print one JSON object.")
        var json = false

        @Option(help: .hidden)
        var measure: String?

        static let validators = 4
        static let gcDepth: UInt64 = 50
        static let chain = Hashing.digest(.genesis, Array("bench-restart".utf8))

        func validate() throws {
            guard (2 ... 20_000_000).contains(history) else { throw ValidationError("--history must be in 2…20000000") }
        }

        func run() throws {
            if let path = measure { return try Self.restore(path: path) }
            let path = directory + "/cairn-bench-restart-\(history)-\(UInt32.random(in: 0 ... .max))"
            defer { try? FileManager.default.removeItem(atPath: path) }
            let written = ContinuousClock.now
            try Self.prepare(path: path, history: history)
            let prepareSeconds = Self.seconds(ContinuousClock.now - written)
            let child = Process()
            child.executableURL = URL(fileURLWithPath: ProcessInfo.processInfo.arguments[0])
            child.arguments = ["bench", "restart", "--measure", path]
            let pipe = Pipe()
            child.standardOutput = pipe
            try child.run()
            let output = pipe.fileHandleForReading.readDataToEndOfFile()
            child.waitUntilExit()
            guard child.terminationStatus == 0, var result = try? JSONDecoder().decode(Restore.self, from: output) else {
                throw ValidationError("the restore process failed (status \(child.terminationStatus))")
            }
            result.history = history
            result.prepare_seconds = prepareSeconds
            if json {
                try printJSON(result)
            } else {
                print("history \(history): restore \(result.restore_seconds) s, peak RSS \(result.peak_rss_kb) kB; "
                    + "read \(result.votes) votes, \(result.proposals) proposals, \(result.certificates) certificates")
            }
        }

        /// What the measuring child reports (one JSON line), and the parent adds.
        struct Restore: Codable {
            var restore_seconds: Double, peak_rss_kb: Int, votes: Int, proposals: Int, certificates: Int, dag: Int, round: UInt64, pending: Int
            var history: Int?
            var prepare_seconds: Double?
        }

        static func seconds(_ duration: Duration) -> Double {
            Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        }

        /// Votes and proposals of rounds 1…history/2 (below the floor), then 60 complete rounds
        /// of certificates above them and a committed leader that puts the floor between the two.
        static func prepare(path: String, history: Int) throws {
            let database = try NodeDatabase.open(path: path, genesisHash: chain)
            defer { database.close() }
            let store = ConsensusStore(database: database)
            let keys = KeyedHashSignatures(seed: 7, validators: validators, me: 0)
            let signature = Signature(uncheckedBytes: [UInt8](repeating: 0, count: 64))  // never checked by restore
            let payload = [[UInt8](repeating: 0x5a, count: 200)]
            let old = UInt64(history / 2)
            var directives: [Directive] = []
            var progress = ConsensusStore.Progress()
            func flush() throws {
                guard !directives.isEmpty else { return }
                progress = try store.apply(directives, progress: progress).progress
                directives = []
            }
            for round in 1 ... max(1, old) {
                let parents = (0 ..< 3).map { Hashing.digest(.vertex, (UInt64($0) &* 1_000_000_000 &+ round).canonicalBytes) }
                let vertex = Vertex(round: round, author: 0, strongEdges: round == 1 ? [] : parents, weakEdges: [], payload: payload, coinShare: nil)
                directives.append(.persistProposal(SignedVertex(vertex: vertex, signature: signature)))
                if directives.count >= 10_000 { try flush() }
            }
            var votes = 0
            outer: for round in 1 ... max(1, old) {
                for author in 1 ..< validators {
                    guard votes < history - history / 2 else { break outer }
                    directives.append(.persistVote(Vote(digest: Hashing.digest(.vertex, round.canonicalBytes + [UInt8(author)]),
                                                        round: round, author: UInt32(author), voter: 0, signature: signature)))
                    votes += 1
                    if directives.count >= 10_000 { try flush() }
                }
            }
            try flush()
            // The recent DAG: rounds first…first+59, fully linked, each certified by 3 keyed-hash votes.
            var settings = DAGRiderSettings(committee: Committee(size: validators, chain: chain), me: 0)
            settings.gcDepth = gcDepth
            settings.futureRoundWindow = 1_000_000
            let verifier = MessageVerifier(settings: settings, verifier: keys, coin: SimulatedCoin(seed: 7, validators: validators, me: 0))
            let first = old + 10
            // The first recent round points at digests below the floor (as after a long run).
            var previous = (0 ..< validators).map { Hashing.digest(.vertex, [UInt8($0), 0xfe]) }
            var recent: [VerifiedCertificate] = []
            for round in first ..< first + 60 {
                var current: [Digest] = []
                for author in 0 ..< validators {
                    let signer = KeyedHashSignatures(keys: keys.keys, me: author)
                    let share = try Wave.coinWave(carriedIn: round).map {
                        try SimulatedCoin(seed: 7, validators: validators, me: author).makeShare(wave: $0)
                    }
                    let vertex = Vertex(round: round, author: UInt32(author), strongEdges: previous, weakEdges: [],
                                        payload: payload, coinShare: share)
                    let digest = SigningMessages.vertexDigest(vertex)
                    let signed = SignedVertex(vertex: vertex, signature: signer.sign(SigningMessages.proposal(chain: chain, digest: digest)))
                    let votes = (0 ..< 3).map { voter in
                        CertificateVote(voter: UInt32(voter), signature: KeyedHashSignatures(keys: keys.keys, me: voter)
                            .sign(SigningMessages.vote(chain: chain, digest: digest)))
                    }
                    let verified = try verifier.verify(Certificate(signedVertex: signed, votes: votes)).get()
                    recent.append(verified)
                    directives.append(.storeCertificate(verified))
                    current.append(digest)
                }
                previous = current
            }
            // A committed leader 55 rounds in: the floor lands 5 rounds into the recent DAG,
            // above every historical vote and proposal.
            let leader = recent[55 * validators]
            directives.append(.commit(CommittedLeader(wave: (leader.vertex.round + 3) / 4, leader: leader.digest, leaderRound: leader.vertex.round,
                                                      leaderAuthor: 0, beacon: .zero, certificates: [leader])))
            try flush()
        }

        /// The restart path of `ConsensusNode.init`: snapshot, core restore, pending records.
        static func restore(path: String) throws {
            let started = ContinuousClock.now
            let database = try NodeDatabase.open(path: path, genesisHash: chain)
            defer { database.close() }
            let store = ConsensusStore(database: database)
            let (snapshot, _) = try store.snapshot(gcDepth: gcDepth, validators: validators)
            var settings = DAGRiderSettings(committee: Committee(size: validators, chain: chain), me: 0)
            settings.gcDepth = gcDepth
            let core = DAGRiderCore.restore(settings: settings, signer: KeyedHashSignatures(seed: 7, validators: validators, me: 0),
                                            coin: SimulatedCoin(seed: 7, validators: validators, me: 0), from: snapshot)
            let pending = try store.pendingRecords()
            let elapsed = seconds(ContinuousClock.now - started)
            let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
            let peak = status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") }
                .flatMap { Int($0.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") } ?? -1
            try printJSON(Restore(restore_seconds: elapsed, peak_rss_kb: peak, votes: snapshot.votes.count, proposals: snapshot.ownProposals.count,
                                  certificates: snapshot.certificates.count, dag: core.dagSize, round: core.round, pending: pending.count))
        }
    }
}
