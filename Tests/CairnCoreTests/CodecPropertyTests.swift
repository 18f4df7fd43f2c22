import CairnCore
import CairnTestKit
import Testing

@Suite("Canonical codec properties")
struct CodecPropertyTests {
    /// decode(encode(x)) == x, and encoding is deterministic.
    @Test("round trip of random genesis values", arguments: 0 ..< 4)
    func genesisRoundTrip(batch: UInt64) throws {
        var g = SeededGenerator(seed: 0xC0DEC + batch)
        for _ in 0 ..< 500 {
            let value = RandomValues.genesis(&g)
            let bytes = value.canonicalBytes
            let decoded = try Genesis(canonicalBytes: bytes)
            #expect(decoded == value)
            #expect(decoded.canonicalBytes == bytes)
        }
    }

    @Test("round trip of random coin shares and primitive arrays")
    func smallTypesRoundTrip() throws {
        var g = SeededGenerator(seed: 7)
        for _ in 0 ..< 2000 {
            let share = RandomValues.coinShare(&g)
            #expect(try CoinShare(canonicalBytes: share.canonicalBytes) == share)
            let numbers = (0 ..< Int.random(in: 0 ... 20, using: &g)).map { _ in g.next() }
            var writer = CanonicalWriter()
            writer.write(numbers)
            writer.write(g.string(maxLength: 30) as String?)
            var reader = CanonicalReader(writer.bytes)
            #expect(try reader.read([UInt64].self) == numbers)
            _ = try reader.read(String?.self)
            try reader.finish()
        }
    }

    /// encode(decode(b)) == b for every accepted b: mutate valid encodings at random and check
    /// that whatever still decodes re-encodes to the same bytes; nothing may trap.
    @Test("mutated encodings either fail or re-encode identically", arguments: 0 ..< 4)
    func mutationsAreBijective(batch: UInt64) throws {
        var g = SeededGenerator(seed: 0xBAD + batch)
        var accepted = 0
        for _ in 0 ..< 1500 {
            var bytes = RandomValues.genesis(&g).canonicalBytes
            for _ in 0 ..< Int.random(in: 1 ... 4, using: &g) {
                let position = Int.random(in: 0 ..< bytes.count, using: &g)
                switch Int.random(in: 0 ..< 4, using: &g) {
                case 0: bytes[position] ^= UInt8(1 << Int.random(in: 0 ..< 8, using: &g))
                case 1: bytes.remove(at: position)
                case 2: bytes.insert(UInt8.random(in: 0 ... 255, using: &g), at: position)
                default: bytes[position] = UInt8.random(in: 0 ... 255, using: &g)
                }
            }
            if let decoded = try? Genesis(canonicalBytes: bytes) {
                accepted += 1
                #expect(decoded.canonicalBytes == bytes)
            }
        }
        // Bit flips inside fixed fields (keys, integers) keep the encoding valid, so some must pass.
        #expect(accepted > 0)
    }

    @Test("random byte strings never trap and are rejected or re-encode identically")
    func randomBytes() {
        var g = SeededGenerator(seed: 99)
        for _ in 0 ..< 5000 {
            let bytes = g.bytes(Int.random(in: 0 ... 300, using: &g))
            if let value = try? Genesis(canonicalBytes: bytes) { #expect(value.canonicalBytes == bytes) }
            if let value = try? CoinShare(canonicalBytes: bytes) { #expect(value.canonicalBytes == bytes) }
        }
    }

    @Test("every proper prefix of a valid encoding is rejected as truncated")
    func truncation() throws {
        var g = SeededGenerator(seed: 5)
        let bytes = RandomValues.genesis(&g).canonicalBytes
        for length in 0 ..< bytes.count {
            #expect(throws: CodecError.self) { try Genesis(canonicalBytes: Array(bytes[0 ..< length])) }
        }
    }

    @Test("trailing bytes are rejected")
    func trailing() throws {
        var g = SeededGenerator(seed: 6)
        let bytes = RandomValues.coinShare(&g).canonicalBytes + [0]
        let error = try #require(throws: CodecError.self) { try CoinShare(canonicalBytes: bytes) }
        #expect(error.reason == .trailingBytes(1))
    }
}

@Suite("Canonical codec rules")
struct CodecRuleTests {
    @Test("integers are big-endian and fixed width")
    func integers() {
        var writer = CanonicalWriter()
        writer.write(UInt16(0x0102))
        writer.write(UInt32(0x0304_0506))
        writer.write(UInt64(7))
        #expect(writer.bytes == [1, 2, 3, 4, 5, 6, 0, 0, 0, 0, 0, 0, 0, 7])
    }

    @Test("a huge declared length with few bytes fails before allocating")
    func boundedAllocation() throws {
        // Claims 4 billion UInt64s in 9 bytes.
        var reader = CanonicalReader([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0])
        let error = try #require(throws: CodecError.self) { try reader.read([UInt64].self) }
        #expect(error.reason == .lengthExceedsLimit(length: 0xffff_ffff, limit: 0))
        var strings = CanonicalReader([0x7f, 0xff, 0xff, 0xff, 65])
        #expect(throws: CodecError.self) { try strings.read(String.self) }
    }

    @Test("booleans, optional tags, UTF-8 and floats accept only canonical forms")
    func canonicalForms() throws {
        var bools = CanonicalReader([2])
        #expect(throws: CodecError(offset: 0, reason: .invalidBool(2))) { try bools.read(Bool.self) }
        var optional = CanonicalReader([3])
        #expect(throws: CodecError(offset: 0, reason: .invalidOptionalTag(3))) { try optional.read(UInt8?.self) }
        var utf8 = CanonicalReader([0, 0, 0, 2, 0xc3, 0x28])
        #expect(throws: CodecError(offset: 0, reason: .invalidUTF8)) { try utf8.read(String.self) }
        var nan = CanonicalReader(Double.nan.canonicalBytes)
        #expect(throws: CodecError(offset: 0, reason: .nonFiniteFloat)) { try nan.read(Double.self) }
    }

    @Test("errors name the failing field and offset")
    func errorPath() throws {
        var g = SeededGenerator(seed: 11)
        var genesis = RandomValues.genesis(&g)
        genesis.validators = [GenesisValidator(name: "n", publicKey: g.fixed(PublicKey.self), address: "a:1",
                                               coinPublicShare: g.fixed(CurvePoint.self))]
        var bytes = genesis.canonicalBytes
        // Corrupt the validator's name into invalid UTF-8: version(1) + chain id + consensus(28) + count(4) + len(4).
        let nameOffset = 1 + 4 + genesis.chainID.utf8.count + 28 + 4 + 4
        bytes[nameOffset] = 0xff
        let error = try #require(throws: CodecError.self) { try Genesis(canonicalBytes: bytes) }
        #expect(error.path == ["Genesis", "validators", "[0]", "name"])
        #expect(error.reason == .invalidUTF8)
        #expect(error.description.contains("Genesis.validators[0].name"))
    }

    @Test("an unknown version byte is rejected with both versions named")
    func version() throws {
        var g = SeededGenerator(seed: 12)
        var bytes = RandomValues.coinShare(&g).canonicalBytes
        bytes[0] = 9
        let error = try #require(throws: CodecError.self) { try CoinShare(canonicalBytes: bytes) }
        #expect(error.reason == .unsupportedVersion(found: 9, supported: 1))
    }
}
