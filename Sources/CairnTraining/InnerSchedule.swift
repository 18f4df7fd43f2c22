/// The inner learning rate every trainer uses (genesis `task.training`, D60): a function of the
/// window and of how many steps the trainer's optimizer has taken, the same for every trainer.
///
/// - A linear warm-up over an optimizer's first `warmupSteps` steps: AdamW's second-moment
///   estimates are young then, whether the chain is or not (a trainer that joins late warms up
///   too).
/// - Then `peak`, constant: a network has no last window, so a schedule that decays over a
///   number of windows chosen by each trainer (what `--schedule-windows` was) left every trainer
///   at the floor after that many windows and two trainers with different flags training
///   differently.
/// - Optionally (warmup–stable–decay) a linear decay to `floor` over `decayWindows` windows
///   from window `decayStartWindow`: a chain that plans an end, or a simulation of a fixed length.
public struct InnerSchedule: Sendable, Hashable {
    public var peak: Float
    public var floor: Float
    public var warmupSteps: Int
    /// nil: constant after the warm-up.
    public var decayStartWindow: UInt64?
    public var decayWindows: UInt64

    public init(peak: Float, floor: Float, warmupSteps: Int, decayStartWindow: UInt64? = nil, decayWindows: UInt64 = 0) {
        self.peak = peak
        self.floor = floor
        self.warmupSteps = max(0, warmupSteps)
        self.decayStartWindow = decayStartWindow
        self.decayWindows = decayWindows
    }

    /// The rate of window `window`'s steps before the warm-up factor.
    public func windowRate(_ window: UInt64) -> Float {
        guard let start = decayStartWindow, window >= start else { return peak }
        guard decayWindows > 0 else { return floor }
        // Windows come from outside: 2^64 − 1 must not trap (nor a start of 0), so the progress
        // is capped before the + 1.
        let done = min(window - start, decayWindows - 1) + 1
        return floor + (peak - floor) * Float(Double(decayWindows - done) / Double(decayWindows))
    }

    /// The rate of the step an optimizer that has taken `optimizerStep` steps takes in `window`.
    public func rate(window: UInt64, optimizerStep: Int) -> Float {
        let base = windowRate(window)
        guard optimizerStep < warmupSteps else { return base }
        return base * Float(max(0, optimizerStep) + 1) / Float(warmupSteps)
    }
}
