import ArgumentParser
import CairnCore

@main
struct Cairn: AsyncParsableCommand {
    static let version = "0.1.0"

    static let configuration = CommandConfiguration(
        commandName: "cairn",
        abstract: "Validator node and tools for Cairn, a verifiable decentralized compute ledger.",
        discussion: """
            Operators create keys and local networks; auditors check genesis files; everyone can \
            measure this machine's cryptographic and storage limits.
            """,
        version: version,
        subcommands: [Node.self, Status.self, Balance.self, RatingsCommand.self, TransferCommand.self, RegisterCommand.self, SubmitCommand.self, Keys.self, Testnet.self, Prune.self, Audit.self, GenesisCommand.self, Sim.self, Train.self, Rate.self, Bench.self])
}

/// A failure the CLI reports as one line on stderr with exit status 1.
struct CLIError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
