import CairnCore
import CairnCrypto
import DAGRider
import Testing

@Suite("DAG-Rider with Ed25519 and the threshold coin")
struct RealCryptoTests {
    /// The production path end to end: Ed25519 signatures, ristretto255 coin shares with DLEQ
    /// proofs, and the same verifier and core the node uses.
    @Test("four validators commit identical sequences", arguments: [4, 7])
    func commits(validators n: Int) throws {
        let f = (n - 1) / 3
        let keys = (0 ..< n).map { _ in SigningKey.generate() }
        let deal = try ThresholdCoin.deal(validators: n, threshold: f + 1)
        let chain = Hashing.digest(.genesis, Array("real-crypto".utf8))
        let coin = try ThresholdCoin(chainID: "real-crypto", threshold: f + 1, publicShares: deal.publicShares, commitments: deal.commitments)
        let committee = Committee(size: n, chain: chain)
        var cores: [DAGRiderCore] = []
        var verifiers: [MessageVerifier] = []
        for i in 0 ..< n {
            var settings = DAGRiderSettings(committee: committee, me: i)
            settings.minRoundIntervalMs = 10
            settings.maxRoundIntervalMs = 50
            let signing = Ed25519ConsensusKeys(key: keys[i], publicKeys: keys.map(\.publicKey))
            let scheme = ThresholdCoinScheme(coin: coin, secret: deal.secretShares[i])
            cores.append(DAGRiderCore(settings: settings, signer: signing, coin: scheme))
            verifiers.append(MessageVerifier(settings: settings, verifier: Ed25519ConsensusKeys(key: nil, publicKeys: keys.map(\.publicKey)),
                                             coin: ThresholdCoinScheme(coin: coin, secret: nil)))
        }
        var network = LoopbackNetwork(cores: cores, verifiers: verifiers)
        network.run(untilCommits: 3)
        #expect(network.rejected == 0)
        let shortest = network.commits.map(\.count).min() ?? 0
        #expect(shortest > 0)
        for sequence in network.commits { #expect(Array(sequence.prefix(shortest)) == Array(network.commits[0].prefix(shortest))) }
    }
}
