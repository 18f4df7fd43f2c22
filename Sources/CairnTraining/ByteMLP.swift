import Foundation

/// The reference task's model: a byte-level MLP language model. A context of `contextBytes` bytes
/// is embedded byte by byte, concatenated, passed through tanh hidden layers and projected to 256
/// logits for the next byte. Forward and backward are written out by hand (no autodiff); the matrix
/// products go through OpenBLAS (`GEMM`), everything else is plain loops.
///
/// Buffers for one batch live in a `Workspace`, so a training loop allocates nothing per step. A
/// workspace is not shared between threads; several evaluations in parallel use one each.
public struct ByteMLP: Sendable {
    public let layout: ModelLayout

    public init(layout: ModelLayout) { self.layout = layout }

    /// Activations and gradient scratch for batches of up to `capacity` contexts.
    public final class Workspace {
        public let capacity: Int
        /// Concatenated embeddings `[batch × inputWidth]`.
        var input: [Float]
        /// Post-tanh output of each hidden layer `[batch × units]`.
        var hidden: [[Float]]
        /// Logits, then (in backward) their gradient `[batch × vocabulary]`.
        var logits: [Float]
        /// Gradient flowing backward through the layers (sized for the widest layer).
        var upstream: [Float]
        var downstream: [Float]

        public init(layout: ModelLayout, capacity: Int) {
            precondition(capacity > 0)
            self.capacity = capacity
            input = [Float](repeating: 0, count: capacity * layout.inputWidth)
            hidden = layout.hiddenUnits.map { [Float](repeating: 0, count: capacity * $0) }
            logits = [Float](repeating: 0, count: capacity * layout.vocabulary)
            let widest = max(layout.inputWidth, layout.hiddenUnits.max() ?? 0, layout.vocabulary)
            upstream = [Float](repeating: 0, count: capacity * widest)
            downstream = [Float](repeating: 0, count: capacity * widest)
        }
    }

    /// Fills `workspace.logits` for the contexts that start at `positions` in `text`.
    /// Each position needs `contextBytes` bytes of context (the target is read separately).
    public func forward(_ parameters: UnsafeBufferPointer<Float>, text: UnsafeBufferPointer<UInt8>,
                        positions: ArraySlice<Int>, workspace: Workspace) {
        let batch = positions.count
        precondition(batch > 0 && batch <= workspace.capacity, "batch \(batch) exceeds the workspace")
        precondition(parameters.count == layout.parameterCount)
        let c = layout.contextBytes, e = layout.embeddingDim, width = layout.inputWidth
        let embedding = parameters.baseAddress! + layout.embedding.offset
        workspace.input.withUnsafeMutableBufferPointer { input in
            for (row, position) in positions.enumerated() {
                precondition(position >= 0 && position + c <= text.count, "context outside the text")
                for j in 0..<c {
                    let source = embedding + Int(text[position + j]) * e
                    let target = input.baseAddress! + row * width + j * e
                    target.update(from: source, count: e)
                }
            }
        }
        var previous = workspace.input
        var previousWidth = width
        for (layer, units) in layout.hiddenUnits.enumerated() {
            let (weight, bias) = layout.hidden(layer)
            workspace.hidden[layer].withUnsafeMutableBufferPointer { out in
                Self.affine(previous, width: previousWidth, parameters: parameters, weight: weight, bias: bias,
                            batch: batch, into: out.baseAddress!)
                Self.tanhInPlace(out.baseAddress!, count: batch * units)
            }
            previous = workspace.hidden[layer]
            previousWidth = units
        }
        let (weight, bias) = layout.output
        workspace.logits.withUnsafeMutableBufferPointer { out in
            Self.affine(previous, width: previousWidth, parameters: parameters, weight: weight, bias: bias,
                        batch: batch, into: out.baseAddress!)
        }
    }

    /// `out[batch × units] = x · W + b`.
    private static func affine(_ x: [Float], width: Int, parameters: UnsafeBufferPointer<Float>,
                               weight: ParameterSlot, bias: ParameterSlot, batch: Int,
                               into out: UnsafeMutablePointer<Float>) {
        let units = bias.count
        let b = parameters.baseAddress! + bias.offset
        for row in 0..<batch { (out + row * units).update(from: b, count: units) }
        x.withUnsafeBufferPointer { x in
            GEMM.multiply(x.baseAddress!, transposeA: false, parameters.baseAddress! + weight.offset, transposeB: false,
                          into: out, m: batch, n: units, k: width, beta: 1)
        }
    }

    private static func tanhInPlace(_ values: UnsafeMutablePointer<Float>, count: Int) {
        FastTanh.apply(values, count: count)
    }

    /// Mean cross-entropy (nats per byte) of the next byte after each context.
    public func loss(_ parameters: UnsafeBufferPointer<Float>, text: UnsafeBufferPointer<UInt8>,
                     positions: ArraySlice<Int>, workspace: Workspace) -> Double {
        forward(parameters, text: text, positions: positions, workspace: workspace)
        return crossEntropy(text: text, positions: positions, workspace: workspace, gradient: false)
    }

    /// Cross-entropy of the logits in `workspace`; with `gradient`, replaces the logits by
    /// d(mean loss)/d(logits) = (softmax − one-hot) / batch.
    @discardableResult
    func crossEntropy(text: UnsafeBufferPointer<UInt8>, positions: ArraySlice<Int>, workspace: Workspace,
                      gradient: Bool) -> Double {
        let v = layout.vocabulary, c = layout.contextBytes
        let batch = positions.count
        let scale = 1 / Float(batch)
        var total = 0.0
        workspace.logits.withUnsafeMutableBufferPointer { logits in
            for (row, position) in positions.enumerated() {
                precondition(position + c < text.count, "target byte outside the text")
                let target = Int(text[position + c])
                let z = logits.baseAddress! + row * v
                var maximum = z[0]
                for i in 1..<v where z[i] > maximum { maximum = z[i] }
                var sum: Float = 0
                for i in 0..<v { sum += expf(z[i] - maximum) }
                let logSum = logf(sum)
                total += Double(logSum - (z[target] - maximum))
                if gradient {
                    let inverse = 1 / sum
                    for i in 0..<v { z[i] = expf(z[i] - maximum) * inverse * scale }
                    z[target] -= scale
                }
            }
        }
        return total / Double(batch)
    }

    /// Mean cross-entropy over the batch; adds its gradient to `gradient` (which the caller zeroes
    /// when it wants the gradient alone).
    public func lossAndGradient(_ parameters: UnsafeBufferPointer<Float>, text: UnsafeBufferPointer<UInt8>,
                                positions: ArraySlice<Int>, workspace: Workspace,
                                gradient: UnsafeMutableBufferPointer<Float>) -> Double {
        precondition(gradient.count == layout.parameterCount)
        forward(parameters, text: text, positions: positions, workspace: workspace)
        let loss = crossEntropy(text: text, positions: positions, workspace: workspace, gradient: true)
        let batch = positions.count
        let p = parameters.baseAddress!, g = gradient.baseAddress!
        let layers = layout.hiddenUnits.count

        // dUpstream = d(loss)/d(pre-activation output of the current layer), [batch × units].
        workspace.upstream.withUnsafeMutableBufferPointer { up in
            workspace.logits.withUnsafeBufferPointer { dLogits in
                up.baseAddress!.update(from: dLogits.baseAddress!, count: batch * layout.vocabulary)
            }
        }
        var units = layout.vocabulary
        for step in 0...layers {
            // Layer being differentiated: the output layer first, then hidden layers top-down.
            let layer = layers - step  // == layers for the output layer
            let (weight, bias) = layer == layers ? layout.output : layout.hidden(layer)
            let inputWidth = layer == 0 ? layout.inputWidth : layout.hiddenUnits[layer - 1]
            let input = layer == 0 ? workspace.input : workspace.hidden[layer - 1]
            workspace.upstream.withUnsafeMutableBufferPointer { up in
                let dOut = up.baseAddress!
                // Bias gradient: column sums of dOut.
                for row in 0..<batch {
                    let r = dOut + row * units
                    for j in 0..<units { g[bias.offset + j] += r[j] }
                }
                // Weight gradient: inputᵀ · dOut, accumulated.
                input.withUnsafeBufferPointer { x in
                    GEMM.multiply(x.baseAddress!, transposeA: true, dOut, transposeB: false,
                                  into: g + weight.offset, m: inputWidth, n: units, k: batch, beta: 1)
                }
                // Gradient of the layer's input: dOut · Wᵀ.
                workspace.downstream.withUnsafeMutableBufferPointer { down in
                    GEMM.multiply(dOut, transposeA: false, p + weight.offset, transposeB: true,
                                  into: down.baseAddress!, m: batch, n: inputWidth, k: units)
                }
            }
            if layer > 0 {
                // Through tanh: d(pre) = d(post) · (1 − post²).
                let post = workspace.hidden[layer - 1]
                let count = batch * inputWidth
                workspace.downstream.withUnsafeBufferPointer { down in
                    workspace.upstream.withUnsafeMutableBufferPointer { up in
                        post.withUnsafeBufferPointer { a in
                            for i in 0..<count { up[i] = down[i] * (1 - a[i] * a[i]) }
                        }
                    }
                }
                units = inputWidth
            }
        }
        // Embedding gradient: scatter the input gradient back to each context byte's row.
        let c = layout.contextBytes, e = layout.embeddingDim, width = layout.inputWidth
        let embedding = g + layout.embedding.offset
        workspace.downstream.withUnsafeBufferPointer { down in
            for (row, position) in positions.enumerated() {
                for j in 0..<c {
                    let target = embedding + Int(text[position + j]) * e
                    let source = down.baseAddress! + row * width + j * e
                    for i in 0..<e { target[i] += source[i] }
                }
            }
        }
        return loss
    }

    /// Copies the logits of the last forward pass (`[batch × vocabulary]`).
    public func logits(of workspace: Workspace, batch: Int) -> [Float] {
        Array(workspace.logits.prefix(batch * layout.vocabulary))
    }
}
