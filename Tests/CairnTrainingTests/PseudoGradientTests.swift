import CairnCore
import CairnTraining
import Testing

@Suite("pseudo-gradients: compression, blob format, error feedback")
struct PseudoGradientTests {
    static func randomDelta(count: Int, seed: UInt64) -> [Float] {
        var rng = SplitMix64(seed: seed)
        return (0..<count).map { _ in rng.approximateNormal() * 1e-3 }
    }

    @Test("top-k keeps the largest magnitudes of each chunk, ±127 at the largest, and round-trips through the blob", arguments: [1, 2, 3] as [UInt64])
    func compressRoundTrip(seed: UInt64) throws {
        let delta = Self.randomDelta(count: 10_000, seed: seed)
        let g = PseudoGradient.compress(delta, chunkSize: 4096, topK: 64)
        #expect(g.chunks.count == 3)
        #expect(g.length(ofChunk: 2) == 10_000 - 8192)
        for (c, chunk) in g.chunks.enumerated() {
            #expect(chunk.indices.count <= 64)
            #expect(chunk.indices == chunk.indices.sorted())
            #expect(chunk.values.contains { abs(Int($0)) == 127 })
            // Every kept magnitude is at least every dropped one in the chunk.
            let base = c * 4096, length = g.length(ofChunk: c)
            let kept = Set(chunk.indices.map(Int.init))
            let smallestKept = kept.map { abs(delta[base + $0]) }.min()!
            let largestDropped = (0..<length).filter { !kept.contains($0) }.map { abs(delta[base + $0]) }.max()!
            #expect(smallestKept >= largestDropped)
        }
        let blob = PseudoGradientBlob.encode(g, topK: 64)
        let decoded = try PseudoGradientBlob.decode(blob, parameterCount: 10_000, chunkSize: 4096, topK: 64)
        #expect(decoded == g)
        #expect(PseudoGradientBlob.encode(decoded, topK: 64) == blob)
        // Dequantized values are within half a step of the originals.
        g.forEachEntry { index, value in
            let scale = g.chunks[index / 4096].scale
            #expect(abs(value - delta[index]) <= scale / 2 * 1.0001)
        }
    }

    @Test("the reference model's blob is 82× smaller than dense Float32")
    func blobSize() throws {
        let count = try ModelLayout(ReferenceSpec.model).parameterCount
        let g = PseudoGradient.compress(Self.randomDelta(count: count, seed: 4), chunkSize: 4096, topK: 64)
        let blob = PseudoGradientBlob.encode(g, topK: 64)
        #expect(blob.count == PseudoGradientBlob.maxBytes(parameterCount: count, chunkSize: 4096, topK: 64))
        #expect(Double(4 * count) / Double(blob.count) > 80)
    }

    @Test("error feedback sends what compression dropped in later windows")
    func errorFeedback() {
        var feedback = ErrorFeedback(parameterCount: 4096)
        // A constant small Δ: top-1 of 4096 each window, so coordinates take turns.
        let delta = [Float](repeating: 1e-3, count: 4096)
        var sent = [Float](repeating: 0, count: 4096)
        for _ in 0..<64 {
            feedback.compress(delta, chunkSize: 4096, topK: 64).forEachEntry { sent[$0] += $1 }
        }
        // Everything sent plus the residual equals everything produced (up to rounding).
        for i in stride(from: 0, to: 4096, by: 97) { #expect(abs(sent[i] + feedback.residual[i] - 64e-3) < 1e-5) }
        #expect(sent.filter { $0 != 0 }.count == 4096)
    }

    /// A valid blob of 2 chunks (6000 parameters, chunk 4096, top-k 4) to corrupt field by field.
    static func valid() -> [UInt8] {
        var delta = [Float](repeating: 0, count: 6000)
        for (i, v) in [(3, 0.5), (10, -1.0), (4000, 0.25), (4100, 2.0), (5999, -0.1)] as [(Int, Float)] { delta[i] = v }
        return PseudoGradientBlob.encode(PseudoGradient.compress(delta, chunkSize: 4096, topK: 4), topK: 4)
    }

    static func decode(_ bytes: [UInt8]) throws(BlobError) -> PseudoGradient {
        try PseudoGradientBlob.decode(bytes, parameterCount: 6000, chunkSize: 4096, topK: 4)
    }

    static func le<T: FixedWidthInteger>(_ value: T) -> [UInt8] { withUnsafeBytes(of: value.littleEndian, Array.init) }

    /// One way to corrupt `valid()` and the field the decoder must name.
    enum Corruption: String, CaseIterable, Sendable {
        case magic, version, reserved, parameterCount, chunkSize, topK, chunkCount, tooManyEntries
        case nanScale, infiniteScale, negativeScale, zeroScale, hugeScale
        case duplicateIndex, decreasingIndex, indexOutsideChunk, indexOutsideShortChunk
        case zeroValue, minus128, no127, trailingByte, truncated, empty

        var field: String {
            switch self {
            case .magic, .empty: "magic"
            case .version: "version"
            case .reserved: "reserved"
            case .parameterCount: "parameter_count"
            case .chunkSize: "chunk_size"
            case .topK: "top_k"
            case .chunkCount: "chunk_count"
            case .tooManyEntries: "chunk[0].count"
            case .nanScale, .infiniteScale, .negativeScale, .zeroScale, .hugeScale: "chunk[0].scale"
            case .duplicateIndex, .decreasingIndex: "chunk[0].index[1]"
            case .indexOutsideChunk: "chunk[0].index[2]"
            case .indexOutsideShortChunk: "chunk[1].index[1]"
            case .zeroValue, .minus128: "chunk[0].value[0]"
            case .no127: "chunk[0].value"
            case .trailingByte: "blob"
            case .truncated: "chunk[1].value[1]"
            }
        }

        func apply(_ b: inout [UInt8]) {
            func put<T: FixedWidthInteger>(_ value: T, at offset: Int) {
                b.replaceSubrange(offset..<(offset + MemoryLayout<T>.size), with: PseudoGradientTests.le(value))
            }
            switch self {
            case .magic: b[0] = 0x58
            case .version: b[4] = 2
            case .reserved: b[6] = 1
            case .parameterCount: b[8] = 0x71
            case .chunkSize: b[17] = 0
            case .topK: b[20] = 5
            case .chunkCount: b[24] = 3
            case .tooManyEntries: b[28] = 5
            case .nanScale: put(Float.nan.bitPattern, at: 30)
            case .infiniteScale: put(Float.infinity.bitPattern, at: 30)
            case .negativeScale: put((-Float(1)).bitPattern, at: 30)
            case .zeroScale: put(Float(0).bitPattern, at: 30)
            case .hugeScale: put(Float.greatestFiniteMagnitude.bitPattern, at: 30)
            case .duplicateIndex: put(UInt16(3), at: 36)
            case .decreasingIndex: put(UInt16(2), at: 36)
            case .indexOutsideChunk: put(UInt16(4096), at: 38)
            case .indexOutsideShortChunk: put(UInt16(1904), at: 51)
            case .zeroValue: b[40] = 0
            case .minus128: b[40] = 0x80
            case .no127: b[40] = 3; b[41] = 3; b[42] = 3
            case .trailingByte: b.append(0)
            case .truncated: b.removeLast()
            case .empty: b = []
            }
        }
    }

    @Test("every malformed blob is refused, naming the field", arguments: Corruption.allCases)
    func malformed(corruption: Corruption) throws {
        var bytes = Self.valid()
        #expect(bytes.count == 55)
        _ = try Self.decode(bytes)
        corruption.apply(&bytes)
        let error = #expect(throws: BlobError.self) { try Self.decode(bytes) }
        #expect(error?.field == corruption.field, "got \(String(describing: error))")
    }

    @Test("an empty chunk needs scale +0; a blob above the size bound is refused before parsing")
    func emptyChunkAndSize() throws {
        let zero = PseudoGradient.compress([Float](repeating: 0, count: 6000), chunkSize: 4096, topK: 4)
        var bytes = PseudoGradientBlob.encode(zero, topK: 4)
        #expect(try Self.decode(bytes) == zero)
        bytes.replaceSubrange(30..<34, with: Self.le((-Float(0)).bitPattern))
        #expect(throws: BlobError.self) { try Self.decode(bytes) }
        let huge = [UInt8](repeating: 0, count: PseudoGradientBlob.maxBytes(parameterCount: 6000, chunkSize: 4096, topK: 4) + 1)
        let error = #expect(throws: BlobError.self) { try Self.decode(huge) }
        #expect(error?.field == "blob")
    }
}
