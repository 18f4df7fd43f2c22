/// The signed header of a blob upload (`PUT /v1/blobs/{id}`, D59): only registered trainers may
/// store blobs on a validator, each upload counts against its uploader's quota, and the signature
/// names the blob and a time, so a captured header uploads nothing else and expires.
///
/// The signature is Ed25519 over 0x14 ‖ chain ‖ trainer ‖ blob id ‖ time (ms since the Unix epoch,
/// big-endian u64); the headers carry the trainer key, the time and the signature in hex.
public enum BlobUpload {
    public static let trainerHeader = "X-Cairn-Trainer"
    public static let timeHeader = "X-Cairn-Time"
    public static let signatureHeader = "X-Cairn-Signature"
    /// How far an upload's time may be from the validator's clock (either way).
    public static let maxClockSkewMs: UInt64 = 10 * 60 * 1000

    public static func signingBytes(chain: Digest, trainer: PublicKey, blob: Digest, timeMs: UInt64) -> [UInt8] {
        [DomainTag.blobUpload.rawValue] + chain.bytes + trainer.bytes + blob.bytes + timeMs.canonicalBytes
    }
}
