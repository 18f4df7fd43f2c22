import ArgumentParser
import CairnChain
import CairnCore
import CairnCrypto
import CairnNode

struct GenesisCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "genesis",
        abstract: "Check a genesis file, or make one by a ceremony without a dealer (D63).",
        subcommands: [Hash.self, Verify.self, Init.self, Join.self, AddValidator.self, AddAccount.self, DKG.self])

    struct Hash: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the genesis hash: SHA-256 of the canonical encoding (after full verification).")

        @Option(help: "Path to genesis.json.")
        var file: String

        func run() throws {
            print(try GenesisFile.load(path: file).hash.hex)
        }
    }

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Verify a genesis file (structure, keys, coin commitments) and summarise it.")

        @Option(help: "Path to genesis.json.")
        var file: String

        @Option(help: "A ceremony directory (draft.json, deals/, responses/): also check that its transcript gives exactly this genesis.")
        var ceremony: String?

        func run() throws {
            let genesis = try GenesisFile.load(path: file)
            if let ceremony {
                let draft = try GenesisCeremony.readDraft(ceremony + "/draft.json")
                let (expected, outcome) = try GenesisCeremony.finish(
                    draft: draft, deals: try GenesisCeremony.readDeals(ceremony + "/deals"),
                    responses: try GenesisCeremony.readResponses(ceremony + "/responses"))
                guard expected.hash == genesis.hash else {
                    throw CLIError("\(file) (\(genesis.hash.short)…) is not the genesis the ceremony in \(ceremony) gives (\(expected.hash.short)…)")
                }
                print("ceremony      \(ceremony): transcript \(outcome.transcript.short)…, \(outcome.qualified.count) qualified dealers, \(outcome.faults.count) disqualified")
            }
            let total = genesis.accounts.reduce(UInt64(0)) { $0 + $1.balance }
            print("ok: \(file)")
            print("chain_id      \(genesis.chainID)")
            print("genesis_hash  \(genesis.hash.hex)")
            print("validators    \(genesis.validators.count) (f = \(genesis.faultTolerance), quorum \(genesis.quorum), coin threshold \(genesis.coin.threshold))")
            print("accounts      \(genesis.accounts.count) holding \(total) base units")
            print("task          \(genesis.task.name), \(genesis.task.model.parameterCount) parameters, corpus \(genesis.task.corpus.sha256.short)…")
            let t = genesis.task.training, e = genesis.task.evaluation
            print("training      up to \(t.maxInnerSteps) inner steps of \(t.batchSize) a window, lr \(t.learningRate) after \(t.warmupSteps) warm-up steps\(t.decayStartWindow > 0 ? ", → \(t.learningRateFloor) over \(t.decayWindows) windows from window \(t.decayStartWindow)" : ", constant"), error feedback β \(t.feedbackDecay), outer rate \(t.outerLearningRate), top \(t.maxAggregated) aggregated")
            print("evaluation    \(e.ownContexts) own + \(e.randomContexts) random contexts, step \(e.step), \(e.probeContexts)-context probe, \(genesis.task.lsh.bits)-bit hash, T = \(genesis.task.lsh.hammingThreshold)")
            for placeholder in genesis.placeholders {
                print("placeholder   \(placeholder)")
            }
        }
    }
}
