import ArgumentParser
import CairnCore
import CairnCrypto
import CairnNode
import Foundation

struct Keys: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create and inspect a validator's keys.",
        subcommands: [Init.self, Show.self])

    struct Init: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a new Ed25519 validator key in HOME/keys/validator.key (mode 0600).",
            discussion: "Refuses to overwrite an existing key: a validator that loses its key loses its identity.")

        @Option(help: "The node's home directory.")
        var home: String

        func run() throws {
            let home = NodeHome(home)
            try FileManager.default.createDirectory(atPath: home.keysDirectory, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
            let key = SigningKey.generate()
            try KeyFiles.writeSigningKey(key, to: home.validatorKeyFile)
            print("created \(home.validatorKeyFile)")
            print("public_key: \(key.publicKey.hex)")
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the validator's public key, and its place in genesis if HOME/config/genesis.json exists.")

        @Option(help: "The node's home directory.")
        var home: String

        @Flag(help: "Print one JSON object.")
        var json = false

        func run() throws {
            let home = NodeHome(home)
            let key = try KeyFiles.readSigningKey(at: home.validatorKeyFile)
            var fields: [(String, String)] = [("public_key", key.publicKey.hex), ("key_file", home.validatorKeyFile)]
            if FileManager.default.fileExists(atPath: home.genesisFile) {
                let genesis = try home.loadGenesis()
                fields.append(("chain_id", genesis.chainID))
                fields.append(("genesis_hash", genesis.hash.hex))
                guard let index = genesis.validators.firstIndex(where: { $0.publicKey == key.publicKey }) else {
                    throw CLIError("\(home.validatorKeyFile) holds key \(key.publicKey.short)…, which is not a validator in \(home.genesisFile)")
                }
                fields.append(("validator_index", "\(index)"))
                fields.append(("validator_name", genesis.validators[index].name))
                fields.append(("peer_address", genesis.validators[index].address))
                if FileManager.default.fileExists(atPath: home.coinShareFile) {
                    let share = try KeyFiles.readCoinShare(at: home.coinShareFile)
                    guard share.index == UInt32(index + 1),
                          share.publicShare == genesis.validators[index].coinPublicShare else {
                        throw CLIError("\(home.coinShareFile) (index \(share.index)) does not match validator \(index)'s coin_public_share in genesis")
                    }
                    fields.append(("coin_share_index", "\(share.index)"))
                    fields.append(("coin_public_share", share.publicShare.hex))
                }
            }
            if json {
                let object = Dictionary(uniqueKeysWithValues: fields)
                let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
                print(String(decoding: data, as: UTF8.self))
            } else {
                let width = fields.map(\.0.count).max() ?? 0
                for (name, value) in fields {
                    print(name.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + value)
                }
            }
        }
    }
}
