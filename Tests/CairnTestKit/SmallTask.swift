import CairnCore
import CairnStorage
import CairnTraining
import Foundation

/// A small genesis task (4 → 8-d → 16 → 256, chunks of 256 keeping 8) so a test can hold several
/// models, and a scratch database to store them in.
public enum SmallTask {
    public static let spec = TrainingTaskSpec(
        name: "byte-lm-test", corpus: CorpusSpec(source: "test", sha256: .zero, byteCount: 1),
        model: ModelSpec(contextBytes: 4, embeddingDim: 8, hiddenUnits: [16], vocabulary: 256),
        compression: CompressionSpec(chunkSize: 256, topK: 8), lsh: ReferenceSpec.lsh,
        training: ReferenceSpec.training, evaluation: ReferenceSpec.evaluation)

    /// A fresh node database in the temporary directory, and its path (the caller removes it).
    public static func database() throws -> (Database, String) {
        let path = FileManager.default.temporaryDirectory.path + "/cairn-model-\(UInt64.random(in: 0 ... .max))"
        return (try Database(nodePath: path), path)
    }
}
