import Foundation

/// Learning rate by step: a linear warm-up, then cosine decay from `peak` to `floor` at `total`
/// steps (the schedule of the reference numbers in ARCHITECTURE §6).
public struct LearningSchedule: Sendable, Hashable {
    public var peak: Float
    public var floor: Float
    public var warmupSteps: Int
    public var total: Int

    public init(peak: Float, floor: Float, warmupSteps: Int, total: Int) {
        self.peak = peak
        self.floor = floor
        self.warmupSteps = max(0, warmupSteps)
        self.total = max(1, total)
    }

    public func rate(at step: Int) -> Float {
        if step < warmupSteps { return peak * Float(step + 1) / Float(warmupSteps) }
        let span = max(1, total - warmupSteps)
        let progress = min(1, Double(step - warmupSteps) / Double(span))
        return floor + (peak - floor) * Float(0.5 * (1 + cos(Double.pi * progress)))
    }
}
