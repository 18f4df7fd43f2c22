import CairnCore

/// Chaum–Pedersen proof that one secret scalar x links two pairs: P = x·G and Q = x·H, without
/// revealing x. The coin proves σ_i = x_i·Ĥ_w against V_i = x_i·G; the genesis ceremony proves a
/// revealed Diffie–Hellman key K = e_j·E_i against the ceremony key E_j = e_j·G (D63). Each
/// caller binds its own context into the Fiat–Shamir challenge, so a proof never serves another
/// protocol.
struct ChaumPedersen {
    let challenge: Scalar
    let response: Scalar

    /// Proves with a deterministic nonce (as in RFC 8032): no RNG failure can leak x. The nonce
    /// hashes the secret, the base and `context` — everything else the challenge binds — so two
    /// proofs with one nonce have one challenge: a nonce reused under two challenges would reveal x
    /// (a ceremony key answering complaints in two sessions, found in review, D63). The coin's
    /// base already carries its wave and chain, so it passes no context. `nonceTag` separates the
    /// callers' nonces.
    static func prove(secret: Scalar, base: GroupElement, nonceTag: UInt8, context: [UInt8] = [],
                      challenge: (_ a: GroupElement, _ b: GroupElement) -> Scalar) throws -> ChaumPedersen {
        let nonce = Scalar(reducing: sha512([nonceTag], secret.bytes, base.bytes, context))
        let c = challenge(try GroupElement.base(nonce), try base.times(nonce))
        return ChaumPedersen(challenge: c, response: nonce + c * secret)
    }

    /// Recomputes A = z·G − c·P and B = z·H − c·Q and checks they hash back to c. Any point
    /// arithmetic failure (an identity on the way) counts as an invalid proof.
    func verifies(publicKey: GroupElement, base: GroupElement, image: GroupElement,
                  challenge recompute: (_ a: GroupElement, _ b: GroupElement) -> Scalar) -> Bool {
        guard let a = try? GroupElement.base(response) - publicKey.times(challenge),
              let b = try? base.times(response) - image.times(challenge) else { return false }
        return constantTimeEqual(recompute(a, b).bytes, challenge.bytes)
    }
}
