/// Index-set overlap for the copycat rule (D51), in integers so every validator decides the same:
/// the ledger's rule and every tool that reports an overlap use this one count. Honest trainers on
/// different shards overlap little; a copied or lightly perturbed Δ overlaps almost fully.
public enum Copycats {
    /// |A ∩ B| · 10^6 / min(|A|, |B|) for increasing index lists (0 when either is empty), rounded
    /// down; at most 10^6 for strictly increasing lists.
    public static func overlapPPM(_ a: [UInt32], _ b: [UInt32]) -> UInt64 {
        guard !a.isEmpty, !b.isEmpty else { return 0 }
        var i = 0, j = 0
        var common: UInt64 = 0
        while i < a.count && j < b.count {
            if a[i] == b[j] { common += 1; i += 1; j += 1 } else if a[i] < b[j] { i += 1 } else { j += 1 }
        }
        // common ≤ 2^32 and 10^6 < 2^20, so the product stays below 2^52.
        return common * 1_000_000 / UInt64(min(a.count, b.count))
    }
}
