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

/// A cheap coin with the threshold coin's algebra: Shamir shares over GF(2^61 − 1). A secret
/// polynomial P of degree f is drawn from the seed; validator i's share for wave w is h(w)·P(i),
/// and any f+1 shares interpolate to h(w)·P(0), which picks the leader. As in the real scheme,
/// the value comes from the shares themselves, so one wrong share among the f+1 changes the leader
/// at whoever combines it: the verifier's share check (standing in for the DLEQ proof) is what
/// keeps a Byzantine share out. Unpredictability is not simulated; agreement and validation are.
public struct SimulatedCoin: CoinScheme {
    let seed: UInt64
    let validators: Int
    let me: Int
    /// P's coefficients, constant term first.
    let polynomial: [UInt64]

    public init(seed: UInt64, validators: Int, me: Int) {
        self.seed = seed
        self.validators = validators
        self.me = me
        let degree = (validators - 1) / 3
        polynomial = (0 ... degree).map { Field.element(Hashing.digest(.coinHash, (seed ^ 0xC01F).canonicalBytes + UInt64($0).canonicalBytes).bytes) }
    }

    /// The per-wave base h(w), never 0.
    func base(wave: UInt64) -> UInt64 {
        max(1, Field.element(Hashing.digest(.coinHash, seed.canonicalBytes + wave.canonicalBytes).bytes))
    }

    func shareValue(wave: UInt64, index: UInt32) -> UInt64 {
        var value: UInt64 = 0
        for coefficient in polynomial.reversed() { value = Field.add(Field.multiply(value, UInt64(index)), coefficient) }
        return Field.multiply(base(wave: wave), value)
    }

    func point(_ value: UInt64) -> CurvePoint {
        CurvePoint(uncheckedBytes: value.canonicalBytes + [UInt8](repeating: 0, count: 24))
    }

    public func makeShare(wave: UInt64) throws -> CoinShare {
        let index = UInt32(me + 1)
        return CoinShare(wave: wave, index: index, share: point(shareValue(wave: wave, index: index)),
                         challenge: [UInt8](repeating: 0, count: 32), response: [UInt8](repeating: 0, count: 32))
    }

    public func verify(_ share: CoinShare, wave: UInt64) -> Bool {
        share.wave == wave && share.index >= 1 && Int(share.index) <= validators
            && share.share == point(shareValue(wave: wave, index: share.index))
    }

    /// Lagrange interpolation at 0 over the first f+1 distinct indices, as the real coin combines.
    public func combine(wave: UInt64, shares: [CoinShare]) throws -> (leader: Int, beacon: Digest) {
        let need = (validators - 1) / 3 + 1
        var chosen: [(x: UInt64, y: UInt64)] = []
        for share in shares.sorted(by: { $0.index < $1.index }) where chosen.last?.x != UInt64(share.index) {
            let bytes = share.share.bytes
            guard bytes.count == 32 else { continue }
            chosen.append((UInt64(share.index), Field.element(Array(bytes.prefix(8)))))
            if chosen.count == need { break }
        }
        guard chosen.count == need else { throw CoinError.notEnoughShares(have: shares.count, need: need) }
        var secret: UInt64 = 0
        for (i, a) in chosen.enumerated() {
            var numerator: UInt64 = 1
            var denominator: UInt64 = 1
            for (j, b) in chosen.enumerated() where j != i {
                numerator = Field.multiply(numerator, b.x)
                denominator = Field.multiply(denominator, Field.subtract(b.x, a.x))
            }
            secret = Field.add(secret, Field.multiply(a.y, Field.multiply(numerator, Field.inverse(denominator))))
        }
        let digest = Hashing.digest(.coinLeader, wave.canonicalBytes + secret.canonicalBytes)
        return (Int(digest.bytes.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) } % UInt64(validators)), digest)
    }
}

/// Arithmetic modulo the Mersenne prime 2^61 − 1.
enum Field {
    static let p: UInt64 = (1 << 61) - 1

    /// Big-endian first 8 bytes, reduced.
    static func element(_ bytes: [UInt8]) -> UInt64 {
        bytes.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) } % p
    }

    static func add(_ a: UInt64, _ b: UInt64) -> UInt64 { (a + b) % p }  // both < 2^61: no overflow
    static func subtract(_ a: UInt64, _ b: UInt64) -> UInt64 { (a + p - b) % p }

    static func multiply(_ a: UInt64, _ b: UInt64) -> UInt64 {
        let (high, low) = a.multipliedFullWidth(by: b)
        // a·b < 2^122 = high·2^64 + low; 2^64 ≡ 2^3 (mod p) and 2^61 ≡ 1.
        let folded = (low & p) + (low >> 61) + (high << 3) % p
        return folded % p
    }

    static func inverse(_ a: UInt64) -> UInt64 {
        var result: UInt64 = 1
        var base = a % p
        var exponent = p - 2
        while exponent > 0 {
            if exponent & 1 == 1 { result = multiply(result, base) }
            base = multiply(base, base)
            exponent >>= 1
        }
        return result
    }
}
