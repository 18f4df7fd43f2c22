import CairnCore
import CairnLedger
import CairnTraining
import NIOConcurrencyHelpers

/// The validator's side of the outer step (ARCHITECTURE §6, D48): the ledger chooses the accepted
/// contributions at finalization, this computes the next model with `Aggregation` (fixed order,
/// Float32, no BLAS or FMA, so every validator and auditor gets the same bits), stages the model
/// blob and returns its record. `ConsensusStore.apply` writes the staged blobs in the batch that
/// holds the state naming them (D61): a crash can never leave state pointing at a model blob the
/// store lacks. The last model stays in memory (so a step that closes several windows reads its
/// own staged models); older ones are read back from the blob store.
public final class ModelUpdater: ModelTransition {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    let blobs: BlobStore
    let task: TrainingTaskSpec
    /// False for an auditor on a read-only database: it recomputes models without storing them.
    let storesModels: Bool
    let last = NIOLockedValueBox<(hash: Digest, parameters: [Float])?>(nil)
    /// Δs the copycat and norm checks decoded at this window's finalization, for the outer step
    /// that follows in the same execution (one decode per contribution); emptied by that step and
    /// at the end of every close (`closeFinished`), stepped or not.
    let decoded = NIOLockedValueBox<[Digest: PseudoGradient]>([:])
    /// Model blobs computed since the last `takeStaged()`, oldest first.
    let staged = NIOLockedValueBox<[(id: Digest, bytes: [UInt8])]>([])

    public init(blobs: BlobStore, task: TrainingTaskSpec, storesModels: Bool = true) throws {
        self.blobs = blobs
        self.task = task
        self.storesModels = storesModels
        // Checked once here so that a genesis model no layout fits fails at start, not at a close.
        do { _ = try ModelLayout(task.model) } catch { throw Failure(description: "genesis task.model: \(error)") }
    }

    /// θ_0 for a chain: InitialModel from the seed SHA-256(0x10 ‖ "initial-model" ‖ 0 ‖ chain id), so
    /// every validator derives the same model from genesis alone. Stored in `blobs` when given.
    public static func initialModel(chainID: String, task: TrainingTaskSpec, blobs: BlobStore?) throws -> ModelRecord {
        let layout: ModelLayout
        do { layout = try ModelLayout(task.model) } catch { throw Failure(description: "genesis task.model: \(error)") }
        let parameters = InitialModel.parameters(layout: layout, seed: initialSeed(chainID: chainID))
        let blob: [UInt8]
        do { blob = try ModelBlob.encode(parameters, task: task.name, spec: task.model) } catch { throw Failure(description: "θ_0: \(error)") }
        let id = BlobStore.id(of: blob)
        try blobs?.put(blob, expected: id)
        return ModelRecord(hash: ModelBlob.hash(blob), blob: id)
    }

    public static func initialSeed(chainID: String) -> Digest { DataSplit.seed("initial-model", Array(chainID.utf8)) }

    public static func initialModel(genesis: Genesis, blobs: BlobStore?) throws -> ModelRecord {
        try initialModel(chainID: genesis.chainID, task: genesis.task, blobs: blobs)
    }

    /// The parameters of `record`, from memory or the blob store (checked against its hash).
    public func parameters(of record: ModelRecord) throws -> [Float] {
        if let cached = last.withLockedValue({ $0 }), cached.hash == record.hash { return cached.parameters }
        guard let bytes = try blobs.get(record.blob) else {
            throw Failure(description: "model \(record.hash.hex) (blob \(record.blob.hex)) is not in this validator's blob store; restore the blobs column from a backup or resync from genesis")
        }
        guard ModelBlob.hash(bytes) == record.hash else {
            throw Failure(description: "blob \(record.blob.hex) does not hash to model \(record.hash.hex): the blob store is damaged")
        }
        do {
            return try ModelBlob.decode(bytes, task: task.name, spec: task.model)
        } catch {
            throw Failure(description: "model blob \(record.blob.hex): \(error)")
        }
    }

    public func next(from base: ModelRecord, applying accepted: [AcceptedContribution], window: UInt64) throws -> ModelRecord {
        let theta = try parameters(of: base)
        defer { decoded.withLockedValue { $0 = [:] } }
        var contributions: [Aggregation.Contribution] = []
        for contribution in accepted {
            // Decoded by this finalization's copycat and norm checks: no second read or decode.
            if let delta = decoded.withLockedValue({ $0[contribution.blob] }) {
                contributions.append(Aggregation.Contribution(id: contribution.id, delta: delta, weight: contribution.score))
                continue
            }
            guard let bytes = try blobs.get(contribution.blob) else {
                throw Failure(description: "the outer step of window \(window) needs blob \(contribution.blob.hex) of contribution \(contribution.id.hex), which this validator does not hold; fetch it from a peer (GET /v1/blobs/{id} there, PUT here) and restart")
            }
            do {
                let delta = try PseudoGradientBlob.decode(bytes, task: task)
                contributions.append(Aggregation.Contribution(id: contribution.id, delta: delta, weight: contribution.score))
            } catch {
                // A quorum of 2f+1 accepted it, so at least f+1 honest validators decoded it with
                // this same decoder: failing here means this validator's blob store is damaged.
                throw Failure(description: "blob \(contribution.blob.hex) of accepted contribution \(contribution.id.hex) does not decode here (\(error)); the blob store may be damaged")
            }
        }
        let result = Aggregation.apply(contributions, to: theta, rate: Float(task.training.outerLearningRate),
                                       maxContributions: max(1, Int(task.training.maxAggregated)),
                                       clipBound: task.training.clipBound(baseClipNorm: base.clipNorm),
                                       clipFloor: task.training.clipFloor(baseClipNorm: base.clipNorm),
                                       averaging: Aggregation.Averaging(rawValue: task.training.averaging) ?? .overAll)
        // A proposed model that is non-finite or outside genesis bounds is not adopted (D59): the
        // step is skipped and recorded, the base carries over, and every validator decides the same
        // from the same bits.
        if let skipped = Self.problem(result.parameters, maxMagnitude: task.training.maxParameterMagnitude) {
            var carried = base
            carried.skippedStep = skipped
            return carried
        }
        let blob: [UInt8]
        do { blob = try ModelBlob.encode(result.parameters, task: task.name, spec: task.model) } catch {
            throw Failure(description: "the outer step of window \(window): \(error)")  // unreachable: checked above
        }
        let id = BlobStore.id(of: blob)
        if storesModels { staged.withLockedValue { $0.append((id, blob)) } }
        let record = ModelRecord(hash: ModelBlob.hash(blob), blob: id, clipNorm: result.clipNorm)
        last.withLockedValue { $0 = (record.hash, result.parameters) }
        return record
    }

    /// The model blobs computed since the last call, for the batch that commits the state naming
    /// them; empties the stage.
    public func takeStaged() -> [(id: Digest, bytes: [UInt8])] {
        staged.withLockedValue { staged in
            defer { staged = [] }
            return staged
        }
    }

    /// Why a proposed model may not be adopted, or nil (D59).
    public static func problem(_ parameters: [Float], maxMagnitude: Double) -> ModelRecord.SkippedStep? {
        var outOfBounds = false
        for value in parameters {
            guard value.isFinite else { return .nonFinite }
            if Double(value.magnitude) > maxMagnitude { outOfBounds = true }
        }
        return outOfBounds ? .outOfBounds : nil
    }

    public func closeFinished() { decoded.withLockedValue { $0 = [:] } }

    public func profile(ofBlob blob: Digest) throws -> ContributionProfile? {
        guard let bytes = try blobs.get(blob) else {
            // Every committed contribution's blob is stored before its vertex enters the DAG (D50).
            throw Failure(description: "the copycat and norm checks need blob \(blob.hex), which this validator does not hold; its blob store is damaged (restore the blobs column, or resync from genesis)")
        }
        guard let delta = try? PseudoGradientBlob.decode(bytes, task: task) else { return nil }
        decoded.withLockedValue { $0[blob] = delta }
        var indices: [UInt32] = []
        indices.reserveCapacity(delta.entryCount)
        var increasing = true
        delta.forEachEntry { index, _ in
            if let last = indices.last, UInt32(truncatingIfNeeded: index) <= last { increasing = false }
            indices.append(UInt32(truncatingIfNeeded: index))
        }
        // The decoder checks indices within a chunk; a set that is not strictly increasing overall
        // would break the overlap count, so such a blob counts as undecodable. A non-finite norm
        // (values the decoder let through) likewise.
        let norm = delta.l2Norm
        return increasing && norm.isFinite ? ContributionProfile(indices: indices, norm: norm) : nil
    }
}
