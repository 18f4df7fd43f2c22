import CairnChain
import CairnCore
import CairnCrypto
import CairnNode
import CairnTraining
import CairnStorage
import CairnTestKit
import Foundation
import Testing

func scratchDirectory() -> String {
    FileManager.default.temporaryDirectory.path + "/cairn-net-\(UInt64.random(in: 0 ... .max))"
}

@Suite("cairn testnet")
struct TestnetTests {
    func settings(_ n: Int, trainers: Int = 3, output: String, corpus: String) -> TestnetGenerator.Settings {
        var s = TestnetGenerator.Settings(validators: n, trainers: trainers, output: output)
        s.parameters.corpusDirectory = corpus
        return s
    }

    @Test("writes verified homes, keys, coin shares and network.json", arguments: [4, 7])
    func layout(n: Int) throws {
        let corpus = try syntheticCorpus()
        let output = scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: output); try? FileManager.default.removeItem(atPath: corpus) }
        let summary = try TestnetGenerator(settings: settings(n, output: output, corpus: corpus)).generate()
        let genesis = try GenesisFile.load(path: output + "/genesis.json")
        #expect(genesis.hash == summary.genesisHash)
        #expect(genesis.validators.count == n)
        #expect(genesis.accounts.count == 3)
        #expect(Set(genesis.validators.map(\.address)).count == n)
        let coin = try genesis.verify()
        var shares: [CoinShare] = []
        for i in 0 ..< n {
            let home = NodeHome(output + "/node\(i)")
            #expect(try home.loadGenesis().hash == genesis.hash)
            let key = try KeyFiles.readSigningKey(at: home.validatorKeyFile)
            #expect(key.publicKey == genesis.validators[i].publicKey)
            let secret = try KeyFiles.readCoinShare(at: home.coinShareFile)
            let share = try coin.makeShare(wave: 1, secret: secret)
            try coin.verify(share, wave: 1)
            shares.append(share)
            let config = try String(contentsOfFile: home.configFile, encoding: .utf8)
            #expect(config.contains(genesis.validators[i].address))
            #expect(FileManager.default.fileExists(atPath: home.dataDirectory))
        }
        _ = try coin.combine(shares, wave: 1)
        for j in 0 ..< 3 {
            let key = try KeyFiles.readSigningKey(at: output + "/trainers/trainer\(j).key")
            #expect(key.publicKey == genesis.accounts[j].publicKey)
        }
        let network = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: output + "/network.json"))) as? [String: Any]
        #expect(network?["genesis_hash"] as? String == genesis.hash.hex)
        #expect((network?["nodes"] as? [Any])?.count == n)
        // Corpus: a then b, .dat and the subdirectory skipped.
        let b = Array(try Data(contentsOf: URL(fileURLWithPath: corpus + "/b")))
        #expect(b.starts(with: Array("Q: Why?\nA: Because.\n%\n".utf8)))
        let expected = Hashing.digest(.corpus, Array("All that glitters\n%\n".utf8) + b)
        #expect(genesis.task.corpus.sha256 == expected)
    }

    @Test("the genesis hash does not depend on JSON formatting")
    func hashIgnoresFormatting() throws {
        let corpus = try syntheticCorpus()
        let output = scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: output); try? FileManager.default.removeItem(atPath: corpus) }
        let summary = try TestnetGenerator(settings: settings(4, output: output, corpus: corpus)).generate()
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: output + "/genesis.json")))
        let compact = try JSONSerialization.data(withJSONObject: object, options: [])
        try compact.write(to: URL(fileURLWithPath: output + "/compact.json"))
        #expect(try GenesisFile.load(path: output + "/compact.json").hash == summary.genesisHash)
    }

    @Test("bad validator counts are refused and write nothing", arguments: [1, 3, 5, 6])
    func badCounts(n: Int) throws {
        let output = scratchDirectory()
        let error = try #require(throws: TestnetGenerator.Error.self) {
            try TestnetGenerator(settings: settings(n, output: output, corpus: "/nonexistent")).generate()
        }
        #expect(error.description.contains("3f+1"))
        #expect(!FileManager.default.fileExists(atPath: output))
    }

    @Test("a non-empty output needs --force, which replaces it whole")
    func force() throws {
        let corpus = try syntheticCorpus()
        let output = scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: output); try? FileManager.default.removeItem(atPath: corpus) }
        let first = try TestnetGenerator(settings: settings(4, output: output, corpus: corpus)).generate()
        let error = try #require(throws: TestnetGenerator.Error.self) {
            try TestnetGenerator(settings: settings(4, output: output, corpus: corpus)).generate()
        }
        #expect(error.description.contains("--force"))
        #expect(try GenesisFile.load(path: output + "/genesis.json").hash == first.genesisHash)
        var forced = settings(7, trainers: 0, output: output, corpus: corpus)
        forced.force = true
        let second = try TestnetGenerator(settings: forced).generate()
        #expect(second.genesisHash != first.genesisHash)
        #expect(!FileManager.default.fileExists(atPath: output + "/node4") == false)
        #expect(!FileManager.default.fileExists(atPath: output + "/trainers"))
        let parent = (output as NSString).deletingLastPathComponent
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: parent).filter { $0.contains((output as NSString).lastPathComponent + ".staging") }
        #expect(leftovers.isEmpty)
    }

    @Test("a missing corpus or unwritable parent fails with no partial output")
    func failures() throws {
        let output = scratchDirectory()
        let corpusError = try #require(throws: CorpusText.Error.self) {
            try TestnetGenerator(settings: settings(4, output: output, corpus: "/nonexistent-corpus")).generate()
        }
        #expect(corpusError.description.contains("--corpus"))
        #expect(!FileManager.default.fileExists(atPath: output))
        let missingParent = try #require(throws: TestnetGenerator.Error.self) {
            try TestnetGenerator(settings: settings(4, output: "/nonexistent-parent/x", corpus: "/tmp")).generate()
        }
        #expect(missingParent.description.contains("does not exist"))
    }

    @Test("a genesis edited after the fact is refused with the problem named")
    func tamperedGenesis() throws {
        let corpus = try syntheticCorpus()
        let output = scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: output); try? FileManager.default.removeItem(atPath: corpus) }
        _ = try TestnetGenerator(settings: settings(4, output: output, corpus: corpus)).generate()
        let path = output + "/genesis.json"
        var genesis = try GenesisFile.load(path: path)
        genesis.validators[0].coinPublicShare = genesis.validators[1].coinPublicShare
        try genesis.jsonData().write(to: URL(fileURLWithPath: path))
        let error = try #require(throws: GenesisFile.LoadError.self) { try GenesisFile.load(path: path) }
        #expect(error.description.contains("coin_public_share"))
        genesis = try Genesis.parseJSON(try Data(contentsOf: URL(fileURLWithPath: output + "/node1/config/genesis.json")))
        genesis.validators[2].publicKey = PublicKey(uncheckedBytes: [UInt8](repeating: 0xff, count: 32))
        try genesis.jsonData().write(to: URL(fileURLWithPath: path))
        let keyError = try #require(throws: GenesisFile.LoadError.self) { try GenesisFile.load(path: path) }
        #expect(keyError.description.contains("validators[2].public_key"))
    }
}
