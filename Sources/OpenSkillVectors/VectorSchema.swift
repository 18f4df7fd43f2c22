// The reference-vector file format (schema_version 1), see shared/openskill/README.md.

struct VectorFile: Decodable {
    var schemaVersion: Int
    var caseCount: Int?
    var reimplBitExactCases: Int?
    var cases: [VectorCase]

    enum CodingKeys: String, CodingKey {
        case schemaVersion = "schema_version"
        case caseCount = "case_count"
        case reimplBitExactCases = "reimpl_bit_exact_cases"
        case cases
    }
}

struct VectorRating: Decodable {
    var mu: Double
    var sigma: Double
}

struct VectorRateArgs: Decodable {
    var ranks: [Double]?
    var scores: [Double]?
    var weights: [[Double]]?
    var tau: Double?
    var limitSigma: Bool?

    enum CodingKeys: String, CodingKey {
        case ranks, scores, weights, tau
        case limitSigma = "limit_sigma"
    }
}

struct VectorModelParams: Decodable {
    var mu: Double
    var sigma: Double
    var beta: Double
    var kappa: Double
    var tau: Double
    var margin: Double
    var limitSigma: Bool
    var balance: Bool
    var weightBounds: [Double]?
    var epsilon: Double?
    var windowSize: Int?

    enum CodingKeys: String, CodingKey {
        case mu, sigma, beta, kappa, tau, margin, balance, epsilon
        case limitSigma = "limit_sigma"
        case weightBounds = "weight_bounds"
        case windowSize = "window_size"
    }
}

struct VectorPredict: Decodable {
    var teams: [[Int]]?  // player indices (history cases only)
    var predictWin: [Double]
    var predictRank: [[Double]]  // [rank, probability] pairs
    var predictDraw: Double

    enum CodingKeys: String, CodingKey {
        case teams
        case predictWin = "predict_win"
        case predictRank = "predict_rank"
        case predictDraw = "predict_draw"
    }
}

struct VectorCustomOrdinals: Decodable {
    var z: Double
    var alpha: Double
    var target: Double
    var values: [[Double]]
}

struct VectorRateExpected: Decodable {
    var teams: [[VectorRating]]
    var ordinals: [[Double]]
    var ordinalsCustom: [VectorCustomOrdinals]?

    enum CodingKeys: String, CodingKey {
        case teams, ordinals
        case ordinalsCustom = "ordinals_custom"
    }
}

struct VectorGame: Decodable {
    var teams: [[Int]]
    var rateArgs: VectorRateArgs
    var result: [[VectorRating]]?

    enum CodingKeys: String, CodingKey {
        case teams, result
        case rateArgs = "rate_args"
    }
}

struct VectorHistoryExpected: Decodable {
    var players: [VectorRating]
    var ordinals: [Double]
    var predictFFA4: VectorPredict?
    var predict2v2: VectorPredict?

    enum CodingKeys: String, CodingKey {
        case players, ordinals
        case predictFFA4 = "predict_ffa4"
        case predict2v2 = "predict_2v2"
    }
}

struct VectorCall: Decodable {
    var teams: [[VectorRating]]
    var rateArgs: VectorRateArgs
    var expected: VectorRateExpected

    enum CodingKeys: String, CodingKey {
        case teams, expected
        case rateArgs = "rate_args"
    }
}

struct VectorTolerance: Decodable {
    var reimplBitExact: Bool?
    var tailSensitive: Bool?
    var suggestedRtol: Double
    var suggestedAtol: Double

    enum CodingKeys: String, CodingKey {
        case reimplBitExact = "reimpl_bit_exact"
        case tailSensitive = "tail_sensitive"
        case suggestedRtol = "suggested_rtol"
        case suggestedAtol = "suggested_atol"
    }
}

struct VectorCase: Decodable {
    var id: String
    var kind: String
    var model: String
    var modelParams: VectorModelParams
    var tolerance: VectorTolerance
    // kind "rate"
    var teams: [[VectorRating]]?
    var rateArgs: VectorRateArgs?
    var predict: VectorPredict?
    // kind "history"
    var players: [VectorRating]?
    var games: [VectorGame]?
    // kind "sequence_same_model"
    var calls: [VectorCall]?
    // "rate" → VectorRateExpected, "history" → VectorHistoryExpected (decoded lazily by kind)
    var rateExpected: VectorRateExpected?
    var historyExpected: VectorHistoryExpected?

    enum CodingKeys: String, CodingKey {
        case id, kind, model, tolerance, teams, predict, players, games, calls, expected
        case modelParams = "model_params"
        case rateArgs = "rate_args"
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(String.self, forKey: .id)
        kind = try c.decode(String.self, forKey: .kind)
        model = try c.decode(String.self, forKey: .model)
        modelParams = try c.decode(VectorModelParams.self, forKey: .modelParams)
        tolerance = try c.decode(VectorTolerance.self, forKey: .tolerance)
        teams = try c.decodeIfPresent([[VectorRating]].self, forKey: .teams)
        rateArgs = try c.decodeIfPresent(VectorRateArgs.self, forKey: .rateArgs)
        predict = try c.decodeIfPresent(VectorPredict.self, forKey: .predict)
        players = try c.decodeIfPresent([VectorRating].self, forKey: .players)
        games = try c.decodeIfPresent([VectorGame].self, forKey: .games)
        calls = try c.decodeIfPresent([VectorCall].self, forKey: .calls)
        switch kind {
        case "rate":
            rateExpected = try c.decode(VectorRateExpected.self, forKey: .expected)
        case "history":
            historyExpected = try c.decode(VectorHistoryExpected.self, forKey: .expected)
        default:
            break
        }
    }
}
