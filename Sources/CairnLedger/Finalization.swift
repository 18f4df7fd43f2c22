import CairnCore

extension Context {
    /// Finalizes the evaluations of the contributions made in `window` (ARCHITECTURE §6, D47), at
    /// the close of window + 1, when its reveal phase ended: each contribution, in key (id) order,
    /// gets its `EvaluationQuorum.Outcome`; validators that committed without a matching reveal,
    /// or revealed outside a quorum that formed, or revealed losses off the accepted ones, are
    /// counted in `ValidatorFlags`; then the window is settled (ratings, penalties, payouts, D53).
    /// Returns the contributions accepted with a positive score, for the outer step, and — when
    /// every one that would otherwise have been accepted was oversized — the clip bound they were
    /// measured against, which the carried model takes as its clip norm (D66).
    mutating func finalizeEvaluations(of window: UInt64) throws -> (accepted: [AcceptedContribution], escalateClipTo: Double?) {
        let hashBytes = Int(parameters.lshBits / 8)
        var flags: [UInt32: ValidatorFlags] = [:]
        var decided: [Decided] = []
        for (id, stored) in try storedContributions(of: window) {
            let reveals = try overlay.entries(prefix: StateKey.evaluations(contribution: id), in: store).compactMap { entry in
                (try? StoredEvaluation(canonicalBytes: entry.value)).flatMap { stored in
                    (try? UInt32(canonicalBytes: Array(entry.key.suffix(4)))).map { EvaluationQuorum.Reveal(validator: $0, evaluation: stored.evaluation) }
                }
            }
            let outcome = EvaluationQuorum.decide(reveals, quorum: parameters.quorum, hashBytes: hashBytes,
                                                  threshold: Int(parameters.hammingThreshold),
                                                  indicatorMarginPPM: parameters.rewards?.penalties.indicatorMarginPPM ?? 0)
            decided.append(Decided(id: id, stored: stored, outcome: outcome))
            let revealed = Set(reveals.map(\.validator))
            // Inside the quorum by its hash, yet revealing losses other than the accepted ones:
            // such a validator changes no score (the median ignores one outlier) but is not paid.
            if let score = outcome.score, let ownScore = outcome.ownScore, let tolerance = parameters.rewards?.penalties.validatorLossTolerancePPB {
                let members = Set(outcome.members)
                for reveal in reveals where members.contains(reveal.validator) {
                    let random = EvaluationQuorum.improvement(reveal.evaluation.random)
                    let own = EvaluationQuorum.improvement(reveal.evaluation.own)
                    if random.map({ $0.distance(to: score).magnitude > tolerance }) ?? true
                        || own.map({ $0.distance(to: ownScore).magnitude > tolerance }) ?? true {
                        flags[reveal.validator, default: ValidatorFlags()].deviant.saturatingIncrement()
                    }
                }
            }
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
        let profiles = try contributionProfiles(decided.map { ($0.id, $0.stored) })
        // The previous window's contributions count as earlier ones too (D59): their Δs were public
        // (`GET /v1/blobs`) before this window's were made, and a re-valued replay of one would
        // otherwise be a new contribution.
        let previous = window > 0 ? try contributionProfiles(try storedContributions(of: window - 1)) : []
        let copycats = findCopycats(profiles, previous: previous)
        // The window's Δs are applied to θ_{window+1} at this close, clipped to at most its bound (D59).
        let stepBase = window < .max ? try read(ModelRecord.self, StateKey.model(window + 1)) : nil
        let bound = TrainingSpec.clipBound(baseClipNorm: stepBase?.clipNorm, initial: parameters.initialClipNorm, growth: parameters.clipGrowth)
        let floor = TrainingSpec.clipFloor(baseClipNorm: stepBase?.clipNorm, growth: parameters.clipGrowth)
        var references: [Digest: Int64] = [:]
        for d in decided where copycats[d.id] == nil { if let score = d.outcome.score, score > 0 { references[d.id] = score } }
        let oversized = findOversized(profiles, reference: references, bound: bound, floor: floor)
        for i in decided.indices {
            decided[i].outcome.copycatOf = copycats[decided[i].id]
            write(StateKey.contributionOutcome(decided[i].id), decided[i].outcome)
        }
        // Ratings, penalties and payouts (D53); negative streaks keep contributions out of the step.
        let excluded = try settle(window: window, decided: decided, flags: flags, oversized: oversized)
        var accepted: [AcceptedContribution] = []
        var oversizedOnly = 0
        // A contribution whose base is an earlier window than the one it landed in (`stale`) is rated
        // but not aggregated: its Δ was computed from a model two outer steps behind the one it
        // would move (D53; on the live network such Δs made the held-out loss rise). Neither is an
        // oversized one (D55).
        for d in decided where d.outcome.copycatOf == nil && !excluded.contains(d.id) && d.stored.contribution.baseWindow >= window {
            guard let score = d.outcome.score, score > 0 else { continue }
            if oversized.contains(d.id) {
                oversizedOnly += 1
            } else {
                accepted.append(AcceptedContribution(id: d.id, blob: d.stored.contribution.blob, score: score))
            }
        }
        for validator in flags.keys.sorted() {
            write(StateKey.validatorFlags(window: window, validator: validator), flags[validator]!)
        }
        // Every contribution the step would have taken was oversized (D66): the bound, not the
        // contributions, is what is wrong — honest Δs of a whole long window outgrow a genesis
        // clip that no step has raised yet, and a chain whose model never steps never raises it.
        // The carried model takes the bound as its clip norm, so the next bound is `clip_growth`
        // times larger, until the Δs fit (or a step happens).
        return (accepted, accepted.isEmpty && oversizedOnly > 0 && bound.isFinite && bound > 0 ? bound : nil)
    }
}

extension Context {
    /// The decodable contributions' profiles in committed order (ordinal, then id). Without a
    /// transition (a chain with no model) there are none, and neither rule below applies.
    func contributionProfiles(_ contributions: [(id: Digest, stored: StoredContribution)]) throws -> [(id: Digest, profile: ContributionProfile)] {
        guard let transition = ledger.transition else { return [] }
        let ordered = contributions.sorted { $0.stored.ordinal != $1.stored.ordinal ? $0.stored.ordinal < $1.stored.ordinal
                                                                                    : $0.id.bytes.lexicographicallyPrecedes($1.id.bytes) }
        return try ordered.compactMap { id, stored in try transition.profile(ofBlob: stored.contribution.blob).map { (id, $0) } }
    }

    /// Whether every contribution of `window` has as many reveals as commitments, or a quorum of
    /// reveals (D59: the phased rules close the next window only then, or after a fallback).
    func revealsComplete(of window: UInt64) throws -> Bool {
        for (id, _) in try storedContributions(of: window) {
            let committed = try overlay.entries(prefix: StateKey.evaluationCommitments(contribution: id), in: store).count
            guard committed > 0 else { continue }
            let revealed = try overlay.entries(prefix: StateKey.evaluations(contribution: id), in: store).count
            if revealed < min(committed, parameters.quorum) { return false }
        }
        return true
    }

    /// Window `window`'s stored contributions, in key order.
    func storedContributions(of window: UInt64) throws -> [(id: Digest, stored: StoredContribution)] {
        let prefix = StateKey.contributionPrefix(window: window)
        return try overlay.entries(prefix: prefix, in: store).compactMap { entry in
            guard entry.key.count == prefix.count + Digest.byteCount, let id = try? Digest(bytes: entry.key.suffix(Digest.byteCount)),
                  let stored = try? StoredContribution(canonicalBytes: entry.value) else { return nil }
            return (id, stored)
        }
    }

    /// The copycat rule (D51, D59): in committed order, a contribution whose kept index set overlaps
    /// an earlier one's by at least `copycatOverlapPPM` of the smaller set is a copycat of the first
    /// such earlier one; `previous` (the previous window's contributions, in committed order) are
    /// all earlier. Integer arithmetic only.
    func findCopycats(_ profiles: [(id: Digest, profile: ContributionProfile)],
                      previous: [(id: Digest, profile: ContributionProfile)] = []) -> [Digest: Digest] {
        var earlier: [(id: Digest, indices: [UInt32])] = previous.filter { !$0.profile.indices.isEmpty }.map { ($0.id, $0.profile.indices) }
        var copycats: [Digest: Digest] = [:]
        for (id, profile) in profiles where !profile.indices.isEmpty {
            if let original = earlier.first(where: { Copycats.overlapPPM($0.indices, profile.indices) >= UInt64(parameters.copycatOverlapPPM) }) {
                copycats[id] = original.id
            }
            earlier.append((id, profile.indices))
        }
        return copycats
    }

    /// The oversize rule (D55, D59): a Δ whose norm exceeds `oversize_norm_ppm` of the reference
    /// norm — the clip the step will use: the score-weighted lower median of the window's
    /// positively scored, non-copycat, non-zero norms (`ClipReference`), held within [`floor`,
    /// `bound`], the limits that the previous step's clip norm and genesis set and no contribution
    /// of this window moves; `bound` when there are no references. So a majority of inflated keys
    /// cannot raise the limit, many keys of tiny positive Δs cannot drag it under honest norms
    /// (their scores are tiny too), and an attacker alone in a window is measured against the bound
    /// (before D59 the rule needed 3 references and such an attacker escaped it). Clipping already
    /// bounds what such a Δ moves; this keeps one scaled-up honest Δ from scoring like an honest one
    /// and being paid for the scaling. Only comparisons of Doubles computed identically everywhere.
    func findOversized(_ profiles: [(id: Digest, profile: ContributionProfile)], reference: [Digest: Int64], bound: Double,
                       floor: Double = 0) -> Set<Digest> {
        guard let ratio = parameters.rewards?.penalties.oversizeNormPPM, ratio > 0 else { return [] }
        let references = profiles.compactMap { id, profile in
            reference[id].flatMap { profile.norm > 0 ? (norm: profile.norm, weight: $0) : nil }
        }
        let limit = ClipReference.clip(references, floor: floor, bound: bound) * (Double(ratio) / 1_000_000)
        return Set(profiles.filter { $0.profile.norm > limit }.map(\.id))
    }
}

extension UInt32 {
    /// + 1, staying at 2^32 − 1 (a count of that many is already damning).
    mutating func saturatingIncrement() { if self < .max { self += 1 } }
}
