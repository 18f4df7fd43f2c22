import Foundation
import Synchronization

/// Bounded intake (D62): how many records this validator may hold accepted-but-uncommitted before
/// its API refuses more. By Little's law a queue of L records served at μ records/s makes a new one
/// wait L/μ, so the bound is μ × the target delay, with μ this validator's own measured commit rate
/// (its share of the network's throughput). Past the bound, a submission is answered 503 with a
/// retry hint at once — before its signatures are checked or its bytes made durable — instead of
/// joining a queue that takes seconds to drain: overload costs refusals, not throughput.
/// A pure value: the caller passes the time, so tests drive it with any clock.
public struct AdmissionControl: Sendable, Equatable {
    public struct Settings: Sendable, Equatable {
        /// The wait an accepted record may expect in this validator's queue.
        public var targetDelayMs: UInt64 = 800
        /// The bound while the rate is unknown or low (start, idle, stall): enough for a burst to
        /// get going, small enough that a stalled network refuses within a second of traffic.
        public var minLimit = 512
        public var maxLimit = 50_000
        /// Time constant of the commit-rate average.
        public var rateTimeConstantMs: UInt64 = 1_000
        /// Commits are counted over intervals at least this long before entering the average.
        public var sampleMs: UInt64 = 200

        public init() {}

        public init(targetDelayMs: UInt64, minLimit: Int) {
            self.targetDelayMs = targetDelayMs
            self.minLimit = minLimit
        }
    }

    public enum Verdict: Sendable, Equatable {
        case accept
        /// `retryAfterSeconds`: ⌈in flight ÷ rate⌉, at least 1 (RFC 9110 Retry-After).
        case refuse(retryAfterSeconds: Int, inFlight: Int, limit: Int)
    }

    public let settings: Settings
    /// Records accepted (or restored, or signed by this validator) and not yet committed.
    public private(set) var inFlight: Int
    /// Own records committed per second, exponentially averaged.
    public private(set) var ratePerSecond = 0.0
    var sampleStartMs: UInt64?
    var sampleCount = 0

    public init(settings: Settings = Settings(), inFlight: Int = 0) {
        self.settings = settings
        self.inFlight = max(0, inFlight)
    }

    public var limit: Int {
        let bound = ratePerSecond * Double(settings.targetDelayMs) / 1000
        guard bound.isFinite else { return settings.minLimit }
        // Clamped as a Double before the conversion, which would trap above Int.max.
        return Int(min(Double(settings.maxLimit), max(Double(settings.minLimit), bound)))
    }

    /// Whether `count` more records may be accepted now. A request is taken whole or refused whole;
    /// an empty queue takes any request (so one larger than the bound is not refused forever).
    public func verdict(incoming count: Int) -> Verdict {
        let bound = limit
        if inFlight == 0 || inFlight + count <= bound { return .accept }
        let seconds = ratePerSecond > 0 ? (Double(inFlight) / ratePerSecond).rounded(.up) : 1
        // Clamped as a Double first: during a stall the rate decays toward 0 without reaching it,
        // and in flight ÷ a tiny rate is finite yet beyond Int.max, where the conversion traps
        // (a partitioned validator crashed on its next submission: tools/netns-scenario, D64).
        let clamped = seconds.isNaN ? 1 : min(60, max(1, seconds))
        return .refuse(retryAfterSeconds: Int(clamped), inFlight: inFlight, limit: bound)
    }

    /// Takes `count` records if the verdict allows; returns the verdict.
    public mutating func reserve(_ count: Int) -> Verdict {
        let verdict = verdict(incoming: count)
        if verdict == .accept { inFlight += count }
        return verdict
    }

    /// Records added without asking (this validator's own records: their nonces are spent).
    public mutating func admitted(_ count: Int) { inFlight += max(0, count) }

    /// Reserved records that were not accepted after all (a bad record, a storage failure, a full core).
    public mutating func released(_ count: Int) { inFlight = max(0, inFlight - max(0, count)) }

    /// `count` of this validator's pending records committed at `nowMs` (count may be 0: time passes).
    public mutating func committed(_ count: Int, nowMs: UInt64) {
        inFlight = max(0, inFlight - max(0, count))
        guard let start = sampleStartMs else {
            sampleStartMs = nowMs
            sampleCount = max(0, count)
            return
        }
        sampleCount += max(0, count)
        let elapsed = nowMs &- start
        guard nowMs >= start, elapsed >= settings.sampleMs else {
            if nowMs < start { sampleStartMs = nowMs }  // a clock step back restarts the sample
            return
        }
        let instant = Double(sampleCount) * 1000 / Double(elapsed)
        let weight = 1 - exp(-Double(elapsed) / Double(max(1, settings.rateTimeConstantMs)))
        ratePerSecond += weight * (instant - ratePerSecond)
        sampleStartMs = nowMs
        sampleCount = 0
    }
}

/// `AdmissionControl` shared by the API handlers (reserve, release) and the consensus node
/// (commits, own records).
public final class IntakeGate: Sendable {
    private let state: Mutex<AdmissionControl>

    public init(_ control: AdmissionControl) { state = Mutex(control) }

    public func reserve(_ count: Int) -> AdmissionControl.Verdict { state.withLock { $0.reserve(count) } }
    public func verdict(incoming count: Int) -> AdmissionControl.Verdict { state.withLock { $0.verdict(incoming: count) } }
    public func released(_ count: Int) { state.withLock { $0.released(count) } }
    public func admitted(_ count: Int) { state.withLock { $0.admitted(count) } }
    public func committed(_ count: Int, nowMs: UInt64) { state.withLock { $0.committed(count, nowMs: nowMs) } }
    public var snapshot: AdmissionControl { state.withLock { $0 } }
}
