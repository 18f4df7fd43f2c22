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
            its API on BASE-PORT + 10·i + 1 (loopback). The coin shares are dealt by this command, \
            which therefore knows every share: fine for a local network, not for a real one.
            """)

    @Option(help: "Number of validators; must be 3f+1 with f ≥ 1 (4, 7, 10, …).")
    var validators: Int

    @Option(help: "Number of funded trainer keys.")
    var trainers: Int = 0

    @Option(help: "Directory to write; must be empty or absent unless --force.")
    var output: String

    @Flag(help: "Replace a non-empty output directory.")
    var force = false

    @Option(help: "Chain identifier (a–z, 0–9, '-').")
    var chainID = "cairn-localnet"

    @Option(help: "First port; node i uses BASE-PORT + 10·i (peers) and + 1 (API).")
    var basePort = 26600

    @Option(help: "Balance of each trainer account, in base units.")
    var trainerBalance: UInt64 = 1_000_000_000

    @Option(help: "Corpus directory hashed into genesis (Debian's fortunes).")
    var corpus = CorpusFiles.defaultDirectory

    @Option(help: "Genesis consensus.min_round_interval_ms: the least time between rounds when records wait.")
    var minRoundIntervalMs: UInt32 = ConsensusParameters.defaults.minRoundIntervalMs

    @Option(help: "Genesis consensus.max_round_interval_ms: an empty vertex after this long keeps waves completing when idle.")
    var maxRoundIntervalMs: UInt32 = ConsensusParameters.defaults.maxRoundIntervalMs

    @Option(help: "Genesis consensus.window_ms: length of a training window in consensus time (100 ms … 1 day).")
    var windowMs: UInt32 = ConsensusParameters.defaults.windowMs

    @Option(help: "Genesis task.training.max_contributions_per_window (default: sized from --window-ms so every validator evaluates them all in the commit phase).")
    var maxContributionsPerWindow: UInt32?

    @Option(help: "Genesis task.training.blob_retention_windows: windows an uploaded blob no contribution names is kept.")
    var blobRetentionWindows: UInt32 = TrainingSpec.defaultBlobRetentionWindows

    func validate() throws {
        guard ConsensusParameters.windowMsRange.contains(windowMs) else {
            throw ValidationError("--window-ms must be between \(ConsensusParameters.windowMsRange.lowerBound) and \(ConsensusParameters.windowMsRange.upperBound)")
        }
        if let cap = maxContributionsPerWindow, !(1 ... 100_000).contains(cap) {
            throw ValidationError("--max-contributions-per-window must be between 1 and 100000")
        }
        guard (1 ... 10_000).contains(blobRetentionWindows) else { throw ValidationError("--blob-retention-windows must be between 1 and 10000") }
    }

    func run() throws {
        var settings = TestnetGenerator.Settings(validators: validators, trainers: trainers, output: output)
        settings.force = force
        settings.chainID = chainID
        settings.basePort = basePort
        settings.trainerBalance = trainerBalance
        settings.corpusDirectory = corpus
        settings.consensus.minRoundIntervalMs = minRoundIntervalMs
        settings.consensus.maxRoundIntervalMs = maxRoundIntervalMs
        settings.consensus.windowMs = windowMs
        settings.maxContributionsPerWindow = maxContributionsPerWindow
        settings.blobRetentionWindows = blobRetentionWindows
        let summary = try TestnetGenerator(settings: settings).generate()
        let f = summary.genesis.faultTolerance
        print("wrote \(summary.output): \(summary.nodes.count) validators (f = \(f), quorum \(2 * f + 1)), \(summary.trainerKeyFiles.count) trainers")
        print("chain_id      \(summary.genesis.chainID)")
        print("genesis_hash  \(summary.genesisHash.hex)")
        print("corpus        \(summary.genesis.task.corpus.sha256.hex) (\(summary.genesis.task.corpus.byteCount) bytes)")
        print("window        \(summary.genesis.consensus.windowMs) ms of consensus time, at most \(summary.genesis.task.training.maxContributionsPerWindow) contributions each")
        for node in summary.nodes {
            print("\(node.name)  peer \(node.peerAddress)  api \(node.apiURL)  key \(node.publicKey.short)…  home \(node.home)")
        }
    }
}
