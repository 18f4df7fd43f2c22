import CairnCore
import CairnCrypto
@testable import CairnNet
import Testing

/// Four validators' keys and identities on one chain.
struct Committee4 {
    let keys = (0 ..< 4).map { _ in SigningKey.generate() }
    let chain = Hashing.digest(.genesis, Array("net-test".utf8))
    func identity(_ i: Int, chain: Digest? = nil) -> PeerIdentity {
        PeerIdentity(chain: chain ?? self.chain, publicKeys: keys.map(\.publicKey), me: i, key: keys[i])
    }
}

@Suite("Peer handshake")
struct HandshakeTests {
    /// Runs client ↔ server to completion in memory.
    func complete(_ client: inout Handshake, _ server: inout Handshake) throws -> (EstablishedSession, EstablishedSession) {
        guard case let .send(serverHello) = try server.receive(client.clientHello().canonicalBytes) else { throw HandshakeError.unexpectedMessage }
        guard case let .sendAndEstablish(auth, clientSession) = try client.receive(serverHello.canonicalBytes) else { throw HandshakeError.unexpectedMessage }
        guard case let .establish(serverSession) = try server.receive(auth.canonicalBytes) else { throw HandshakeError.unexpectedMessage }
        return (clientSession, serverSession)
    }

    @Test("both sides authenticate and derive matching directional keys")
    func success() throws {
        let c = Committee4()
        var client = Handshake(identity: c.identity(1), role: .client(dialling: 2))
        var server = Handshake(identity: c.identity(2), role: .server)
        let (a, b) = try complete(&client, &server)
        #expect(a.peer == 2 && b.peer == 1)
        var aSealer = a.sealer
        var bOpener = b.opener
        #expect(try bOpener.open(aSealer.seal([1, 2, 3])) == [1, 2, 3])
        var bSealer = b.sealer
        var aOpener = a.opener
        #expect(try aOpener.open(bSealer.seal([9])) == [9])
    }

    @Test("a peer on another chain, with an unknown index, or with the wrong key is refused")
    func refusals() throws {
        let c = Committee4()
        var server = Handshake(identity: c.identity(0), role: .server)
        let otherChain = Handshake(identity: c.identity(1, chain: Digest.zero), role: .client(dialling: 0))
        #expect(throws: HandshakeError.wrongChain) { try server.receive(otherChain.clientHello().canonicalBytes) }

        var server2 = Handshake(identity: c.identity(0), role: .server)
        let stranger = HandshakeMessage.clientHello(version: 1, chain: c.chain, client: 9, ephemeral: EphemeralKeyPair().publicKey)
        #expect(throws: HandshakeError.unknownPeer(9)) { try server2.receive(stranger.canonicalBytes) }

        // Claims to be validator 3 but holds a key that is not validator 3's genesis key.
        let impostorKey = SigningKey.generate()
        var keys = c.keys.map(\.publicKey)
        keys[3] = impostorKey.publicKey
        var impostor = Handshake(identity: PeerIdentity(chain: c.chain, publicKeys: keys, me: 3, key: impostorKey), role: .client(dialling: 0))
        var server3 = Handshake(identity: c.identity(0), role: .server)
        guard case let .send(hello) = try server3.receive(impostor.clientHello().canonicalBytes) else { Issue.record("no server hello"); return }
        // The impostor cannot check the server (it has the wrong key list), so it answers anyway.
        let forged = HandshakeMessage.clientAuth(signature: impostorKey.sign([1]))
        _ = try? impostor.receive(hello.canonicalBytes)
        #expect(throws: HandshakeError.badSignature) { try server3.receive(forged.canonicalBytes) }
    }

    @Test("a recorded handshake cannot be replayed into a new connection")
    func replay() throws {
        let c = Committee4()
        var client = Handshake(identity: c.identity(1), role: .client(dialling: 0))
        var server = Handshake(identity: c.identity(0), role: .server)
        let hello = client.clientHello()
        guard case let .send(serverHello) = try server.receive(hello.canonicalBytes),
              case let .sendAndEstablish(auth, _) = try client.receive(serverHello.canonicalBytes) else { Issue.record("handshake failed"); return }
        // An attacker replays the client's recorded messages to a fresh server connection.
        var fresh = Handshake(identity: c.identity(0), role: .server)
        _ = try fresh.receive(hello.canonicalBytes)
        #expect(throws: HandshakeError.badSignature) { try fresh.receive(auth.canonicalBytes) }
    }

    @Test("wrong responder, out-of-order and malformed messages are refused")
    func protocolErrors() throws {
        let c = Committee4()
        var client = Handshake(identity: c.identity(1), role: .client(dialling: 2))
        var server = Handshake(identity: c.identity(3), role: .server)
        guard case let .send(serverHello) = try server.receive(client.clientHello().canonicalBytes) else { Issue.record("no hello"); return }
        #expect(throws: HandshakeError.wrongPeer(expected: 2, got: 3)) { try client.receive(serverHello.canonicalBytes) }
        var early = Handshake(identity: c.identity(0), role: .server)
        #expect(throws: HandshakeError.unexpectedMessage) {
            try early.receive(HandshakeMessage.clientAuth(signature: c.keys[1].sign([0])).canonicalBytes)
        }
        var garbage = Handshake(identity: c.identity(0), role: .server)
        #expect(throws: HandshakeError.self) { try garbage.receive([7, 7, 7]) }
    }
}
