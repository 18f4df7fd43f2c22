import CairnCore
import CairnCrypto
import CairnChain
import CairnStorage
import ConsensusOracle
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
    /// The first way the stored DAG is inconsistent (a missing parent, an index entry that names
    /// no certificate of its slot); the scan passes over the entry and goes on, and the audit
    /// reports this after its position-by-position replay, which names positions where it can.
    let issues = IssueLog()

    /// Calls `body` with each certified vertex in (round, author) order; certificates without
    /// 2f+1 valid votes are in no honest validator's DAG and are passed over.
    func forEachCertified(_ body: (Digest, Certificate) throws -> Void) throws {
        try forEachCertifiedBatch { batch in
            for (digest, certificate) in batch { try body(digest, certificate) }
        }
    }

    /// The node's storage does not hold the DAG it claims: named, so the audit fails with it.
    struct Inconsistent: Error, CustomStringConvertible {
        var description: String
    }

    /// The same, a batch of whole rounds at a time. Pages through the `rounds` index by its keys
    /// (round ‖ author), so a forged index entry can neither loop the scan nor skip rounds: every
    /// entry must name a stored certificate of exactly that round and author. And every certified
    /// vertex's edges must lead to certified vertices seen before it: a node that deleted a
    /// certificate (and dropped its vertex from the sequence) fails here, even where the order it
    /// delivered is consistent with what is left (the oracle would not miss the absent parent).
    func forEachCertifiedBatch(_ body: ([(Digest, Certificate)]) throws -> Void) throws {
        let limit = 4096
        let rounds = ColumnFamily.rounds.rawValue
        var round: UInt64 = 0
        var certified = Set<Digest>()
        var lowest: UInt64?
        while true {
            // Whole rounds: entries of rounds ≥ `round`, stopping at the first round past `limit` entries.
            var entries: [(round: UInt64, author: UInt64, digest: Digest)] = []
            var problem: String?
            var inRound = 0
            try store.database.scan(rounds, from: StorageKey.uint64(round)) { key, value in
                guard key.count == 16, let digest = try? Digest(bytes: value) else {
                    problem = "the rounds index holds a malformed entry (key \(Hex.encode(key))); the node's storage was altered"
                    return false
                }
                let r = key.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
                let a = key.suffix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
                if let previous = entries.last?.round, r != previous {
                    if entries.count >= limit { return false }
                    inRound = 0
                }
                inRound += 1
                guard inRound <= validators else {
                    problem = "round \(r) has more index entries than validators (\(validators)); the node's storage was altered"
                    return false
                }
                entries.append((r, a, digest))
                return true
            }
            if let problem { throw Inconsistent(description: problem) }
            guard let last = entries.last else { break }
            var batch: [Certificate] = []
            for entry in entries {
                guard entry.author < UInt64(validators), let certificate = try store.certificates([entry.digest]).first else {
                    issues.note("round \(entry.round), author \(entry.author): the rounds index names certificate \(entry.digest.hex), which is not stored (or the author is not a validator); the node's storage is incomplete or was altered")
                    continue
                }
                guard certificate.vertex.round == entry.round, UInt64(certificate.vertex.author) == entry.author else {
                    issues.note("the rounds index files certificate \(entry.digest.hex) under round \(entry.round), author \(entry.author); it is of round \(certificate.vertex.round), author \(certificate.vertex.author)")
                    continue
                }
                batch.append(certificate)
            }
            // Signatures and coin shares checked on every core; the verifier's cache keeps the
            // answers for the replay's later passes.
            let verifier = self.verifier
            let results = Parallel.map(batch) { certificate -> Digest? in
                guard case let .success(verified) = verifier.verify(certificate) else { return nil }
                return verified.digest
            }
            var out: [(Digest, Certificate)] = []
            for (certificate, digest) in zip(batch, results) {
                guard let digest else { continue }
                let v = certificate.vertex
                if lowest == nil { lowest = v.round }
                if v.round > lowest!, let missing = (v.strongEdges + v.weakEdges).first(where: { !certified.contains($0) }) {
                    issues.note("certified vertex \(digest.hex) (round \(v.round), author \(v.author)) names parent \(missing.hex), which is not a stored certified vertex; the node's storage lacks part of its DAG")
                }
                certified.insert(digest)
                out.append((digest, certificate))
            }
            try body(out)
            guard last.round < .max else { break }
            round = last.round + 1
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
                if let share = certificate.vertex.coinShare, let wave = Wave.coinWave(carriedIn: certificate.vertex.round),
                   !(shares[wave] ?? []).contains(where: { $0.index == share.index }) {
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

extension CertifiedDAG {
    /// The DAG of `store` checked against `genesis` alone: its coin, its validators' keys, and a
    /// verification cache sized for `history` delivered vertices (so that later passes over the
    /// same certificates find their answers).
    init(store: ConsensusStore, genesis: Genesis, genesisHash: Digest, history: UInt64) throws {
        let coin = ThresholdCoinScheme(coin: try genesis.verify(), secret: nil)
        let settings = DAGRiderSettings(genesis: genesis, genesisHash: genesisHash, me: 0)
        let verifier = MessageVerifier(settings: settings, verifier: Ed25519ConsensusKeys(key: nil, publicKeys: genesis.validators.map(\.publicKey)),
                                       coin: coin, cache: VerificationCache(capacity: Int(min(history, 10_000_000)) * 2 + 50_000))
        self.init(store: store, verifier: verifier, validators: genesis.validators.count, gcDepth: settings.gcDepth,
                  coin: coin, faultTolerance: genesis.faultTolerance)
    }
}

/// The first inconsistency a scan met (later ones follow from it, usually).
final class IssueLog {
    private(set) var first: String?
    func note(_ problem: String) { if first == nil { first = problem } }
}
