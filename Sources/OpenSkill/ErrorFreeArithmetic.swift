// Error-free transformations on binary64 using only IEEE +, −, × (round to nearest).
//
// These are the classic building blocks of double-double arithmetic (Knuth's TwoSum,
// Dekker's Fast2Sum, Veltkamp's split and Dekker's product). They let the portable exp/log
// carry ~106 bits through the few steps where one rounding would cost accuracy, without an
// FMA instruction (which would make results depend on the CPU).
//
// Swift never contracts `a * b + c` into an FMA and never reassociates floating-point
// expressions, so the sequences below are evaluated exactly as written.

/// `a + b == sum + error` exactly, for any finite a, b.
@inline(__always)
func twoSum(_ a: Double, _ b: Double) -> (sum: Double, error: Double) {
    let s = a + b
    let bVirtual = s - a
    let aVirtual = s - bVirtual
    return (s, (a - aVirtual) + (b - bVirtual))
}

/// `a + b == sum + error` exactly, provided |a| ≥ |b| (or a == 0).
@inline(__always)
func fastTwoSum(_ a: Double, _ b: Double) -> (sum: Double, error: Double) {
    let s = a + b
    return (s, b - (s - a))
}

/// Veltkamp split: `a == high + low` with both halves holding at most 26 significant bits.
/// Valid for |a| < 2^996 (no overflow of the 2^27 + 1 multiple).
@inline(__always)
func veltkampSplit(_ a: Double) -> (high: Double, low: Double) {
    let c = 134_217_729.0 * a  // 2^27 + 1
    let high = c - (c - a)
    return (high, a - high)
}

/// Dekker product: `a * b == product + error` exactly (barring overflow/underflow).
@inline(__always)
func twoProduct(_ a: Double, _ b: Double) -> (product: Double, error: Double) {
    let p = a * b
    let (ah, al) = veltkampSplit(a)
    let (bh, bl) = veltkampSplit(b)
    let error = ((ah * bh - p) + ah * bl + al * bh) + al * bl
    return (p, error)
}
