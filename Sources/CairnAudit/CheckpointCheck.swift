import CairnCore
import CairnCrypto
import CairnLedger
import Foundation

/// The light-client check (D58): a checkpoint certificate verified against genesis alone. A
/// certificate is 2f+1 validators' signed `checkpointVote` records for one (window, sequence
/// hash, state root, model hash); whoever holds the genesis file can check it without a node, and
/// then trust what those validators certified at that window.
public enum CheckpointCheck {
    /// Every problem with `certificate` (empty when it is valid): signers that are not validators
    /// or appear twice, signatures that do not verify over the vote as a record of this chain, and
    /// fewer than 2f+1 valid signers.
    public static func problems(_ certificate: CheckpointCertificate, genesis: Genesis, genesisHash: Digest) -> [String] {
        let validators = genesis.validators
        let quorum = 2 * genesis.faultTolerance + 1
        let body = RecordBody.checkpointVote(certificate.vote).canonicalBytes
        var problems: [String] = []
        var valid = Set<UInt32>()
        for signer in certificate.signers {
            guard signer.validator < UInt32(validators.count) else {
                problems.append("signer \(signer.validator) is not a validator (genesis lists \(validators.count))")
                continue
            }
            guard !valid.contains(signer.validator) else {
                problems.append("validator \(signer.validator) signs twice")
                continue
            }
            let key = validators[Int(signer.validator)].publicKey
            let message = SignedRecord.signingBytes(chain: genesisHash, author: key, nonce: signer.nonce, body: body)
            guard key.verify(signer.signature, for: message) else {
                problems.append("validator \(signer.validator)'s signature (nonce \(signer.nonce)) does not verify over this vote")
                continue
            }
            valid.insert(signer.validator)
        }
        if valid.count < quorum {
            problems.append("\(valid.count) valid signatures; a checkpoint needs 2f+1 = \(quorum)")
        }
        return problems
    }

    /// A proven entry in words: an account's balance, a trainer's rating, otherwise the value's
    /// size and hex (nil: proven absent).
    public static func describe(key: [UInt8], value: [UInt8]?) -> String {
        guard let value else { return "absent (no such entry in the certified state)" }
        if key.starts(with: StateKey.accounts), key.count == StateKey.accounts.count + PublicKey.byteCount,
           let account = try? Account(canonicalBytes: value) {
            return "balance \(account.balance), next nonce \(account.nonce)"
        }
        if key.starts(with: StateKey.trainerRatings), key.count == StateKey.trainerRatings.count + PublicKey.byteCount,
           let rating = try? TrainerRating(canonicalBytes: value) {
            return String(format: "mu %.4f, sigma %.4f, ordinal %.4f, bma %.3f, rated windows %u, last payout %llu, total payout %llu",
                          rating.mu, rating.sigma, TrainerRating.double(rating.ordinalNano), Double(rating.bmaPPM) / 1e6,
                          rating.ratedWindows, rating.lastPayout, rating.totalPayout)
        }
        return "\(value.count) bytes: \(Hex.encode(value.prefix(64)))\(value.count > 64 ? "…" : "")"
    }
}
