import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Writes one line to stdout unbuffered, so a long run shows its progress as it goes even when
/// its output goes to a file or a pipe (where `print` would hold it until exit).
func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) * 1e-18 }
}

/// A one-line progress display on a terminal (redrawn in place on stderr, at most 10 times a
/// second); silent when stderr is not a terminal, where the caller's periodic lines suffice.
final class ProgressLine {
    let total: Int
    let unit: String
    let enabled = isatty(STDERR_FILENO) == 1
    private var lastDraw = ContinuousClock.now - .seconds(1)
    private let start = ContinuousClock.now

    init(total: Int, unit: String) {
        self.total = total
        self.unit = unit
    }

    func update(done: Int, rate: Double, detail: String) {
        guard enabled, lastDraw.duration(to: .now) >= .milliseconds(100) || done == total else { return }
        lastDraw = .now
        let elapsed = start.duration(to: .now).seconds
        let remaining = done > 0 ? elapsed * Double(total - done) / Double(done) : 0
        let width = 24
        let filled = total > 0 ? width * done / total : width
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        let line = String(format: "\r[%@] %d/%d  %@  %.0f %@  ETA %@\u{1B}[K", bar, done, total, detail, rate, unit, Self.clock(remaining))
        FileHandle.standardError.write(Data(line.utf8))
    }

    func clear() {
        guard enabled else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
    }

    static func clock(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 3600 ? String(format: "%dh%02dm%02ds", s / 3600, s / 60 % 60, s % 60) : String(format: "%dm%02ds", s / 60, s % 60)
    }
}
