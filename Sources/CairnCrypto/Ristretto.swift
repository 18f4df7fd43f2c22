import CSodium
import CairnCore

/// A canonical scalar modulo the ristretto255 group order L.
struct Scalar: Hashable, Sendable {
    static let byteCount = Int(crypto_core_ristretto255_SCALARBYTES)
    let bytes: [UInt8]

    /// Accepts only canonical encodings (< L), so one scalar has one byte form.
    init(canonical bytes: [UInt8]) throws {
        guard bytes.count == Self.byteCount else { throw CoinError.invalidScalar("must be 32 bytes, got \(bytes.count)") }
        var wide = bytes + [UInt8](repeating: 0, count: 32)
        var reduced = [UInt8](repeating: 0, count: Self.byteCount)
        crypto_core_ristretto255_scalar_reduce(&reduced, &wide)
        guard reduced == bytes else { throw CoinError.invalidScalar("not reduced modulo the group order") }
        self.bytes = bytes
    }

    private init(unchecked bytes: [UInt8]) { self.bytes = bytes }

    /// Uniform scalar from 64 uniform bytes (hash-to-scalar).
    init(reducing wide: [UInt8]) {
        precondition(wide.count == 64)
        var input = wide
        var out = [UInt8](repeating: 0, count: Self.byteCount)
        crypto_core_ristretto255_scalar_reduce(&out, &input)
        self.init(unchecked: out)
    }

    init(_ value: UInt64) {
        var out = [UInt8](repeating: 0, count: Self.byteCount)
        for i in 0 ..< 8 { out[i] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(i))) }
        self.init(unchecked: out)
    }

    static func random() -> Scalar {
        requireSodium()
        var out = [UInt8](repeating: 0, count: byteCount)
        crypto_core_ristretto255_scalar_random(&out)
        return Scalar(unchecked: out)
    }

    var isZero: Bool { bytes.allSatisfy { $0 == 0 } }

    static func + (a: Scalar, b: Scalar) -> Scalar {
        var out = [UInt8](repeating: 0, count: byteCount)
        crypto_core_ristretto255_scalar_add(&out, a.bytes, b.bytes)
        return Scalar(unchecked: out)
    }

    static func - (a: Scalar, b: Scalar) -> Scalar {
        var out = [UInt8](repeating: 0, count: byteCount)
        crypto_core_ristretto255_scalar_sub(&out, a.bytes, b.bytes)
        return Scalar(unchecked: out)
    }

    static func * (a: Scalar, b: Scalar) -> Scalar {
        var out = [UInt8](repeating: 0, count: byteCount)
        crypto_core_ristretto255_scalar_mul(&out, a.bytes, b.bytes)
        return Scalar(unchecked: out)
    }

    func inverse() throws -> Scalar {
        var out = [UInt8](repeating: 0, count: Self.byteCount)
        guard crypto_core_ristretto255_scalar_invert(&out, bytes) == 0 else {
            throw CoinError.invalidScalar("zero has no inverse")
        }
        return Scalar(unchecked: out)
    }
}

/// A validated ristretto255 group element other than the identity.
struct GroupElement: Hashable, Sendable {
    let bytes: [UInt8]

    /// Rejects encodings that are not canonical ristretto255 points, and the identity (which
    /// would let a share or commitment cancel out of a combination). libsodium 1.0.18 (Debian 12)
    /// still accepts an encoding with bit 255 set as the same point, so that bit is refused here:
    /// one point, one byte form, one transcript hash.
    init(_ point: CurvePoint, what: @autoclosure () -> String) throws {
        requireSodium()
        guard point.bytes.count == 32, point.bytes[31] & 0x80 == 0,
              crypto_core_ristretto255_is_valid_point(point.bytes) == 1,
              point.bytes.contains(where: { $0 != 0 })
        else {
            throw CoinError.invalidPoint(what())
        }
        bytes = point.bytes
    }

    private init(unchecked bytes: [UInt8]) { self.bytes = bytes }

    var curvePoint: CurvePoint { CurvePoint(uncheckedBytes: bytes) }

    /// Ĥ from 64 uniform bytes (Elligator on both halves; never the identity in practice, and
    /// checked by the multiplications that use it).
    init(hashing wide: [UInt8]) {
        precondition(wide.count == 64)
        var out = [UInt8](repeating: 0, count: 32)
        crypto_core_ristretto255_from_hash(&out, wide)
        self.init(unchecked: out)
    }

    static func base(_ scalar: Scalar) throws -> GroupElement {
        var out = [UInt8](repeating: 0, count: 32)
        guard crypto_scalarmult_ristretto255_base(&out, scalar.bytes) == 0 else {
            throw CoinError.identityResult("scalar × G")
        }
        return GroupElement(unchecked: out)
    }

    /// scalar × self; libsodium returns −1 when the product is the identity.
    func times(_ scalar: Scalar) throws -> GroupElement {
        var out = [UInt8](repeating: 0, count: 32)
        guard crypto_scalarmult_ristretto255(&out, scalar.bytes, bytes) == 0 else {
            throw CoinError.identityResult("scalar × point")
        }
        return GroupElement(unchecked: out)
    }

    static func + (a: GroupElement, b: GroupElement) throws -> GroupElement {
        var out = [UInt8](repeating: 0, count: 32)
        guard crypto_core_ristretto255_add(&out, a.bytes, b.bytes) == 0 else {
            throw CoinError.invalidPoint("sum operand")
        }
        return GroupElement(unchecked: out)
    }

    static func - (a: GroupElement, b: GroupElement) throws -> GroupElement {
        var out = [UInt8](repeating: 0, count: 32)
        guard crypto_core_ristretto255_sub(&out, a.bytes, b.bytes) == 0 else {
            throw CoinError.invalidPoint("difference operand")
        }
        return GroupElement(unchecked: out)
    }
}
