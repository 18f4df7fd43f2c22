import CairnCore
import CairnCrypto
@testable import CairnNode
@testable import DAGRider
import Testing

@Suite("Blob availability: vertices wait for their contribution blobs (D50)")
struct BlobAvailabilityTests {
    static func digest(_ byte: UInt8) -> Digest { try! Digest(bytes: Array(repeating: byte, count: 32)) }

    static func proposal(author: UInt32, round: UInt64, tag: UInt8) -> BlobAvailability.Held {
        let vertex = Vertex(round: round, author: author, strongEdges: [], weakEdges: [], payload: [[tag]], coinShare: nil)
        let signed = SignedVertex(vertex: vertex, signature: try! Signature(bytes: Array(repeating: 0, count: 64)))
        return .proposal(signed, digest: digest(tag), from: Int(author))
    }

    static func certificate(author: UInt32, tag: UInt8, voters: [UInt32]) -> BlobAvailability.Held {
        let vertex = Vertex(round: 3, author: author, strongEdges: [], weakEdges: [], payload: [[tag]], coinShare: nil)
        let signed = SignedVertex(vertex: vertex, signature: try! Signature(bytes: Array(repeating: 0, count: 64)))
        let votes = voters.map { CertificateVote(voter: $0, signature: try! Signature(bytes: Array(repeating: 0, count: 64))) }
        return .certificate(VerifiedCertificate(certificate: Certificate(signedVertex: signed, votes: votes), digest: digest(tag)), from: 3)
    }

    @Test("a proposal is released when its last blob arrives; its proposer is asked first, then the other peers in turn")
    func releaseAndRotation() {
        var table = BlobAvailability(me: 0, validators: 4)
        let held = Self.proposal(author: 2, round: 5, tag: 1)
        let a = Self.digest(0xA0), b = Self.digest(0xB0)
        let asks = table.hold(held, missing: [a, b], nowMs: 0)
        #expect(Set(asks ?? []) == [.ask(blob: a, peer: 2), .ask(blob: b, peer: 2)])
        // Within the ask interval nobody is asked again; after it, the next peers (never me).
        #expect(table.tick(nowMs: 500).isEmpty)
        #expect(Set(table.tick(nowMs: 1000)) == [.ask(blob: a, peer: 1), .ask(blob: b, peer: 1)])
        #expect(Set(table.tick(nowMs: 2000)) == [.ask(blob: a, peer: 3), .ask(blob: b, peer: 3)])
        #expect(Set(table.tick(nowMs: 3000)) == [.ask(blob: a, peer: 2), .ask(blob: b, peer: 2)])
        #expect(table.arrived(a).isEmpty, "still waiting for b")
        #expect(table.arrived(Self.digest(0xCC)).isEmpty, "an unwanted blob releases nothing")
        #expect(table.arrived(b) == [.release(held)])
        #expect(table.heldCount == 0 && !table.isWanted(a) && !table.isWanted(b))
    }

    @Test("a proposal whose blob never comes expires unvoted; a certificate never expires and asks its voters")
    func expiry() {
        var table = BlobAvailability(me: 1, validators: 4)
        let proposal = Self.proposal(author: 2, round: 5, tag: 1)
        let certificate = Self.certificate(author: 0, tag: 2, voters: [0, 2, 3])
        let blob = Self.digest(0xA0)
        #expect(table.hold(proposal, missing: [blob], nowMs: 0) != nil)
        let asks = table.hold(certificate, missing: [Self.digest(0xB0)], nowMs: 0)
        #expect(asks == [.ask(blob: Self.digest(0xB0), peer: 3)])
        let later = table.tick(nowMs: 10_000)
        #expect(later.contains(.expired(proposal)))
        #expect(!table.isWanted(blob), "nobody waits for the expired proposal's blob any more")
        #expect(table.isHeld(certificate.digest))
        // The certificate's blob is asked of its sender, author, then voters, for as long as it takes.
        var askedOf: [Int] = []
        for t in stride(from: UInt64(11_000), through: 100_000, by: 1000) {
            for case let .ask(_, peer) in table.tick(nowMs: t) { askedOf.append(peer) }
        }
        #expect(Set(askedOf) == [0, 2, 3] && !askedOf.contains(1))
        #expect(table.arrived(Self.digest(0xB0)) == [.release(certificate)])
    }

    @Test("the table is bounded: per author for proposals, in all for everything; a certificate replaces its held proposal")
    func bounds() {
        var table = BlobAvailability(me: 0, validators: 4, limits: .init(maxHeld: 6, maxProposalsPerAuthor: 2))
        #expect(table.hold(Self.proposal(author: 1, round: 1, tag: 1), missing: [Self.digest(0xA1)], nowMs: 0) != nil)
        #expect(table.hold(Self.proposal(author: 1, round: 2, tag: 2), missing: [Self.digest(0xA2)], nowMs: 0) != nil)
        #expect(table.hold(Self.proposal(author: 1, round: 3, tag: 3), missing: [Self.digest(0xA3)], nowMs: 0) == nil,
                "a third proposal of one author is refused")
        for tag: UInt8 in 10 ..< 14 {
            #expect(table.hold(Self.certificate(author: 2, tag: tag, voters: [1, 2, 3]), missing: [Self.digest(tag)], nowMs: 0) != nil)
        }
        #expect(table.hold(Self.certificate(author: 3, tag: 20, voters: [1, 2, 3]), missing: [Self.digest(20)], nowMs: 0) == nil, "full")
        // Holding the same vertex again is a no-op; its certificate takes the proposal's place and never expires.
        let upgraded = Self.certificate(author: 1, tag: 1, voters: [1, 2, 3])
        #expect(table.hold(upgraded, missing: [Self.digest(0xA1)], nowMs: 0) == [])
        #expect(!table.tick(nowMs: 60_000).contains(.expired(upgraded)))
        #expect(table.arrived(Self.digest(0xA1)) == [.release(upgraded)])
    }

    @Test("the blobs a vertex needs are those its contribution records name; other and malformed records need none")
    func blobsOfVertex() {
        let key = SigningKey.generate()
        func record(nonce: UInt64, _ body: RecordBody) -> [UInt8] {
            let bytes = body.canonicalBytes
            let signature = key.sign(SignedRecord.signingBytes(chain: .zero, author: key.publicKey, nonce: nonce, body: bytes))
            return SignedRecord(author: key.publicKey, nonce: nonce, body: bytes, signature: signature).canonicalBytes
        }
        let blob = Self.digest(0x42)
        let contribution = RecordBody.contribution(Contribution(baseWindow: 0, blob: blob, blobSize: 10,
                                                                compression: CompressionParameters(chunkSize: 64, topK: 4, valueBits: 8, indexBits: 16),
                                                                assignment: .zero))
        let records = [record(nonce: 0, contribution), record(nonce: 1, .register(Register(name: "x"))), [0xFF, 0x00]]
        let vertex = Vertex(round: 1, author: 0, strongEdges: [], weakEdges: [], payload: records, coinShare: nil)
        #expect(BlobAvailability.blobs(of: vertex) == [blob])
    }
}
