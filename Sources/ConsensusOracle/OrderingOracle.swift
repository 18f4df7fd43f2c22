import CairnCore

/// DAG-Rider's ordering (Alg. 3) re-derived from one validator's stored certificates, written
/// apart from `DAGRiderCore` and sharing none of its code beyond the value types (D43): the
/// leader of wave w is the coin's choice among round 4(w−1)+1 vertices, combined from the f+1
/// lowest-indexed shares carried in round 4w+1; a leader commits directly when 2f+1 vertices of
/// round 4w reach it by strong edges alone; committing it first commits, oldest first, every
/// earlier undecided leader that the newest leader committed so far reaches by strong edges; each
/// committed leader delivers its causal history not delivered before, restricted to rounds at or
/// above its round − gcDepth (ARCHITECTURE §4), in (round, author) order.
///
/// It is fed the validator's stored certificates in the order they were stored (the order its DAG
/// grew), so it can be compared after every commit: what the validator delivered must then be a
/// prefix of what the oracle delivered (a validator that commits early, or differently, fails at
/// once), and at the end of the run the two must be equal (one that commits late fails there).
public struct OrderingOracle {
    struct Vertex {
        let round: UInt64
        let author: Int
        let strong: [Digest]
        let weak: [Digest]
        let share: CoinShare?
    }

    let validators: Int
    let gcDepth: UInt64
    let combine: (UInt64, [CoinShare]) -> Int?
    private var vertices: [Digest: Vertex] = [:]
    private var slots: [UInt64: [Int: Digest]] = [:]
    public private(set) var decided: UInt64 = 0
    /// Committed leaders, oldest first, and the delivered sequence.
    public private(set) var leaders: [(wave: UInt64, digest: Digest)] = []
    public private(set) var delivered: [Digest] = []
    private var done: Set<Digest> = []

    /// `combine` turns a wave's shares into its leader's author (nil if they do not combine).
    public init(validators: Int, gcDepth: UInt64, combine: @escaping (UInt64, [CoinShare]) -> Int?) {
        self.validators = validators
        self.gcDepth = gcDepth
        self.combine = combine
    }

    var faults: Int { (validators - 1) / 3 }

    /// One certificate the validator stored, in the order it stored them (its DAG grows in that
    /// order); commits whatever became decidable. A certificate of round 4w can complete wave
    /// w's support and one of round 4w+1 its coin; nothing else can make a wave decidable.
    public mutating func add(_ digest: Digest, _ certificate: Certificate) {
        guard vertices[digest] == nil else { return }
        let v = certificate.vertex
        vertices[digest] = Vertex(round: v.round, author: Int(v.author), strong: v.strongEdges, weak: v.weakEdges, share: v.coinShare)
        slots[v.round, default: [:]][Int(v.author)] = digest
        let wave = v.round % 4 == 0 ? v.round / 4 : v.round % 4 == 1 && v.round >= 5 ? (v.round - 1) / 4 : 0
        if wave > decided { tryCommit(wave) }
    }

    mutating func tryCommit(_ wave: UInt64) {
        guard let leader = leader(of: wave) else { return }
        var memo: [Digest: Bool] = [:]
        let supporters = (slots[4 * wave] ?? [:]).values.filter { reaches($0, leader, memo: &memo) }.count
        guard supporters >= 2 * faults + 1 else { return }
        var chain = [(wave, leader)]
        var newest = leader
        var earlier = wave - 1
        while earlier > decided {
            if let candidate = self.leader(of: earlier) {
                var memo: [Digest: Bool] = [:]
                if reaches(newest, candidate, memo: &memo) {
                    chain.append((earlier, candidate))
                    newest = candidate
                }
            }
            earlier -= 1
        }
        decided = wave
        for (w, digest) in chain.reversed() {
            leaders.append((w, digest))
            let batch = history(of: digest)
            delivered += batch
            done.formUnion(batch)
        }
    }

    /// The wave's leader vertex, if f+1 shares of round 4w+1 are in the DAG and it holds the vertex.
    func leader(of wave: UInt64) -> Digest? {
        guard let carriers = slots[4 * wave + 1] else { return nil }
        let shares = carriers.keys.sorted().compactMap { vertices[carriers[$0]!]?.share }
        guard shares.count >= faults + 1, let author = combine(wave, shares) else { return nil }
        return slots[4 * (wave - 1) + 1]?[author]
    }

    /// Whether `from` reaches `to` along strong edges only.
    func reaches(_ from: Digest, _ to: Digest, memo: inout [Digest: Bool]) -> Bool {
        if from == to { return true }
        if let known = memo[from] { return known }
        guard let start = vertices[from], let target = vertices[to], start.round > target.round else { return false }
        var found = false
        for edge in start.strong where vertices[edge] != nil {
            if reaches(edge, to, memo: &memo) { found = true; break }
        }
        memo[from] = found
        return found
    }

    /// The leader's causal history at or above its delivery line, minus what was delivered.
    func history(of leader: Digest) -> [Digest] {
        guard let top = vertices[leader] else { return [] }
        let line = top.round > gcDepth ? top.round - gcDepth : 0
        var seen: Set<Digest> = []
        var pending = [leader]
        while let digest = pending.popLast() {
            guard !done.contains(digest), let vertex = vertices[digest], vertex.round >= line, seen.insert(digest).inserted else { continue }
            pending += vertex.strong
            pending += vertex.weak
        }
        return seen.sorted { (vertices[$0]!.round, vertices[$0]!.author) < (vertices[$1]!.round, vertices[$1]!.author) }
    }
}
