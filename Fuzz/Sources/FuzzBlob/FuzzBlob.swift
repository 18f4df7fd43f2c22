import CairnCore
import CairnTraining

/// Feeds arbitrary bytes to the blob decoders a validator runs on untrusted uploads: pseudo-gradients
/// (a small model and the genesis model's size) and model blobs. Crashes are bugs; so is a blob that
/// decodes but does not re-encode to the same bytes (only canonical blobs may pass), or a decoded
/// Δ whose dequantized values, norm or indices are not what the validator relies on.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzBlob(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let selector = bytes.first else { return 0 }
    let payload = Array(bytes.dropFirst())
    switch selector % 3 {
    case 0: checkGradient(payload, parameterCount: 6000, chunkSize: 4096, topK: 4)
    case 1: checkGradient(payload, parameterCount: 664_832, chunkSize: 4096, topK: 64)
    default:
        let spec = ModelSpec(contextBytes: 3, embeddingDim: 4, hiddenUnits: [5, 6], vocabulary: 256)
        if let theta = try? ModelBlob.decode(payload, task: "byte-lm-v1", spec: spec) {
            check(theta.allSatisfy(\.isFinite), "a decoded model holds a non-finite value")
            check(ModelBlob.encode(theta, task: "byte-lm-v1", spec: spec) == payload, "model blob is not canonical")
        }
    }
    return 0
}

private func checkGradient(_ payload: [UInt8], parameterCount: Int, chunkSize: Int, topK: Int) {
    guard let g = try? PseudoGradientBlob.decode(payload, parameterCount: parameterCount, chunkSize: chunkSize, topK: topK) else { return }
    check(PseudoGradientBlob.encode(g, topK: topK) == payload, "pseudo-gradient blob is not canonical")
    var previous = -1
    g.forEachEntry { index, value in
        check(index > previous && index < parameterCount, "entry index out of order or range")
        check(value.isFinite && value != 0, "dequantized value not finite or zero")
        previous = index
    }
    check(g.l2Norm.isFinite, "norm not finite")
    // Re-compressing the dense Δ keeps a canonical blob (values may requantize, nothing traps).
    _ = PseudoGradientBlob.encode(PseudoGradient.compress(g.dense(), chunkSize: chunkSize, topK: topK), topK: topK)
}

private func check(_ condition: Bool, _ message: String) {
    if !condition { fatalError(message) }
}
