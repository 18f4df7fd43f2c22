/// What a trainer keeps between windows and across restarts (`cairn submit` writes it next to the
/// key file): the error-feedback residual and the last window it contributed to. Little-endian:
///
///     magic "CTRS" · version u16 = 1 · reserved u16 = 0 · last_window u64 (2^64 − 1: none)
///     parameter_count u64 · residual f32 × count
///
/// The decoder refuses another model's size, a wrong length or a non-finite value, naming it.
public struct TrainerState: Sendable, Equatable {
    public static let magic: [UInt8] = Array("CTRS".utf8)
    public static let version: UInt16 = 1

    public var lastWindow: UInt64?
    public var feedback: ErrorFeedback

    public init(lastWindow: UInt64?, feedback: ErrorFeedback) {
        self.lastWindow = lastWindow
        self.feedback = feedback
    }

    public static func == (a: TrainerState, b: TrainerState) -> Bool {
        a.lastWindow == b.lastWindow && a.feedback.residual == b.feedback.residual
    }

    public func encode() -> [UInt8] {
        var w = BlobWriter(capacity: 32 + 4 * feedback.residual.count)
        w.append(Self.magic)
        w.u16(Self.version)
        w.u16(0)
        w.u64(lastWindow ?? .max)
        w.u64(UInt64(feedback.residual.count))
        for value in feedback.residual { w.f32(value) }
        return w.bytes
    }

    public static func decode(_ bytes: [UInt8], parameterCount: Int) throws(BlobError) -> TrainerState {
        var r = BlobReader(bytes)
        try r.header(magic: magic, version: version, kind: "trainer state")
        let last = try r.u64("last_window")
        let countAt = r.offset
        let count = try r.u64("parameter_count")
        guard count == UInt64(parameterCount) else {
            throw BlobError(field: "parameter_count", offset: countAt, problem: "\(count) parameters; this task's model has \(parameterCount)")
        }
        guard r.remaining == 4 * parameterCount else {
            throw BlobError(field: "residual", offset: r.offset, problem: "\(r.remaining) bytes; exactly \(4 * parameterCount) expected")
        }
        var residual = [Float](repeating: 0, count: parameterCount)
        for i in residual.indices {
            let at = r.offset
            let value = try r.f32("residual[\(i)]")
            guard value.isFinite else { throw BlobError(field: "residual[\(i)]", offset: at, problem: "\(value) is not finite") }
            residual[i] = value
        }
        return TrainerState(lastWindow: last == .max ? nil : last, feedback: ErrorFeedback(residual: residual))
    }
}
