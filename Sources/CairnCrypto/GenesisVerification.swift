import CairnCore

extension Genesis {
    /// Structural validation plus the checks that need cryptography: every validator and account
    /// key is a valid Ed25519 point, and the coin's public shares lie on the committed polynomial.
    /// Returns the coin verifier so callers need not rebuild it.
    @discardableResult
    public func verify() throws -> ThresholdCoin {
        try validate()
        var problems: [String] = []
        for (index, validator) in validators.enumerated() where !validator.publicKey.isValidEd25519Point {
            problems.append("validators[\(index)].public_key is not a valid Ed25519 public key")
        }
        for (index, account) in accounts.enumerated() where !account.publicKey.isValidEd25519Point {
            problems.append("accounts[\(index)].public_key is not a valid Ed25519 public key")
        }
        if !problems.isEmpty { throw GenesisError(problems: problems) }
        do {
            return try ThresholdCoin(genesis: self)
        } catch let error as CoinError {
            throw GenesisError(problems: ["coin: \(error)"])
        }
    }
}
