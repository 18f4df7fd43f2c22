import CairnCore
import CairnCrypto

/// How the corpus is cut into training contexts and the held-out slice, and which contexts each
/// trainer, evaluator and probe gets. Everything is a pure function of the corpus length, the
/// model's context size and 32-byte seeds, so every validator computes the same positions.
///
/// A *position* p names the context `text[p ..< p + contextBytes]` and its target byte
/// `text[p + contextBytes]`. The last 5% of the corpus is held out: no training position's context
/// or target reaches into it, and held-out positions lie wholly inside it.
public struct DataSplit: Sendable, Hashable {
    public let textCount: Int
    public let contextBytes: Int
    /// First byte of the held-out slice.
    public let heldOutStart: Int

    public init(textCount: Int, contextBytes: Int) {
        precondition(contextBytes > 0 && textCount > 40 * (contextBytes + 1), "corpus too small for the split")
        self.textCount = textCount
        self.contextBytes = contextBytes
        heldOutStart = textCount - textCount / 20
    }

    /// Training positions are `0 ..< trainingCount`.
    public var trainingCount: Int { heldOutStart - contextBytes }
    /// Held-out positions are `heldOutStart ..< heldOutStart + heldOutCount`.
    public var heldOutCount: Int { textCount - contextBytes - heldOutStart }

    public func isTraining(_ position: Int) -> Bool { position >= 0 && position < trainingCount }

    /// `count` held-out positions spread evenly over the slice (all of them when `count` is larger).
    public func heldOutPositions(count: Int) -> [Int] {
        let n = min(max(count, 1), heldOutCount)
        return (0..<n).map { heldOutStart + $0 * heldOutCount / n }
    }

    /// `count` training positions drawn uniformly (with replacement) by a generator seeded with `seed`.
    public func trainingPositions(seed: Digest, count: Int) -> [Int] {
        var rng = SplitMix64(digest: seed)
        return (0..<max(0, count)).map { _ in Int(rng.below(UInt64(trainingCount))) }
    }

    /// Trainer `trainer`'s data for window `window`: `count` training positions seeded by
    /// SHA-256(0x10 ‖ "shard" ‖ β_k ‖ trainer ‖ k), so the shard is fixed once the window's beacon is
    /// known, differs between trainers and cannot be chosen by the trainer.
    public func shard(beacon: Digest, trainer: PublicKey, window: UInt64, count: Int) -> [Int] {
        trainingPositions(seed: Self.seed("shard", beacon.bytes, trainer.bytes, window), count: count)
    }

    /// A seed for one purpose (`label`) derived from byte strings and a number; labels keep the
    /// purposes apart so no two draws share a stream.
    public static func seed(_ label: String, _ first: [UInt8], _ second: [UInt8] = [], _ number: UInt64 = 0) -> Digest {
        var bytes = Array(label.utf8)
        bytes.append(0)
        bytes += first
        bytes += second
        for i in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: number >> (8 * UInt64(i)))) }
        return Hashing.digest(.training, bytes)
    }
}
