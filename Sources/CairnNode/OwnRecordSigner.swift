import CairnCore
import CairnCrypto

/// This validator's own records (checkpoint votes, evaluation commitments and reveals): signed
/// with its record key, on one nonce sequence that never reuses a nonce — the next is above both
/// the account's nonce in state and every own record already signed (pending ones included, after
/// a restart). A value type: the consensus actor owns it.
struct OwnRecordSigner {
    let key: SigningKey
    let chain: Digest
    /// The lowest nonce not yet signed by this process (or found pending at start).
    private(set) var nextNonce: UInt64 = 0

    init(key: SigningKey, chain: Digest) {
        self.key = key
        self.chain = chain
    }

    /// Notes a pending record found at start: one of ours spends its nonce.
    mutating func restored(_ record: SignedRecord) {
        if record.author == key.publicKey, record.nonce < .max { nextNonce = max(nextNonce, record.nonce + 1) }
    }

    /// `body` signed at the next nonce given the account's nonce in state, and that nonce; nil at
    /// 2^64 − 1, which has no successor (the ledger refuses it; never reached by counting). The
    /// nonce counts as spent once `spent(_:)` is told (after the record is durable).
    func sign(_ body: RecordBody, accountNonce: UInt64) -> (record: [UInt8], nonce: UInt64)? {
        let nonce = max(accountNonce, nextNonce)
        guard nonce < .max else { return nil }
        let bytes = body.canonicalBytes
        let signature = key.sign(SignedRecord.signingBytes(chain: chain, author: key.publicKey, nonce: nonce, body: bytes))
        return (SignedRecord(author: key.publicKey, nonce: nonce, body: bytes, signature: signature).canonicalBytes, nonce)
    }

    mutating func spent(_ nonce: UInt64) {
        if nonce < .max { nextNonce = max(nextNonce, nonce + 1) }
    }
}
