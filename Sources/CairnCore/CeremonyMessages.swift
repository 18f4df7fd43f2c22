/// The files of the genesis ceremony (D63): operators exchange them through a coordinator who
/// holds no secret, and each one is signed by its author's validator key over `DomainTag` ‖ its
/// canonical bytes without the signature. Every file is untrusted input: decoders bound every
/// count and length, and CairnCrypto's `DistributedKeyGeneration` checks the content.

/// One share sealed to its recipient: a 24-byte XChaCha20 nonce, the 32-byte scalar encrypted,
/// and the 16-byte Poly1305 tag.
public struct SealedShare: FixedBytes {
    public static let byteCount = 72
    public static let kindName = "sealed coin share"
    public let bytes: [UInt8]
    public init(uncheckedBytes: [UInt8]) { bytes = uncheckedBytes }
}

/// An encoded ristretto255 scalar (proof challenges and responses); CairnCrypto checks it is
/// reduced before use.
public struct ScalarBytes: FixedBytes {
    public static let byteCount = 32
    public static let kindName = "ristretto255 scalar"
    public static let zero = ScalarBytes(uncheckedBytes: [UInt8](repeating: 0, count: 32))
    public let bytes: [UInt8]
    public init(uncheckedBytes: [UInt8]) { bytes = uncheckedBytes }
}

/// A ceremony file signed by its author: the signature covers the domain tag and everything
/// else the file encodes, and sits last in the encoding.
public protocol SignedCeremonyFile: CanonicalCodable {
    static var domain: DomainTag { get }
    var signature: Signature { get set }
    /// Everything but the signature, version first.
    func writeBody(to writer: inout CanonicalWriter)
}

extension SignedCeremonyFile {
    /// What the signature covers.
    public var signedBytes: [UInt8] {
        var writer = CanonicalWriter()
        writer.write(Self.domain.rawValue)
        writeBody(to: &writer)
        return writer.bytes
    }

    public func encode(to writer: inout CanonicalWriter) {
        writeBody(to: &writer)
        writer.write(signature)
    }
}

/// An operator's request to join a network's genesis: who it is, where its peers and users reach
/// it, and the ristretto255 key the dealers encrypt its coin shares to (its secret stays in the
/// operator's `keys/ceremony.key`), with a Schnorr proof that the operator knows that secret. The
/// proof matters: a ceremony key chosen as a multiple of another validator's (E_i = c·E_k) would
/// turn the complaints honest validators make against i into keys that open k's shares (found in
/// review, D63).
public struct CeremonyJoin: Codable, Hashable, Sendable, SignedCeremonyFile {
    public static let version: UInt8 = 1
    public static let domain = DomainTag.ceremonyJoin
    public var chainID: String
    public var name: String
    public var publicKey: PublicKey
    /// `host:port` peers dial (goes into genesis).
    public var peerAddress: String
    /// `host:port` of the HTTP API (goes into network.json, not genesis).
    public var apiAddress: String
    public var ceremonyKey: CurvePoint
    /// Schnorr proof of knowledge of the ceremony key's secret, bound to the chain, the validator
    /// key and the ceremony key (`DistributedKeyGeneration.proveCeremonyKey`).
    public var keyProofChallenge: ScalarBytes
    public var keyProofResponse: ScalarBytes
    public var signature: Signature

    enum CodingKeys: String, CodingKey, CaseIterable {
        case chainID = "chain_id", name, publicKey = "public_key", peerAddress = "peer_address",
             apiAddress = "api_address", ceremonyKey = "ceremony_key", keyProofChallenge = "key_proof_challenge",
             keyProofResponse = "key_proof_response", signature
    }

    public init(chainID: String, name: String, publicKey: PublicKey, peerAddress: String, apiAddress: String,
                ceremonyKey: CurvePoint, keyProofChallenge: ScalarBytes = .zero, keyProofResponse: ScalarBytes = .zero,
                signature: Signature = Signature(uncheckedBytes: [UInt8](repeating: 0, count: 64))) {
        self.chainID = chainID
        self.name = name
        self.publicKey = publicKey
        self.peerAddress = peerAddress
        self.apiAddress = apiAddress
        self.ceremonyKey = ceremonyKey
        self.keyProofChallenge = keyProofChallenge
        self.keyProofResponse = keyProofResponse
        self.signature = signature
    }

    public func writeBody(to writer: inout CanonicalWriter) {
        writer.write(Self.version)
        writer.write(chainID)
        writer.write(name)
        writer.write(publicKey)
        writer.write(peerAddress)
        writer.write(apiAddress)
        writer.write(ceremonyKey)
        writer.write(keyProofChallenge)
        writer.write(keyProofResponse)
    }

    public init(from reader: inout CanonicalReader) throws {
        try reader.expectVersion(Self.version)
        chainID = try reader.field("chain_id") { try $0.read(String.self, maxLength: 64) }
        name = try reader.field("name") { try $0.read(String.self, maxLength: 64) }
        publicKey = try reader.field("public_key") { try $0.read(PublicKey.self) }
        peerAddress = try reader.field("peer_address") { try $0.read(String.self, maxLength: 255) }
        apiAddress = try reader.field("api_address") { try $0.read(String.self, maxLength: 255) }
        ceremonyKey = try reader.field("ceremony_key") { try $0.read(CurvePoint.self) }
        keyProofChallenge = try reader.field("key_proof_challenge") { try $0.read(ScalarBytes.self) }
        keyProofResponse = try reader.field("key_proof_response") { try $0.read(ScalarBytes.self) }
        signature = try reader.field("signature") { try $0.read(Signature.self) }
    }

    public static var minimumEncodedSize: Int { 1 + 4 * 5 + 32 + 32 + 64 + 64 }
}

/// Dealer `dealer`'s contribution to the coin key: Feldman commitments C_0…C_f to a random
/// polynomial of degree f, and its value at every validator's index sealed to that validator.
public struct CeremonyDeal: Codable, Hashable, Sendable, SignedCeremonyFile {
    public static let version: UInt8 = 1
    public static let domain = DomainTag.ceremonyDeal
    /// The ceremony this deal belongs to (`DistributedKeyGeneration.sessionID`).
    public var session: Digest
    /// 0-based genesis position of the dealer.
    public var dealer: UInt32
    public var commitments: [CurvePoint]
    /// Position j holds the share for the validator at genesis position j.
    public var shares: [SealedShare]
    public var signature: Signature

    enum CodingKeys: String, CodingKey, CaseIterable {
        case session, dealer, commitments, shares, signature
    }

    public init(session: Digest, dealer: UInt32, commitments: [CurvePoint], shares: [SealedShare],
                signature: Signature = Signature(uncheckedBytes: [UInt8](repeating: 0, count: 64))) {
        self.session = session
        self.dealer = dealer
        self.commitments = commitments
        self.shares = shares
        self.signature = signature
    }

    public func writeBody(to writer: inout CanonicalWriter) {
        writer.write(Self.version)
        writer.write(session)
        writer.write(dealer)
        writer.write(commitments)
        writer.write(shares)
    }

    public init(from reader: inout CanonicalReader) throws {
        try reader.expectVersion(Self.version)
        session = try reader.field("session") { try $0.read(Digest.self) }
        dealer = try reader.field("dealer") { try $0.read(UInt32.self) }
        commitments = try reader.field("commitments") { try $0.read([CurvePoint].self, maxCount: Genesis.maxValidators) }
        shares = try reader.field("shares") { try $0.read([SealedShare].self, maxCount: Genesis.maxValidators) }
        signature = try reader.field("signature") { try $0.read(Signature.self) }
    }

    public static var minimumEncodedSize: Int { 1 + 32 + 4 + 4 + 4 + 64 }
}

/// A recipient's public accusation that `dealer` sealed it a bad share: the Diffie–Hellman key of
/// that one share and a proof that it is the right one, so anyone can open the share and check it
/// against the dealer's commitments without trusting the accuser.
public struct CeremonyComplaint: Codable, Hashable, Sendable, CanonicalCodable {
    public var dealer: UInt32
    /// K = e_recipient·E_dealer.
    public var sharedKey: CurvePoint
    /// Chaum–Pedersen proof that log_G(E_recipient) = log_{E_dealer}(K).
    public var challenge: ScalarBytes
    public var response: ScalarBytes

    enum CodingKeys: String, CodingKey, CaseIterable {
        case dealer, sharedKey = "shared_key", challenge, response
    }

    public init(dealer: UInt32, sharedKey: CurvePoint, challenge: ScalarBytes, response: ScalarBytes) {
        self.dealer = dealer
        self.sharedKey = sharedKey
        self.challenge = challenge
        self.response = response
    }

    public func encode(to writer: inout CanonicalWriter) {
        writer.write(dealer)
        writer.write(sharedKey)
        writer.write(challenge)
        writer.write(response)
    }

    public init(from reader: inout CanonicalReader) throws {
        dealer = try reader.field("dealer") { try $0.read(UInt32.self) }
        sharedKey = try reader.field("shared_key") { try $0.read(CurvePoint.self) }
        challenge = try reader.field("challenge") { try $0.read(ScalarBytes.self) }
        response = try reader.field("response") { try $0.read(ScalarBytes.self) }
    }

    public static var minimumEncodedSize: Int { 4 + 32 * 3 }
}

/// A recipient's verdict on the deals it was shown: which set it checked (by digest) and a
/// complaint for every dealer whose share to it failed.
public struct CeremonyResponse: Codable, Hashable, Sendable, SignedCeremonyFile {
    public static let version: UInt8 = 1
    public static let domain = DomainTag.ceremonyResponse
    public var session: Digest
    /// 0-based genesis position of the recipient.
    public var responder: UInt32
    /// `DistributedKeyGeneration.dealSetDigest` of the deals it checked: `finish` refuses a
    /// response made against another set, which could hide a complaint.
    public var dealsChecked: Digest
    public var complaints: [CeremonyComplaint]
    public var signature: Signature

    enum CodingKeys: String, CodingKey, CaseIterable {
        case session, responder, dealsChecked = "deals_checked", complaints, signature
    }

    public init(session: Digest, responder: UInt32, dealsChecked: Digest, complaints: [CeremonyComplaint],
                signature: Signature = Signature(uncheckedBytes: [UInt8](repeating: 0, count: 64))) {
        self.session = session
        self.responder = responder
        self.dealsChecked = dealsChecked
        self.complaints = complaints
        self.signature = signature
    }

    public func writeBody(to writer: inout CanonicalWriter) {
        writer.write(Self.version)
        writer.write(session)
        writer.write(responder)
        writer.write(dealsChecked)
        writer.write(complaints)
    }

    public init(from reader: inout CanonicalReader) throws {
        try reader.expectVersion(Self.version)
        session = try reader.field("session") { try $0.read(Digest.self) }
        responder = try reader.field("responder") { try $0.read(UInt32.self) }
        dealsChecked = try reader.field("deals_checked") { try $0.read(Digest.self) }
        complaints = try reader.field("complaints") { try $0.read([CeremonyComplaint].self, maxCount: Genesis.maxValidators) }
        signature = try reader.field("signature") { try $0.read(Signature.self) }
    }

    public static var minimumEncodedSize: Int { 1 + 32 + 4 + 32 + 4 + 64 }
}
