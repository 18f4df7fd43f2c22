import CairnCore

extension Context {
    /// Finalizes the evaluations of the contributions made in `window` (ARCHITECTURE §6, D47), at
    /// the close of window + 1, when its reveal phase ended: each contribution, in key (id) order,
    /// gets its `EvaluationQuorum.Outcome`; validators that committed without a matching reveal,
    /// or revealed outside a quorum that formed, are counted in `ValidatorFlags`. Returns the
    /// contributions accepted with a positive score, for the outer step.
    mutating func finalizeEvaluations(of window: UInt64) throws -> [AcceptedContribution] {
        let prefix = StateKey.contributionPrefix(window: window)
        let hashBytes = Int(parameters.lshBits / 8)
        var flags: [UInt32: ValidatorFlags] = [:]
        var accepted: [AcceptedContribution] = []
        for entry in try overlay.entries(prefix: prefix, in: store) {
            guard entry.key.count == prefix.count + Digest.byteCount,
                  let id = try? Digest(bytes: entry.key.suffix(Digest.byteCount)),
                  let stored = try? StoredContribution(canonicalBytes: entry.value) else { continue }
            let reveals = try overlay.entries(prefix: StateKey.evaluations(contribution: id), in: store).compactMap { entry in
                (try? StoredEvaluation(canonicalBytes: entry.value)).flatMap { stored in
                    (try? UInt32(canonicalBytes: Array(entry.key.suffix(4)))).map { EvaluationQuorum.Reveal(validator: $0, evaluation: stored.evaluation) }
                }
            }
            let outcome = EvaluationQuorum.decide(reveals, quorum: parameters.quorum, hashBytes: hashBytes,
                                                  threshold: Int(parameters.hammingThreshold))
            write(StateKey.contributionOutcome(id), outcome)
            if let score = outcome.score, score > 0 {
                accepted.append(AcceptedContribution(id: id, blob: stored.contribution.blob, score: score))
            }
            let revealed = Set(reveals.map(\.validator))
            for commitment in try overlay.entries(prefix: StateKey.evaluationCommitments(contribution: id), in: store) {
                guard let validator = try? UInt32(canonicalBytes: Array(commitment.key.suffix(4))), !revealed.contains(validator) else { continue }
                flags[validator, default: ValidatorFlags()].unrevealed.saturatingIncrement()
            }
            if !outcome.members.isEmpty {
                let members = Set(outcome.members)
                for validator in revealed where !members.contains(validator) {
                    flags[validator, default: ValidatorFlags()].outsideQuorum.saturatingIncrement()
                }
            }
        }
        for validator in flags.keys.sorted() {
            write(StateKey.validatorFlags(window: window, validator: validator), flags[validator]!)
        }
        return accepted
    }
}

extension UInt32 {
    /// + 1, staying at 2^32 − 1 (a count of that many is already damning).
    mutating func saturatingIncrement() { if self < .max { self += 1 } }
}
