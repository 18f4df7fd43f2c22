import CairnCore
import CairnCrypto

/// JSON-lines export of one validator's view (`cairn sim --export-dag DIR`), so an independent
/// implementation of the paper's rules can re-derive the order: one object per certified vertex
/// `{"digest","round","author","strong","weak"}`, one per decided wave `{"wave","leader"}`, and a
/// final `{"delivered":[…]}`. The node and the audit tools write the same format.
public enum DAGExport {
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

    public static func vertexLine(_ vertex: Vertex) -> String {
        let digest = Hashing.digest(.vertex, vertex)
        func list(_ digests: [Digest]) -> String { "[" + digests.map { "\"\($0.hex)\"" }.joined(separator: ",") + "]" }
        return "{\"digest\":\"\(digest.hex)\",\"round\":\(vertex.round),\"author\":\(vertex.author),\"strong\":\(list(vertex.strongEdges)),\"weak\":\(list(vertex.weakEdges))}"
    }
}
