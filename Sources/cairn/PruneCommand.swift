import ArgumentParser
import CairnChain
import CairnCore
import CairnCrypto
import CairnNode
import CairnStorage
import Foundation

struct Prune: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Delete a stopped validator's consensus history below a round, to free disk.",
        discussion: """
            Full history is kept by default so audits can start at genesis. This removes the \
            certificates (and this validator's own proposals and votes) of rounds below \
            --below-round from HOME/data/db, then compacts the database. The delivered sequence \
            and record index stay, so sequence hashes and record positions can still be checked; \
            the payloads of pruned vertices are gone (GET /v1/committed answers 410 for them) and \
            peers that fall behind past the line must catch up from a validator with full history. \
            The line can be at most (last committed leader round − gcDepth), where the node \
            restores from. Stop the node first: the database refuses a second opener.
            """)

    @Option(help: "The node's home directory.")
    var home: String

    @Option(help: "Delete history of rounds below this one.")
    var belowRound: UInt64

    @Flag(help: "Print one JSON object.")
    var json = false

    func run() throws {
        let nodeHome = NodeHome(home)
        let genesis = try nodeHome.loadGenesis()
        let database: Database
        do {
            database = try NodeDatabase.open(path: nodeHome.databaseDirectory, genesisHash: genesis.hash)
        } catch let error as StorageError where "\(error)".contains("lock") {
            throw CLIError("\(nodeHome.databaseDirectory) is in use (is the node running? stop it first): \(error)")
        }
        defer { database.close() }
        let store = ConsensusStore(database: database)
        let before = try store.prunedBelow()
        let report = try store.prune(below: belowRound, gcDepth: UInt64(genesis.consensus.gcDepth))
        if json {
            print("{\"pruned_below\": \(report.below), \"previously_pruned_below\": \(before), \"certificates\": \(report.certificates), "
                + "\"own_proposals\": \(report.ownProposals), \"own_votes\": \(report.ownVotes)}")
        } else if report.below <= before {
            print("nothing to do: history below round \(before) was already pruned")
        } else {
            print("pruned rounds \(report.from)…\(report.below - 1): \(report.certificates) certificates, "
                + "\(report.ownProposals) own proposals, \(report.ownVotes) own votes; history now starts at round \(report.below)")
        }
    }
}
