import CairnCore

/// The wire and storage form of a `PseudoGradient`, version 1, all integers little-endian:
///
///     magic "CPGD" · version u16 = 1 · reserved u16 = 0
///     parameter_count u64 · chunk_size u32 · top_k u32 · chunk_count u32
///     per chunk: count u16 · scale f32 · count × index u16 · count × value i8
///
/// `decode` checks everything before anything is used — version, sizes against the model and
/// genesis, chunk count, per-chunk count, scale, index range and order, values — and each refusal
/// names the field and its byte offset. Only canonical blobs pass, so equal Δs have equal bytes.
public enum PseudoGradientBlob {
    public static let magic: [UInt8] = Array("CPGD".utf8)
    public static let version: UInt16 = 1
    public static let headerBytes = 4 + 2 + 2 + 8 + 4 + 4 + 4

    /// Largest blob a valid contribution can have for this model and compression.
    public static func maxBytes(parameterCount: Int, chunkSize: Int, topK: Int) -> Int {
        let chunks = PseudoGradient.chunkCount(parameterCount: parameterCount, chunkSize: chunkSize)
        return headerBytes + chunks * (2 + 4 + 3 * topK)
    }

    public static func encode(_ gradient: PseudoGradient, topK: Int) -> [UInt8] {
        var w = BlobWriter(capacity: headerBytes + gradient.chunks.count * 6 + 3 * gradient.entryCount)
        w.append(magic)
        w.u16(version)
        w.u16(0)
        w.u64(UInt64(gradient.parameterCount))
        w.u32(UInt32(gradient.chunkSize))
        w.u32(UInt32(topK))
        w.u32(UInt32(gradient.chunks.count))
        for chunk in gradient.chunks {
            w.u16(UInt16(chunk.indices.count))
            w.f32(chunk.scale)
            for index in chunk.indices { w.u16(index) }
            for value in chunk.values { w.u8(UInt8(bitPattern: value)) }
        }
        return w.bytes
    }

    /// Decodes and validates a blob for a model of `parameterCount` parameters and the genesis
    /// compression (`chunkSize`, `topK`).
    /// A contribution's blob as the genesis task defines it (its model's parameter count, its
    /// chunk size and top-k): the one decode that uploads, evaluations, the outer step, the
    /// copycat check and trainers share.
    public static func decode(_ bytes: [UInt8], task: TrainingTaskSpec) throws(BlobError) -> PseudoGradient {
        try decode(bytes, parameterCount: task.model.parameterCount, chunkSize: Int(task.compression.chunkSize), topK: Int(task.compression.topK))
    }

    public static func decode(_ bytes: [UInt8], parameterCount: Int, chunkSize: Int, topK: Int) throws(BlobError) -> PseudoGradient {
        let limit = maxBytes(parameterCount: parameterCount, chunkSize: chunkSize, topK: topK)
        guard bytes.count <= limit else {
            throw BlobError(field: "blob", offset: 0, problem: "\(bytes.count) bytes exceeds the \(limit)-byte maximum for this model and compression")
        }
        var r = BlobReader(bytes)
        try r.header(magic: magic, version: version, kind: "pseudo-gradient")
        let countAt = r.offset
        let count = try r.u64("parameter_count")
        guard count == UInt64(parameterCount) else {
            throw BlobError(field: "parameter_count", offset: countAt, problem: "\(count) does not match the model's \(parameterCount) parameters")
        }
        let chunkAt = r.offset
        let size = try r.u32("chunk_size")
        guard size == UInt32(chunkSize) else {
            throw BlobError(field: "chunk_size", offset: chunkAt, problem: "\(size) differs from genesis task.compression.chunk_size \(chunkSize)")
        }
        let topKAt = r.offset
        let k = try r.u32("top_k")
        guard k == UInt32(topK) else {
            throw BlobError(field: "top_k", offset: topKAt, problem: "\(k) differs from genesis task.compression.top_k \(topK)")
        }
        let chunksAt = r.offset
        let chunkCount = try r.u32("chunk_count")
        let expectedChunks = PseudoGradient.chunkCount(parameterCount: parameterCount, chunkSize: chunkSize)
        guard chunkCount == UInt32(expectedChunks) else {
            throw BlobError(field: "chunk_count", offset: chunksAt, problem: "\(chunkCount) chunks; the model needs \(expectedChunks)")
        }
        var chunks: [PseudoGradient.Chunk] = []
        chunks.reserveCapacity(expectedChunks)
        for c in 0..<expectedChunks {
            let length = min(chunkSize, parameterCount - c * chunkSize)
            let entriesAt = r.offset
            let entries = Int(try r.u16("chunk[\(c)].count"))
            guard entries <= min(topK, length) else {
                throw BlobError(field: "chunk[\(c)].count", offset: entriesAt, problem: "\(entries) entries; at most \(min(topK, length)) allowed")
            }
            let scaleAt = r.offset
            let scale = try r.f32("chunk[\(c)].scale")
            if entries == 0 {
                guard scale.bitPattern == 0 else {
                    throw BlobError(field: "chunk[\(c)].scale", offset: scaleAt, problem: "must be +0 in a chunk without entries")
                }
            } else {
                guard scale.isFinite, scale > 0, (127 * scale).isFinite else {
                    throw BlobError(field: "chunk[\(c)].scale", offset: scaleAt, problem: "\(scale) is not a finite positive scale")
                }
            }
            var indices: [UInt16] = []
            indices.reserveCapacity(entries)
            for e in 0..<entries {
                let indexAt = r.offset
                let index = try r.u16("chunk[\(c)].index[\(e)]")
                guard Int(index) < length else {
                    throw BlobError(field: "chunk[\(c)].index[\(e)]", offset: indexAt, problem: "\(index) is outside the chunk (length \(length))")
                }
                if let last = indices.last, index <= last {
                    throw BlobError(field: "chunk[\(c)].index[\(e)]", offset: indexAt,
                                    problem: index == last ? "duplicate index \(index)" : "\(index) after \(last): indices must increase")
                }
                indices.append(index)
            }
            var values: [Int8] = []
            values.reserveCapacity(entries)
            for e in 0..<entries {
                let valueAt = r.offset
                let value = Int8(bitPattern: try r.u8("chunk[\(c)].value[\(e)]"))
                guard value != 0, value != -128 else {
                    throw BlobError(field: "chunk[\(c)].value[\(e)]", offset: valueAt, problem: "\(value) is not allowed (values are ±1…±127)")
                }
                values.append(value)
            }
            if entries > 0, !values.contains(where: { $0 == 127 || $0 == -127 }) {
                throw BlobError(field: "chunk[\(c)].value", offset: entriesAt,
                                problem: "no value is ±127: the scale must map the chunk's largest magnitude to 127")
            }
            chunks.append(PseudoGradient.Chunk(scale: scale, indices: indices, values: values))
        }
        guard r.remaining == 0 else {
            throw BlobError(field: "blob", offset: r.offset, problem: "\(r.remaining) bytes trail the last chunk")
        }
        return PseudoGradient(parameterCount: parameterCount, chunkSize: chunkSize, chunks: chunks)
    }
}
