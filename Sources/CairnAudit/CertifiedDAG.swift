import CairnCore
import CairnNode
import ConsensusSimulator
import DAGRider

/// The DAG as the stored certificates define it, trusting nothing else the node wrote: every
/// certificate that carries 2f+1 valid votes for its vertex, in (round, author) order. Feeding them
/// to `OrderingOracle` — DAG-Rider's rules implemented apart from the node's core — re-derives the
/// leaders and the delivered sequence (D54); DAG-Rider's order does not depend on arrival order.
struct CertifiedDAG {
    let store: ConsensusStore
    let verifier: MessageVerifier
    let validators: Int
    let gcDepth: UInt64
    let coin: ThresholdCoinScheme
    let faultTolerance: Int

    /// Calls `body` with each certified vertex in (round, author) order; certificates without
    /// 2f+1 valid votes are in no honest validator's DAG and are passed over.
    func forEachCertified(_ body: (Digest, Certificate) throws -> Void) throws {
        // Batches end at a round boundary: a batch cut by the limit leaves out its last round,
        // which the next batch starts with (n ≤ 3001 < limit, so a round always fits).
        let limit = 4096
        var round: UInt64 = 0
        while true {
            var batch = try store.certificates(rounds: round, to: .max, limit: limit)
            guard let last = batch.last else { break }
            let complete = batch.count < limit || batch.first?.vertex.round == last.vertex.round
            if !complete { batch.removeAll { $0.vertex.round == last.vertex.round } }
            for certificate in batch {
                guard case let .success(verified) = verifier.verify(certificate) else { continue }
                try body(verified.digest, certificate)
            }
            if complete {
                guard last.vertex.round < .max else { break }
                round = last.vertex.round + 1
            } else {
                round = last.vertex.round
            }
        }
    }

    /// The oracle after every certified vertex; `visit` sees each one as it is added.
    func rederive(visit: (Digest, Certificate) throws -> Void = { _, _ in }) throws -> OrderingOracle {
        let (coin, faults) = (self.coin, faultTolerance)
        var oracle = OrderingOracle(validators: validators, gcDepth: gcDepth) { wave, shares in
            let valid = shares.filter { coin.verify($0, wave: wave) }
            return try? coin.combine(wave: wave, shares: Array(valid.prefix(faults + 1))).leader
        }
        try forEachCertified { digest, certificate in
            try visit(digest, certificate)
            oracle.add(digest, certificate)
        }
        return oracle
    }
}
