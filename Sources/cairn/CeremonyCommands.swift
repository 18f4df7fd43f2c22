import ArgumentParser
import CairnCore
import CairnCrypto
import CairnNode
import CairnTraining
import Foundation

/// The genesis ceremony (D63, docs/OPERATING.md): a coordinator with no secret assembles a draft;
/// every operator joins, deals, responds and installs from its own home; anyone finishes.
extension GenesisCommand {
    struct Init: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Start a genesis draft: the reference task and rewards, no validators, no accounts (coordinator).")

        @Option(help: "Chain identifier (a–z, 0–9, '-').")
        var chainID: String

        @Option(help: "Draft file to write.")
        var output: String

        @OptionGroup var genesis: GenesisOptions

        @Flag(help: "Replace an existing draft file.")
        var force = false

        func run() throws {
            let draft = try GenesisCeremony.draft(genesis.parameters(chainID: chainID))
            try GenesisCeremony.write(draft, to: output, replace: force)
            print("wrote \(output): draft of chain '\(chainID)'; next: every operator runs `cairn genesis join`, then `cairn genesis add-validator --draft \(output) JOIN...`")
        }
    }

    struct Join: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write this validator's signed join file, creating its ceremony key in HOME/keys/ceremony.key (operator).",
            discussion: "The join file is public: send it to the coordinator. The ceremony key stays in HOME until the coin share is installed.")

        @Option(help: "The node's home directory (holding keys/validator.key from `cairn keys init`).")
        var home: String

        @Option(help: "Chain identifier of the draft.")
        var chainID: String

        @Option(help: "This validator's name in genesis.")
        var name: String

        @Option(help: "host:port other validators dial (goes into genesis).")
        var peerAddress: String

        @Option(help: "host:port of this node's HTTP API (goes into network.json).")
        var apiAddress: String

        @Option(help: "Join file to write.")
        var output: String

        @Flag(help: "Replace an existing join file.")
        var force = false

        func run() throws {
            let join = try GenesisCeremony.join(home: NodeHome(home), chainID: chainID, name: name,
                                                peerAddress: peerAddress, apiAddress: apiAddress)
            try GenesisCeremony.write(join, to: output, replace: force)
            print("wrote \(output): \(name), validator key \(join.publicKey.short)…, ceremony key \(join.ceremonyKey.short)…")
        }
    }

    struct AddValidator: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "add-validator",
            abstract: "Check join files and add their validators to a draft, in the order given (coordinator).")

        @Option(help: "Draft file from `cairn genesis init`.")
        var draft: String

        @Argument(help: "Join files.")
        var joins: [String]

        func run() throws {
            var value = try GenesisCeremony.readDraft(draft)
            for path in joins {
                let join = try GenesisCeremony.read(CeremonyJoin.self, from: path, what: "join file")
                try GenesisCeremony.addValidator(join, to: &value)
                print("added validator \(value.joins.count - 1): \(join.name) \(join.publicKey.short)… at \(join.peerAddress)")
            }
            try GenesisCeremony.write(value, to: draft, replace: true)
            let n = value.joins.count
            print("\(draft): \(n) validators\(validatorCountProblem(n).map { " (not yet a valid committee: \($0))" } ?? "; session \(value.session.short)…")")
        }
    }

    struct AddAccount: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "add-account",
            abstract: "Fund an account in a draft (coordinator).")

        @Option(help: "Draft file from `cairn genesis init`.")
        var draft: String

        @Option(help: "Account name.")
        var name: String

        @Option(help: "Ed25519 public key, 64 hex characters.")
        var publicKey: String

        @Option(help: "Balance in base units.")
        var balance: UInt64

        func run() throws {
            var value = try GenesisCeremony.readDraft(draft)
            try GenesisCeremony.addAccount(name: name, publicKey: try PublicKey(hex: publicKey), balance: balance, to: &value)
            try GenesisCeremony.write(value, to: draft, replace: true)
            print("\(draft): account \(name) with \(balance) base units; \(value.genesis.accounts.count) accounts")
        }
    }

    struct DKG: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "dkg",
            abstract: "Generate the threshold coin's key without a dealer: deal, respond, finish.",
            subcommands: [Deal.self, Respond.self, Finish.self])
    }
}

extension GenesisCommand.DKG {
    struct Deal: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Deal this validator's random polynomial: commitments and a share sealed to every validator (operator).")

        @Option(help: "The node's home directory.")
        var home: String

        @Option(help: "The final draft (every validator added).")
        var draft: String

        @Option(help: "Deal file to write (public: send it to the coordinator).")
        var output: String

        func run() throws {
            let value = try GenesisCeremony.readDraft(draft)
            let deal = try GenesisCeremony.deal(home: NodeHome(home), draft: value)
            try GenesisCeremony.write(deal, to: output)
            print("wrote \(output): deal of validator \(deal.dealer) for session \(deal.session.short)…")
        }
    }

    struct Respond: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Open and check every share sealed to this validator; complain, with proof, about bad ones (operator).")

        @Option(help: "The node's home directory.")
        var home: String

        @Option(help: "The draft the deals were made for.")
        var draft: String

        @Option(help: "Directory holding every deal file (*.json).")
        var deals: String

        @Option(help: "Response file to write (public: send it to the coordinator).")
        var output: String

        func run() throws {
            let value = try GenesisCeremony.readDraft(draft)
            let dealFiles = try GenesisCeremony.readDeals(deals)
            let (response, bad) = try GenesisCeremony.respond(home: NodeHome(home), draft: value, deals: dealFiles)
            try GenesisCeremony.write(response, to: output)
            print("wrote \(output): validator \(response.responder) checked \(dealFiles.count) deals (set \(response.dealsChecked.short)…), \(response.complaints.count) complaints")
            for dealer in bad.keys.sorted() { print("  complaint against validator \(dealer): \(bad[dealer]!)") }
        }
    }

    struct Finish: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Decide the transcript and write the final genesis (anyone); with --home also install this validator's coin share.",
            discussion: "Every operator should run it on the same files and compare the genesis hash before starting a node.")

        @Option(help: "The draft the deals were made for.")
        var draft: String

        @Option(help: "Directory holding every deal file (*.json).")
        var deals: String

        @Option(help: "Directory holding every response file (*.json).")
        var responses: String

        @Option(help: "Genesis file to write.")
        var output: String

        @Option(help: "Install the coin share, genesis and (if missing) config.toml into this home, then delete its ceremony key.")
        var home: String?

        @Option(help: "Corpus directory written into a new config.toml (with --home).")
        var corpus = CorpusFiles.defaultDirectory

        @Flag(help: "Replace an existing genesis file.")
        var force = false

        func run() throws {
            let value = try GenesisCeremony.readDraft(draft)
            let dealFiles = try GenesisCeremony.readDeals(deals)
            let responseFiles = try GenesisCeremony.readResponses(responses)
            let (genesis, outcome) = try GenesisCeremony.finish(draft: value, deals: dealFiles, responses: responseFiles)
            try GenesisCeremony.write(genesis, to: output, replace: force)
            printOutcome(outcome, genesis: genesis)
            if let home {
                let share = try GenesisCeremony.install(home: NodeHome(home), draft: value, genesis: genesis, outcome: outcome,
                                                        deals: dealFiles, corpusDirectory: corpus)
                print("installed coin share \(share.index) (public \(share.publicShare.short)…) and genesis in \(home); ceremony key deleted")
            }
        }
    }
}

func printOutcome(_ outcome: CeremonyOutcome, genesis: Genesis) {
    print("qualified     \(outcome.qualified.count) of \(genesis.validators.count) dealers: \(outcome.qualified.map(String.init).joined(separator: " "))")
    for dealer in outcome.faults.keys.sorted() {
        print("disqualified  validator \(dealer) (\(genesis.validators[Int(dealer)].name)): \(outcome.faults[dealer]!)")
    }
    for (responder, dealer) in outcome.falseComplaints {
        print("rejected      validator \(responder)'s complaint against \(dealer): the share opens and checks, or the proof is wrong")
    }
    if !outcome.staleResponders.isEmpty {
        print("stale         responses of validators \(outcome.staleResponders.map(String.init).joined(separator: " ")) checked another set of deals: their complaints count, but they must respond again to the final deals before installing")
    }
    if !outcome.silentResponders.isEmpty {
        print("no response   from validators \(outcome.silentResponders.map(String.init).joined(separator: " ")): a bad share to them went unreported, and `finish --home` tells them")
    }
    for reason in outcome.ignored { print("ignored       \(reason)") }
    print("transcript    \(outcome.transcript.hex)")
    print("group key     \(outcome.commitments[0].hex)")
    print("genesis_hash  \(genesis.hash.hex)")
}
