import CairnCore
import CairnCrypto

/// The state root as a Merkle tree (ARCHITECTURE §5, D58), so that one entry — a balance, a
/// rating — can be proven under a certified root without the rest of the state.
///
/// Leaves are the state entries in key order, each `SHA-256(0x12 ‖ len ‖ key ‖ len ‖ value)`;
/// inner nodes are `SHA-256(0x13 ‖ left ‖ right)`; the tree over n leaves is RFC 9162's (the left
/// subtree holds the largest power of two below n); and the root commits to the entry count:
/// `SHA-256(0x05 ‖ n as u64 ‖ tree root)`, the tree root of an empty state being 32 zero bytes.
/// The count is in the root so a proof's leaf index and path length are bound to it: a verifier
/// can tell "the first entry" and "adjacent entries", which proofs of absence need.
public enum StateMerkle {
    /// Longest audit path a proof may carry: a tree of 2^64 leaves is 64 levels deep.
    public static let maxPathLength = 64

    public static func leaf(key: [UInt8], value: [UInt8]) -> Digest {
        var scratch: [UInt8] = []
        return leaf(key: key, value: value, scratch: &scratch)
    }

    /// The leaf hash, encoded into `scratch` (reused across a whole root: no allocation per entry).
    static func leaf(key: [UInt8], value: [UInt8], scratch: inout [UInt8]) -> Digest {
        scratch.removeAll(keepingCapacity: true)
        scratch.append(DomainTag.stateLeaf.rawValue)
        // len‖key ‖ len‖value as CanonicalWriter.writeBytes writes them (u32 big-endian); state
        // keys and values are far below 4 GiB, so the truncation never happens.
        withUnsafeBytes(of: UInt32(truncatingIfNeeded: key.count).bigEndian) { scratch.append(contentsOf: $0) }
        scratch.append(contentsOf: key)
        withUnsafeBytes(of: UInt32(truncatingIfNeeded: value.count).bigEndian) { scratch.append(contentsOf: $0) }
        scratch.append(contentsOf: value)
        return SHA256.hash(scratch)
    }

    public static func node(_ left: Digest, _ right: Digest) -> Digest {
        withUnsafeTemporaryAllocation(byteCount: 65, alignment: 1) { buffer in
            buffer[0] = DomainTag.stateNode.rawValue
            left.bytes.withUnsafeBytes { UnsafeMutableRawBufferPointer(rebasing: buffer[1 ..< 33]).copyMemory(from: $0) }
            right.bytes.withUnsafeBytes { UnsafeMutableRawBufferPointer(rebasing: buffer[33 ..< 65]).copyMemory(from: $0) }
            return SHA256.hash(UnsafeRawBufferPointer(buffer))
        }
    }

    /// The state root over a tree of `count` leaves whose tree root is `tree`.
    public static func root(count: UInt64, tree: Digest) -> Digest {
        var writer = CanonicalWriter(reservingCapacity: 41)
        writer.write(DomainTag.stateRoot.rawValue)
        writer.write(count)
        writer.write(tree)
        return SHA256.hash(writer.bytes)
    }

    /// The state root of `entries` (already in key order), in one pass: a stack of perfect
    /// subtrees whose sizes are distinct powers of two, largest first, folded right to left at the
    /// end — which is exactly RFC 9162's split, without holding every leaf.
    public static func root(_ entries: some Sequence<(key: [UInt8], value: [UInt8])>) -> Digest {
        var peaks: [(size: UInt64, hash: Digest)] = []
        var count: UInt64 = 0
        var scratch: [UInt8] = []
        for (key, value) in entries {
            var peak = (size: UInt64(1), hash: leaf(key: key, value: value, scratch: &scratch))
            while let last = peaks.last, last.size == peak.size {
                peaks.removeLast()
                peak = (last.size &* 2, node(last.hash, peak.hash))
            }
            peaks.append(peak)
            count &+= 1
        }
        guard var tree = peaks.popLast()?.hash else { return root(count: 0, tree: .zero) }
        while let left = peaks.popLast() { tree = node(left.hash, tree) }
        return root(count: count, tree: tree)
    }

    /// The tree root over `leaves` by RFC 9162's recursive definition (the proof builder's view).
    static func tree(_ leaves: ArraySlice<Digest>) -> Digest {
        switch leaves.count {
        case 0: return .zero
        case 1: return leaves[leaves.startIndex]
        default:
            let split = largestPowerOfTwo(below: leaves.count)
            return node(tree(leaves.prefix(split)), tree(leaves.dropFirst(split)))
        }
    }

    /// The sibling hashes from leaf `index` up to the root, lowest first (RFC 9162 §2.1.3.1).
    static func path(_ index: Int, _ leaves: ArraySlice<Digest>) -> [Digest] {
        guard leaves.count > 1 else { return [] }
        let split = largestPowerOfTwo(below: leaves.count)
        if index < split {
            return path(index, leaves.prefix(split)) + [tree(leaves.dropFirst(split))]
        }
        return path(index - split, leaves.dropFirst(split)) + [tree(leaves.prefix(split))]
    }

    static func largestPowerOfTwo(below n: Int) -> Int {
        var k = 1
        while k << 1 < n { k <<= 1 }
        return k
    }

    /// The tree root that `path` leads to from `leaf` at `index` in a tree of `count` leaves, or nil
    /// when the path cannot belong to such a tree (RFC 9162 §2.1.3.2). Only shifts and compares:
    /// nothing here can trap on a proof someone made up.
    public static func treeRoot(leaf: Digest, index: UInt64, count: UInt64, path: [Digest]) -> Digest? {
        guard index < count, path.count <= maxPathLength else { return nil }
        var fn = index
        var sn = count - 1
        var hash = leaf
        for sibling in path {
            guard sn != 0 else { return nil }
            if fn & 1 == 1 || fn == sn {
                hash = node(sibling, hash)
                while fn & 1 == 0 && fn != 0 {
                    fn >>= 1
                    sn >>= 1
                }
            } else {
                hash = node(hash, sibling)
            }
            fn >>= 1
            sn >>= 1
        }
        return sn == 0 ? hash : nil
    }
}

/// Proof that a state key holds a value — or holds none — under a state root.
///
/// Present: the entry's leaf with its index and audit path. Absent: the entries just below and
/// just above the key (either missing at an end of the key order), adjacent in the tree; with an
/// empty state, neither.
public struct StateProof: Hashable, Sendable {
    public struct Leaf: Hashable, Sendable {
        public var index: UInt64
        public var key: [UInt8]
        public var value: [UInt8]
        public var path: [Digest]

        public init(index: UInt64, key: [UInt8], value: [UInt8], path: [Digest]) {
            self.index = index
            self.key = key
            self.value = value
            self.path = path
        }

        /// The state root this leaf leads to in a tree of `count` entries, if its path fits one.
        func root(count: UInt64) -> Digest? {
            StateMerkle.treeRoot(leaf: StateMerkle.leaf(key: key, value: value), index: index, count: count, path: path)
                .map { StateMerkle.root(count: count, tree: $0) }
        }
    }

    /// The key asked about.
    public var key: [UInt8]
    /// Entries in the state the proof is from.
    public var count: UInt64
    /// The entry itself when the key is present.
    public var entry: Leaf?
    /// The neighbours when it is absent.
    public var below: Leaf?
    public var above: Leaf?

    public init(key: [UInt8], count: UInt64, entry: Leaf? = nil, below: Leaf? = nil, above: Leaf? = nil) {
        self.key = key
        self.count = count
        self.entry = entry
        self.below = below
        self.above = above
    }

    /// Why a proof does not hold.
    public struct Failure: Error, Hashable, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// The proof for `key` over `entries` (the whole state, in key order).
    public static func make(key: [UInt8], entries: [(key: [UInt8], value: [UInt8])]) -> StateProof {
        var scratch: [UInt8] = []
        let leaves = entries.map { StateMerkle.leaf(key: $0.key, value: $0.value, scratch: &scratch) }
        func leaf(_ i: Int) -> Leaf {
            Leaf(index: UInt64(i), key: entries[i].key, value: entries[i].value, path: StateMerkle.path(i, leaves[...]))
        }
        var proof = StateProof(key: key, count: UInt64(entries.count))
        // The first entry whose key is not below `key`.
        var low = 0
        var high = entries.count
        while low < high {
            let mid = (low + high) / 2
            if entries[mid].key.lexicographicallyPrecedes(key) { low = mid + 1 } else { high = mid }
        }
        if low < entries.count, entries[low].key == key {
            proof.entry = leaf(low)
        } else {
            if low > 0 { proof.below = leaf(low - 1) }
            if low < entries.count { proof.above = leaf(low) }
        }
        return proof
    }

    /// The value the proof shows `expected` holds under `root` (nil: absent): `verify(root:)` for
    /// a proof that must be about the key the caller asked for, not one the prover picked.
    public func verify(key expected: [UInt8], root: Digest) throws(Failure) -> [UInt8]? {
        guard key == expected else {
            throw Failure(description: "the proof is about \(StateKey.describe(key)), not \(StateKey.describe(expected))")
        }
        return try verify(root: root)
    }

    /// The value the proof shows its `key` holds under `root` (nil: it shows the key absent), or a
    /// failure naming what does not hold.
    public func verify(root: Digest) throws(Failure) -> [UInt8]? {
        func check(_ leaf: Leaf, _ name: String) throws(Failure) {
            guard let found = leaf.root(count: count) else {
                throw Failure(description: "the \(name) entry's path (index \(leaf.index), \(leaf.path.count) hashes) does not fit a state of \(count) entries")
            }
            guard found == root else {
                throw Failure(description: "the \(name) entry (\(StateKey.describe(leaf.key))) does not lead to state root \(root.hex) but to \(found.hex)")
            }
        }
        if let entry {
            guard below == nil, above == nil else { throw Failure(description: "a proof of presence carries neighbours too") }
            guard entry.key == key else { throw Failure(description: "the proven entry is \(StateKey.describe(entry.key)), not \(StateKey.describe(key))") }
            try check(entry, "proven")
            return entry.value
        }
        if let below {
            guard below.key.lexicographicallyPrecedes(key) else { throw Failure(description: "the entry offered as below the key is not below it") }
            try check(below, "lower neighbour")
        }
        if let above {
            guard key.lexicographicallyPrecedes(above.key) else { throw Failure(description: "the entry offered as above the key is not above it") }
            try check(above, "upper neighbour")
        }
        switch (below, above) {
        case let (below?, above?):
            guard below.index < count - 1, above.index == below.index + 1 else {
                throw Failure(description: "the neighbours (indices \(below.index), \(above.index)) are not adjacent, so an entry for the key may lie between them")
            }
        case (nil, let above?):
            guard above.index == 0 else { throw Failure(description: "no lower neighbour, yet the upper one is entry \(above.index), not the first") }
        case (let below?, nil):
            guard below.index == count - 1 else { throw Failure(description: "no upper neighbour, yet the lower one is entry \(below.index) of \(count), not the last") }
        case (nil, nil):
            guard count == 0, StateMerkle.root(count: 0, tree: .zero) == root else {
                throw Failure(description: "a proof of absence without neighbours holds only for an empty state")
            }
        }
        return nil
    }
}

/// JSON form (the API's `/v1/checkpoints/{window}/proof/{key}`): bytes and hashes as hex. What a
/// node sends is untrusted: lengths are bounded here and everything else is checked by `verify`.
extension StateProof: Codable {
    enum CodingKeys: String, CodingKey { case key, count, entry, below, above }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        key = try Self.bytes(container.decode(String.self, forKey: .key), .key, in: container)
        count = try container.decode(UInt64.self, forKey: .count)
        entry = try container.decodeIfPresent(Leaf.self, forKey: .entry)
        below = try container.decodeIfPresent(Leaf.self, forKey: .below)
        above = try container.decodeIfPresent(Leaf.self, forKey: .above)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(Hex.encode(key), forKey: .key)
        try container.encode(count, forKey: .count)
        try container.encodeIfPresent(entry, forKey: .entry)
        try container.encodeIfPresent(below, forKey: .below)
        try container.encodeIfPresent(above, forKey: .above)
    }

    /// State keys and values are small (the largest, a model record, is well under this).
    static let maxBytes = 1 << 20

    static func bytes<K: CodingKey>(_ text: String, _ key: K, in container: KeyedDecodingContainer<K>) throws -> [UInt8] {
        guard text.utf8.count <= 2 * maxBytes, let bytes = Hex.decode(text) else {
            throw DecodingError.dataCorruptedError(forKey: key, in: container, debugDescription: "not hex of at most \(maxBytes) bytes")
        }
        return bytes
    }
}

extension StateProof.Leaf: Codable {
    enum CodingKeys: String, CodingKey { case index, key, value, path }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        index = try container.decode(UInt64.self, forKey: .index)
        key = try StateProof.bytes(container.decode(String.self, forKey: .key), .key, in: container)
        value = try StateProof.bytes(container.decode(String.self, forKey: .value), .value, in: container)
        let hashes = try container.decode([String].self, forKey: .path)
        guard hashes.count <= StateMerkle.maxPathLength else {
            throw DecodingError.dataCorruptedError(forKey: .path, in: container, debugDescription: "\(hashes.count) hashes; a path has at most \(StateMerkle.maxPathLength)")
        }
        path = try hashes.map { text in
            guard let digest = try? Digest(hex: text) else {
                throw DecodingError.dataCorruptedError(forKey: .path, in: container, debugDescription: "'\(text.prefix(80))' is not a 64-hex-character hash")
            }
            return digest
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(index, forKey: .index)
        try container.encode(Hex.encode(key), forKey: .key)
        try container.encode(Hex.encode(value), forKey: .value)
        try container.encode(path.map(\.hex), forKey: .path)
    }
}
