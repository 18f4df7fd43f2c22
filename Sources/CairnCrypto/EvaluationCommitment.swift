import CairnCore

extension Evaluation {
    /// H(0x11 ‖ the canonical evaluation with a zero salt ‖ salt): what a validator's
    /// `EvaluationCommit` carries before it reveals the evaluation (ARCHITECTURE §6). Binding
    /// (SHA-256) and hiding while the 32-byte salt stays secret.
    public var commitment: Digest {
        var open = self
        open.salt = .zero
        return Hashing.digest(.evaluationCommitment, open.canonicalBytes + salt.bytes)
    }
}
