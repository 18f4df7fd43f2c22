import CairnCore
import CairnTraining

/// A small model and a synthetic corpus for fast tests: context 3, embedding 4, hidden 5 and 6.
enum Tiny {
    static let spec = ModelSpec(contextBytes: 3, embeddingDim: 4, hiddenUnits: [5, 6], vocabulary: 256)

    /// Bytes with structure a model can learn: a repeating phrase with seeded noise.
    static func corpus(count: Int = 6000, seed: UInt64 = 1) -> [UInt8] {
        var rng = SplitMix64(seed: seed)
        let phrase = Array("the quick brown fox jumps over the lazy dog. ".utf8)
        return (0..<count).map { i in rng.below(10) == 0 ? UInt8(truncatingIfNeeded: rng.next()) : phrase[i % phrase.count] }
    }

    static func task(_ spec: ModelSpec = spec, bytes: [UInt8] = corpus()) throws -> ReferenceTask {
        let text = try CorpusText(bytes: bytes, expected: CorpusText.spec(of: bytes, source: "synthetic"))
        return try ReferenceTask(corpus: text, model: spec)
    }
}

/// The byte MLP in naive loops over any floating-point type: the gradient check's reference, in
/// Double. Mirrors `ByteMLP`'s layout and math, written independently (no BLAS, no workspace).
struct MLPReference<T: BinaryFloatingPoint> {
    let layout: ModelLayout

    func loss(_ theta: [T], text: [UInt8], positions: [Int], tanh: (T) -> T, exp: (T) -> T, log: (T) -> T) -> T {
        var total: T = 0
        for p in positions {
            var x: [T] = []
            for j in 0..<layout.contextBytes {
                let row = layout.embedding.offset + Int(text[p + j]) * layout.embeddingDim
                x += theta[row..<(row + layout.embeddingDim)]
            }
            for layer in 0...layout.hiddenUnits.count {
                let (w, b) = layer < layout.hiddenUnits.count ? layout.hidden(layer) : layout.output
                var y = [T](repeating: 0, count: w.columns)
                for o in 0..<w.columns {
                    var s = theta[b.offset + o]
                    for i in 0..<w.rows { s += x[i] * theta[w.offset + i * w.columns + o] }
                    y[o] = layer < layout.hiddenUnits.count ? tanh(s) : s
                }
                x = y
            }
            let m = x.max()!
            let sum = x.reduce(T(0)) { $0 + exp($1 - m) }
            total += log(sum) - (x[Int(text[p + layout.contextBytes])] - m)
        }
        return total / T(positions.count)
    }
}
