import CairnCore

/// A compressed pseudo-gradient Δ = θ_k − θ_local (ARCHITECTURE §6): the flat parameter space cut
/// into chunks of `chunkSize` elements; of each chunk the `topK` largest magnitudes are kept as int8
/// values with one Float32 scale per chunk and uint16 indices within the chunk.
///
/// Canonical form (so equal Δs encode to equal bytes): indices strictly increasing, no zero value,
/// no −128 (the int8 range stays symmetric), at least one ±127 (the scale maps the largest kept
/// magnitude to 127), scale > 0 and finite when the chunk has entries and
/// exactly +0 when it has none.
public struct PseudoGradient: Hashable, Sendable {
    public struct Chunk: Hashable, Sendable {
        public var scale: Float
        public var indices: [UInt16]
        public var values: [Int8]

        public init(scale: Float, indices: [UInt16], values: [Int8]) {
            self.scale = scale
            self.indices = indices
            self.values = values
        }
    }

    public let parameterCount: Int
    public let chunkSize: Int
    public let chunks: [Chunk]

    public init(parameterCount: Int, chunkSize: Int, chunks: [Chunk]) {
        self.parameterCount = parameterCount
        self.chunkSize = chunkSize
        self.chunks = chunks
    }

    public static func chunkCount(parameterCount: Int, chunkSize: Int) -> Int { (parameterCount + chunkSize - 1) / chunkSize }

    /// Elements of chunk `c` (the last chunk may be short).
    public func length(ofChunk c: Int) -> Int { min(chunkSize, parameterCount - c * chunkSize) }

    /// Number of kept entries.
    public var entryCount: Int { chunks.reduce(0) { $0 + $1.indices.count } }

    /// Compresses `delta`: per chunk, the `topK` largest |value| (ties: lower index first), scaled so
    /// the largest maps to ±127, rounded to nearest even; entries that round to 0 are dropped.
    public static func compress(_ delta: [Float], chunkSize: Int, topK: Int) -> PseudoGradient {
        precondition(chunkSize > 0 && chunkSize <= 65536 && topK > 0 && topK <= chunkSize)
        let count = chunkCount(parameterCount: delta.count, chunkSize: chunkSize)
        var chunks: [Chunk] = []
        chunks.reserveCapacity(count)
        var order: [Int] = []
        for c in 0..<count {
            let start = c * chunkSize, end = min(start + chunkSize, delta.count)
            order = Array(0..<(end - start))
            // A total order: magnitude descending, then index ascending. Non-finite values never
            // reach here (the trainer checks its Δ); NaN would sort last and be dropped below.
            let keep = min(topK, order.count)
            order.sort { a, b in
                let x = abs(delta[start + a]), y = abs(delta[start + b])
                return x != y ? x > y : a < b
            }
            var selected = order.prefix(keep).filter { delta[start + $0].isFinite && delta[start + $0] != 0 }
            selected.sort()
            let maximum = selected.reduce(Float(0)) { max($0, abs(delta[start + $1])) }
            guard maximum > 0, maximum.isFinite else {
                chunks.append(Chunk(scale: 0, indices: [], values: []))
                continue
            }
            let scale = maximum / 127
            var indices: [UInt16] = [], values: [Int8] = []
            for i in selected {
                let q = (delta[start + i] / scale).rounded(.toNearestOrEven)
                let clamped = max(-127, min(127, q))
                guard clamped != 0 else { continue }
                indices.append(UInt16(i))
                values.append(Int8(clamped))
            }
            chunks.append(indices.isEmpty ? Chunk(scale: 0, indices: [], values: []) : Chunk(scale: scale, indices: indices, values: values))
        }
        return PseudoGradient(parameterCount: delta.count, chunkSize: chunkSize, chunks: chunks)
    }

    /// The dense Δ this represents (zeros where nothing was kept).
    public func dense() -> [Float] {
        var out = [Float](repeating: 0, count: parameterCount)
        forEachEntry { index, value in out[index] = value }
        return out
    }

    /// Visits every kept entry as (flat index, dequantized value) in increasing index order.
    /// Dequantization is one exact-rounded product: `Float(q) * scale`.
    public func forEachEntry(_ body: (Int, Float) -> Void) {
        for (c, chunk) in chunks.enumerated() {
            let base = c * chunkSize
            for (i, q) in zip(chunk.indices, chunk.values) { body(base + Int(i), Float(q) * chunk.scale) }
        }
    }

    /// Sorted flat indices of the kept entries (the copycat check compares these).
    public var flatIndices: [Int] {
        var out: [Int] = []
        out.reserveCapacity(entryCount)
        forEachEntry { index, _ in out.append(index) }
        return out
    }

    /// L2 norm of the dequantized Δ, accumulated in Double in index order (so every validator gets
    /// the same bits: IEEE basic operations and `squareRoot` are correctly rounded).
    public var l2Norm: Double {
        var sum = 0.0
        forEachEntry { _, value in sum += Double(value) * Double(value) }
        return sum.squareRoot()
    }
}

/// Error feedback (the trainer's memory of what compression dropped): each window compresses
/// Δ + β·e and keeps e ← (Δ + β·e) − decompress(·), so small coordinates are sent once they add up.
/// The decay β < 1 (genesis `feedback_decay`, D60; SparseLoCo's e ← βe + Δ) forgets progress
/// computed on models many windows old; β = 1 keeps all of it.
public struct ErrorFeedback: Sendable {
    public private(set) var residual: [Float]

    public init(parameterCount: Int) { residual = [Float](repeating: 0, count: parameterCount) }

    /// Resumes from a residual saved earlier (`TrainerState`).
    public init(residual: [Float]) { self.residual = residual }

    public mutating func compress(_ delta: [Float], chunkSize: Int, topK: Int, decay: Float = 1) -> PseudoGradient {
        precondition(delta.count == residual.count)
        var corrected = delta
        for i in corrected.indices { corrected[i] += decay * residual[i] }
        let compressed = PseudoGradient.compress(corrected, chunkSize: chunkSize, topK: topK)
        residual = corrected
        compressed.forEachEntry { index, value in residual[index] = corrected[index] - value }
        return compressed
    }
}
