import CairnCore
import CairnTestKit
import Testing

@Suite("Consensus wire codec")
struct WireCodecTests {
    @Test("consensus messages round-trip and mutations re-encode identically", arguments: 0 ..< 4)
    func messages(batch: UInt64) throws {
        var g = SeededGenerator(seed: 0xD46 + batch)
        var accepted = 0
        for _ in 0 ..< 1000 {
            let message = RandomValues.consensusMessage(&g)
            let bytes = message.canonicalBytes
            #expect(try ConsensusMessage(canonicalBytes: bytes) == message)
            var mutated = bytes
            let position = Int.random(in: 0 ..< mutated.count, using: &g)
            mutated[position] ^= UInt8(1 << Int.random(in: 0 ..< 8, using: &g))
            if let decoded = try? ConsensusMessage(canonicalBytes: mutated) {
                accepted += 1
                #expect(decoded.canonicalBytes == mutated)
            }
        }
        #expect(accepted > 0)
    }

    @Test("unknown message tags and absurd payload counts are refused")
    func refusals() throws {
        #expect(throws: CodecError(offset: 0, path: ["ConsensusMessage"], reason: .unknownTag(99))) {
            try ConsensusMessage(canonicalBytes: [99])
        }
        var g = SeededGenerator(seed: 3)
        var vertex = RandomValues.vertex(&g)
        vertex.payload = []
        var bytes = vertex.canonicalBytes
        // Payload count sits after version, round, author, timestamp and the two edge lists.
        let countOffset = 1 + 8 + 4 + 8 + 4 + 32 * vertex.strongEdges.count + 4 + 32 * vertex.weakEdges.count
        bytes.replaceSubrange(countOffset ..< countOffset + 4, with: [0xff, 0xff, 0xff, 0xff])
        let error = try #require(throws: CodecError.self) { try Vertex(canonicalBytes: bytes) }
        #expect(error.path.contains("payload"))
    }
}
