import CairnCore

/// The model every chain starts from, drawn from a genesis seed with integer-only randomness and
/// exact Float32 operations, so every validator builds the same bits without exchanging weights.
///
/// Embedding rows are approximately standard normal (PyTorch's `nn.Embedding` default); each
/// weight and bias of a layer with `fan_in` inputs is uniform in ±1/√fan_in (PyTorch's `nn.Linear`
/// default). `squareRoot` is correctly rounded in IEEE 754, so the bounds are portable too.
public enum InitialModel {
    public static func parameters(layout: ModelLayout, seed: Digest) -> [Float] {
        var rng = SplitMix64(digest: DataSplit.seed("initial-model", seed.bytes))
        var theta = [Float](repeating: 0, count: layout.parameterCount)
        for index in layout.embedding.range { theta[index] = rng.approximateNormal() }
        var fanIn = layout.inputWidth
        for layer in 0...layout.hiddenUnits.count {
            let (weight, bias) = layer < layout.hiddenUnits.count ? layout.hidden(layer) : layout.output
            let bound = 1 / Float(fanIn).squareRoot()
            for index in weight.range { theta[index] = rng.symmetricUnit() * bound }
            for index in bias.range { theta[index] = rng.symmetricUnit() * bound }
            fanIn = weight.columns
        }
        return theta
    }
}
