import CairnCore
import CairnCrypto
import CairnLedger
import CairnTestKit
import Foundation
import Testing

/// The state root as a Merkle tree and the proofs under it (D58).
@Suite("State tree: roots and proofs")
struct StateMerkleTests {
    typealias Entries = [(key: [UInt8], value: [UInt8])]

    /// RFC 9162's definition, written out independently of the one-pass implementation.
    static func referenceTree(_ leaves: ArraySlice<Digest>) -> Digest {
        if leaves.isEmpty { return .zero }
        if leaves.count == 1 { return leaves.first! }
        var k = 1
        while k * 2 < leaves.count { k *= 2 }
        return StateMerkle.node(referenceTree(leaves.prefix(k)), referenceTree(leaves.dropFirst(k)))
    }

    static func be(_ value: some FixedWidthInteger) -> [UInt8] { withUnsafeBytes(of: value.bigEndian) { Array($0) } }

    /// `count` distinct random keys (some sharing prefixes, as state keys do), in key order.
    static func entries(_ count: Int, _ random: inout SeededGenerator) -> Entries {
        var keys = Set<[UInt8]>()
        let prefixes = [Array("a/".utf8), Array("rt/".utf8), Array("c/".utf8), Array("window".utf8)]
        while keys.count < count {
            keys.insert(prefixes[Int.random(in: 0 ..< prefixes.count, using: &random)] + random.bytes(Int.random(in: 0 ... 6, using: &random)))
        }
        return keys.sorted { $0.lexicographicallyPrecedes($1) }.map { ($0, random.bytes(Int.random(in: 0 ... 40, using: &random))) }
    }

    @Test("leaf, node and root are the documented byte layouts")
    func knownLayout() {
        let key: [UInt8] = [0x61, 0x2f, 7]
        let value: [UInt8] = [1, 2]
        let leaf = SHA256.hash([0x12] + Self.be(UInt32(3)) + key + Self.be(UInt32(2)) + value)
        #expect(StateMerkle.leaf(key: key, value: value) == leaf)
        #expect(StateMerkle.node(leaf, .zero) == SHA256.hash([0x13] + leaf.bytes + Digest.zero.bytes))
        #expect(Ledger.stateRoot([]) == SHA256.hash([0x05] + Self.be(UInt64(0)) + Digest.zero.bytes))
        #expect(Ledger.stateRoot([(key, value)]) == SHA256.hash([0x05] + Self.be(UInt64(1)) + leaf.bytes))
    }

    @Test("the one-pass root equals RFC 9162's recursive tree for every size up to 300 and a few large ones")
    func rootMatchesReference() {
        var random = SeededGenerator(seed: 58)
        for count in Array(0 ... 300) + [511, 512, 513, 1000, 4097] {
            let entries = Self.entries(count, &random)
            let leaves = entries.map { StateMerkle.leaf(key: $0.key, value: $0.value) }
            #expect(Ledger.stateRoot(entries) == StateMerkle.root(count: UInt64(count), tree: Self.referenceTree(leaves[...])), "size \(count)")
        }
    }

    @Test("every entry's proof gives its value and every absent key's proof gives absence, over 200 seeds")
    func proofsHold() throws {
        for seed in UInt64(0) ..< 200 {
            var random = SeededGenerator(seed: seed)
            let entries = Self.entries(Int.random(in: 0 ... 70, using: &random), &random)
            let root = Ledger.stateRoot(entries)
            for entry in entries {
                let proof = StateProof.make(key: entry.key, entries: entries)
                #expect(try proof.verify(root: root) == entry.value, "seed \(seed)")
            }
            let present = Set(entries.map(\.key))
            for _ in 0 ..< 10 {
                var absent = random.bytes(Int.random(in: 1 ... 8, using: &random))
                if Bool.random(using: &random), let near = entries.randomElement(using: &random) { absent = near.key + [0] }
                guard !present.contains(absent) else { continue }
                let proof = StateProof.make(key: absent, entries: entries)
                #expect(try proof.verify(root: root) == nil, "seed \(seed)")
                // The same proof says nothing about another state.
                if !entries.isEmpty {
                    var other = entries
                    other[0].value.append(1)
                    #expect(throws: StateProof.Failure.self) { try proof.verify(root: Ledger.stateRoot(other)) }
                }
            }
        }
    }

    @Test("altered proofs fail: value, path hash, index, count, key, and absence claimed for a present key")
    func alteredProofsFail() throws {
        for seed in UInt64(0) ..< 100 {
            var random = SeededGenerator(seed: seed)
            let entries = Self.entries(Int.random(in: 3 ... 90, using: &random), &random)
            let root = Ledger.stateRoot(entries)
            let i = Int.random(in: 0 ..< entries.count, using: &random)
            let proof = StateProof.make(key: entries[i].key, entries: entries)
            let entry = try #require(proof.entry)

            var changed = proof
            changed.entry?.value = entry.value + [1]
            #expect(throws: StateProof.Failure.self) { try changed.verify(root: root) }
            if !entry.path.isEmpty {
                changed = proof
                let j = Int.random(in: 0 ..< entry.path.count, using: &random)
                changed.entry?.path[j] = Hashing.digest(.blob, entry.path[j].bytes)
                #expect(throws: StateProof.Failure.self) { try changed.verify(root: root) }
                changed = proof
                changed.entry?.path.removeLast()
                #expect(throws: StateProof.Failure.self) { try changed.verify(root: root) }
            }
            changed = proof
            changed.entry?.index = (entry.index + 1) % UInt64(entries.count)
            #expect(throws: StateProof.Failure.self) { try changed.verify(root: root) }
            changed = proof
            changed.count += 1
            #expect(throws: StateProof.Failure.self) { try changed.verify(root: root) }
            changed = proof
            changed.key = entry.key + [0]
            #expect(throws: StateProof.Failure.self) { try changed.verify(root: root) }
            // A genuine proof about another key than the one asked for.
            #expect(throws: StateProof.Failure.self) { try proof.verify(key: entry.key + [0], root: root) }
            #expect(try proof.verify(key: entry.key, root: root) == entry.value)

            // Hiding a present entry: its two neighbours are genuine, but not adjacent.
            if i > 0, i + 1 < entries.count {
                let lower = try #require(StateProof.make(key: entries[i - 1].key, entries: entries).entry)
                let upper = try #require(StateProof.make(key: entries[i + 1].key, entries: entries).entry)
                let hiding = StateProof(key: entries[i].key, count: UInt64(entries.count), below: lower, above: upper)
                #expect(throws: StateProof.Failure.self) { try hiding.verify(root: root) }
            }
            // Hiding the first or last entry by leaving out one side.
            let first = StateProof(key: entries[0].key, count: UInt64(entries.count),
                                   above: StateProof.make(key: entries[1].key, entries: entries).entry)
            #expect(throws: StateProof.Failure.self) { try first.verify(root: root) }
            let last = StateProof(key: entries[entries.count - 1].key, count: UInt64(entries.count),
                                  below: StateProof.make(key: entries[entries.count - 2].key, entries: entries).entry)
            #expect(throws: StateProof.Failure.self) { try last.verify(root: root) }
            // An absence proof without neighbours over a non-empty state.
            #expect(throws: StateProof.Failure.self) { try StateProof(key: [9], count: 0).verify(root: root) }
        }
    }

    @Test("made-up proofs with extreme indices, counts and path lengths fail without trapping")
    func hostileProofs() {
        var random = SeededGenerator(seed: 17)
        let root = Ledger.stateRoot(Self.entries(20, &random))
        let extremes: [UInt64] = [0, 1, 2, 63, 64, UInt64.max - 1, UInt64.max]
        for index in extremes {
            for count in extremes {
                for length in [0, 1, 63, 64, 65] {
                    let leaf = StateProof.Leaf(index: index, key: [1], value: [], path: (0 ..< length).map { _ in Digest(uncheckedBytes: random.bytes(32)) })
                    for proof in [StateProof(key: [1], count: count, entry: leaf), StateProof(key: [0], count: count, above: leaf),
                                  StateProof(key: [2], count: count, below: leaf)] {
                        #expect(throws: StateProof.Failure.self) { try proof.verify(root: root) }
                    }
                }
            }
        }
        // The empty state: absence needs no neighbours, and nothing can be present.
        let empty = Ledger.stateRoot([])
        #expect((try? StateProof(key: [1], count: 0).verify(root: empty)) == .some(nil))
        #expect(throws: StateProof.Failure.self) {
            try StateProof(key: [1], count: 0, entry: .init(index: 0, key: [1], value: [], path: [])).verify(root: empty)
        }
    }

    @Test("the JSON form round-trips and rejects over-long paths and malformed hex")
    func json() throws {
        var random = SeededGenerator(seed: 3)
        let entries = Self.entries(40, &random)
        for key in [entries[7].key, entries[7].key + [0]] {
            let proof = StateProof.make(key: key, entries: entries)
            let decoded = try JSONDecoder().decode(StateProof.self, from: JSONEncoder().encode(proof))
            #expect(decoded == proof)
        }
        let long = "{\"key\":\"01\",\"count\":1,\"entry\":{\"index\":0,\"key\":\"01\",\"value\":\"\",\"path\":[" +
            Array(repeating: "\"\(Digest.zero.hex)\"", count: 65).joined(separator: ",") + "]}}"
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(StateProof.self, from: Data(long.utf8)) }
        for bad in ["{\"key\":\"zz\",\"count\":1}", "{\"key\":\"01\",\"count\":-1}",
                    "{\"key\":\"01\",\"count\":1,\"entry\":{\"index\":0,\"key\":\"01\",\"value\":\"\",\"path\":[\"00\"]}}"] {
            #expect(throws: DecodingError.self) { try JSONDecoder().decode(StateProof.self, from: Data(bad.utf8)) }
        }
    }
}
