import CairnChain
import CairnCore
import CairnCrypto
import CairnLedger
import CairnStorage
import CairnTraining
import CairnTestKit
import Foundation
import Testing

@Suite("Node: the outer step over stored blobs")
struct ModelUpdaterTests {
    @Test("the next model is Aggregation over the decoded blobs, staged as a model blob that decodes back (written by the step's batch, not before); a missing blob is named")
    func outerStep() throws {
        let (database, path) = try SmallTask.database()
        defer { database.close(); try? FileManager.default.removeItem(atPath: path) }
        let blobs = BlobStore(database: database)
        let updater = try ModelUpdater(blobs: blobs, task: SmallTask.spec)
        let layout = try ModelLayout(SmallTask.spec.model)
        let theta = InitialModel.parameters(layout: layout, seed: DataSplit.seed("model-test", [1]))
        let base = try ModelBlob.encode(theta, task: SmallTask.spec.name, spec: SmallTask.spec.model)
        let baseRecord = ModelRecord(hash: ModelBlob.hash(base), blob: BlobStore.id(of: base))
        try blobs.put(base, expected: baseRecord.blob)

        var accepted: [AcceptedContribution] = []
        var contributions: [Aggregation.Contribution] = []
        for i in 0 ..< 3 {
            var feedback = ErrorFeedback(parameterCount: layout.parameterCount)
            let dense = (0 ..< layout.parameterCount).map { j in Float(((j * 7 + i * 13) % 23) - 11) * 1e-3 }
            let delta = feedback.compress(dense, chunkSize: 256, topK: 8)
            let blob = PseudoGradientBlob.encode(delta, topK: 8)
            let id = BlobStore.id(of: blob)
            try blobs.put(blob, expected: id)
            let contribution = Hashing.digest(.record, [UInt8(i)])
            accepted.append(AcceptedContribution(id: contribution, blob: id, score: Int64(100 + i)))
            contributions.append(Aggregation.Contribution(id: contribution, delta: delta, weight: Int64(100 + i)))  // weighted by score (D59)
        }
        accepted.sort { $0.id.bytes.lexicographicallyPrecedes($1.id.bytes) }
        let next = try updater.next(from: baseRecord, applying: accepted, window: 4)
        let expected = Aggregation.apply(contributions, to: theta, rate: Float(SmallTask.spec.training.outerLearningRate),
                                         maxContributions: Int(SmallTask.spec.training.maxAggregated),
                                         averaging: try #require(Aggregation.Averaging(rawValue: SmallTask.spec.training.averaging))).parameters
        // Staged, not written: the blob goes into the batch that commits the state naming it (D61).
        #expect(try blobs.get(next.blob) == nil)
        let staged = updater.takeStaged()
        #expect(staged.map(\.id) == [next.blob] && updater.takeStaged().isEmpty)
        let stored = try #require(staged.first?.bytes)
        try blobs.put(stored, expected: next.blob)
        #expect(ModelBlob.hash(stored) == next.hash)
        #expect(try ModelBlob.decode(stored, task: SmallTask.spec.name, spec: SmallTask.spec.model) == expected)
        // A fresh updater (nothing in memory) reads the model back from the blob store.
        #expect(try ModelUpdater(blobs: blobs, task: SmallTask.spec).parameters(of: next) == expected)

        let missing = AcceptedContribution(id: Hashing.digest(.record, [9]), blob: Hashing.digest(.blob, [9]), score: 1)
        do {
            _ = try updater.next(from: next, applying: [missing], window: 5)
            Issue.record("a missing blob was not reported")
        } catch {
            #expect("\(error)".contains(missing.blob.hex) && "\(error)".contains("window 5"))
        }
    }

    @Test("poisoning (D59, attack 2): a majority of inflated Δs (largest entry 1e37) is clipped to the bound, not to the median they set; a proposed model outside genesis bounds is not adopted — the step is skipped, recorded, nothing stored; non-finite models are never encoded")
    func boundedStep() throws {
        let (database, path) = try SmallTask.database()
        defer { database.close(); try? FileManager.default.removeItem(atPath: path) }
        let blobs = BlobStore(database: database)
        let updater = try ModelUpdater(blobs: blobs, task: SmallTask.spec)
        let layout = try ModelLayout(SmallTask.spec.model)
        var theta = InitialModel.parameters(layout: layout, seed: DataSplit.seed("model-test", [2]))
        let base = try ModelBlob.encode(theta, task: SmallTask.spec.name, spec: SmallTask.spec.model)
        let baseRecord = ModelRecord(hash: ModelBlob.hash(base), blob: BlobStore.id(of: base), clipNorm: 0.5)
        try blobs.put(base, expected: baseRecord.blob)
        func contribution(_ i: Int, scale: Float) throws -> AcceptedContribution {
            var feedback = ErrorFeedback(parameterCount: layout.parameterCount)
            let dense = (0 ..< layout.parameterCount).map { j in Float(((j * 7 + i * 13) % 23) - 11) * 1e-3 }
            var delta = feedback.compress(dense, chunkSize: 256, topK: 8)
            if scale != 1 {  // largest entry ≈ 1e37: every chunk scale multiplied
                let largest = delta.chunks.map { $0.scale * 127 }.max()!
                delta = PseudoGradient(parameterCount: delta.parameterCount, chunkSize: delta.chunkSize, chunks: delta.chunks.map {
                    PseudoGradient.Chunk(scale: Float(Double($0.scale) * Double(scale) / Double(largest)), indices: $0.indices, values: $0.values)
                })
            }
            let blob = PseudoGradientBlob.encode(delta, topK: 8)
            try blobs.put(blob, expected: BlobStore.id(of: blob))
            return AcceptedContribution(id: Hashing.digest(.record, [UInt8(i)]), blob: BlobStore.id(of: blob), score: 100)
        }
        let honest = try (0 ..< 3).map { try contribution($0, scale: 1) }
        let inflated = try (3 ..< 7).map { try contribution($0, scale: 1e37) }
        let accepted = (honest + inflated).sorted { $0.id.bytes.lexicographicallyPrecedes($1.id.bytes) }
        let next = try updater.next(from: baseRecord, applying: accepted, window: 4)
        let bound = SmallTask.spec.training.clipBound(baseClipNorm: 0.5)
        #expect(next.skippedStep == nil && next.clipNorm == bound, "clip \(String(describing: next.clipNorm)), bound \(bound)")
        let moved = try updater.parameters(of: next)
        // Seven Δs each of norm ≤ bound, rate 3 / 7: no parameter moves by more than 3 × bound.
        let largestMove = zip(moved, theta).map { Double(($0 - $1).magnitude) }.max()!
        #expect(largestMove <= 3 * bound + 1e-6 && moved.allSatisfy(\.isFinite), "moved \(largestMove)")

        // A base model one step from the genesis magnitude bound: the proposed model is refused.
        theta[0] = Float(SmallTask.spec.training.maxParameterMagnitude) - 0.01
        let edge = try ModelBlob.encode(theta, task: SmallTask.spec.name, spec: SmallTask.spec.model)
        let edgeRecord = ModelRecord(hash: ModelBlob.hash(edge), blob: BlobStore.id(of: edge), clipNorm: 0.5)
        try blobs.put(edge, expected: edgeRecord.blob)
        let push = PseudoGradient(parameterCount: layout.parameterCount, chunkSize: 256,
                                  chunks: (0 ..< PseudoGradient.chunkCount(parameterCount: layout.parameterCount, chunkSize: 256)).map { c in
                                      c == 0 ? PseudoGradient.Chunk(scale: 1.0 / 127, indices: [0], values: [-127])  // θ_0 += rate · 1
                                             : PseudoGradient.Chunk(scale: 0, indices: [], values: []) })
        let pushBlob = PseudoGradientBlob.encode(push, topK: 8)
        try blobs.put(pushBlob, expected: BlobStore.id(of: pushBlob))
        func storedBlobs() throws -> Int {
            var n = 0
            try database.scan(ColumnFamily.blobs.rawValue, prefix: []) { _, _ in n += 1; return true }
            return n
        }
        let before = try storedBlobs()
        let skipped = try updater.next(from: edgeRecord, applying: [AcceptedContribution(id: Hashing.digest(.record, [42]), blob: BlobStore.id(of: pushBlob), score: 1)], window: 5)
        #expect(skipped.skippedStep == .outOfBounds && skipped.hash == edgeRecord.hash && skipped.blob == edgeRecord.blob && skipped.clipNorm == edgeRecord.clipNorm)
        #expect(try storedBlobs() == before, "a skipped step stored a model blob")
        #expect(ModelUpdater.problem([1, .nan, 2], maxMagnitude: 10) == .nonFinite)
        #expect(ModelUpdater.problem([1, -11, 2], maxMagnitude: 10) == .outOfBounds)
        #expect(ModelUpdater.problem([1, -10, 2], maxMagnitude: 10) == nil)
        #expect(throws: BlobError.self) { try ModelBlob.encode([1, .infinity], task: SmallTask.spec.name, spec: SmallTask.spec.model) }
        // The record says why, and survives its encoding.
        #expect(try ModelRecord(canonicalBytes: skipped.canonicalBytes) == skipped)
    }

    @Test("θ_0 is a pure function of genesis: the same record from two derivations, different for another chain id")
    func initialModel() throws {
        let a = try ModelUpdater.initialModel(chainID: "cairn-test", task: SmallTask.spec, blobs: nil)
        #expect(try ModelUpdater.initialModel(chainID: "cairn-test", task: SmallTask.spec, blobs: nil) == a)
        #expect(try ModelUpdater.initialModel(chainID: "another-chain", task: SmallTask.spec, blobs: nil) != a)
        let layout = try ModelLayout(SmallTask.spec.model)
        let blob = try ModelBlob.encode(InitialModel.parameters(layout: layout, seed: DataSplit.seed("initial-model", Array("cairn-test".utf8))),
                                    task: SmallTask.spec.name, spec: SmallTask.spec.model)
        #expect(a == ModelRecord(hash: ModelBlob.hash(blob), blob: BlobStore.id(of: blob)))
    }

    @Test("profiles for the copycat and oversize rules: a real blob's flat top-k indices, increasing, and its norm; the same Δ re-valued keeps the indices, its norm scales; garbage gives nil; a missing blob throws")
    func profiles() throws {
        let (database, path) = try SmallTask.database()
        defer { database.close(); try? FileManager.default.removeItem(atPath: path) }
        let blobs = BlobStore(database: database)
        let updater = try ModelUpdater(blobs: blobs, task: SmallTask.spec)
        let layout = try ModelLayout(SmallTask.spec.model)
        var feedback = ErrorFeedback(parameterCount: layout.parameterCount)
        let dense = (0 ..< layout.parameterCount).map { j in Float(((j * 11) % 29) - 14) * 1e-3 }
        let delta = feedback.compress(dense, chunkSize: 256, topK: 8)
        let blob = PseudoGradientBlob.encode(delta, topK: 8)
        try blobs.put(blob, expected: BlobStore.id(of: blob))
        let profile = try #require(try updater.profile(ofBlob: BlobStore.id(of: blob)))
        let indices = profile.indices
        #expect(indices.map(Int.init) == delta.flatIndices && !indices.isEmpty)
        #expect(profile.norm == delta.l2Norm && profile.norm > 0)
        #expect(zip(indices, indices.dropFirst()).allSatisfy { $0 < $1 })
        // A copycat that scales the copied values keeps the index set: overlap 100%.
        var scaledFeedback = ErrorFeedback(parameterCount: layout.parameterCount)
        let scaled = PseudoGradientBlob.encode(scaledFeedback.compress(dense.map { $0 * 3 }, chunkSize: 256, topK: 8), topK: 8)
        try blobs.put(scaled, expected: BlobStore.id(of: scaled))
        let copied = try #require(try updater.profile(ofBlob: BlobStore.id(of: scaled)))
        #expect(Copycats.overlapPPM(indices, copied.indices) == 1_000_000)
        #expect(abs(copied.norm / profile.norm - 3) < 0.05)
        let garbage = Array("not a blob".utf8)
        try blobs.put(garbage, expected: BlobStore.id(of: garbage))
        #expect(try updater.profile(ofBlob: BlobStore.id(of: garbage)) == nil)
        #expect(throws: (any Error).self) { try updater.profile(ofBlob: Hashing.digest(.blob, [7])) }
    }
}
