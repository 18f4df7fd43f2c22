/// SimHash of a vector (Charikar 2002): bit j is 1 when the vector's projection on hyperplane j is
/// ≥ 0. Hyperplanes are Rademacher (±1 per coordinate) drawn from a seed, so every validator uses
/// the same planes without storing them; two vectors at angle φ differ in each bit with
/// probability φ/π.
///
/// The projection's order of summation is fixed, so validators with equal inputs get equal bits:
/// each 64 coordinates take their signs from one 64-bit draw (bit b set: coordinate b is negated,
/// an exact sign flip); coordinate i goes to accumulator i mod 8 (Float32); the 8 accumulators are
/// added as ((a0+a1)+(a2+a3))+((a4+a5)+(a6+a7)); coordinates past the last full 64 are added to
/// that sum one by one in order.
public enum SimHash {
    /// `bits` must be a positive multiple of 64; returns `bits / 64` words, bit j in word j / 64.
    public static func hash(_ vector: [Float], bits: Int, seed: UInt64) -> [UInt64] {
        precondition(bits > 0 && bits % 64 == 0)
        var words = [UInt64](repeating: 0, count: bits / 64)
        var rng = SplitMix64(seed: seed)
        let lanes = SIMD8<UInt32>(0, 1, 2, 3, 4, 5, 6, 7)
        vector.withUnsafeBufferPointer { x in
            let full = x.count / 64 * 64
            let raw = UnsafeRawPointer(x.baseAddress)
            for plane in 0..<bits {
                var acc = SIMD8<Float>(repeating: 0)
                var i = 0
                while i < full {
                    let signs = rng.next()
                    for group in 0..<8 {
                        let byte = UInt32(truncatingIfNeeded: signs >> UInt64(8 * group))
                        let mask = ((SIMD8<UInt32>(repeating: byte) &>> lanes) & 1) &<< 31
                        let v = raw!.loadUnaligned(fromByteOffset: 4 * (i + 8 * group), as: SIMD8<UInt32>.self)
                        acc += unsafeBitCast(v ^ mask, to: SIMD8<Float>.self)
                    }
                    i += 64
                }
                var sum = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]))
                if i < x.count {
                    let signs = rng.next()
                    var bit: UInt64 = 1
                    while i < x.count {
                        sum += (signs & bit) != 0 ? -x[i] : x[i]
                        bit <<= 1
                        i += 1
                    }
                }
                if sum >= 0 { words[plane / 64] |= 1 << UInt64(plane % 64) }
            }
        }
        return words
    }

    /// Number of differing bits.
    /// The hash as record bytes (`Evaluation.simHash`): each 64-bit word big-endian, words in order.
    public static func bytes(_ words: [UInt64]) -> [UInt8] {
        words.flatMap { word in (0 ..< 8).map { UInt8(truncatingIfNeeded: word >> (56 - 8 * UInt64($0))) } }
    }

    public static func distance(_ a: [UInt64], _ b: [UInt64]) -> Int {
        precondition(a.count == b.count)
        return zip(a, b).reduce(0) { $0 + ($1.0 ^ $1.1).nonzeroBitCount }
    }
}
