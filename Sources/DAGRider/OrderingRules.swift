import CairnCore

/// The commit and delivery rules of DAG-Rider's ordering layer (Alg. 3), behind one seam.
///
/// Production uses `StandardOrderingRules` and nothing outside the test suite supplies another:
/// the seam exists so tests can plant wrong rules (support counted with f+1, any path instead of a
/// strong path, no recursive commit, delivery by author only) and prove that the simulator's
/// independent ordering oracle reports each one (D43). The wrong rules live in the test target.
public protocol OrderingRules: Sendable {
    /// Vertices of the wave's last round that must reach the leader for a direct commit.
    func commitQuorum(_ committee: Committee) -> Int
    /// Vertices of round `through` that reach `leader` (by strong paths).
    func support(of leader: Digest, through round: UInt64, in dag: DAGView) -> Int
    /// Whether an earlier leader is committed along with a newer one (a strong path links them).
    func links(from newer: Digest, to older: Digest, in dag: DAGView) -> Bool
    /// Whether committing a leader also walks back through undecided waves.
    var commitsRecursively: Bool { get }
    /// Delivery order within one leader's causal history.
    func deliveredBefore(_ a: DAGView.Vertex, _ b: DAGView.Vertex) -> Bool
}

/// DAG-Rider as the paper and ARCHITECTURE §4 state it.
public struct StandardOrderingRules: OrderingRules {
    public init() {}
    public func commitQuorum(_ committee: Committee) -> Int { committee.quorum }
    public func support(of leader: Digest, through round: UInt64, in dag: DAGView) -> Int {
        dag.dag.strongSupport(of: leader, through: round)
    }
    public func links(from newer: Digest, to older: Digest, in dag: DAGView) -> Bool {
        dag.dag.strongPath(from: newer, to: older)
    }
    public var commitsRecursively: Bool { true }
    public func deliveredBefore(_ a: DAGView.Vertex, _ b: DAGView.Vertex) -> Bool {
        (a.round, a.author) < (b.round, b.author)
    }
}

/// Read-only access to a core's DAG for `OrderingRules`.
public struct DAGView: Sendable {
    public struct Vertex: Sendable {
        public let digest: Digest
        public let round: UInt64
        public let author: Int
        public let strongEdges: [Digest]
        public let weakEdges: [Digest]
    }

    let dag: DAG

    public func vertex(_ digest: Digest) -> Vertex? {
        dag.node(digest).map(Vertex.init)
    }

    /// Digests of one round, by author.
    public func digests(round: UInt64) -> [Digest] { dag.digests(round: round) }
}

extension DAGView.Vertex {
    init(_ node: DAG.Node) {
        self.init(digest: node.digest, round: node.round, author: node.author, strongEdges: node.strongEdges, weakEdges: node.weakEdges)
    }
}
