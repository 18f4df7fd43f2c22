import ArgumentParser
import CairnCore
import CairnNode
import CairnTraining

struct Testnet: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a local network: genesis, validator homes with keys and coin shares, funded trainer keys.",
        discussion: """
            Writes OUTPUT/genesis.json, OUTPUT/network.json, OUTPUT/node<i>/{config,keys,data} and \
            OUTPUT/trainers/trainer<j>.key. Node i listens for peers on BASE-PORT + 10·i and serves \
            its API on BASE-PORT + 10·i + 1 (loopback). By default the coin shares are dealt by this \
            command, which therefore knows every share: fine for tests, not for a real network. \
            With --dkg every home runs the genesis ceremony's own steps instead (join, deal, respond, \
            finish; transcript in OUTPUT/ceremony), as operators of a real network do.
            """)

    @Option(help: "Number of validators; must be 3f+1 with f ≥ 1 (4, 7, 10, …).")
    var validators: Int

    @Option(help: "Number of funded trainer keys.")
    var trainers: Int = 0

    @Option(help: "Directory to write; must be empty or absent unless --force.")
    var output: String

    @Flag(help: "Replace a non-empty output directory.")
    var force = false

    @Flag(help: "Make the coin by the dealer-free ceremony (DKG) instead of dealing it.")
    var dkg = false

    @Option(help: "Chain identifier (a–z, 0–9, '-').")
    var chainID = "cairn-localnet"

    @Option(help: "First port; node i uses BASE-PORT + 10·i (peers) and + 1 (API).")
    var basePort = 26600

    @Option(help: "Balance of each trainer account, in base units.")
    var trainerBalance: UInt64 = 1_000_000_000

    @OptionGroup var genesis: GenesisOptions

    func run() throws {
        var settings = TestnetGenerator.Settings(validators: validators, trainers: trainers, output: output)
        settings.force = force
        settings.parameters = genesis.parameters(chainID: chainID)
        settings.basePort = basePort
        settings.trainerBalance = trainerBalance
        settings.distributedKeyGeneration = dkg
        let summary = try TestnetGenerator(settings: settings).generate()
        let f = summary.genesis.faultTolerance
        print("wrote \(summary.output): \(summary.nodes.count) validators (f = \(f), quorum \(2 * f + 1)), \(summary.trainerKeyFiles.count) trainers")
        print("chain_id      \(summary.genesis.chainID)")
        print("genesis_hash  \(summary.genesisHash.hex)")
        print("corpus        \(summary.genesis.task.corpus.sha256.hex) (\(summary.genesis.task.corpus.byteCount) bytes)")
        print("coin          \(dkg ? "distributed key generation (transcript in \(summary.output)/ceremony)" : "dealt by this command (it saw every share)")")
        print("window        \(summary.genesis.consensus.windowMs) ms of consensus time, at most \(summary.genesis.task.training.maxContributionsPerWindow) contributions each")
        for node in summary.nodes {
            print("\(node.name)  peer \(node.peerAddress)  api \(node.apiURL)  key \(node.publicKey.short)…  home \(node.home)")
        }
    }
}
