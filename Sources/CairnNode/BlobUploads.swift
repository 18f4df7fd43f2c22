import CairnChain
import CairnCore
import CairnCrypto
import CairnLedger
import CairnStorage
import CairnTraining
import Foundation
import NIOConcurrencyHelpers

#if canImport(Glibc)
import Glibc
#endif

/// Who may store blobs on this validator, how much, and for how long (D59, attack 8).
///
/// `PUT /v1/blobs/{id}` used to take 64 MiB per request from anyone, with no quota and no pruning,
/// so anyone could fill a validator's disk — and a validator whose disk fills stops. Now an upload
///
/// 1. carries a registered trainer's signature over the chain, the blob id and a time within ten
///    minutes of this node's clock (`BlobUpload`), checked before the body is read;
/// 2. is at most the largest pseudo-gradient the genesis task allows, and decodes as one with a
///    nonzero value (nothing else is ever evaluated; models are written by the node itself);
/// 3. counts against a byte quota per trainer per window (`[limits] upload_bytes_per_window`);
/// 4. is refused while the disk holding the database has less than `[storage] min_free_bytes`
///    free — consensus keeps running, only uploads stop;
/// 5. is dropped `task.training.blob_retention_windows` windows later unless a committed
///    contribution names it by then (`bn/` in state).
///
/// Bookkeeping lives in the `meta` column family: `upload/` ‖ window ‖ blob id → trainer (what to
/// prune, in window order), `uploaded/` ‖ blob id → that window (its current entry), and `quota/`
/// ‖ window ‖ trainer → bytes stored that window. A blob is *pinned* — its entry moved to the
/// current window — whenever a record or a vertex naming it reaches this validator (`pin`), so a
/// blob whose contribution is on its way through consensus is never pruned under it; only a
/// committed contribution (`bn/` in state) keeps it for good.
public final class BlobUploads: Sendable {
    public enum Refusal: Error, Equatable, CustomStringConvertible {
        /// 401: no or a bad signature.
        case unauthorized(String)
        /// 403: a valid signature of a key that is not a registered trainer.
        case notRegistered(String)
        /// 413: larger than any contribution, or beyond the trainer's quota.
        case tooLarge(String)
        case quota(String)
        /// 400: not a valid, nonzero pseudo-gradient, or not the id it claims.
        case invalid(String)
        /// 507: the disk is below the floor.
        case insufficientStorage(String)

        public var description: String {
            switch self {
            case let .unauthorized(text), let .notRegistered(text), let .tooLarge(text), let .quota(text), let .invalid(text),
                 let .insufficientStorage(text): text
            }
        }
    }

    let database: Database
    let chain: Digest
    let task: TrainingTaskSpec
    /// The largest blob read: the genesis task's largest pseudo-gradient, or `[limits]
    /// max_blob_bytes` if that is smaller.
    public let maxBlobBytes: Int
    let quotaBytes: UInt64
    let minFreeBytes: UInt64
    let directory: String
    /// Serializes the quota check with the write, so concurrent uploads cannot overrun it.
    let lock = NIOLock()

    /// `maxBlobBytes`: `[limits] max_blob_bytes`; the task's largest pseudo-gradient when smaller.
    public init(database: Database, chain: Digest, task: TrainingTaskSpec, maxBlobBytes: Int, quotaBytes: UInt64, minFreeBytes: UInt64,
                directory: String) {
        self.database = database
        self.chain = chain
        self.task = task
        self.maxBlobBytes = min(maxBlobBytes, PseudoGradientBlob.maxBytes(parameterCount: task.model.parameterCount,
                                                                          chunkSize: Int(task.compression.chunkSize), topK: Int(task.compression.topK)))
        self.quotaBytes = quotaBytes
        self.minFreeBytes = minFreeBytes
        self.directory = directory
    }

    static func uploadKey(window: UInt64, blob: Digest) -> [UInt8] { Array("upload/".utf8) + window.canonicalBytes + blob.bytes }
    static func uploadedKey(_ blob: Digest) -> [UInt8] { Array("uploaded/".utf8) + blob.bytes }
    static func quotaKey(window: UInt64, trainer: PublicKey) -> [UInt8] { Array("quota/".utf8) + window.canonicalBytes + trainer.bytes }

    /// Checks the signed headers (before the body is read): the trainer, if it may upload `blob`.
    public func authorize(trainer: String?, time: String?, signature: String?, blob: Digest, nowMs: UInt64) throws(Refusal) -> PublicKey {
        guard let trainer, let time, let signature else {
            throw .unauthorized("uploads need a registered trainer's signature in \(BlobUpload.trainerHeader), \(BlobUpload.timeHeader) and \(BlobUpload.signatureHeader) (cairn submit sends them)")
        }
        guard let key = try? PublicKey(hex: trainer), let timeMs = UInt64(time), let signed = try? Signature(hex: signature) else {
            throw .unauthorized("\(BlobUpload.trainerHeader) must be 64 hex characters, \(BlobUpload.timeHeader) a decimal number of ms since 1970 and \(BlobUpload.signatureHeader) 128 hex characters")
        }
        let skew = timeMs > nowMs ? timeMs - nowMs : nowMs - timeMs
        guard skew <= BlobUpload.maxClockSkewMs else {
            throw .unauthorized("the upload's time \(timeMs) is \(skew / 1000) s from this node's clock (\(nowMs)); at most \(BlobUpload.maxClockSkewMs / 1000) s is accepted — check the clock and sign again")
        }
        guard key.verify(signed, for: BlobUpload.signingBytes(chain: chain, trainer: key, blob: blob, timeMs: timeMs)) else {
            throw .unauthorized("the signature does not verify for trainer \(key.short)…, blob \(blob.short)… and time \(timeMs) on this chain")
        }
        guard (try? database.get(ColumnFamily.state.rawValue, StateKey.trainer(key))) != nil else {
            throw .notRegistered("\(key.short)… is not a registered trainer; only registered trainers may upload (`cairn register`)")
        }
        return key
    }

    /// How many bytes of body to read at most: the genesis maximum, or less when the trainer's quota
    /// for `window` is nearly spent. Throws when the disk is below the floor or nothing is left.
    public func readLimit(trainer: PublicKey, window: UInt64, declaredLength: Int?) throws(Refusal) -> Int {
        if let free = Self.freeBytes(directory), free < minFreeBytes {
            throw .insufficientStorage("this validator's disk has \(free) bytes free, below its floor of \(minFreeBytes) ([storage] min_free_bytes); uploads are refused until space is freed — consensus goes on")
        }
        if let declaredLength, declaredLength > maxBlobBytes {
            throw .tooLarge("\(declaredLength) bytes exceeds \(maxBlobBytes), the largest pseudo-gradient of the genesis task (or limits.max_blob_bytes)")
        }
        let left = quotaBytes - min(quotaBytes, used(trainer: trainer, window: window))
        guard left > 0 else {
            throw .quota("trainer \(trainer.short)… has used its \(quotaBytes)-byte upload quota for window \(window) here; upload in the next window")
        }
        return Int(min(UInt64(maxBlobBytes), left))
    }

    func used(trainer: PublicKey, window: UInt64) -> UInt64 {
        ((try? database.get(ColumnFamily.meta.rawValue, Self.quotaKey(window: window, trainer: trainer))).flatMap { $0 }
            .flatMap { try? UInt64(canonicalBytes: $0) }) ?? 0
    }

    /// Validates and stores `bytes` under `id`, charging the trainer's quota for new bytes; false
    /// when the blob was already stored (no charge).
    public func store(_ bytes: [UInt8], id: Digest, trainer: PublicKey, window: UInt64) throws(Refusal) -> Bool {
        guard BlobStore.id(of: bytes) == id else {
            throw .invalid("the body hashes to \(BlobStore.id(of: bytes).hex), not \(id.hex) (blob ids are SHA-256 over 0x03 ‖ bytes)")
        }
        guard bytes.count <= maxBlobBytes else { throw .tooLarge("\(bytes.count) bytes exceeds \(maxBlobBytes), the largest pseudo-gradient of the genesis task") }
        let delta: PseudoGradient
        do {
            delta = try PseudoGradientBlob.decode(bytes, task: task)
        } catch {
            throw .invalid("not a valid pseudo-gradient for the genesis task: \(error)")
        }
        guard delta.l2Norm > 0 else { throw .invalid("every value of this pseudo-gradient is 0: an empty Δ moves nothing and is not stored") }
        let outcome: Result<Bool, Refusal> = lock.withLock {
            do {
                if try database.get(ColumnFamily.blobs.rawValue, id.bytes) != nil {
                    try pinLocked([id], window: window)  // uploaded again: it is wanted now
                    return .success(false)
                }
                let spent = used(trainer: trainer, window: window)
                guard spent + UInt64(bytes.count) <= quotaBytes else {
                    return .failure(.quota("trainer \(trainer.short)… has \(quotaBytes - min(quotaBytes, spent)) bytes of its upload quota for window \(window) left here; this blob has \(bytes.count)"))
                }
                var batch = WriteBatch()
                batch.put(ColumnFamily.blobs.rawValue, id.bytes, bytes)
                batch.put(ColumnFamily.meta.rawValue, Self.uploadKey(window: window, blob: id), trainer.bytes)
                batch.put(ColumnFamily.meta.rawValue, Self.uploadedKey(id), window.canonicalBytes)
                batch.put(ColumnFamily.meta.rawValue, Self.quotaKey(window: window, trainer: trainer), (spent + UInt64(bytes.count)).canonicalBytes)
                try database.write(batch, sync: false)
                return .success(true)
            } catch {
                return .failure(.insufficientStorage("storing the blob failed: \(error)"))
            }
        }
        return try outcome.get()
    }

    /// Moves the pruning entry of every uploaded blob among `blobs` to `window` (a record or
    /// vertex naming it reached this validator); blobs not uploaded here are left alone.
    public func pin(_ blobs: [Digest], window: UInt64) {
        lock.withLock { try? pinLocked(blobs, window: window) }
    }

    func pinLocked(_ blobs: [Digest], window: UInt64) throws {
        var batch = WriteBatch()
        for blob in blobs {
            guard let bytes = try database.get(ColumnFamily.meta.rawValue, Self.uploadedKey(blob)),
                  let uploaded = try? UInt64(canonicalBytes: bytes), uploaded < window,
                  let trainer = try database.get(ColumnFamily.meta.rawValue, Self.uploadKey(window: uploaded, blob: blob)) else { continue }
            batch.delete(ColumnFamily.meta.rawValue, Self.uploadKey(window: uploaded, blob: blob))
            batch.put(ColumnFamily.meta.rawValue, Self.uploadKey(window: window, blob: blob), trainer)
            batch.put(ColumnFamily.meta.rawValue, Self.uploadedKey(blob), window.canonicalBytes)
        }
        if !batch.isEmpty { try database.write(batch, sync: false) }
    }

    /// Drops uploads whose entry is `retention` or more windows before `window` and that no
    /// committed contribution names, and the quota counts of those windows. A blob is kept when
    /// anything about it cannot be read. Returns blobs and bytes dropped.
    @discardableResult
    public func prune(window: UInt64, retention: UInt64) throws -> (blobs: Int, bytes: Int) {
        guard window >= retention else { return (0, 0) }
        let limit = window - retention  // entries of windows ≤ limit go
        return try lock.withLock {
            var batch = WriteBatch()
            var dropped = (blobs: 0, bytes: 0)
            let prefix = Array("upload/".utf8)
            try database.scan(ColumnFamily.meta.rawValue, prefix: prefix) { key, _ in
                guard key.count == prefix.count + 8 + Digest.byteCount, let uploaded = try? UInt64(canonicalBytes: Array(key[prefix.count ..< prefix.count + 8])),
                      uploaded <= limit else { return false }  // keys are in window order: the rest are newer
                batch.delete(ColumnFamily.meta.rawValue, key)
                guard let id = try? Digest(bytes: key.suffix(Digest.byteCount)) else { return true }
                batch.delete(ColumnFamily.meta.rawValue, Self.uploadedKey(id))
                // Named by a committed contribution, or unreadable: kept.
                let named: Bool
                let stored: [UInt8]?
                do {
                    named = try database.get(ColumnFamily.state.rawValue, StateKey.blobContribution(id)) != nil
                    stored = named ? nil : try database.get(ColumnFamily.blobs.rawValue, id.bytes)
                } catch {
                    return true
                }
                guard !named, let bytes = stored else { return true }
                batch.delete(ColumnFamily.blobs.rawValue, id.bytes)
                dropped.blobs += 1
                dropped.bytes += bytes.count
                return true
            }
            let quotaPrefix = Array("quota/".utf8)
            try database.scan(ColumnFamily.meta.rawValue, prefix: quotaPrefix) { key, _ in
                guard key.count >= quotaPrefix.count + 8, let counted = try? UInt64(canonicalBytes: Array(key[quotaPrefix.count ..< quotaPrefix.count + 8])),
                      counted <= limit else { return false }
                batch.delete(ColumnFamily.meta.rawValue, key)
                return true
            }
            if !batch.isEmpty { try database.write(batch, sync: false) }
            return dropped
        }
    }

    /// Bytes available to this process on the file system holding `path`, or nil when unknown.
    static func freeBytes(_ path: String) -> UInt64? {
        var stats = statvfs()
        guard statvfs(path, &stats) == 0 else { return nil }
        let (bytes, overflow) = UInt64(stats.f_bavail).multipliedReportingOverflow(by: UInt64(stats.f_frsize))
        return overflow ? .max : bytes
    }
}
