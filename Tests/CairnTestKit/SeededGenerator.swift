import CairnCore

/// Deterministic random numbers for property tests (SplitMix64): a failing seed reproduces.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }

    public mutating func bytes(_ count: Int) -> [UInt8] {
        (0 ..< count).map { _ in UInt8.random(in: 0 ... 255, using: &self) }
    }

    public mutating func string(maxLength: Int) -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789-_.ÄéΩ😀")
        return String((0 ..< Int.random(in: 0 ... maxLength, using: &self)).map { _ in alphabet.randomElement(using: &self)! })
    }

    public mutating func fixed<T: FixedBytes>(_: T.Type) -> T {
        T(uncheckedBytes: bytes(T.byteCount))
    }

    public mutating func double() -> Double {
        // Mix ordinary values with extremes; all finite.
        switch Int.random(in: 0 ..< 4, using: &self) {
        case 0: return Double.random(in: -1e6 ... 1e6, using: &self)
        case 1: return [0.0, -0.0, .leastNonzeroMagnitude, .greatestFiniteMagnitude, -.greatestFiniteMagnitude].randomElement(using: &self)!
        default: return Double(bitPattern: next() & 0x7fef_ffff_ffff_ffff)
        }
    }
}

/// Random, structurally arbitrary (not necessarily valid) values of every genesis type, for codec
/// property tests.
public enum RandomValues {
    public static func genesis(_ g: inout SeededGenerator) -> Genesis {
        let validators = (0 ..< Int.random(in: 0 ... 7, using: &g)).map { _ in
            GenesisValidator(name: g.string(maxLength: 12), publicKey: g.fixed(PublicKey.self),
                             address: g.string(maxLength: 20), coinPublicShare: g.fixed(CurvePoint.self))
        }
        let accounts = (0 ..< Int.random(in: 0 ... 5, using: &g)).map { _ in
            GenesisAccount(name: g.string(maxLength: 10), publicKey: g.fixed(PublicKey.self), balance: g.next())
        }
        let consensus = ConsensusParameters(
            windowMs: UInt32.random(in: 0 ... .max, using: &g), gcDepth: UInt32.random(in: 0 ... .max, using: &g),
            minRoundIntervalMs: UInt32.random(in: 0 ... .max, using: &g), maxRoundIntervalMs: UInt32.random(in: 0 ... .max, using: &g),
            maxRecordsPerVertex: UInt32.random(in: 0 ... .max, using: &g), maxVertexBytes: UInt32.random(in: 0 ... .max, using: &g),
            futureRoundWindow: UInt32.random(in: 0 ... .max, using: &g))
        let task = TrainingTaskSpec(
            name: g.string(maxLength: 16),
            corpus: CorpusSpec(source: g.string(maxLength: 16), sha256: g.fixed(Digest.self), byteCount: g.next()),
            model: ModelSpec(contextBytes: UInt32.random(in: 0 ... .max, using: &g), embeddingDim: 32,
                             hiddenUnits: (0 ..< Int.random(in: 0 ... 4, using: &g)).map { _ in UInt32.random(in: 0 ... 4096, using: &g) },
                             vocabulary: 256),
            compression: CompressionSpec(chunkSize: UInt32.random(in: 0 ... .max, using: &g), topK: UInt32.random(in: 0 ... .max, using: &g)),
            lsh: LSHSpec(bits: UInt32.random(in: 0 ... .max, using: &g), hammingThreshold: UInt32.random(in: 0 ... .max, using: &g)),
            training: TrainingSpec(maxInnerSteps: UInt32.random(in: 0 ... .max, using: &g), batchSize: UInt32.random(in: 0 ... .max, using: &g),
                                   learningRate: g.double(), learningRateFloor: g.double(), warmupSteps: UInt32.random(in: 0 ... .max, using: &g),
                                   decayStartWindow: g.next(), decayWindows: UInt32.random(in: 0 ... .max, using: &g),
                                   weightDecay: g.double(), feedbackDecay: g.double(), outerLearningRate: g.double(), averaging: UInt8.random(in: 0 ... .max, using: &g), maxAggregated: UInt32.random(in: 0 ... .max, using: &g),
                                   initialClipNorm: g.double(), clipGrowth: g.double(), maxParameterMagnitude: g.double(),
                                   maxContributionsPerWindow: UInt32.random(in: 0 ... .max, using: &g), blobRetentionWindows: UInt32.random(in: 0 ... .max, using: &g)),
            evaluation: EvaluationSpec(ownContexts: UInt32.random(in: 0 ... .max, using: &g), randomContexts: UInt32.random(in: 0 ... .max, using: &g),
                                       step: g.double(), probeContexts: UInt32.random(in: 0 ... .max, using: &g),
                                       heldOutContexts: UInt32.random(in: 0 ... .max, using: &g)))
        let rewards = RewardParameters(
            registrationFee: g.next(), contributionFee: g.next(), emissionPerWindow: g.next(), validatorShareBps: UInt32.random(in: 0 ... .max, using: &g),
            payoutExponent: g.double(), rating: RatingParameters(mu: g.double(), sigma: g.double(), beta: g.double(), tau: g.double()))
        return Genesis(
            chainID: g.string(maxLength: 20), consensus: consensus, validators: validators,
            coin: CoinSetup(threshold: UInt32.random(in: 0 ... .max, using: &g),
                            commitments: (0 ..< Int.random(in: 0 ... 4, using: &g)).map { _ in g.fixed(CurvePoint.self) }),
            accounts: accounts, task: task, rewards: rewards,
            placeholders: (0 ..< Int.random(in: 0 ... 3, using: &g)).map { _ in g.string(maxLength: 30) })
    }

    public static func coinShare(_ g: inout SeededGenerator) -> CoinShare {
        CoinShare(wave: g.next(), index: UInt32.random(in: 0 ... .max, using: &g), share: g.fixed(CurvePoint.self),
                  challenge: g.bytes(32), response: g.bytes(32))
    }
}

extension RandomValues {
    public static func vertex(_ g: inout SeededGenerator) -> Vertex {
        Vertex(round: g.next() % 1000, author: UInt32.random(in: 0 ... 30, using: &g),
               strongEdges: (0 ..< Int.random(in: 0 ... 5, using: &g)).map { _ in g.fixed(Digest.self) },
               weakEdges: (0 ..< Int.random(in: 0 ... 2, using: &g)).map { _ in g.fixed(Digest.self) },
               payload: (0 ..< Int.random(in: 0 ... 4, using: &g)).map { _ in g.bytes(Int.random(in: 0 ... 40, using: &g)) },
               coinShare: Bool.random(using: &g) ? coinShare(&g) : nil, timestampMs: g.next())
    }

    public static func certificate(_ g: inout SeededGenerator) -> Certificate {
        Certificate(signedVertex: SignedVertex(vertex: vertex(&g), signature: g.fixed(Signature.self)),
                    votes: (0 ..< Int.random(in: 0 ... 4, using: &g)).map { _ in
                        CertificateVote(voter: UInt32.random(in: 0 ... 30, using: &g), signature: g.fixed(Signature.self))
                    })
    }

    public static func consensusMessage(_ g: inout SeededGenerator) -> ConsensusMessage {
        switch Int.random(in: 0 ..< 6, using: &g) {
        case 0: return .proposal(SignedVertex(vertex: vertex(&g), signature: g.fixed(Signature.self)))
        case 1: return .vote(Vote(digest: g.fixed(Digest.self), round: g.next(), author: 1, voter: 2, signature: g.fixed(Signature.self)))
        case 2: return .certificate(certificate(&g))
        case 3: return .fetchCertificates((0 ..< Int.random(in: 0 ... 3, using: &g)).map { _ in g.fixed(Digest.self) })
        case 4: return .fetchRounds(from: g.next(), to: g.next())
        default: return .certificates((0 ..< Int.random(in: 0 ... 2, using: &g)).map { _ in certificate(&g) })
        }
    }
}
