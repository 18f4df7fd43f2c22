import Foundation

/// Ways of computing the same logits that differ only in floating-point summation order, as two
/// honest validators on different machines would: OpenBLAS (whose kernels and thread split vary by
/// CPU) and plain loops that sum each output's inputs forwards, backwards or in 64-element blocks.
/// The noise bench measures how far the output hash moves between them.
public enum SummationPath: Hashable, Sendable, CustomStringConvertible {
    case blas(threads: Int)
    case forwardLoops
    case reverseLoops
    case blockedLoops

    public var description: String {
        switch self {
        case .blas(let threads): "OpenBLAS, \(threads) thread\(threads == 1 ? "" : "s")"
        case .forwardLoops: "Swift loops, inputs ascending"
        case .reverseLoops: "Swift loops, inputs descending, bias last"
        case .blockedLoops: "Swift loops, 64-input blocks summed pairwise"
        }
    }

    /// Logits `[positions × vocabulary]` of `theta` by this path.
    public func logits(task: ReferenceTask, theta: [Float], positions: [Int], workspace: ByteMLP.Workspace) -> [Float] {
        if case .blas(let threads) = self {
            GEMM.setThreads(threads)
            defer { GEMM.setThreads(1) }
            return Evaluator(task: task, parameters: EvaluationParameters(ownContexts: 1, randomContexts: 1, step: 1, probeContexts: 1, bits: 64))
                .logits(theta, positions: positions, workspace: workspace)
        }
        let layout = task.layout
        var out: [Float] = []
        out.reserveCapacity(positions.count * layout.vocabulary)
        let text = task.corpus.bytes
        for position in positions {
            var x: [Float] = []
            x.reserveCapacity(layout.inputWidth)
            for j in 0..<layout.contextBytes {
                let row = layout.embedding.offset + Int(text[position + j]) * layout.embeddingDim
                x += theta[row..<(row + layout.embeddingDim)]
            }
            for layer in 0...layout.hiddenUnits.count {
                let hidden = layer < layout.hiddenUnits.count
                let (weight, bias) = hidden ? layout.hidden(layer) : layout.output
                var y = affine(x, theta: theta, weight: weight, bias: bias)
                if hidden { for o in y.indices { y[o] = FastTanh.value(y[o]) } }
                x = y
            }
            out += x
        }
        return out
    }

    /// y = x · W + b with this path's order; W is `[inputs × outputs]` row-major, so each step adds
    /// x[i] · W[i, :] to all outputs at once (the order over i is what differs).
    private func affine(_ x: [Float], theta: [Float], weight: ParameterSlot, bias: ParameterSlot) -> [Float] {
        let n = weight.columns
        var y = [Float](repeating: 0, count: n)
        theta.withUnsafeBufferPointer { t in
            let w = t.baseAddress! + weight.offset, b = t.baseAddress! + bias.offset
            y.withUnsafeMutableBufferPointer { y in
                func addRow(_ i: Int, into target: UnsafeMutableBufferPointer<Float>) {
                    let xi = x[i], row = w + i * n
                    for o in 0..<n { target[o] += xi * row[o] }
                }
                switch self {
                case .forwardLoops:
                    for o in 0..<n { y[o] = b[o] }
                    for i in 0..<x.count { addRow(i, into: y) }
                case .reverseLoops:
                    for i in stride(from: x.count - 1, through: 0, by: -1) { addRow(i, into: y) }
                    for o in 0..<n { y[o] += b[o] }
                case .blockedLoops:
                    var partial = [Float](repeating: 0, count: n)
                    partial.withUnsafeMutableBufferPointer { partial in
                        var start = 0
                        while start < x.count {
                            for o in 0..<n { partial[o] = 0 }
                            for i in start..<min(start + 64, x.count) { addRow(i, into: partial) }
                            for o in 0..<n { y[o] += partial[o] }
                            start += 64
                        }
                    }
                    for o in 0..<n { y[o] = b[o] + y[o] }
                case .blas:
                    preconditionFailure("handled above")
                }
            }
        }
        return y
    }
}
