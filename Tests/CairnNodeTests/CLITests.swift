import CairnChain
import CairnCore
import CairnTestKit
import Foundation
import Testing

@Suite("cairn CLI end to end")
struct CLITests {
    /// The must-show: testnet, then keys show, and one genesis hash printed identically by
    /// several commands.
    @Test("testnet, keys show and genesis hash agree on the genesis hash")
    func genesisHashAgrees() throws {
        let cairn = try builtExecutable("cairn")
        let corpus = try syntheticCorpus()
        let output = scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: output); try? FileManager.default.removeItem(atPath: corpus) }
        let testnet = try runProcess(cairn, ["testnet", "--validators", "4", "--trainers", "3", "--output", output, "--corpus", corpus])
        #expect(testnet.status == 0, "\(testnet.stderr)")
        let printed = try #require(testnet.stdout.split(separator: "\n").first { $0.hasPrefix("genesis_hash") })
        let hash = String(try #require(printed.split(separator: " ").last))
        #expect(hash.count == 64)

        let hashCommand = try runProcess(cairn, ["genesis", "hash", "--file", output + "/genesis.json"])
        #expect(hashCommand.stdout == hash + "\n")
        for i in 0 ..< 4 {
            let show = try runProcess(cairn, ["keys", "show", "--home", "\(output)/node\(i)"])
            #expect(show.status == 0, "\(show.stderr)")
            #expect(show.stdout.contains("genesis_hash       \(hash)"))
            #expect(show.stdout.contains("validator_index    \(i)"))
            #expect(show.stdout.contains("coin_share_index   \(i + 1)"))
        }
        let json = try runProcess(cairn, ["keys", "show", "--home", output + "/node2", "--json"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: String])
        #expect(object["genesis_hash"] == hash)
    }

    @Test("bad input exits non-zero with a message that names the problem")
    func errors() throws {
        let cairn = try builtExecutable("cairn")
        let corpus = try syntheticCorpus()
        let output = scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: output); try? FileManager.default.removeItem(atPath: corpus) }

        let five = try runProcess(cairn, ["testnet", "--validators", "5", "--output", output, "--corpus", corpus])
        #expect(five.status != 0)
        #expect(five.stderr.contains("not of the form 3f+1"))
        #expect(!FileManager.default.fileExists(atPath: output))

        #expect(try runProcess(cairn, ["testnet", "--validators", "4", "--output", output, "--corpus", corpus]).status == 0)
        let again = try runProcess(cairn, ["testnet", "--validators", "4", "--output", output, "--corpus", corpus])
        #expect(again.status != 0)
        #expect(again.stderr.contains("--force"))

        let keyFile = output + "/node0/keys/validator.key"
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: keyFile)
        let open = try runProcess(cairn, ["keys", "show", "--home", output + "/node0"])
        #expect(open.status != 0)
        #expect(open.stderr.contains("chmod 600"))

        // A key that is not in genesis.
        let stranger = scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: stranger) }
        #expect(try runProcess(cairn, ["keys", "init", "--home", stranger]).status == 0)
        try FileManager.default.createDirectory(atPath: stranger + "/config", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: output + "/genesis.json", toPath: stranger + "/config/genesis.json")
        let notValidator = try runProcess(cairn, ["keys", "show", "--home", stranger])
        #expect(notValidator.stderr.contains("not a validator"))
        let reinit = try runProcess(cairn, ["keys", "init", "--home", stranger])
        #expect(reinit.status != 0)
        #expect(reinit.stderr.contains("already exists"))

        try Data("{\"chain_id\": ".utf8).write(to: URL(fileURLWithPath: output + "/broken.json"))
        let broken = try runProcess(cairn, ["genesis", "verify", "--file", output + "/broken.json"])
        #expect(broken.status != 0)
        #expect(broken.stderr.contains("broken.json"))
    }

    @Test("bench prints JSON with a measured value for every figure")
    func benchJSON() throws {
        let cairn = try builtExecutable("cairn")
        let result = try runProcess(cairn, ["bench", "compute", "--seconds", "0.05", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let results = try #require(object["results"] as? [[String: Any]])
        #expect(!results.isEmpty)
        for entry in results { #expect((entry["value"] as? Double ?? 0) > 0) }
    }
}
