import CairnCore

/// One named matrix or vector inside the flat parameter buffer.
public struct ParameterSlot: Hashable, Sendable {
    public var name: String
    /// Index of the first element in the flat buffer.
    public var offset: Int
    public var rows: Int
    public var columns: Int
    public var count: Int { rows * columns }
    public var range: Range<Int> { offset..<(offset + count) }
}

/// Where each tensor of the byte MLP lives in the flat parameter buffer (θ, ∇θ and AdamW's m and v
/// share it). The order and orientation are protocol data: pseudo-gradient chunks index this flat
/// space, so changing either changes every blob and model hash.
///
/// Order: the embedding table `[vocabulary × embedding]` (row b is byte b's vector); then for each
/// hidden layer its weight `[inputs × units]` (input-major, so a batch computes `x · W`) and its bias
/// `[units]`; then the output weight `[last hidden × vocabulary]` and bias `[vocabulary]`.
public struct ModelLayout: Hashable, Sendable {
    public let contextBytes: Int
    public let embeddingDim: Int
    public let hiddenUnits: [Int]
    public let vocabulary: Int
    public let slots: [ParameterSlot]
    public let parameterCount: Int

    public struct Error: Swift.Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    /// Largest model the reference task accepts: bounds every allocation a genesis file can ask for.
    public static let maxParameters = 1 << 26
    public static let maxWidth = 1 << 14

    public init(_ spec: ModelSpec) throws(Error) {
        let widths = [Int(spec.contextBytes), Int(spec.embeddingDim), Int(spec.vocabulary)] + spec.hiddenUnits.map(Int.init)
        guard widths.allSatisfy({ (1...Self.maxWidth).contains($0) }), !spec.hiddenUnits.isEmpty else {
            throw Error(description: "task.model: every dimension must be 1…\(Self.maxWidth) with at least one hidden layer (got context \(spec.contextBytes), embedding \(spec.embeddingDim), hidden \(spec.hiddenUnits), vocabulary \(spec.vocabulary))")
        }
        guard spec.vocabulary == 256 else {
            throw Error(description: "task.model.vocabulary must be 256 for a byte-level model (got \(spec.vocabulary))")
        }
        let total = spec.parameterCount
        guard total <= Self.maxParameters else {
            throw Error(description: "task.model has \(total) parameters; the reference task allows at most \(Self.maxParameters)")
        }
        contextBytes = Int(spec.contextBytes)
        embeddingDim = Int(spec.embeddingDim)
        hiddenUnits = spec.hiddenUnits.map(Int.init)
        vocabulary = Int(spec.vocabulary)
        var slots: [ParameterSlot] = []
        var offset = 0
        func add(_ name: String, _ rows: Int, _ columns: Int) {
            slots.append(ParameterSlot(name: name, offset: offset, rows: rows, columns: columns))
            offset += rows * columns
        }
        add("embedding", vocabulary, embeddingDim)
        var width = contextBytes * embeddingDim
        for (layer, units) in hiddenUnits.enumerated() {
            add("hidden\(layer).weight", width, units)
            add("hidden\(layer).bias", 1, units)
            width = units
        }
        add("output.weight", width, vocabulary)
        add("output.bias", 1, vocabulary)
        self.slots = slots
        parameterCount = offset
        precondition(offset == total, "layout and ModelSpec.parameterCount disagree")
    }

    /// Width of the concatenated context embedding, the first hidden layer's input.
    public var inputWidth: Int { contextBytes * embeddingDim }

    public var embedding: ParameterSlot { slots[0] }
    /// Weight and bias of hidden layer `i`.
    public func hidden(_ i: Int) -> (weight: ParameterSlot, bias: ParameterSlot) { (slots[1 + 2 * i], slots[2 + 2 * i]) }
    public var output: (weight: ParameterSlot, bias: ParameterSlot) { (slots[slots.count - 2], slots[slots.count - 1]) }

    /// Multiply-adds of one forward pass for one context (the embedding lookup is free).
    public var forwardMultiplyAdds: Int {
        var width = inputWidth
        var total = 0
        for units in hiddenUnits { total += width * units; width = units }
        return total + width * vocabulary
    }
}
