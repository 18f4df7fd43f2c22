import CairnCore
import CairnCrypto
import Testing

/// All k-element subsets of `items` (small n only).
func subsets<T>(_ items: [T], size k: Int) -> [[T]] {
    guard k > 0 else { return [[]] }
    guard items.count >= k else { return [] }
    let head = items[0]
    let rest = Array(items.dropFirst())
    return subsets(rest, size: k - 1).map { [head] + $0 } + subsets(rest, size: k)
}

@Suite("Threshold coin")
struct ThresholdCoinTests {
    struct Network {
        let n: Int
        let f: Int
        let deal: CoinDeal
        let coin: ThresholdCoin
        init(n: Int, chain: String = "coin-test") throws {
            self.n = n
            f = (n - 1) / 3
            deal = try ThresholdCoin.deal(validators: n, threshold: f + 1)
            coin = try ThresholdCoin(chainID: chain, threshold: f + 1, publicShares: deal.publicShares,
                                     commitments: deal.commitments)
        }
        func shares(wave: UInt64) throws -> [CoinShare] {
            try deal.secretShares.map { try coin.makeShare(wave: wave, secret: $0) }
        }
    }

    @Test("every f+1 subset of valid shares yields the same coin", arguments: [4, 7, 10])
    func everySubsetAgrees(n: Int) throws {
        let net = try Network(n: n)
        let wave: UInt64 = 42
        let shares = try net.shares(wave: wave)
        for share in shares { try net.coin.verify(share, wave: wave) }
        let reference = try net.coin.combine(Array(shares.prefix(net.f + 1)), wave: wave)
        for subset in subsets(shares, size: net.f + 1) {
            #expect(try net.coin.combine(subset, wave: wave) == reference)
        }
        // More than f+1 shares, in any order, give the same coin too.
        #expect(try net.coin.combine(shares.reversed(), wave: wave) == reference)
        #expect((0 ..< n).contains(reference.leader))
    }

    @Test("coins differ between waves and chains")
    func bindings() throws {
        let net = try Network(n: 4)
        let a = try net.coin.combine(try net.shares(wave: 1), wave: 1)
        let b = try net.coin.combine(try net.shares(wave: 2), wave: 2)
        #expect(a.sigma != b.sigma)
        #expect(a.beacon != b.beacon)
        let otherChain = try ThresholdCoin(chainID: "other", threshold: 2, publicShares: net.deal.publicShares,
                                           commitments: net.deal.commitments)
        let c = try otherChain.combine(try net.deal.secretShares.map { try otherChain.makeShare(wave: 1, secret: $0) }, wave: 1)
        #expect(c.sigma != a.sigma)
    }

    @Test("leaders spread over all validators")
    func leaderSpread() throws {
        let net = try Network(n: 4)
        var seen = Set<Int>()
        for wave in UInt64(1) ... 40 {
            let shares = try net.deal.secretShares.prefix(2).map { try net.coin.makeShare(wave: wave, secret: $0) }
            seen.insert(try net.coin.combine(shares, wave: wave).leader)
        }
        // Probability that 40 uniform draws miss one of 4 leaders: 4·(3/4)^40 ≈ 4e-5.
        #expect(seen.count == 4)
    }

    @Test("a tampered share is rejected", arguments: [4, 7, 10])
    func tamperedShare(n: Int) throws {
        let net = try Network(n: n)
        let shares = try net.shares(wave: 5)
        // Another validator's (valid) point in place of this one's.
        var swapped = shares[0]
        swapped.share = shares[1].share
        #expect(throws: CoinError.invalidProof(index: 1, wave: 5)) { try net.coin.verify(swapped, wave: 5) }
        // A flipped bit in the challenge or response.
        var badChallenge = shares[0]
        badChallenge.challenge[0] ^= 1
        #expect(throws: CoinError.self) { try net.coin.verify(badChallenge, wave: 5) }
        var badResponse = shares[0]
        badResponse.response[3] ^= 4
        #expect(throws: CoinError.self) { try net.coin.verify(badResponse, wave: 5) }
        // A non-canonical response scalar (≥ L).
        var highResponse = shares[0]
        highResponse.response = [UInt8](repeating: 0xff, count: 32)
        #expect(throws: CoinError.self) { try net.coin.verify(highResponse, wave: 5) }
    }

    @Test("a share for another wave is rejected", arguments: [4, 7, 10])
    func otherWave(n: Int) throws {
        let net = try Network(n: n)
        let share = try net.coin.makeShare(wave: 8, secret: net.deal.secretShares[1])
        #expect(throws: CoinError.wrongWave(expected: 9, got: 8)) { try net.coin.verify(share, wave: 9) }
        var relabelled = share
        relabelled.wave = 9
        #expect(throws: CoinError.invalidProof(index: 2, wave: 9)) { try net.coin.verify(relabelled, wave: 9) }
    }

    @Test("a share claimed under another validator index is rejected", arguments: [4, 7, 10])
    func otherIndex(n: Int) throws {
        let net = try Network(n: n)
        var share = try net.coin.makeShare(wave: 3, secret: net.deal.secretShares[0])
        share.index = 2
        #expect(throws: CoinError.invalidProof(index: 2, wave: 3)) { try net.coin.verify(share, wave: 3) }
        share.index = 0
        #expect(throws: CoinError.indexOutOfRange(index: 0, validators: n)) { try net.coin.verify(share, wave: 3) }
        share.index = UInt32(n + 1)
        #expect(throws: CoinError.indexOutOfRange(index: UInt32(n + 1), validators: n)) { try net.coin.verify(share, wave: 3) }
    }

    @Test("invalid points are rejected", arguments: [4, 7, 10])
    func invalidPoints(n: Int) throws {
        let net = try Network(n: n)
        let good = try net.coin.makeShare(wave: 1, secret: net.deal.secretShares[0])
        for bytes in [[UInt8](repeating: 0xff, count: 32), [UInt8](repeating: 0, count: 32),
                      [1] + [UInt8](repeating: 0, count: 31)] {
            var bad = good
            bad.share = CurvePoint(uncheckedBytes: bytes)
            #expect(throws: CoinError.self) { try net.coin.verify(bad, wave: 1) }
        }
        var notAPoint = good
        notAPoint.share = CurvePoint(uncheckedBytes: [UInt8](repeating: 0xff, count: 32))
        let error = try #require(throws: CoinError.self) { try net.coin.verify(notAPoint, wave: 1) }
        guard case .invalidPoint = error else { Issue.record("expected invalidPoint, got \(error)"); return }
    }

    @Test("fewer than f+1 shares, or duplicates, cannot combine", arguments: [4, 7, 10])
    func notEnough(n: Int) throws {
        let net = try Network(n: n)
        let shares = try net.shares(wave: 2)
        #expect(throws: CoinError.notEnoughShares(have: net.f, need: net.f + 1)) {
            try net.coin.combine(Array(shares.prefix(net.f)), wave: 2)
        }
        #expect(throws: CoinError.duplicateIndex(1)) {
            try net.coin.combine([shares[0], shares[0]] + Array(shares.dropFirst().prefix(net.f)), wave: 2)
        }
        #expect(throws: CoinError.wrongWave(expected: 3, got: 2)) { try net.coin.combine(shares, wave: 3) }
    }

    @Test("setup rejects public shares that do not match the commitments")
    func setupChecks() throws {
        let deal = try ThresholdCoin.deal(validators: 4, threshold: 2)
        var shares = deal.publicShares
        shares.swapAt(0, 1)
        #expect(throws: CoinError.publicShareMismatch(index: 1)) {
            try ThresholdCoin(chainID: "x", threshold: 2, publicShares: shares, commitments: deal.commitments)
        }
        #expect(throws: CoinError.self) {
            try ThresholdCoin(chainID: "x", threshold: 3, publicShares: deal.publicShares, commitments: deal.commitments)
        }
        #expect(throws: CoinError.self) { try CoinSecretShare(index: 1, secret: [UInt8](repeating: 0, count: 32)) }
    }
}
