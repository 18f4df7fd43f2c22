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
    /// Shared with the beacon recomputation, so each wave's coin is combined once.
    var memo = CoinMemo()

    /// Calls `body` with each certified vertex in (round, author) order; certificates without
    /// 2f+1 valid votes are in no honest validator's DAG and are passed over.
    func forEachCertified(_ body: (Digest, Certificate) throws -> Void) throws {
        try forEachCertifiedBatch { batch in
            for (digest, certificate) in batch { try body(digest, certificate) }
        }
    }

    /// The same, a batch of whole rounds at a time.
    func forEachCertifiedBatch(_ body: ([(Digest, Certificate)]) throws -> Void) throws {
        // Batches end at a round boundary: a batch cut by the limit leaves out its last round,
        // which the next batch starts with (n ≤ 3001 < limit, so a round always fits).
        let limit = 4096
        var round: UInt64 = 0
        while true {
            var batch = try store.certificates(rounds: round, to: .max, limit: limit)
            guard let last = batch.last else { break }
            let complete = batch.count < limit || batch.first?.vertex.round == last.vertex.round
            if !complete { batch.removeAll { $0.vertex.round == last.vertex.round } }
            // Signatures and coin shares checked on every core; the verifier's cache keeps the
            // answers for the replay's later passes.
            let verifier = self.verifier
            let results = Parallel.map(batch) { certificate -> Digest? in
                guard case let .success(verified) = verifier.verify(certificate) else { return nil }
                return verified.digest
            }
            try body(zip(batch, results).compactMap { certificate, digest in digest.map { ($0, certificate) } })
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
        let (coin, faults, memo) = (self.coin, faultTolerance, self.memo)
        // The oracle holds only certified vertices, whose coin shares the certificate check verified.
        var oracle = OrderingOracle(validators: validators, gcDepth: gcDepth) { wave, shares in
            memo.value(wave: wave) { try? coin.combine(wave: wave, shares: Array(shares.prefix(faults + 1))) }?.leader
        }
        try forEachCertifiedBatch { batch in
            // Batches hold whole rounds, so each coin round here carries all the shares its wave
            // will get: combine those waves on every core before the oracle asks for them.
            var shares: [UInt64: [CoinShare]] = [:]
            for (_, certificate) in batch {
                if let share = certificate.vertex.coinShare, let wave = Wave.coinWave(carriedIn: certificate.vertex.round) {
                    shares[wave, default: []].append(share)
                }
            }
            let waves = shares.keys.sorted().filter { shares[$0]!.count > faults }
            let combined = Parallel.map(waves.map { ($0, Array(shares[$0]!.prefix(faults + 1))) }) { wave, subset in
                try? coin.combine(wave: wave, shares: subset)
            }
            for (wave, value) in zip(waves, combined) { _ = memo.value(wave: wave) { value } }
            for (digest, certificate) in batch {
                try visit(digest, certificate)
                oracle.add(digest, certificate)
            }
        }
        return oracle
    }
}
