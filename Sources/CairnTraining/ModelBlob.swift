import CairnCore
import CairnCrypto

/// A model's parameters as stored and exchanged, version 1, little-endian:
///
///     magic "CMDL" · version u16 = 1 · reserved u16 = 0
///     task name: length u8 + UTF-8 · context u32 · embedding u32 · hidden count u8 · hidden u32s
///     vocabulary u32 · parameter_count u64 · parameters f32 × count
///
/// The model hash is SHA-256(0x04 ‖ blob). A decoder refuses any blob whose task or shapes differ
/// from genesis, whose length is not exact or that holds a non-finite value.
public enum ModelBlob {
    public static let magic: [UInt8] = Array("CMDL".utf8)
    public static let version: UInt16 = 1

    /// Refuses a non-finite parameter (D59): such a blob would be refused by every decoder, so a
    /// model holding one must never be stored or named (a restarted node could not load it).
    public static func encode(_ parameters: [Float], task name: String, spec: ModelSpec) throws(BlobError) -> [UInt8] {
        if let bad = parameters.firstIndex(where: { !$0.isFinite }) {
            throw BlobError(field: "parameters[\(bad)]", offset: 0, problem: "\(parameters[bad]) is not finite; a model with a non-finite parameter is not encoded")
        }
        var w = BlobWriter(capacity: 64 + 4 * parameters.count)
        w.append(magic)
        w.u16(version)
        w.u16(0)
        let nameBytes = Array(name.utf8.prefix(255))
        w.u8(UInt8(nameBytes.count))
        w.append(nameBytes)
        w.u32(spec.contextBytes)
        w.u32(spec.embeddingDim)
        w.u8(UInt8(min(spec.hiddenUnits.count, 255)))
        for units in spec.hiddenUnits.prefix(255) { w.u32(units) }
        w.u32(spec.vocabulary)
        w.u64(UInt64(parameters.count))
        for value in parameters { w.f32(value) }
        return w.bytes
    }

    public static func hash(_ blob: [UInt8]) -> Digest { Hashing.digest(.model, blob) }

    public static func decode(_ bytes: [UInt8], task name: String, spec: ModelSpec) throws(BlobError) -> [Float] {
        let layout: ModelLayout
        do { layout = try ModelLayout(spec) } catch { throw BlobError(field: "genesis task.model", offset: 0, problem: error.description) }
        var r = BlobReader(bytes)
        try r.header(magic: magic, version: version, kind: "model")
        let nameAt = r.offset
        let nameLength = Int(try r.u8("task.length"))
        let blobName = String(decoding: try r.take(nameLength, "task"), as: UTF8.self)
        guard blobName == name else { throw BlobError(field: "task", offset: nameAt, problem: "model of task '\(blobName)', genesis names '\(name)'") }
        let shapeAt = r.offset
        let context = try r.u32("context_bytes"), embedding = try r.u32("embedding_dim")
        let layers = Int(try r.u8("hidden_count"))
        var hidden: [UInt32] = []
        for i in 0..<layers { hidden.append(try r.u32("hidden_units[\(i)]")) }
        let vocabulary = try r.u32("vocabulary")
        let shape = ModelSpec(contextBytes: context, embeddingDim: embedding, hiddenUnits: hidden, vocabulary: vocabulary)
        guard shape == spec else {
            throw BlobError(field: "shape", offset: shapeAt, problem: "model shape \(context)/\(embedding)/\(hidden)/\(vocabulary) differs from genesis \(spec.contextBytes)/\(spec.embeddingDim)/\(spec.hiddenUnits)/\(spec.vocabulary)")
        }
        let countAt = r.offset
        let count = try r.u64("parameter_count")
        guard count == UInt64(layout.parameterCount) else {
            throw BlobError(field: "parameter_count", offset: countAt, problem: "\(count) does not match the shape's \(layout.parameterCount)")
        }
        guard r.remaining == 4 * layout.parameterCount else {
            throw BlobError(field: "parameters", offset: r.offset, problem: "\(r.remaining) bytes; exactly \(4 * layout.parameterCount) expected")
        }
        var parameters = [Float](repeating: 0, count: layout.parameterCount)
        for i in parameters.indices {
            let at = r.offset
            let value = try r.f32("parameters[\(i)]")
            guard value.isFinite else { throw BlobError(field: "parameters[\(i)]", offset: at, problem: "\(value) is not finite") }
            parameters[i] = value
        }
        return parameters
    }
}
