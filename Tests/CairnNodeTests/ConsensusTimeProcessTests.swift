import CairnAPI
import CairnChain
import CairnCore
import CairnNode
import CairnTestKit
import Foundation
import Testing

extension NodeProcesses {
    /// Issue 26, attack 7 (D59): consensus time was the lower median of a leader's strong parents'
    /// timestamps, so f Byzantine clocks at 2^64 − 1 plus one honest clock running ahead moved every
    /// window to that clock, and a jump past the commit deadline emptied a window's reveal phase.
    @Suite("Consensus time against wrong clocks", .serialized)
    struct ConsensusTimeProcessTests {
        @Test("with f validators stamping 2^64 − 1 and one honest validator 20 s ahead, every window lasts window_ms ± 20% of wall time and all nodes agree")
        func byzantineClocks() async throws {
            // 6-second windows: the reveal phase (the last quarter, D59) must outlast the gap between
            // two committed leaders (about a second here), or closing takes one more leader; at 4 s
            // (a 1-second reveal phase) one window lasted 5.0 s.
            let windowMs = 6000
            let net = try LocalNetwork(validators: 4, windowMs: windowMs)
            defer { net.stopAll(); try? FileManager.default.removeItem(atPath: net.directory) }
            for (i, offset) in [(3, "\"max\""), (2, "20000")] {
                let path = "\(net.directory)/node\(i)/config/config.toml"
                try (try String(contentsOfFile: path, encoding: .utf8) + "\n[testing]\nclock_offset_ms = \(offset)\n")
                    .write(toFile: path, atomically: true, encoding: .utf8)
            }
            for i in 0 ..< 4 { try net.start(i) }
            #expect(await net.eventually(seconds: 120) { await (0 ..< 4).asyncAll { await net.delivered($0) > 0 } }, "no commits")
            // Wall-clock instants at which node 0's window number moves on.
            var changes: [(window: Int, at: ContinuousClock.Instant)] = []
            var last = (await net.status(0)?.window).map { Int(clamping: $0) } ?? -1
            let deadline = ContinuousClock.now + .milliseconds(windowMs * 8)
            while ContinuousClock.now < deadline && changes.count < 7 {
                if let window = (await net.status(0)?.window).map({ Int(clamping: $0) }), window != last {
                    changes.append((window, .now))
                    last = window
                }
                try await Task.sleep(for: .milliseconds(25))
            }
            try #require(changes.count >= 4, "only \(changes.count) window changes in \(windowMs * 8) ms: \(changes.map(\.window))")
            for (a, b) in zip(changes, changes.dropFirst()) {
                let ms = Double((b.at - a.at).components.seconds) * 1000 + Double((b.at - a.at).components.attoseconds) / 1e15
                #expect(b.window == a.window + 1, "a window was skipped: \(a.window) → \(b.window)")
                #expect(ms >= 0.8 * Double(windowMs) && ms <= 1.2 * Double(windowMs), "window \(a.window) lasted \(Int(ms)) ms of wall time, not \(windowMs) ± 20%")
            }
            // The nodes agree on the sequence they all reached.
            let hashes = await Array(0 ..< 4).asyncMap { await net.get($0, "/v1/sequence/\(50)")?.decode(SequenceEntry.self)?.sequenceHash }
            #expect(Set(hashes.compactMap { $0 }).count == 1, "\(hashes)")
        }
    }
}
