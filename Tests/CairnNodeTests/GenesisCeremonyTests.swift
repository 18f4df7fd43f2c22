import CairnAPI
import CairnChain
import CairnCore
import CairnCrypto
import CairnTestKit
import Foundation
import Testing

/// The genesis ceremony through the `cairn` CLI, as four operators and a coordinator run it (D63):
/// separate homes, files exchanged in directories, no process that ever holds two secrets.
@Suite("Genesis ceremony (CLI)", .serialized)
struct GenesisCeremonyTests {
    @discardableResult
    func cli(_ cairn: String, _ arguments: [String], expect status: Int32 = 0) throws -> ProcessResult {
        let result = try runProcess(cairn, arguments)
        #expect(result.status == status, "cairn \(arguments.joined(separator: " ")): \(result.stderr)")
        return result
    }

    @Test("four homes form a network by join, deal, respond and finish; it commits and every home agrees on genesis")
    func ceremonyNetwork() async throws {
        let net = try LocalNetwork(validators: 4) { cairn, directory, basePort, corpus in
            let ceremony = directory + "/ceremony"
            for sub in ["joins", "deals", "responses"] {
                try FileManager.default.createDirectory(atPath: "\(ceremony)/\(sub)", withIntermediateDirectories: true)
            }
            let draft = "\(ceremony)/draft.json"
            try cli(cairn, ["genesis", "init", "--chain-id", "ceremony-test", "--output", draft, "--corpus", corpus,
                            "--window-ms", "1000", "--min-round-interval-ms", "20", "--max-round-interval-ms", "100"])
            for i in 0 ..< 4 {
                let home = "\(directory)/node\(i)"
                try cli(cairn, ["keys", "init", "--home", home])
                try cli(cairn, ["genesis", "join", "--home", home, "--chain-id", "ceremony-test", "--name", "op\(i)",
                                "--peer-address", "127.0.0.1:\(basePort + 10 * i)", "--api-address", "127.0.0.1:\(basePort + 10 * i + 1)",
                                "--output", "\(ceremony)/joins/op\(i).json"])
            }
            // A join for another chain is refused by name.
            try cli(cairn, ["genesis", "join", "--home", "\(directory)/node0", "--chain-id", "other", "--name", "x",
                            "--peer-address", "127.0.0.1:1", "--api-address", "127.0.0.1:2", "--output", "\(ceremony)/wrong.json"])
            let refused = try cli(cairn, ["genesis", "add-validator", "--draft", draft, "\(ceremony)/wrong.json"], expect: 1)
            #expect(refused.stderr.contains("is for chain 'other'"), "\(refused.stderr)")
            try cli(cairn, ["genesis", "add-validator", "--draft", draft] + (0 ..< 4).map { "\(ceremony)/joins/op\($0).json" })
            let trainer = SigningKey.generate()
            try FileManager.default.createDirectory(atPath: "\(directory)/trainers", withIntermediateDirectories: true)
            try KeyFiles.writeSigningKey(trainer, to: "\(directory)/trainers/trainer0.key")
            try cli(cairn, ["genesis", "add-account", "--draft", draft, "--name", "trainer0", "--public-key", trainer.publicKey.hex,
                            "--balance", "1000000000"])
            for i in 0 ..< 4 {
                try cli(cairn, ["genesis", "dkg", "deal", "--home", "\(directory)/node\(i)", "--draft", draft,
                                "--output", "\(ceremony)/deals/op\(i).json"])
            }
            // A draft edited by hand (validator 1's key swapped under its signed join) is refused.
            let edited = "\(directory)/edited-draft.json"
            var object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: draft))) as? [String: Any])
            var genesisObject = try #require(object["genesis"] as? [String: Any])
            var validators = try #require(genesisObject["validators"] as? [[String: Any]])
            validators[1]["public_key"] = SigningKey.generate().publicKey.hex
            genesisObject["validators"] = validators
            object["genesis"] = genesisObject
            try JSONSerialization.data(withJSONObject: object).write(to: URL(fileURLWithPath: edited))
            let swapped = try cli(cairn, ["genesis", "dkg", "deal", "--home", "\(directory)/node0", "--draft", edited,
                                          "--output", "\(directory)/edited-deal.json"], expect: 1)
            #expect(swapped.stderr.contains("differs from the join it was added from"), "\(swapped.stderr)")
            // A response made before the last deal arrived: finish reports it as stale, and its
            // author cannot install from that outcome.
            let early = "\(directory)/early"
            try FileManager.default.createDirectory(atPath: early + "/deals", withIntermediateDirectories: true)
            try FileManager.default.createDirectory(atPath: early + "/responses", withIntermediateDirectories: true)
            for i in 0 ..< 3 { try FileManager.default.copyItem(atPath: "\(ceremony)/deals/op\(i).json", toPath: "\(early)/deals/op\(i).json") }
            try cli(cairn, ["genesis", "dkg", "respond", "--home", "\(directory)/node0", "--draft", draft, "--deals", early + "/deals",
                            "--output", early + "/responses/op0.json"])
            let stale = try cli(cairn, ["genesis", "dkg", "finish", "--draft", draft, "--deals", "\(ceremony)/deals",
                                        "--responses", early + "/responses", "--output", early + "/genesis.json",
                                        "--home", "\(directory)/node0"], expect: 1)
            #expect(stale.stdout.contains("stale         responses of validators 0") && stale.stderr.contains("not among the responses"),
                    "\(stale.stdout) \(stale.stderr)")
            for i in 0 ..< 4 {
                try cli(cairn, ["genesis", "dkg", "respond", "--home", "\(directory)/node\(i)", "--draft", draft,
                                "--deals", "\(ceremony)/deals", "--output", "\(ceremony)/responses/op\(i).json"])
            }
            var hashes = Set<String>()
            for i in 0 ..< 4 {
                let home = "\(directory)/node\(i)"
                let done = try cli(cairn, ["genesis", "dkg", "finish", "--draft", draft, "--deals", "\(ceremony)/deals",
                                           "--responses", "\(ceremony)/responses", "--output", "\(home)-genesis.json",
                                           "--home", home, "--corpus", corpus])
                #expect(done.stdout.contains("qualified     4 of 4 dealers"), "\(done.stdout)")
                #expect(!FileManager.default.fileExists(atPath: "\(home)/keys/ceremony.key"))
                hashes.insert(try String(contentsOfFile: "\(home)-genesis.json", encoding: .utf8))
            }
            #expect(hashes.count == 1, "the four operators' genesis files differ")
            try FileManager.default.copyItem(atPath: "\(directory)/node0-genesis.json", toPath: "\(directory)/genesis.json")
            let verified = try cli(cairn, ["genesis", "verify", "--file", "\(directory)/genesis.json", "--ceremony", ceremony])
            #expect(verified.stdout.contains("4 qualified dealers, 0 disqualified"), "\(verified.stdout)")
            // The ceremony key is gone, so a second install cannot run; the coin share is in place.
            let again = try cli(cairn, ["genesis", "dkg", "finish", "--draft", draft, "--deals", "\(ceremony)/deals", "--responses",
                                        "\(ceremony)/responses", "--output", "\(directory)/again.json", "--home", "\(directory)/node1"], expect: 1)
            #expect(again.stderr.contains("ceremony.key does not exist"), "\(again.stderr)")
        }
        defer { net.stopAll() }
        for i in 0 ..< 4 { try net.start(i) }
        #expect(await net.eventually(seconds: 60) { await (0 ..< 4).asyncAll { await net.leaders($0) >= 3 } }, "no waves committed on the ceremony's coin")
        let genesis = try GenesisFile.load(path: "\(net.directory)/genesis.json")
        for i in 0 ..< 4 { #expect(await net.status(i)?.genesisHash == genesis.hash.hex) }
    }
}
