import CairnCore
import CairnCrypto
import Testing

@Suite("Known-answer vectors")
struct KnownAnswerTests {
    struct Ed25519Vector: Sendable, CustomTestStringConvertible {
        var name: String, seed: String, publicKey: String, message: String, signature: String
        var testDescription: String { name }
    }

    /// RFC 8032 §7.1, TEST 1, 2, 3 and SHA(abc).
    static let rfc8032: [Ed25519Vector] = [
        .init(name: "TEST 1", seed: "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
              publicKey: "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", message: "",
              signature: "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"),
        .init(name: "TEST 2", seed: "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
              publicKey: "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", message: "72",
              signature: "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"),
        .init(name: "TEST 3", seed: "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
              publicKey: "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", message: "af82",
              signature: "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a"),
        .init(name: "TEST SHA(abc)", seed: "833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42",
              publicKey: "ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf",
              message: "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
              signature: "dc2a4459e7369633a52b1bf277839a00201009a3efbf3ecb69bea2186c26b58909351fc9ac90b3ecfdfbc7c66431e0303dca179c138ac17ad9bef1177331a704"),
    ]

    @Test("RFC 8032 Ed25519", arguments: rfc8032)
    func ed25519(vector: Ed25519Vector) throws {
        let key = try SigningKey(seed: try #require(Hex.decode(vector.seed)))
        #expect(key.publicKey.hex == vector.publicKey)
        let message = try #require(Hex.decode(vector.message))
        let signature = key.sign(message)
        #expect(signature.hex == vector.signature)
        #expect(key.publicKey.verify(signature, for: message))
        // Any change to message or signature fails verification.
        #expect(!key.publicKey.verify(signature, for: message + [0]))
        var tampered = signature.bytes
        tampered[5] ^= 1
        #expect(!key.publicKey.verify(Signature(uncheckedBytes: tampered), for: message))
        // Non-canonical S (S + L) is rejected by libsodium's strict rules.
        var highS = signature.bytes
        highS[63] |= 0xf0
        #expect(!key.publicKey.verify(Signature(uncheckedBytes: highS), for: message))
    }

    @Test("signature of another key does not verify; invalid keys never trap")
    func wrongKey() throws {
        let a = SigningKey.generate()
        let b = SigningKey.generate()
        let message = Array("cairn".utf8)
        #expect(!b.publicKey.verify(a.sign(message), for: message))
        let garbage = PublicKey(uncheckedBytes: [UInt8](repeating: 0xff, count: 32))
        #expect(!garbage.isValidEd25519Point)
        #expect(!garbage.verify(a.sign(message), for: message))
        #expect(throws: CryptoError.self) { try SigningKey(seed: [1, 2, 3]) }
    }

    struct ShaVector: Sendable, CustomTestStringConvertible {
        var message: [UInt8], digest: String
        var testDescription: String { "\(message.count) bytes" }
    }

    /// FIPS 180-2 / NIST CAVS examples.
    static let nist: [ShaVector] = [
        .init(message: Array("abc".utf8), digest: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        .init(message: [], digest: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        .init(message: Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8),
              digest: "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
        .init(message: Array("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu".utf8),
              digest: "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"),
        .init(message: [UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000),
              digest: "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"),
    ]

    @Test("NIST SHA-256, one-shot and streamed in uneven chunks", arguments: nist)
    func sha256(vector: ShaVector) {
        #expect(SHA256.hash(vector.message).hex == vector.digest)
        let hasher = SHA256Hasher()
        var offset = 0
        var step = 1
        while offset < vector.message.count {
            let end = min(vector.message.count, offset + step)
            hasher.update(Array(vector.message[offset ..< end]))
            offset = end
            step = step * 3 + 1
        }
        #expect(hasher.finalize().hex == vector.digest)
    }

    @Test("domain tags separate digests of equal bytes")
    func domainSeparation() {
        let bytes = Array("same bytes".utf8)
        let digests = Set(DomainTag.allCases.map { Hashing.digest($0, bytes) })
        #expect(digests.count == DomainTag.allCases.count)
        #expect(Hashing.digest(.vertex, bytes) == SHA256.hash([DomainTag.vertex.rawValue] + bytes))
        let streamed = SHA256Hasher(domain: .blob)
        streamed.update(bytes)
        #expect(streamed.finalize() == Hashing.digest(.blob, bytes))
    }
}
