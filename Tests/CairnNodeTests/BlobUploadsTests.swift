import CairnChain
import CairnCore
import CairnCrypto
import CairnLedger
import CairnNode
import CairnStorage
import CairnTraining
import CairnTestKit
import Foundation
import Testing

/// `BlobUploads` on its own (D59): quotas per trainer and window, pinning and pruning.
@Suite("Node: upload bookkeeping")
struct BlobUploadsTests {
    static func blob(_ seed: Int, layout: ModelLayout) -> [UInt8] {
        var feedback = ErrorFeedback(parameterCount: layout.parameterCount)
        let dense = (0 ..< layout.parameterCount).map { j in Float(((j * 7 + seed * 13) % 23) - 11) * 1e-3 }
        return PseudoGradientBlob.encode(feedback.compress(dense, chunkSize: 256, topK: 8), topK: 8)
    }

    @Test("a blob pinned by a record or vertex naming it survives the retention counted from the pin; a committed contribution keeps it for good; an unnamed one goes; quota counts of old windows go too")
    func pinAndPrune() throws {
        let (database, path) = try SmallTask.database()
        defer { database.close(); try? FileManager.default.removeItem(atPath: path) }
        let task = SmallTask.spec
        let layout = try ModelLayout(task.model)
        let uploads = BlobUploads(database: database, chain: Hashing.digest(.genesis, [9]), task: task, maxBlobBytes: 1 << 20,
                                  quotaBytes: 1 << 20, minFreeBytes: 0, directory: path)
        let trainer = try SigningKey(seed: [UInt8](repeating: 4, count: 32)).publicKey
        let (pinned, unnamed, committed) = (Self.blob(1, layout: layout), Self.blob(2, layout: layout), Self.blob(3, layout: layout))
        for bytes in [pinned, unnamed, committed] { #expect(try uploads.store(bytes, id: BlobStore.id(of: bytes), trainer: trainer, window: 1)) }
        #expect(try !uploads.store(pinned, id: BlobStore.id(of: pinned), trainer: trainer, window: 1))  // again: free, not stored twice
        try database.put(ColumnFamily.state.rawValue, StateKey.blobContribution(BlobStore.id(of: committed)), Hashing.digest(.record, [1]).bytes)
        uploads.pin([BlobStore.id(of: pinned)], window: 5)   // its record reached this validator in window 5
        let store = BlobStore(database: database)
        // Window 3, retention 2: entries of window 1 go — the unnamed blob, not the committed or pinned one.
        #expect(try uploads.prune(window: 3, retention: 2) == (1, unnamed.count))
        #expect(try store.get(BlobStore.id(of: unnamed)) == nil)
        #expect(try store.get(BlobStore.id(of: committed)) == committed && store.get(BlobStore.id(of: pinned)) == pinned)
        #expect(try uploads.prune(window: 6, retention: 2).blobs == 0)   // the pin (window 5) is recent
        #expect(try uploads.prune(window: 7, retention: 2).blobs == 1)   // now it is not
        #expect(try store.get(BlobStore.id(of: pinned)) == nil && store.get(BlobStore.id(of: committed)) == committed)
        // Nothing of the bookkeeping is left for pruned windows.
        var left: [[UInt8]] = []
        try database.scan(ColumnFamily.meta.rawValue, prefix: Array("upload".utf8)) { key, _ in left.append(key); return true }
        try database.scan(ColumnFamily.meta.rawValue, prefix: Array("quota/".utf8)) { key, _ in left.append(key); return true }
        #expect(left.isEmpty, "\(left.count) bookkeeping keys left")
        // The quota: three of these blobs a window, then 413.
        let small = BlobUploads(database: database, chain: Hashing.digest(.genesis, [9]), task: task, maxBlobBytes: 1 << 20,
                                quotaBytes: UInt64(3 * pinned.count), minFreeBytes: 0, directory: path)
        for seed in 10 ..< 13 { #expect(try small.store(Self.blob(seed, layout: layout), id: BlobStore.id(of: Self.blob(seed, layout: layout)), trainer: trainer, window: 9)) }
        let fourth = Self.blob(13, layout: layout)
        #expect(throws: BlobUploads.Refusal.self) { try small.store(fourth, id: BlobStore.id(of: fourth), trainer: trainer, window: 9) }
        #expect(try small.store(fourth, id: BlobStore.id(of: fourth), trainer: trainer, window: 10))  // the next window's quota
    }
}
