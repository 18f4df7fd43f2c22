import CairnCore

/// The global model a window's trainers start from, as state holds it (`m/` ‖ window): its model
/// hash (SHA-256(0x04 ‖ model blob)) and the blob id (0x03) under which validators serve it.
public struct ModelRecord: Hashable, Sendable, CanonicalCodable {
    public var hash: Digest
    public var blob: Digest
    /// The L2 norm every Δ was clipped to in the outer step that produced this model (the lower
    /// median of the applied Δs' norms), as the bits of a Double; 0 for θ_0, carried over with the
    /// model. Evaluations of contributions on this model clip Δ to it first (D53), so a Δ scored
    /// is the Δ the outer step would apply.
    public var clipNormBits: UInt64
    /// Set when the outer step that should have produced this model was skipped (D59) and the base
    /// model carried over instead: the proposed model was non-finite or outside genesis bounds.
    public var skippedStep: SkippedStep?

    /// Why an outer step was not adopted.
    public enum SkippedStep: UInt8, Hashable, Sendable {
        /// A proposed parameter was NaN or infinite.
        case nonFinite = 1
        /// A proposed parameter exceeded genesis `task.training.max_parameter_magnitude`.
        case outOfBounds = 2

        public var name: String {
            switch self {
            case .nonFinite: "non_finite"
            case .outOfBounds: "out_of_bounds"
            }
        }
    }

    public init(hash: Digest, blob: Digest, clipNorm: Double = 0, skippedStep: SkippedStep? = nil) {
        self.hash = hash
        self.blob = blob
        clipNormBits = clipNorm.isFinite && clipNorm > 0 ? clipNorm.bitPattern : 0
        self.skippedStep = skippedStep
    }

    /// nil when there is none yet (θ_0 and the models carried from it).
    public var clipNorm: Double? {
        let value = Double(bitPattern: clipNormBits)
        return value.isFinite && value > 0 ? value : nil
    }

    public func encode(to writer: inout CanonicalWriter) {
        writer.write(UInt8(3))
        writer.write(hash)
        writer.write(blob)
        writer.write(clipNormBits)
        writer.write(skippedStep?.rawValue ?? 0)
    }

    public init(from reader: inout CanonicalReader) throws {
        try reader.expectVersion(3)
        hash = try reader.field("hash") { try $0.read(Digest.self) }
        blob = try reader.field("blob") { try $0.read(Digest.self) }
        clipNormBits = try reader.field("clip_norm") { try $0.read(UInt64.self) }
        let start = reader.offset
        let code = try reader.field("skipped_step") { try $0.read(UInt8.self) }
        guard code == 0 || SkippedStep(rawValue: code) != nil else { throw reader.fail(.invalidValue("unknown skipped-step reason \(code)"), at: start) }
        skippedStep = SkippedStep(rawValue: code)
    }
}

/// A contribution whose evaluation quorum accepted a positive score, as the outer step receives it.
public struct AcceptedContribution: Hashable, Sendable {
    public var id: Digest
    public var blob: Digest
    public var score: Int64

    public init(id: Digest, blob: Digest, score: Int64) {
        self.id = id
        self.blob = blob
        self.score = score
    }
}

/// The outer step as the ledger sees it (ARCHITECTURE §6, D48). The ledger decides *which*
/// contributions are applied and *when*; the shell, which holds blobs and models, computes the next
/// model — a pure function of the base model and the pseudo-gradients, bit-identical everywhere
/// (CairnTraining's `Aggregation`) — stores it and returns its record. A transition that cannot
/// compute (a blob it does not hold) throws: the executor stops rather than diverge.
public protocol ModelTransition: Sendable {
    /// The model after applying `contributions` (already chosen, in id order) to `base`, for the
    /// contributions made in `window`. When the proposed model is non-finite or outside genesis
    /// bounds, the step is skipped (D59): the result is `base` with `skippedStep` set.
    func next(from base: ModelRecord, applying contributions: [AcceptedContribution], window: UInt64) throws -> ModelRecord

    /// What the finalization rules need of a contribution's Δ: its kept indices (copycats, D51)
    /// and its L2 norm (oversized Δs, D55); nil when the blob does not decode (such a contribution
    /// gets no score anyway). Throws when the blob is not held, like `next`.
    func profile(ofBlob blob: Digest) throws -> ContributionProfile?

    /// Called at the end of every window close, whether the model stepped or carried over: what
    /// this close's checks cached for its step is dropped (a close that applies nothing would
    /// otherwise keep every decoded Δ until the next step, D66).
    func closeFinished()
}

extension ModelTransition {
    public func closeFinished() {}
}

/// A contribution's Δ as the finalization rules see it.
public struct ContributionProfile: Hashable, Sendable {
    /// The flat parameter indices the blob keeps (its top-k set), strictly increasing.
    public var indices: [UInt32]
    /// ‖Δ‖₂ computed in Double in index order (`PseudoGradient.l2Norm`): the same bits on every
    /// validator, since the sum's order is fixed and sqrt is correctly rounded.
    public var norm: Double

    public init(indices: [UInt32], norm: Double) {
        self.indices = indices
        self.norm = norm
    }
}

extension Context {
    /// At the close of `window`: θ_{window+1} from θ_window and the accepted contributions of
    /// window − 1 (finalized at this close). The top `maxAggregated` by score (ties: lower id) are
    /// applied, in id order; with none, the model carries over. Chains whose genesis state holds no
    /// model (ledger tests) have none to advance.
    /// `escalateClipTo`: with nothing applied, the carried model's clip norm becomes this bound
    /// (D66), so the next window's bound grows by `clip_growth`.
    mutating func advanceModel(closing window: UInt64, accepted: [AcceptedContribution], escalateClipTo: Double? = nil) throws {
        guard window < .max, let base = try read(ModelRecord.self, StateKey.model(window)) else { return }
        let chosen = accepted.sorted { $0.score != $1.score ? $0.score > $1.score : $0.id.bytes.lexicographicallyPrecedes($1.id.bytes) }
            .prefix(max(1, parameters.maxAggregated))
            .sorted { $0.id.bytes.lexicographicallyPrecedes($1.id.bytes) }
        var next = base
        next.skippedStep = nil  // a carried model was not produced by a skipped step of this close
        if !chosen.isEmpty, window > 0, let transition = ledger.transition {
            next = try transition.next(from: base, applying: chosen, window: window - 1)
        } else if let escalate = escalateClipTo, escalate.isFinite, escalate > (base.clipNorm ?? 0) {
            next.clipNormBits = escalate.bitPattern
        }
        ledger.transition?.closeFinished()
        write(StateKey.model(window + 1), next)
    }
}
