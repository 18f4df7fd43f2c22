import CairnCore
import CairnCrypto
import Foundation
import Testing

func temporaryDirectory(_ label: String = #function) throws -> String {
    let path = FileManager.default.temporaryDirectory.path + "/cairn-test-\(label.filter(\.isLetter))-\(UInt64.random(in: 0 ... .max))"
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

@Suite("Key files")
struct KeyFileTests {
    @Test("signing keys are written 0600 and read back")
    func roundTrip() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let key = SigningKey.generate()
        let path = dir + "/validator.key"
        try KeyFiles.writeSigningKey(key, to: path)
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        #expect(try KeyFiles.readSigningKey(at: path).publicKey == key.publicKey)
    }

    @Test("group- or world-readable key files are refused with the fix", arguments: [0o640, 0o604, 0o644])
    func permissions(mode: Int) throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/validator.key"
        try KeyFiles.writeSigningKey(SigningKey.generate(), to: path)
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
        let error = try #require(throws: KeyFileError.self) { try KeyFiles.readSigningKey(at: path) }
        #expect(error.description.contains("chmod 600"))
    }

    @Test("existing keys are never overwritten")
    func noOverwrite() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/validator.key"
        let original = SigningKey.generate()
        try KeyFiles.writeSigningKey(original, to: path)
        let error = try #require(throws: KeyFileError.self) { try KeyFiles.writeSigningKey(SigningKey.generate(), to: path) }
        #expect(error.description.contains("already exists"))
        #expect(try KeyFiles.readSigningKey(at: path).publicKey == original.publicKey)
    }

    @Test("edited, missing and malformed key files are refused")
    func corruption() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/validator.key"
        try KeyFiles.writeSigningKey(SigningKey.generate(), to: path)
        var text = try String(contentsOfFile: path, encoding: .utf8)
        let other = SigningKey.generate().publicKey.hex
        text = text.replacingOccurrences(of: #""public_key" : "[0-9a-f]+""#, with: "\"public_key\" : \"\(other)\"", options: .regularExpression)
        try FileManager.default.removeItem(atPath: path)
        try KeyFiles.writeSecret(Data(text.utf8), to: path)
        let edited = try #require(throws: KeyFileError.self) { try KeyFiles.readSigningKey(at: path) }
        #expect(edited.description.contains("corrupt"))
        #expect(throws: KeyFileError.self) { try KeyFiles.readSigningKey(at: dir + "/absent.key") }
        try KeyFiles.writeSecret(Data("{\"type\": 3}".utf8), to: dir + "/garbage.key")
        #expect(throws: KeyFileError.self) { try KeyFiles.readSigningKey(at: dir + "/garbage.key") }
    }

    @Test("coin shares round-trip and must match their public share")
    func coinShares() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let deal = try ThresholdCoin.deal(validators: 4, threshold: 2)
        try KeyFiles.writeCoinShare(deal.secretShares[2], to: dir + "/coin.share")
        let read = try KeyFiles.readCoinShare(at: dir + "/coin.share")
        #expect(read.index == 3)
        #expect(read.publicShare == deal.publicShares[2])
        #expect(throws: KeyFileError.self) { try KeyFiles.readSigningKey(at: dir + "/coin.share") }
    }
}
