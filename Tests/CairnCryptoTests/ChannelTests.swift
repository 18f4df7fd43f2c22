import CairnCrypto
import Testing

@Suite("Peer channel primitives")
struct ChannelTests {
    func connectedPair() throws -> (client: (ChannelSealer, ChannelOpener), server: (ChannelSealer, ChannelOpener)) {
        let client = EphemeralKeyPair()
        let server = EphemeralKeyPair()
        let c = try client.sessionKeys(role: .client, peerPublicKey: server.publicKey)
        let s = try server.sessionKeys(role: .server, peerPublicKey: client.publicKey)
        return ((ChannelSealer(key: c.sending), ChannelOpener(key: c.receiving)),
                (ChannelSealer(key: s.sending), ChannelOpener(key: s.receiving)))
    }

    @Test("both directions round-trip in order")
    func roundTrip() throws {
        var (client, server) = try connectedPair()
        for i in 0 ..< 50 {
            let message = [UInt8](repeating: UInt8(i), count: i * 37)
            let sealed = client.0.seal(message, associatedData: [1])
            #expect(sealed.count == message.count + ChannelSealer.overhead)
            #expect(try server.1.open(sealed, associatedData: [1]) == message)
            #expect(try client.1.open(server.0.seal(message)) == message)
        }
    }

    @Test("tampered, replayed, reordered and foreign frames are refused without advancing")
    func refusals() throws {
        var (client, server) = try connectedPair()
        let first = client.0.seal([1, 2, 3])
        let second = client.0.seal([4, 5, 6])
        var tampered = first
        tampered[1] ^= 0x80
        #expect(throws: CryptoError.self) { try server.1.open(tampered) }
        #expect(throws: CryptoError.self) { try server.1.open(second) }  // reordered
        #expect(throws: CryptoError.self) { try server.1.open(first, associatedData: [9]) }
        #expect(try server.1.open(first) == [1, 2, 3])
        #expect(throws: CryptoError.self) { try server.1.open(first) }  // replayed
        #expect(try server.1.open(second) == [4, 5, 6])
        #expect(throws: CryptoError.self) { try server.1.open([1, 2]) }  // shorter than a tag
        var (other, _) = try connectedPair()
        #expect(throws: CryptoError.self) { try server.1.open(other.0.seal([7])) }
    }

    @Test("a malformed peer key is refused")
    func badPeerKey() {
        #expect(throws: CryptoError.self) {
            _ = try EphemeralKeyPair().sessionKeys(role: .client, peerPublicKey: [1, 2, 3])
        }
    }
}
