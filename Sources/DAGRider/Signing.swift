import CairnCore
import CairnCrypto

/// Signs this validator's proposals and votes. Injected so that the simulator can use a cheap
/// stand-in; nodes use `Ed25519ConsensusKeys`.
public protocol ConsensusSigner: Sendable {
    func sign(_ message: [UInt8]) -> Signature
}

/// Checks a signature by committee member `signer`.
public protocol ConsensusVerifier: Sendable {
    func verify(_ signature: Signature, message: [UInt8], signer: Int) -> Bool
}

/// The threshold coin as consensus uses it: make this validator's share, check others', combine.
public protocol CoinScheme: Sendable {
    func makeShare(wave: UInt64) throws -> CoinShare
    func verify(_ share: CoinShare, wave: UInt64) -> Bool
    /// The wave's coin from ≥ f+1 verified shares: the 0-based leader index, and the beacon (the
    /// wave's public randomness, which the ledger hands to later stages as seeds).
    func combine(wave: UInt64, shares: [CoinShare]) throws -> (leader: Int, beacon: Digest)
}

/// What exactly is signed: every signature binds the chain and the object's digest.
public enum SigningMessages {
    public static func vertexDigest(_ vertex: Vertex) -> Digest { Hashing.digest(.vertex, vertex) }

    public static func proposal(chain: Digest, digest: Digest) -> [UInt8] {
        [DomainTag.proposal.rawValue] + chain.bytes + digest.bytes
    }

    public static func vote(chain: Digest, digest: Digest) -> [UInt8] {
        [DomainTag.vote.rawValue] + chain.bytes + digest.bytes
    }
}

/// Ed25519 keys from genesis and the validator's key file.
public struct Ed25519ConsensusKeys: ConsensusSigner, ConsensusVerifier {
    let key: SigningKey?
    let publicKeys: [PublicKey]

    public init(key: SigningKey?, publicKeys: [PublicKey]) {
        self.key = key
        self.publicKeys = publicKeys
    }

    public func sign(_ message: [UInt8]) -> Signature {
        guard let key else { preconditionFailure("this validator has no signing key loaded") }
        return key.sign(message)
    }

    public func verify(_ signature: Signature, message: [UInt8], signer: Int) -> Bool {
        publicKeys.indices.contains(signer) && publicKeys[signer].verify(signature, for: message)
    }
}

/// The ristretto255 threshold coin of CairnCrypto (ARCHITECTURE §3).
public struct ThresholdCoinScheme: CoinScheme {
    let coin: ThresholdCoin
    let secret: CoinSecretShare?

    public init(coin: ThresholdCoin, secret: CoinSecretShare?) {
        self.coin = coin
        self.secret = secret
    }

    public func makeShare(wave: UInt64) throws -> CoinShare {
        guard let secret else { preconditionFailure("this validator has no coin share loaded") }
        return try coin.makeShare(wave: wave, secret: secret)
    }

    public func verify(_ share: CoinShare, wave: UInt64) -> Bool {
        (try? coin.verify(share, wave: wave)) != nil
    }

    public func combine(wave: UInt64, shares: [CoinShare]) throws -> (leader: Int, beacon: Digest) {
        let value = try coin.combine(shares, wave: wave)
        return (value.leader, value.beacon)
    }
}
