import ArgumentParser
import CairnCore
import CairnNode
import CairnTraining

/// The genesis settings `cairn testnet` and `cairn genesis init` share.
struct GenesisOptions: ParsableArguments {
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

    func parameters(chainID: String) -> GenesisParameters {
        var parameters = GenesisParameters(chainID: chainID)
        parameters.corpusDirectory = corpus
        parameters.consensus.minRoundIntervalMs = minRoundIntervalMs
        parameters.consensus.maxRoundIntervalMs = maxRoundIntervalMs
        parameters.consensus.windowMs = windowMs
        parameters.maxContributionsPerWindow = maxContributionsPerWindow
        parameters.blobRetentionWindows = blobRetentionWindows
        return parameters
    }
}
