import CairnCore

extension Evaluation {
    /// H(0x11 ‖ chain ‖ window ‖ validator ‖ the canonical evaluation with a zero salt ‖ salt): what
    /// a validator's `EvaluationCommit` carries before it reveals the evaluation (ARCHITECTURE §6,
    /// D59). Binding (SHA-256) and hiding while the 32-byte salt stays secret. The chain, the
    /// contribution's window and the committing validator's key are inside the hash so that a
    /// commitment copied from another validator (or another chain or window) opens nothing: the
    /// same evaluation and salt, revealed by the copier, hash to a different value under its key.
    /// The contribution is bound through `contribution`, part of the evaluation.
    public func commitment(chain: Digest, window: UInt64, validator: PublicKey) -> Digest {
        var open = self
        open.salt = .zero
        return Hashing.digest(.evaluationCommitment, chain.bytes + window.canonicalBytes + validator.bytes + open.canonicalBytes + salt.bytes)
    }
}
