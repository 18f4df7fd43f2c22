import CairnCore
import CairnStorage
import CairnTestKit
import Foundation
import Testing

/// Reads a child's stdout line by line on a background thread, recording the highest "ACK n".
final class AckReader: @unchecked Sendable {
    private let lock = NSLock()
    private var highest: UInt64 = 0
    private var started = false

    init(_ pipe: Pipe) {
        let handle = pipe.fileHandleForReading
        Thread.detachNewThread { [self] in
            var buffer = Data()
            while true {
                let chunk = handle.availableData
                if chunk.isEmpty { return }
                buffer.append(chunk)
                while let newline = buffer.firstIndex(of: 0x0a) {
                    let line = String(decoding: buffer[buffer.startIndex ..< newline], as: UTF8.self)
                    buffer.removeSubrange(buffer.startIndex ... newline)
                    lock.lock()
                    if line.hasPrefix("ACK "), let n = UInt64(line.dropFirst(4)) { highest = max(highest, n) }
                    if line.hasPrefix("START") { started = true }
                    lock.unlock()
                }
            }
        }
    }

    var acknowledged: UInt64 { lock.lock(); defer { lock.unlock() }; return highest }
    var hasStarted: Bool { lock.lock(); defer { lock.unlock() }; return started }
}

@Suite("Crash consistency", .serialized)
struct CrashConsistencyTests {
    /// A child writes numbered synced batches and is SIGKILLed at a random moment, many times over
    /// one database. After each kill: every acknowledged batch is complete, no batch is partial.
    @Test("SIGKILL during synced batches never loses an acknowledged batch or applies half of one")
    func killDuringWrites() throws {
        let writer = try builtExecutable("CairnCrashWriter")
        let path = temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        var g = SeededGenerator(seed: UInt64.random(in: 0 ... .max))
        var totalAcknowledged: UInt64 = 0
        let iterations = 25
        for iteration in 0 ..< iterations {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: writer)
            process.arguments = [path]
            let out = Pipe()
            process.standardOutput = out
            let reader = AckReader(out)
            try process.run()
            let deadline = Date().addingTimeInterval(20)
            while !reader.hasStarted && Date() < deadline && process.isRunning { usleep(1000) }
            #expect(reader.hasStarted, "writer did not start (iteration \(iteration))")
            usleep(UInt32.random(in: 5_000 ... 120_000, using: &g))
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            #expect(process.terminationReason == .uncaughtSignal)
            usleep(20_000)  // let the reader drain the pipe
            let acknowledged = reader.acknowledged

            let db = try Database(path: path, columnFamilies: ["crash"])
            let last = try #require(try db.get("crash", bytes("last")).flatMap(StorageKey.uint64(from:)),
                                    "no batch survived iteration \(iteration)")
            #expect(last >= acknowledged, "acknowledged batch \(acknowledged) lost; last stored \(last)")
            #expect(last >= totalAcknowledged)
            // Every batch up to `last` complete; nothing of batch last+1 present.
            for n in 1 ... last + 1 {
                var present = 0
                for k in 0 ..< 8 {
                    if let value = try db.get("crash", bytes("b/\(n)/\(k)")) {
                        present += 1
                        #expect(value == [UInt8](repeating: UInt8(truncatingIfNeeded: n &+ UInt64(k)), count: 512))
                    }
                }
                #expect(present == (n <= last ? 8 : 0), "batch \(n) has \(present) of 8 keys after iteration \(iteration)")
            }
            db.close()
            totalAcknowledged = max(totalAcknowledged, acknowledged)
        }
        #expect(totalAcknowledged > 0)
    }
}
