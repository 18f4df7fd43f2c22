import CairnCore
import CairnCrypto

/// Peer handshake messages (canonical encoding, one per frame, before encryption starts).
///
/// The protocol is SIGMA-style mutual authentication with the validators' genesis Ed25519 keys:
///
///     client → server  ClientHello  { version, chain, client index, ephemeral X25519 key e_c }
///     server → client  ServerHello  { server index, ephemeral key e_s, sig_s(transcript) }
///     client → server  ClientAuth   { sig_c(transcript) }
///
/// transcript = SHA-256(0x0e ‖ chain ‖ client index ‖ server index ‖ e_c ‖ e_s); each side signs it
/// under its own role label, so a signature cannot be reflected. Fresh ephemeral keys on both sides
/// bind the signatures to this connection, so a recorded handshake cannot be replayed. Only after
/// both signatures check out does either side derive the directional XChaCha20-Poly1305 keys; a
/// peer whose key is not in genesis never gets that far, and no protocol message is read from it.
public enum HandshakeMessage: Hashable, Sendable, CanonicalCodable {
    case clientHello(version: UInt8, chain: Digest, client: UInt32, ephemeral: [UInt8])
    case serverHello(server: UInt32, ephemeral: [UInt8], signature: Signature)
    case clientAuth(signature: Signature)

    public static let protocolVersion: UInt8 = 1

    public func encode(to writer: inout CanonicalWriter) {
        switch self {
        case let .clientHello(version, chain, client, ephemeral):
            writer.write(UInt8(1))
            writer.write(version)
            writer.write(chain)
            writer.write(client)
            writer.writeFixed(ephemeral)
        case let .serverHello(server, ephemeral, signature):
            writer.write(UInt8(2))
            writer.write(server)
            writer.writeFixed(ephemeral)
            writer.write(signature)
        case let .clientAuth(signature):
            writer.write(UInt8(3))
            writer.write(signature)
        }
    }

    public init(from reader: inout CanonicalReader) throws {
        let start = reader.offset
        switch try reader.read(UInt8.self) {
        case 1:
            self = .clientHello(version: try reader.read(UInt8.self), chain: try reader.read(Digest.self),
                                client: try reader.read(UInt32.self), ephemeral: try reader.readFixed(count: 32))
        case 2:
            self = .serverHello(server: try reader.read(UInt32.self), ephemeral: try reader.readFixed(count: 32),
                                signature: try reader.read(Signature.self))
        case 3:
            self = .clientAuth(signature: try reader.read(Signature.self))
        case let tag:
            throw reader.fail(.unknownTag(tag), at: start)
        }
    }
}

/// Why a handshake was refused (also a metric label).
public enum HandshakeError: Error, Hashable, Sendable, CustomStringConvertible {
    case malformed(String)
    case unexpectedMessage
    case wrongChain
    case unsupportedVersion(UInt8)
    case unknownPeer(UInt32)
    case wrongPeer(expected: Int, got: UInt32)
    case badSignature
    case badEphemeralKey

    public var description: String {
        switch self {
        case let .malformed(detail): return "malformed handshake message: \(detail)"
        case .unexpectedMessage: return "handshake message out of order"
        case .wrongChain: return "peer is on another chain (genesis hash differs)"
        case let .unsupportedVersion(v): return "peer speaks protocol version \(v); this build speaks \(HandshakeMessage.protocolVersion)"
        case let .unknownPeer(index): return "peer claims validator index \(index), which is not in genesis"
        case let .wrongPeer(expected, got): return "dialled validator \(expected) but validator \(got) answered"
        case .badSignature: return "peer's handshake signature does not verify against its genesis key"
        case .badEphemeralKey: return "peer's ephemeral key is invalid"
        }
    }

    /// Metric label.
    public var label: String {
        switch self {
        case .malformed: return "malformed"
        case .unexpectedMessage: return "unexpected_message"
        case .wrongChain: return "wrong_chain"
        case .unsupportedVersion: return "unsupported_version"
        case .unknownPeer: return "unknown_peer"
        case .wrongPeer: return "wrong_peer"
        case .badSignature: return "bad_signature"
        case .badEphemeralKey: return "bad_ephemeral_key"
        }
    }
}

/// What both sides know before connecting: the chain, every validator's genesis key, and this
/// validator's own index and signing key.
public struct PeerIdentity: Sendable {
    public let chain: Digest
    public let publicKeys: [PublicKey]
    public let me: Int
    let key: SigningKey

    public init(chain: Digest, publicKeys: [PublicKey], me: Int, key: SigningKey) {
        precondition(publicKeys.indices.contains(me) && publicKeys[me] == key.publicKey, "own key is not validator \(me)'s genesis key")
        self.chain = chain
        self.publicKeys = publicKeys
        self.me = me
        self.key = key
    }
}

/// The outcome of a handshake: who the peer is and the keys for each direction.
public struct EstablishedSession: Sendable {
    public let peer: Int
    public let sealer: ChannelSealer
    public let opener: ChannelOpener
}

/// One side of a handshake as a pure state machine: feed it the peer's messages, send what it
/// returns. No I/O, so every refusal is unit-tested without sockets.
public struct Handshake: Sendable {
    public enum Role: Sendable { case client(dialling: Int), server }

    enum State: Sendable {
        case clientAwaitingServerHello
        case serverAwaitingClientHello
        case serverAwaitingClientAuth(client: UInt32, clientEphemeral: [UInt8])
        case done
        case failed
    }

    public enum Step: Sendable {
        /// Send this message and wait for the next.
        case send(HandshakeMessage)
        /// Send this final message (client) and start the encrypted session.
        case sendAndEstablish(HandshakeMessage, EstablishedSession)
        /// Start the encrypted session (server).
        case establish(EstablishedSession)
    }

    let identity: PeerIdentity
    let role: Role
    let ephemeral = EphemeralKeyPair()
    var state: State

    public init(identity: PeerIdentity, role: Role) {
        self.identity = identity
        self.role = role
        switch role {
        case .client: state = .clientAwaitingServerHello
        case .server: state = .serverAwaitingClientHello
        }
    }

    /// The client's opening message.
    public func clientHello() -> HandshakeMessage {
        .clientHello(version: HandshakeMessage.protocolVersion, chain: identity.chain, client: UInt32(identity.me),
                     ephemeral: ephemeral.publicKey)
    }

    /// Processes the peer's next handshake frame.
    public mutating func receive(_ bytes: [UInt8]) throws(HandshakeError) -> Step {
        let message: HandshakeMessage
        do {
            message = try HandshakeMessage(canonicalBytes: bytes)
        } catch {
            state = .failed
            throw .malformed("\(error)")
        }
        do {
            return try step(message)
        } catch {
            state = .failed
            throw error
        }
    }

    mutating func step(_ message: HandshakeMessage) throws(HandshakeError) -> Step {
        switch (state, message, role) {
        case let (.serverAwaitingClientHello, .clientHello(version, chain, client, clientEphemeral), .server):
            guard version == HandshakeMessage.protocolVersion else { throw .unsupportedVersion(version) }
            guard chain == identity.chain else { throw .wrongChain }
            guard Int(client) < identity.publicKeys.count, Int(client) != identity.me else { throw .unknownPeer(client) }
            let signature = identity.key.sign(Self.signed(.server, transcript(client: client, server: UInt32(identity.me),
                                                                              clientEphemeral: clientEphemeral, serverEphemeral: ephemeral.publicKey)))
            state = .serverAwaitingClientAuth(client: client, clientEphemeral: clientEphemeral)
            return .send(.serverHello(server: UInt32(identity.me), ephemeral: ephemeral.publicKey, signature: signature))

        case let (.serverAwaitingClientAuth(client, clientEphemeral), .clientAuth(signature), .server):
            let digest = transcript(client: client, server: UInt32(identity.me), clientEphemeral: clientEphemeral,
                                    serverEphemeral: ephemeral.publicKey)
            guard identity.publicKeys[Int(client)].verify(signature, for: Self.signed(.client, digest)) else { throw .badSignature }
            guard let keys = try? ephemeral.sessionKeys(role: .server, peerPublicKey: clientEphemeral) else { throw .badEphemeralKey }
            state = .done
            return .establish(EstablishedSession(peer: Int(client), sealer: ChannelSealer(key: keys.sending),
                                                 opener: ChannelOpener(key: keys.receiving)))

        case let (.clientAwaitingServerHello, .serverHello(server, serverEphemeral, signature), .client(dialling)):
            guard Int(server) == dialling else { throw .wrongPeer(expected: dialling, got: server) }
            guard Int(server) < identity.publicKeys.count else { throw .unknownPeer(server) }
            let digest = transcript(client: UInt32(identity.me), server: server, clientEphemeral: ephemeral.publicKey,
                                    serverEphemeral: serverEphemeral)
            guard identity.publicKeys[Int(server)].verify(signature, for: Self.signed(.server, digest)) else { throw .badSignature }
            guard let keys = try? ephemeral.sessionKeys(role: .client, peerPublicKey: serverEphemeral) else { throw .badEphemeralKey }
            state = .done
            return .sendAndEstablish(.clientAuth(signature: identity.key.sign(Self.signed(.client, digest))),
                                     EstablishedSession(peer: Int(server), sealer: ChannelSealer(key: keys.sending),
                                                        opener: ChannelOpener(key: keys.receiving)))

        default:
            throw .unexpectedMessage
        }
    }

    enum Label: UInt8 { case client = 1, server = 2 }

    func transcript(client: UInt32, server: UInt32, clientEphemeral: [UInt8], serverEphemeral: [UInt8]) -> Digest {
        var writer = CanonicalWriter()
        writer.write(identity.chain)
        writer.write(client)
        writer.write(server)
        writer.writeFixed(clientEphemeral)
        writer.writeFixed(serverEphemeral)
        return Hashing.digest(.channel, writer.bytes)
    }

    static func signed(_ label: Label, _ transcript: Digest) -> [UInt8] {
        Array("cairn-handshake".utf8) + [label.rawValue] + transcript.bytes
    }
}
