import CairnCore
import CairnCrypto
import ConsensusOracle

/// The simulator's side of `DAGExport` (ConsensusOracle): one validator's whole view as JSON lines.
extension DAGExport {
    static func lines(store: SimStore) -> [String] {
        var lines: [String] = []
        let certificates = store.certificates.values.sorted { ($0.vertex.round, $0.vertex.author) < ($1.vertex.round, $1.vertex.author) }
        for certificate in certificates {
            lines.append(vertexLine(certificate.vertex))
        }
        for decision in store.decisions {
            lines.append("{\"wave\":\(decision.wave),\"leader\":\(decision.leader)}")
        }
        lines.append("{\"delivered\":[" + store.delivered.map { "\"\($0.digest.hex)\"" }.joined(separator: ",") + "]}")
        return lines
    }
}
