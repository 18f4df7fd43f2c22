import CairnCore

/// The local DAG of certified vertices, indexed by digest and by (round, author).
///
/// Holds rounds ≥ `floor` (the garbage-collection line). Insertion requires every edge above the
/// floor to be present already, so the DAG is always causally closed above its floor.
struct DAG {
    /// Immutable and shared: a lookup costs one retain instead of copying a certificate's worth
    /// of arrays (which was a quarter of the core's time at n = 31).
    final class Node: Sendable {
        let certificate: VerifiedCertificate
        let digest: Digest
        let round: UInt64
        let author: Int
        let strongEdges: [Digest]
        let weakEdges: [Digest]

        init(certificate: VerifiedCertificate) {
            self.certificate = certificate
            digest = certificate.digest
            round = certificate.vertex.round
            author = Int(certificate.vertex.author)
            strongEdges = certificate.vertex.strongEdges
            weakEdges = certificate.vertex.weakEdges
        }
    }

    private(set) var nodes: [Digest: Node] = [:]
    private(set) var rounds: [UInt64: [Int: Digest]] = [:]
    private(set) var floor: UInt64 = 0
    /// Highest round holding ≥ quorum certificates.
    private(set) var highestQuorumRound: UInt64 = 0
    let quorum: Int

    init(quorum: Int) { self.quorum = quorum }

    var count: Int { nodes.count }

    func contains(_ digest: Digest) -> Bool { nodes[digest] != nil }
    func node(_ digest: Digest) -> Node? { nodes[digest] }
    func count(round: UInt64) -> Int { rounds[round]?.count ?? 0 }
    func digest(round: UInt64, author: Int) -> Digest? { rounds[round]?[author] }

    /// Digests of round `round`, sorted by author.
    func digests(round: UInt64) -> [Digest] {
        guard let slots = rounds[round] else { return [] }
        return slots.keys.sorted().map { slots[$0]! }
    }

    mutating func insert(_ certificate: VerifiedCertificate) {
        let node = Node(certificate: certificate)
        nodes[node.digest] = node
        rounds[node.round, default: [:]][node.author] = node.digest
        if rounds[node.round]!.count >= quorum && node.round > highestQuorumRound {
            highestQuorumRound = node.round
        }
    }

    /// Whether a strong-edge path leads from `from` to `to` (DAG-Rider `strong_path`).
    func strongPath(from: Digest, to: Digest) -> Bool {
        guard let target = nodes[to], let start = nodes[from] else { return false }
        if from == to { return true }
        guard start.round > target.round else { return false }
        var frontier: Set<Digest> = [from]
        var round = start.round
        while round > target.round + 1 {
            var next: Set<Digest> = []
            for digest in frontier {
                for edge in nodes[digest]?.strongEdges ?? [] where nodes[edge] != nil { next.insert(edge) }
            }
            if next.isEmpty { return false }
            frontier = next
            round -= 1
        }
        return frontier.contains { nodes[$0]?.strongEdges.contains(to) ?? false }
    }

    /// Vertices of round `through` with a strong path to `leader`, found in one upward sweep:
    /// a vertex qualifies when one of its strong edges points at a qualifying vertex of the round
    /// below. O(edges in between), instead of one search per candidate.
    func strongSupport(of leader: Digest, through round: UInt64) -> Int {
        guard let start = nodes[leader], round > start.round else { return 0 }
        var reached: Set<Digest> = [leader]
        for r in start.round + 1 ... round {
            var next: Set<Digest> = []
            for digest in rounds[r]?.values ?? [:].values {
                if let node = nodes[digest], node.strongEdges.contains(where: reached.contains) { next.insert(digest) }
            }
            if next.isEmpty { return 0 }
            reached = next
        }
        return reached.count
    }

    /// Removes every round below `newFloor`, returning the removed nodes.
    /// Rounds in `from…through` that hold certificates, ascending.
    func rounds(from: UInt64, through: UInt64) -> [UInt64] {
        guard from <= through else { return [] }
        return rounds.keys.filter { $0 >= from && $0 <= through }.sorted()
    }

    mutating func raiseFloor(to newFloor: UInt64) -> [Node] {
        guard newFloor > floor else { return [] }
        var removed: [Node] = []
        // The rounds held, not every round number below the new floor: a restore far into a
        // chain (or a damaged progress record) must not walk billions of empty rounds.
        for round in rounds.keys.filter({ $0 < newFloor }).sorted() {
            guard let slots = rounds.removeValue(forKey: round) else { continue }
            for digest in slots.values {
                if let node = nodes.removeValue(forKey: digest) { removed.append(node) }
            }
        }
        floor = newFloor
        return removed
    }
}
