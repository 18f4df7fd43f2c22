import CairnCore
import CairnCrypto
import DAGRider

/// A keyed-hash stand-in for Ed25519 (ARCHITECTURE §12 allows it in the simulator so thousands of runs
/// fit in the test budget): signature = SHA-256(key ‖ message) ‖ SHA-256(message ‖ key). A wrong
/// or corrupted signature fails the same `MessageVerifier` path an Ed25519 one would.
public struct KeyedHashSignatures: ConsensusSigner, ConsensusVerifier {
    public let keys: [[UInt8]]
    let me: Int

    public init(seed: UInt64, validators: Int, me: Int) {
        keys = (0 ..< validators).map { Hashing.digest(.channel, seed.canonicalBytes + UInt64($0).canonicalBytes).bytes }
        self.me = me
    }

    func signature(_ message: [UInt8], signer: Int) -> Signature {
        Signature(uncheckedBytes: SHA256.hash(keys[signer] + message).bytes + SHA256.hash(message + keys[signer]).bytes)
    }

    public func sign(_ message: [UInt8]) -> Signature { signature(message, signer: me) }

    public func verify(_ signature: Signature, message: [UInt8], signer: Int) -> Bool {
        keys.indices.contains(signer) && self.signature(message, signer: signer) == signature
    }

    public init(keys: [[UInt8]], me: Int) {
        self.keys = keys
        self.me = me
    }
}

/// A cheap coin with the same interface as the threshold coin: validator i's share for wave w is a
/// keyed hash only it (and the simulator) can make; any f+1 valid shares give the same leader.
/// Unpredictability is not simulated; agreement and share validation are.
public struct SimulatedCoin: CoinScheme {
    let seed: UInt64
    let validators: Int
    let me: Int

    public init(seed: UInt64, validators: Int, me: Int) {
        self.seed = seed
        self.validators = validators
        self.me = me
    }

    func sharePoint(wave: UInt64, index: UInt32) -> CurvePoint {
        CurvePoint(uncheckedBytes: Hashing.digest(.coinHash, seed.canonicalBytes + wave.canonicalBytes + UInt64(index).canonicalBytes).bytes)
    }

    public func makeShare(wave: UInt64) throws -> CoinShare {
        let index = UInt32(me + 1)
        return CoinShare(wave: wave, index: index, share: sharePoint(wave: wave, index: index),
                         challenge: [UInt8](repeating: 0, count: 32), response: [UInt8](repeating: 0, count: 32))
    }

    public func verify(_ share: CoinShare, wave: UInt64) -> Bool {
        share.wave == wave && share.index >= 1 && Int(share.index) <= validators
            && share.share == sharePoint(wave: wave, index: share.index)
    }

    public func combine(wave: UInt64, shares: [CoinShare]) throws -> (leader: Int, beacon: Digest) {
        guard Set(shares.map(\.index)).count >= (validators - 1) / 3 + 1 else { throw CoinError.notEnoughShares(have: shares.count, need: (validators - 1) / 3 + 1) }
        let digest = Hashing.digest(.coinLeader, (seed ^ 0x5eed).canonicalBytes + wave.canonicalBytes)
        return (Int(digest.bytes.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) } % UInt64(validators)), digest)
    }
}
