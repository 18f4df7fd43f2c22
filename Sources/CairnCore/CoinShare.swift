/// Validator `index`'s share of the common coin for `wave`, with its Chaum–Pedersen proof that
/// log_G(V_index) = log_Ĥ(share) (ARCHITECTURE §3). Sent in the vertex of round 4w+1 and checked by
/// CairnCrypto's `ThresholdCoin.verify` before use.
public struct CoinShare: Hashable, Sendable, CanonicalCodable {
    public static let version: UInt8 = 1

    public var wave: UInt64
    /// 1-based: validator at genesis position i holds share index i+1 (0 is the secret itself).
    public var index: UInt32
    /// σ_i = x_i·Ĥ_w.
    public var share: CurvePoint
    /// Fiat–Shamir challenge c and response z of the DLEQ proof, canonical scalars.
    public var challenge: [UInt8]
    public var response: [UInt8]

    public init(wave: UInt64, index: UInt32, share: CurvePoint, challenge: [UInt8], response: [UInt8]) {
        self.wave = wave
        self.index = index
        self.share = share
        self.challenge = challenge
        self.response = response
    }

    public func encode(to writer: inout CanonicalWriter) {
        writer.write(Self.version)
        writer.write(wave)
        writer.write(index)
        writer.write(share)
        writer.writeFixed(challenge)
        writer.writeFixed(response)
    }

    public init(from reader: inout CanonicalReader) throws {
        try reader.expectVersion(Self.version)
        wave = try reader.read(UInt64.self)
        index = try reader.read(UInt32.self)
        share = try reader.field("share") { try $0.read(CurvePoint.self) }
        challenge = try reader.readFixed(count: 32)
        response = try reader.readFixed(count: 32)
    }

    public static var minimumEncodedSize: Int { 1 + 8 + 4 + 32 + 64 }
}
