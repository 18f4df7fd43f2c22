import ArgumentParser
import CairnCore
import CairnCrypto
import CairnNode
import CairnStorage
import Foundation

struct Audit: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Replay a node's stored sequence from genesis and check everything it computed.",
        discussion: """
            Opens HOME/data/db read-only as a secondary instance (the node may keep running), \
            then, from genesis: checks every delivered certificate's 2f+1 votes, recomputes the \
            sequence hash chain, re-executes the ledger (checking every record signature again), \
            and compares with the node's stored sequence hashes, record outcomes, state root at \
            every window close, checkpoint certificates and current state root. Exit status 0 \
            when everything matches; 1 with the first difference (position or window and both \
            values) otherwise.
            """)

    @Option(help: "The node's home directory.")
    var home: String

    @Flag(help: "Print one JSON object.")
    var json = false

    func run() throws {
        let nodeHome = NodeHome(home)
        let genesis = try nodeHome.loadGenesis()
        let scratch = FileManager.default.temporaryDirectory.path + "/cairn-audit-\(UInt64.random(in: 0 ... .max))"
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let database = try NodeDatabase.openSecondary(path: nodeHome.databaseDirectory, scratch: scratch, genesisHash: genesis.hash)
        defer { database.close() }
        let started = ContinuousClock.now
        let report = try Auditor(database: database, genesis: genesis, genesisHash: genesis.hash).run()
        let seconds = Double((ContinuousClock.now - started).components.attoseconds) / 1e18 + Double((ContinuousClock.now - started).components.seconds)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            print("replayed    \(report.positions) positions, \(report.leaders) leaders in \(String(format: "%.1f", seconds)) s")
            print("records     \(report.recordsExecuted) executed, \(report.recordsRejected) rejected")
            print("order       \(report.orderChecked) positions as DAG-Rider decides them from the stored certificates (\(report.leadersRederived) leaders re-derived)")
            print("windows     \(report.windowsClosed) closed, \(report.checkpointsChecked) checkpoint certificates checked, supply conserved at \(report.supplyChecks) closes")
            print("sequence    \(report.sequenceHash)")
            print("state root  \(report.stateRoot) (node: \(report.nodeStateRoot))")
        }
        if let problem = report.problem {
            throw CLIError("audit FAILED: \(problem)")
        }
        if !json { print("audit OK: every certificate, record, window and root matches") }
    }
}
