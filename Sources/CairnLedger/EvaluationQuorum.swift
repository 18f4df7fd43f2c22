import CairnCore

/// LSH output consensus (ARCHITECTURE §6, DECISIONS D47): which revealed evaluations of one
/// contribution agree, and the score they accept. Pure and deterministic — it runs inside the
/// ledger, so every validator and auditor must pick the same set from the same reveals.
///
/// Two evaluations **agree** when they carry the same flags and either both are flagged (a flagged
/// evaluation's hash and losses mean nothing) or both hashes have the genesis length and differ in
/// at most `threshold` bits. The **quorum** is the largest set of evaluations that pairwise agree,
/// if it has ≥ 2f+1 members; among sets of that size the one whose sorted validator indices come
/// first lexicographically. It is found by Bron–Kerbosch with pivoting over bitsets, candidates in
/// validator order; the search stops after `stepLimit` calls and keeps the best set found so far,
/// so even a crafted agreement graph costs bounded time and still gives every validator the same
/// answer. Honest evaluations sit ≤ 1 bit apart and wrong ones ≥ 65 (BENCHMARKS), so in practice
/// the honest set is one clique found at the first branch.
public enum EvaluationQuorum {
    /// One revealed evaluation, by validator index.
    public struct Reveal: Sendable {
        public var validator: UInt32
        public var evaluation: Evaluation

        public init(validator: UInt32, evaluation: Evaluation) {
            self.validator = validator
            self.evaluation = evaluation
        }
    }

    public static let defaultStepLimit = 100_000

    /// Hamming distance of two equal-length hashes; nil when the lengths differ.
    public static func hamming(_ a: [UInt8], _ b: [UInt8]) -> Int? {
        guard a.count == b.count else { return nil }
        var distance = 0
        for i in a.indices { distance += (a[i] ^ b[i]).nonzeroBitCount }
        return distance
    }

    public static func agree(_ a: Evaluation, _ b: Evaluation, hashBytes: Int, threshold: Int) -> Bool {
        guard a.flags == b.flags else { return false }
        if !a.flags.isEmpty { return true }
        guard a.simHash.count == hashBytes, let distance = hamming(a.simHash, b.simHash) else { return false }
        return distance <= threshold
    }

    /// Indices into `reveals` of the largest pairwise-agreeing set (see the type's comment), sorted;
    /// empty when there are no reveals.
    public static func largestAgreeingSet(_ reveals: [Reveal], hashBytes: Int, threshold: Int, stepLimit: Int = defaultStepLimit) -> [Int] {
        let n = reveals.count
        guard n > 0 else { return [] }
        var adjacency = [Bitset](repeating: Bitset(count: n), count: n)
        for i in 0 ..< n {
            for j in (i + 1) ..< n where agree(reveals[i].evaluation, reveals[j].evaluation, hashBytes: hashBytes, threshold: threshold) {
                adjacency[i].insert(j)
                adjacency[j].insert(i)
            }
        }
        var search = CliqueSearch(adjacency: adjacency, stepLimit: stepLimit)
        search.expand(clique: [], candidates: Bitset(all: n), excluded: Bitset(count: n))
        return search.best
    }
}

/// A fixed-size set of small integers as 64-bit words.
struct Bitset: Equatable {
    var words: [UInt64]

    init(count: Int) { words = [UInt64](repeating: 0, count: (count + 63) / 64) }

    init(all count: Int) {
        self.init(count: count)
        for i in 0 ..< count { insert(i) }
    }

    mutating func insert(_ i: Int) { words[i >> 6] |= 1 << UInt64(i & 63) }
    mutating func remove(_ i: Int) { words[i >> 6] &= ~(1 << UInt64(i & 63)) }
    var isEmpty: Bool { words.allSatisfy { $0 == 0 } }
    var count: Int { words.reduce(0) { $0 + $1.nonzeroBitCount } }

    func intersection(_ other: Bitset) -> Bitset {
        var out = self
        for k in words.indices { out.words[k] &= other.words[k] }
        return out
    }

    func union(_ other: Bitset) -> Bitset {
        var out = self
        for k in words.indices { out.words[k] |= other.words[k] }
        return out
    }

    func subtracting(_ other: Bitset) -> Bitset {
        var out = self
        for k in words.indices { out.words[k] &= ~other.words[k] }
        return out
    }

    /// Members in increasing order.
    var members: [Int] {
        var out: [Int] = []
        for (k, word) in words.enumerated() {
            var w = word
            while w != 0 {
                out.append(k * 64 + w.trailingZeroBitCount)
                w &= w - 1
            }
        }
        return out
    }
}

/// Bron–Kerbosch with pivoting (Tomita), deterministic: candidates in increasing index order, the
/// pivot the vertex of candidates ∪ excluded with most candidate neighbours (lowest index on ties).
struct CliqueSearch {
    let adjacency: [Bitset]
    let stepLimit: Int
    var steps = 0
    var best: [Int] = []

    init(adjacency: [Bitset], stepLimit: Int) {
        self.adjacency = adjacency
        self.stepLimit = stepLimit
    }

    mutating func expand(clique: [Int], candidates: Bitset, excluded: Bitset) {
        steps += 1
        guard steps <= stepLimit else { return }
        if candidates.isEmpty {
            if excluded.isEmpty { consider(clique) }
            return
        }
        // A branch that cannot beat the best set found cannot change the answer.
        guard clique.count + candidates.count >= best.count else { return }
        var pivot = -1, pivotDegree = -1
        for u in candidates.union(excluded).members {
            let degree = candidates.intersection(adjacency[u]).count
            if degree > pivotDegree { (pivot, pivotDegree) = (u, degree) }
        }
        var candidates = candidates, excluded = excluded
        for v in candidates.subtracting(adjacency[pivot]).members {
            expand(clique: clique + [v], candidates: candidates.intersection(adjacency[v]), excluded: excluded.intersection(adjacency[v]))
            candidates.remove(v)
            excluded.insert(v)
            guard steps <= stepLimit else { return }
        }
    }

    mutating func consider(_ clique: [Int]) {
        let sorted = clique.sorted()
        if sorted.count > best.count || (sorted.count == best.count && sorted.lexicographicallyPrecedes(best)) { best = sorted }
    }
}

extension EvaluationQuorum {
    /// Scores are fixed point: parts per 10^9 of the loss before.
    public static let scoreScale: Double = 1e9
    /// Improvements below −1000 (the loss rose a thousandfold) are clamped there.
    public static let minimumScore: Int64 = -1_000_000_000_000

    /// (before − after) / before in parts per 10^9, clamped to [−10^12, 10^9]; nil unless both
    /// losses are finite and before > 0. Float32 → Double is exact and −, ÷, × and rounding are
    /// correctly rounded IEEE operations, so every machine computes the same integer.
    public static func improvement(_ pair: LossPair) -> Int64? {
        guard pair.before.isFinite, pair.after.isFinite, pair.before > 0 else { return nil }
        let before = Double(pair.before), after = Double(pair.after)
        let scaled = ((before - after) / before * scoreScale).rounded(.toNearestOrEven)
        return Int64(min(scoreScale, max(Double(minimumScore), scaled)))
    }

    /// Why a contribution got no accepted score.
    public enum NoScore: UInt8, Sendable, CaseIterable {
        /// Fewer than 2f+1 revealed evaluations agree.
        case noQuorum = 1
        /// The quorum agrees the contribution is bad: its evaluations carry these flags.
        case flagged = 2
        /// The quorum's hashes agree but none of its losses give a score (non-finite or ≤ 0).
        case invalidLosses = 3

        public var name: String {
            switch self {
            case .noQuorum: "no_quorum"
            case .flagged: "flagged"
            case .invalidLosses: "invalid_losses"
            }
        }
    }

    /// What the ledger records for one contribution at finalization.
    public struct Outcome: Hashable, Sendable, CanonicalCodable {
        /// Validator indices in the quorum, increasing; empty when there is none.
        public var members: [UInt32]
        /// Lower median of the members' random-data improvements (the accepted score), ppb.
        public var score: Int64?
        /// Lower median of the members' own-data improvements, ppb.
        public var ownScore: Int64?
        /// +1 when the own-data improvement exceeds the random-data one, −1 otherwise; 0 without a score.
        public var indicator: Int8
        public var noScore: NoScore?
        /// The quorum's common flags (when `noScore` is `.flagged`).
        public var flags: Evaluation.Flags
        /// Set when an earlier contribution of the same window (in committed order) keeps an index
        /// set this one overlaps at least `copycat_overlap_ppm` (D51): this one is a copycat of it
        /// and is left out of the outer step, whatever its score.
        public var copycatOf: Digest?

        public init(members: [UInt32], score: Int64?, ownScore: Int64?, indicator: Int8, noScore: NoScore?, flags: Evaluation.Flags,
                    copycatOf: Digest? = nil) {
            self.members = members
            self.score = score
            self.ownScore = ownScore
            self.indicator = indicator
            self.noScore = noScore
            self.flags = flags
            self.copycatOf = copycatOf
        }

        public func encode(to writer: inout CanonicalWriter) {
            writer.write(UInt8(2))
            writer.write(members)
            writer.write(UInt64(bitPattern: score ?? 0))
            writer.write(UInt64(bitPattern: ownScore ?? 0))
            writer.write(UInt8(bitPattern: indicator))
            writer.write(noScore?.rawValue ?? 0)
            writer.write(flags.rawValue)
            writer.write(copycatOf)
        }

        public init(from reader: inout CanonicalReader) throws {
            try reader.expectVersion(2)
            members = try reader.field("members") { try $0.read([UInt32].self, maxCount: Genesis.maxValidators) }
            let score = Int64(bitPattern: try reader.field("score") { try $0.read(UInt64.self) })
            let ownScore = Int64(bitPattern: try reader.field("own_score") { try $0.read(UInt64.self) })
            indicator = Int8(bitPattern: try reader.field("indicator") { try $0.read(UInt8.self) })
            let start = reader.offset
            let code = try reader.field("no_score") { try $0.read(UInt8.self) }
            guard code == 0 || NoScore(rawValue: code) != nil else { throw reader.fail(.invalidValue("unknown no-score reason \(code)"), at: start) }
            noScore = NoScore(rawValue: code)
            flags = Evaluation.Flags(rawValue: try reader.field("flags") { try $0.read(UInt32.self) })
            // One encoding per outcome: without a score, both score fields are 0.
            guard noScore == nil || (score == 0 && ownScore == 0) else { throw reader.fail(.invalidValue("a score stored with a no-score reason")) }
            self.score = noScore == nil ? score : nil
            self.ownScore = noScore == nil ? ownScore : nil
            copycatOf = try reader.field("copycat_of") { try $0.read(Digest?.self) }
        }
    }

    /// The outcome for one contribution from its revealed evaluations (any order; sorted here by
    /// validator index so the answer does not depend on it).
    /// The indicator is +1 when the contribution improved the trainer's own data more than random
    /// data by a margin: the accepted score is positive and the own-data score exceeds it by at
    /// least `indicatorMarginPPM` of it (D53: without the margin a trainer that trained on other data
    /// than its assignment still won the comparison most windows on the reference task).
    public static func decide(_ reveals: [Reveal], quorum: Int, hashBytes: Int, threshold: Int,
                              stepLimit: Int = defaultStepLimit, indicatorMarginPPM: UInt32 = 0) -> Outcome {
        let ordered = reveals.sorted { $0.validator < $1.validator }
        let set = largestAgreeingSet(ordered, hashBytes: hashBytes, threshold: threshold, stepLimit: stepLimit).map { ordered[$0] }
        guard set.count >= quorum, let first = set.first else {
            return Outcome(members: [], score: nil, ownScore: nil, indicator: 0, noScore: .noQuorum, flags: [])
        }
        let members = set.map(\.validator)
        guard first.evaluation.flags.isEmpty else {
            return Outcome(members: members, score: nil, ownScore: nil, indicator: 0, noScore: .flagged, flags: first.evaluation.flags)
        }
        let random = set.compactMap { improvement($0.evaluation.random) }.sorted()
        let own = set.compactMap { improvement($0.evaluation.own) }.sorted()
        guard !random.isEmpty, !own.isEmpty else {
            return Outcome(members: members, score: nil, ownScore: nil, indicator: 0, noScore: .invalidLosses, flags: [])
        }
        let score = random[(random.count - 1) / 2], ownScore = own[(own.count - 1) / 2]
        // |score| ≤ 10^12 and the margin ≤ 10^6 ppm: the product stays below 2^63.
        let required = score > 0 ? score + score * Int64(indicatorMarginPPM) / 1_000_000 : score
        let indicator: Int8 = ownScore > required && (indicatorMarginPPM == 0 || score > 0) ? 1 : -1
        return Outcome(members: members, score: score, ownScore: ownScore, indicator: indicator, noScore: nil, flags: [])
    }
}
