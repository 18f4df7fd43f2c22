import CSodium
import CairnCore

/// Why a coin operation failed. Shares arrive from the network, so every failure is typed.
public enum CoinError: Error, Hashable, Sendable, CustomStringConvertible {
    case invalidPoint(String)
    case invalidScalar(String)
    case identityResult(String)
    case indexOutOfRange(index: UInt32, validators: Int)
    case wrongWave(expected: UInt64, got: UInt64)
    case invalidProof(index: UInt32, wave: UInt64)
    case duplicateIndex(UInt32)
    case notEnoughShares(have: Int, need: Int)
    case publicShareMismatch(index: UInt32)
    case invalidSetup(String)

    public var description: String {
        switch self {
        case let .invalidPoint(what): return "\(what) is not a valid non-identity ristretto255 point"
        case let .invalidScalar(detail): return "invalid scalar: \(detail)"
        case let .identityResult(operation): return "\(operation) gave the identity element"
        case let .indexOutOfRange(index, n): return "coin share index \(index) is outside 1…\(n)"
        case let .wrongWave(expected, got): return "coin share is for wave \(got), expected wave \(expected)"
        case let .invalidProof(index, wave): return "coin share \(index) for wave \(wave) has an invalid DLEQ proof"
        case let .duplicateIndex(index): return "two coin shares with index \(index)"
        case let .notEnoughShares(have, need): return "\(have) valid coin shares, need f+1 = \(need)"
        case let .publicShareMismatch(index): return "public share of validator index \(index) does not match the dealer's commitments"
        case let .invalidSetup(detail): return "invalid coin setup: \(detail)"
        }
    }
}

/// A validator's secret coin share x_i (stored in `keys/coin.share`, mode 0600).
public struct CoinSecretShare: Sendable {
    public let index: UInt32
    let scalar: Scalar

    public init(index: UInt32, secret: [UInt8]) throws {
        guard index >= 1 else { throw CoinError.indexOutOfRange(index: index, validators: 0) }
        self.index = index
        self.scalar = try Scalar(canonical: secret)
        guard !scalar.isZero else { throw CoinError.invalidScalar("a zero share would reveal nothing and prove nothing") }
    }

    public var secretBytes: [UInt8] { scalar.bytes }

    /// V_i = x_i·G.
    public var publicShare: CurvePoint {
        // Non-zero canonical scalars never give the identity.
        try! GroupElement.base(scalar).curvePoint
    }
}

/// What a dealer hands out: one secret share per validator, the public shares and the Feldman
/// commitments that genesis publishes.
public struct CoinDeal: Sendable {
    public let threshold: Int
    public let secretShares: [CoinSecretShare]
    public let publicShares: [CurvePoint]
    public let commitments: [CurvePoint]
}

/// Cachin–Kursawe–Shoup threshold coin over ristretto255 (ARCHITECTURE §3).
///
/// For wave w, Ĥ_w = from_hash(SHA-512(0x09 ‖ "cairn-coin" ‖ chain ‖ w)); validator i releases
/// σ_i = x_i·Ĥ_w with a Chaum–Pedersen proof; any f+1 valid shares interpolate at 0 to σ = x·Ĥ_w,
/// the same value whichever shares are used, and unknown to anyone before f+1 honest shares exist.
public struct ThresholdCoin: Sendable {
    public let chainID: String
    public let threshold: Int
    /// V_1…V_n, index i at position i−1.
    let publicShares: [GroupElement]

    public var validatorCount: Int { publicShares.count }

    /// Builds the verifier from genesis data, rejecting invalid points and public shares that do
    /// not lie on the committed polynomial (V_i = Σ_j C_j·i^j).
    public init(chainID: String, threshold: Int, publicShares: [CurvePoint], commitments: [CurvePoint]) throws {
        guard threshold >= 1, threshold <= publicShares.count else {
            throw CoinError.invalidSetup("threshold \(threshold) must be between 1 and the \(publicShares.count) validators")
        }
        guard commitments.count == threshold else {
            throw CoinError.invalidSetup("\(commitments.count) commitments for threshold \(threshold); need one per coefficient")
        }
        let committed = try commitments.enumerated().map { try GroupElement($0.element, what: "coin commitment \($0.offset)") }
        var checked: [GroupElement] = []
        for (position, point) in publicShares.enumerated() {
            let index = UInt32(position + 1)
            let element = try GroupElement(point, what: "public coin share of validator index \(index)")
            guard try Self.evaluateCommitments(committed, at: index) == element else {
                throw CoinError.publicShareMismatch(index: index)
            }
            checked.append(element)
        }
        self.chainID = chainID
        self.threshold = threshold
        self.publicShares = checked
    }

    public init(genesis: Genesis) throws {
        try self.init(chainID: genesis.chainID, threshold: Int(genesis.coin.threshold),
                      publicShares: genesis.validators.map(\.coinPublicShare),
                      commitments: genesis.coin.commitments)
    }

    /// Σ_j C_j · i^j, the public value the polynomial takes at i.
    static func evaluateCommitments(_ commitments: [GroupElement], at index: UInt32) throws -> GroupElement {
        let x = Scalar(UInt64(index))
        var power = Scalar(1)
        var sum: GroupElement?
        for commitment in commitments {
            let term = try commitment.times(power)
            sum = try sum.map { try $0 + term } ?? term
            power = power * x
        }
        return sum!
    }

    // MARK: Dealer

    /// Deals shares for `validators` with threshold f+1: a random polynomial of degree f.
    /// Used by `cairn testnet`; a production network replaces the dealer with a DKG.
    public static func deal(validators: Int, threshold: Int) throws -> CoinDeal {
        guard threshold >= 1, threshold <= validators else {
            throw CoinError.invalidSetup("threshold \(threshold) must be between 1 and \(validators)")
        }
        let polynomial = SecretPolynomial.random(coefficients: threshold, nonZeroAt: 1 ... UInt32(validators))
        let secrets = try (1 ... UInt32(validators)).map { try CoinSecretShare(index: $0, secret: polynomial.value(at: $0).bytes) }
        return CoinDeal(threshold: threshold, secretShares: secrets,
                        publicShares: secrets.map(\.publicShare), commitments: try polynomial.commitments())
    }

    // MARK: Shares

    /// Ĥ_w, bound to the chain and the wave so a share can never serve another wave or chain.
    func waveBase(_ wave: UInt64) -> GroupElement {
        var writer = CanonicalWriter()
        writer.write(DomainTag.coinHash.rawValue)
        writer.writeFixed(Array("cairn-coin".utf8))
        writer.write(chainID)
        writer.write(wave)
        return GroupElement(hashing: sha512(writer.bytes))
    }

    /// Makes this validator's share for `wave` with its proof.
    public func makeShare(wave: UInt64, secret: CoinSecretShare) throws -> CoinShare {
        let base = waveBase(wave)
        let sigma = try base.times(secret.scalar)
        let publicShare = try GroupElement.base(secret.scalar)
        let proof = try ChaumPedersen.prove(secret: secret.scalar, base: base, nonceTag: DomainTag.coinProof.rawValue) {
            challenge(wave: wave, index: secret.index, publicShare: publicShare, sigma: sigma, a: $0, b: $1)
        }
        return CoinShare(wave: wave, index: secret.index, share: sigma.curvePoint,
                         challenge: proof.challenge.bytes, response: proof.response.bytes)
    }

    private func challenge(wave: UInt64, index: UInt32, publicShare: GroupElement, sigma: GroupElement,
                           a: GroupElement, b: GroupElement) -> Scalar {
        var writer = CanonicalWriter()
        writer.write(DomainTag.coinProof.rawValue)
        writer.write(chainID)
        writer.write(wave)
        writer.write(index)
        for element in [publicShare, sigma, a, b] { writer.writeFixed(element.bytes) }
        return Scalar(reducing: sha512(writer.bytes))
    }

    /// Checks a received share: its index names a validator, it is for `wave`, its point is valid
    /// and its DLEQ proof holds against that validator's public share.
    public func verify(_ share: CoinShare, wave: UInt64) throws {
        guard share.wave == wave else { throw CoinError.wrongWave(expected: wave, got: share.wave) }
        guard share.index >= 1, Int(share.index) <= publicShares.count else {
            throw CoinError.indexOutOfRange(index: share.index, validators: publicShares.count)
        }
        let sigma = try GroupElement(share.share, what: "coin share \(share.index) for wave \(wave)")
        let c = try Scalar(canonical: share.challenge)
        let z = try Scalar(canonical: share.response)
        let publicShare = publicShares[Int(share.index) - 1]
        let proof = ChaumPedersen(challenge: c, response: z)
        guard proof.verifies(publicKey: publicShare, base: waveBase(wave), image: sigma, challenge: {
            challenge(wave: wave, index: share.index, publicShare: publicShare, sigma: sigma, a: $0, b: $1)
        }) else {
            throw CoinError.invalidProof(index: share.index, wave: wave)
        }
    }

    /// Combines verified shares into the wave's coin. Any f+1 shares with distinct indices give the
    /// same value (Lagrange interpolation at 0); shares must already have passed `verify`.
    public func combine(_ shares: [CoinShare], wave: UInt64) throws -> CoinValue {
        var byIndex: [UInt32: CoinShare] = [:]
        for share in shares {
            guard share.wave == wave else { throw CoinError.wrongWave(expected: wave, got: share.wave) }
            guard share.index >= 1, Int(share.index) <= publicShares.count else {
                throw CoinError.indexOutOfRange(index: share.index, validators: publicShares.count)
            }
            guard byIndex.updateValue(share, forKey: share.index) == nil else {
                throw CoinError.duplicateIndex(share.index)
            }
        }
        guard byIndex.count >= threshold else {
            throw CoinError.notEnoughShares(have: byIndex.count, need: threshold)
        }
        // The lowest indices, so the computation (not just the result) is the same everywhere.
        let chosen = byIndex.keys.sorted().prefix(threshold)
        var sigma: GroupElement?
        for i in chosen {
            var lambda = Scalar(1)
            for j in chosen where j != i {
                // λ_i = Π_{j≠i} j / (j − i)
                lambda = lambda * Scalar(UInt64(j)) * (try (Scalar(UInt64(j)) - Scalar(UInt64(i))).inverse())
            }
            let point = try GroupElement(byIndex[i]!.share, what: "coin share \(i) for wave \(wave)")
            let term = try point.times(lambda)
            sigma = try sigma.map { try $0 + term } ?? term
        }
        return CoinValue(wave: wave, sigma: sigma!.curvePoint, validators: publicShares.count)
    }
}

/// The combined coin of one wave: its leader and its beacon (the randomness later issues use for
/// data assignment and evaluation seeds).
public struct CoinValue: Hashable, Sendable {
    public let wave: UInt64
    public let sigma: CurvePoint
    let validators: Int

    /// SHA-256(0x0a ‖ σ ‖ w): the wave's public randomness.
    public var beacon: Digest {
        var writer = CanonicalWriter()
        writer.write(sigma)
        writer.write(wave)
        return Hashing.digest(.coinLeader, writer.bytes)
    }

    /// The first 64 bits of the beacon, big-endian; the leader is this modulo n (bias < n/2^64).
    public var leaderSeed: UInt64 {
        beacon.bytes.prefix(8).reduce(0) { $0 << 8 | UInt64($1) }
    }

    /// 0-based author index of the wave's leader.
    public var leader: Int { Int(leaderSeed % UInt64(validators)) }
}
