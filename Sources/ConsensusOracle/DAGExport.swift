import CairnCore
import CairnCrypto

/// JSON-lines export of one validator's view (`cairn sim --export-dag DIR`), so an independent
/// implementation of the paper's rules can re-derive the order: one object per certified vertex
/// `{"digest","round","author","strong","weak"}`, one per decided wave `{"wave","leader"}`, and a
/// final `{"delivered":[…]}`. The node and the audit tools write the same format.
public enum DAGExport {
    public static func vertexLine(_ vertex: Vertex) -> String {
        let digest = Hashing.digest(.vertex, vertex)
        func list(_ digests: [Digest]) -> String { "[" + digests.map { "\"\($0.hex)\"" }.joined(separator: ",") + "]" }
        return "{\"digest\":\"\(digest.hex)\",\"round\":\(vertex.round),\"author\":\(vertex.author),\"strong\":\(list(vertex.strongEdges)),\"weak\":\(list(vertex.weakEdges))}"
    }
}
