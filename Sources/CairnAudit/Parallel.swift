import CairnCore
import Dispatch
import Foundation

/// Signature checks are most of an audit's work (84% in libsodium, measured) and independent of
/// each other: these spread them over every core. The results come back in input order, so what
/// the audit decides does not depend on scheduling.
enum Parallel {
    static let cores = max(1, ProcessInfo.processInfo.activeProcessorCount)

    /// Each slot is written by exactly one thread and read only after `concurrentPerform`
    /// returns (which joins them all): no two threads touch the same memory.
    private final class Slots<R>: @unchecked Sendable {
        var values: [R?]
        init(count: Int) { values = [R?](repeating: nil, count: count) }
    }

    static func map<T: Sendable, R: Sendable>(_ items: [T], _ transform: @escaping @Sendable (T) -> R) -> [R] {
        guard items.count > 1, cores > 1 else { return items.map(transform) }
        let chunks = min(cores, items.count)
        let slots = Slots<R>(count: items.count)
        slots.values.withUnsafeMutableBufferPointer { buffer in
            nonisolated(unsafe) let out = buffer
            DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
                var i = chunk
                while i < items.count {  // strided: neighbours (similar sizes) spread across threads
                    out[i] = transform(items[i])
                    i += chunks
                }
            }
        }
        return slots.values.map { $0! }
    }
}

/// A wave's combined coin, computed once and shared by the beacon recomputation and the ordering
/// oracle: any f+1 valid shares combine to the same value, so which ones were used does not matter.
final class CoinMemo {
    private var values: [UInt64: (leader: Int, beacon: Digest)?] = [:]

    /// nil when not computed yet; .some(nil) when the wave's shares did not combine.
    func known(wave: UInt64) -> (leader: Int, beacon: Digest)?? { values[wave] }

    func value(wave: UInt64, _ compute: () -> (leader: Int, beacon: Digest)?) -> (leader: Int, beacon: Digest)? {
        if let known = values[wave] { return known }
        let value = compute()
        values[wave] = value
        return value
    }
}
