import CairnCore
import DAGRider
import Testing

@Suite("Records of a validator cut off by a partition")
struct PartitionRecordsTests {
    /// Found live (tools/netns-scenario minority, D64): validator 3, cut off for two minutes, lost
    /// the 509 records it had accepted. A proposal that never gathers a certificate falls below the
    /// GC line with its records; and a validator catching up proposes at rounds the others have
    /// already collected. Both must leave the records in its queue until they are ordered.
    @Test("records in a proposal that was never certified are delivered once the partition heals")
    func uncertifiedProposalRecordsAreDelivered() throws {
        let fixture = Fixture(n: 4, gcDepth: 20)
        var network = LoopbackNetwork(fixture: fixture)
        network.servesFromStorage = true
        network.run(untilCommits: 2)
        // Validator 0 proposes its records and is cut off before the proposal leaves.
        let records = (0 ..< 12).map { Array("partitioned-\($0)".utf8) }
        #expect(network.cores[0].onRecords(records) == records.count)
        network.isolateAfterProposingRecords = 0
        network.run(while: { $0.isolated.isEmpty })
        // The other three go on far past the GC line (wave = 4 rounds; 20 leaders ≫ 20 rounds).
        let target = network.cores[1].committedLeaders + 20
        network.run(while: { $0.cores[1].committedLeaders < target })
        #expect(network.cores[0].committedLeaders < target - 10, "validator 0 was not cut off")
        network.isolated = []
        let caughtUp = network.cores[1].committedLeaders + 25
        network.run(while: { net in net.cores.contains { $0.committedLeaders < caughtUp } }, steps: 60_000)
        for node in 0 ..< 4 {
            let delivered = Set(network.deliveredRecords(node))
            let missing = records.filter { !delivered.contains($0) }
            #expect(missing.count == 0, "validator \(node) never delivered \(missing.count) of validator 0's records")
        }
    }
}
