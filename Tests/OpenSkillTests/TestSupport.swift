import OpenSkill

/// SplitMix64: a tiny deterministic generator so every run tests the same inputs.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Number of representable doubles between a and b (0 when bitwise equal or both NaN).
func ulpDistance(_ a: Double, _ b: Double) -> UInt64 {
    if a.isNaN && b.isNaN { return 0 }
    if a.isNaN || b.isNaN { return .max }
    if a == b { return 0 }  // includes +0 / −0
    // Map the sign-magnitude bit patterns onto a monotonic integer line.
    func ordered(_ x: Double) -> Int64 {
        let bits = Int64(bitPattern: x.bitPattern)
        return bits < 0 ? Int64.min &- bits : bits
    }
    let d = ordered(a) &- ordered(b)
    return d < 0 ? UInt64(bitPattern: 0 &- d) : UInt64(d)
}

/// Histogram of ulp distances: [0, 1, 2, ≥3] plus the maximum and an example of it.
struct UlpHistogram: CustomStringConvertible {
    var counts = [Int](repeating: 0, count: 4)
    var maximum: UInt64 = 0
    var worstInput: Double = 0
    var total = 0

    mutating func add(_ distance: UInt64, input: Double) {
        total += 1
        counts[Int(min(distance, 3))] += 1
        if distance > maximum {
            maximum = distance
            worstInput = input
        }
    }

    var description: String {
        "\(total) inputs: 0 ulp \(counts[0]), 1 ulp \(counts[1]), 2 ulp \(counts[2]), ≥3 ulp \(counts[3]); "
            + "max \(maximum) ulp" + (maximum > 0 ? " at x = \(worstInput)" : "")
    }
}

#if canImport(Glibc)
import Glibc
#endif

/// An environment variable's value, or nil when unset or empty.
func environment(_ name: String) -> String? {
    guard let value = getenv(name) else { return nil }
    let string = String(cString: value)
    return string.isEmpty ? nil : string
}
