import ArgumentParser
import CairnCore
import CairnTraining

/// `cairn submit --adversary MODE`: dishonest trainers, for tests and demonstrations only (README).
/// Each is the cheapest cheat against one rule that accepts, scores or pays a contribution; the
/// ledger's rules (D51, D53, D55, D57, D59) are what keeps them from earning what honest trainers
/// earn, and `tools/localnet --adversaries` measures that.
enum Adversary: String, ExpressibleByArgument, CaseIterable, Sendable {
    /// A random Δ with the honest Δ's L2 norm.
    case noise
    /// Δ = 0 (refused at upload since D59: an empty Δ is never evaluated).
    case zero
    /// The honest Δ negated: it increases the loss.
    case ascent
    /// The honest Δ × 10.
    case scaled
    /// Resubmits another trainer's latest contribution of the window as its own, re-valued (a new
    /// blob id: the same blob is named once, D59).
    case copycat
    /// Always trains on the previous window's model (and says so: base window k − 1).
    case stale
    /// Trains on random data instead of its assignment.
    case lazy
    /// Splits one honest effort across several registered keys (`--sybil-keys`).
    case sybil
    /// Trains honestly on its assignment, then scales Δ so its largest entry is 1e37 (D59,
    /// attack 2); with `--sybil-keys` the inflated Δ is split across the keys, so that they are a
    /// majority of a window's contributions.
    case inflate
    /// Submits a random Δ from this key and every `--sybil-keys` key each window, trained on
    /// nothing: each costs every validator an evaluation (D59, attack 3).
    case spam
    /// Resubmits another trainer's contribution of the previous window, re-valued, naming the
    /// current window as its base (D59, attack 4).
    case replay
    /// Its own honest Δ plus the mean of the other trainers' published window-(k − 1) Δs, which
    /// the model it trained on does not hold yet (D59, attack 5).
    case freeride
    /// Trains a tenth of the steps it has time for and claims genesis's maximum (D60): the
    /// cheapest way to look like a full window's work. Its own-data sample is drawn from every
    /// step it claims, nine tenths of them untrained, so its indicator fails.
    case overclaim

    /// Whether this mode trains at all (the others only copy or make up Δs).
    var trains: Bool { ![.copycat, .replay, .spam].contains(self) }

    /// Whether `--sybil-keys` goes with this mode (required for sybil, optional for inflate and spam).
    var takesExtraKeys: Bool { [.sybil, .inflate, .spam].contains(self) }

    /// The Δ this adversary submits, from the honest one (modes that change the data or the base
    /// model, copy, or act on the compressed Δ leave it as trained).
    func transform(_ delta: [Float], seed: UInt64) -> [Float] {
        switch self {
        case .zero:
            return [Float](repeating: 0, count: delta.count)
        case .ascent:
            return delta.map { -$0 }
        case .scaled:
            return delta.map { $0 * 10 }
        case .noise:
            let norm = (delta.reduce(0.0) { $0 + Double($1) * Double($1) }).squareRoot()
            return Self.randomDelta(count: delta.count, norm: norm, seed: seed)
        case .copycat, .stale, .lazy, .sybil, .inflate, .spam, .replay, .freeride, .overclaim:
            return delta
        }
    }

    /// A random Δ of the given L2 norm (approximately normal entries), the same for the same seed.
    static func randomDelta(count: Int, norm: Double, seed: UInt64) -> [Float] {
        var random = SplitMix64(seed: seed ^ 0x6E6F_6973_6500_0000)
        var noise = [Float](repeating: 0, count: count)
        for i in noise.indices { noise[i] = random.approximateNormal() }
        let noiseNorm = (noise.reduce(0.0) { $0 + Double($1) * Double($1) }).squareRoot()
        let scale = noiseNorm > 0 ? Float(norm / noiseNorm) : 0
        return noise.map { $0 * scale }
    }

    /// `inflate`: every chunk scale multiplied so that the largest entry is `largest` (1e37: a
    /// finite Float whose square still fits a Double).
    static func inflate(_ gradient: PseudoGradient, largest: Double = 1e37) -> PseudoGradient {
        let biggest = gradient.chunks.map { Double($0.scale) * Double($0.values.map { Int($0.magnitude) }.max() ?? 0) }.max() ?? 0
        guard biggest > 0 else { return gradient }
        return PseudoGradient(parameterCount: gradient.parameterCount, chunkSize: gradient.chunkSize, chunks: gradient.chunks.map {
            PseudoGradient.Chunk(scale: Float(Double($0.scale) * largest / biggest), indices: $0.indices, values: $0.values)
        })
    }

    /// A copied Δ re-valued: every chunk scale × 1.01, so its bytes (and blob id) differ while its
    /// kept indices and direction are the original's — what a copier does to get past a rule that
    /// names each blob once.
    static func revalue(_ gradient: PseudoGradient) -> PseudoGradient {
        PseudoGradient(parameterCount: gradient.parameterCount, chunkSize: gradient.chunkSize, chunks: gradient.chunks.map {
            PseudoGradient.Chunk(scale: $0.scale * 1.01, indices: $0.indices, values: $0.values)
        })
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
