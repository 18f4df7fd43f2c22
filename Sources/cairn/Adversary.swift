import ArgumentParser
import CairnCore
import CairnTraining

/// `cairn submit --adversary MODE`: dishonest trainers, for tests and demonstrations only (README).
/// Each is a cheat that live networks of this kind have met; the ledger's rules (D51, D53) are
/// what keeps them from earning what honest trainers earn.
enum Adversary: String, ExpressibleByArgument, CaseIterable, Sendable {
    /// A random Δ with the honest Δ's L2 norm.
    case noise
    /// Δ = 0.
    case zero
    /// The honest Δ negated: it increases the loss.
    case ascent
    /// The honest Δ × 10.
    case scaled
    /// Resubmits another trainer's latest blob of the window as its own.
    case copycat
    /// Always trains on the previous window's model (and says so: base window k − 1).
    case stale
    /// Trains on random data instead of its assignment.
    case lazy
    /// Splits one honest effort across several registered keys (`--sybil-keys`).
    case sybil

    /// The Δ this adversary submits, from the honest one (modes that change the data or the base
    /// model, or copy, leave Δ as trained).
    func transform(_ delta: [Float], seed: UInt64) -> [Float] {
        switch self {
        case .zero:
            return [Float](repeating: 0, count: delta.count)
        case .ascent:
            return delta.map { -$0 }
        case .scaled:
            return delta.map { $0 * 10 }
        case .noise:
            var random = SplitMix64(seed: seed ^ 0x6E6F_6973_6500_0000)
            var noise = [Float](repeating: 0, count: delta.count)
            for i in noise.indices { noise[i] = random.approximateNormal() }
            let norm = (delta.reduce(0.0) { $0 + Double($1) * Double($1) }).squareRoot()
            let noiseNorm = (noise.reduce(0.0) { $0 + Double($1) * Double($1) }).squareRoot()
            let scale = noiseNorm > 0 ? Float(norm / noiseNorm) : 0
            return noise.map { $0 * scale }
        case .copycat, .stale, .lazy, .sybil:
            return delta
        }
    }

    /// One compressed Δ split into `parts` by chunk (chunk c goes to part c mod parts), so the parts'
    /// index sets are disjoint and none is a copycat of another.
    static func split(_ gradient: PseudoGradient, parts: Int) -> [PseudoGradient] {
        (0 ..< parts).map { part in
            PseudoGradient(parameterCount: gradient.parameterCount, chunkSize: gradient.chunkSize,
                           chunks: gradient.chunks.enumerated().map { c, chunk in
                               c % parts == part ? chunk : PseudoGradient.Chunk(scale: 0, indices: [], values: [])
                           })
        }
    }
}
