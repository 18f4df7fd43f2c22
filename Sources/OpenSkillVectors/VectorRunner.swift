import Foundation
import OpenSkill

/// Runs reference vectors (shared/openskill/vectors.json, schema_version 1) through the Swift
/// models and reports pass counts and worst errors per model. The `cairn rate --vectors FILE`
/// command is meant to be a thin wrapper around `VectorRunner.run`.
public enum VectorRunner {
    public enum RunnerError: Error, CustomStringConvertible {
        case unreadable(path: String, underlying: String)
        case malformed(String)
        case unsupportedSchema(Int)

        public var description: String {
            switch self {
            case .unreadable(let path, let underlying):
                return "cannot read vectors file \(path): \(underlying)"
            case .malformed(let detail):
                return "vectors file is not valid schema-1 JSON: \(detail)"
            case .unsupportedSchema(let version):
                return "vectors file has schema_version \(version); only 1 is supported"
            }
        }
    }

    /// Reads and checks the vectors file at `path`.
    public static func run(
        path: String, math: MathFunctions = .libm, mathName: String = "libm"
    ) throws -> VectorReport {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw RunnerError.unreadable(path: path, underlying: "\(error)")
        }
        return try run(data: data, math: math, mathName: mathName)
    }

    /// Checks vectors given as JSON data.
    public static func run(
        data: Data, math: MathFunctions = .libm, mathName: String = "libm"
    ) throws -> VectorReport {
        let file: VectorFile
        do {
            file = try JSONDecoder().decode(VectorFile.self, from: data)
        } catch {
            throw RunnerError.malformed("\(error)")
        }
        if file.schemaVersion != 1 { throw RunnerError.unsupportedSchema(file.schemaVersion) }

        var reports: [String: ModelReport] = [:]
        var failures: [CaseFailure] = []
        var passed = 0
        var bitExact = 0
        var compared = 0
        for vectorCase in file.cases {
            var checker = CaseChecker(tolerance: vectorCase.tolerance)
            do {
                try evaluate(vectorCase, math: math, into: &checker)
            } catch {
                checker.fail("\(error)")
            }
            compared += checker.comparedValues
            var report = reports[vectorCase.model] ?? ModelReport(model: vectorCase.model)
            report.cases += 1
            report.comparedValues += checker.comparedValues
            if checker.passed {
                report.passed += 1
                passed += 1
            } else {
                failures.append(CaseFailure(
                    id: vectorCase.id, model: vectorCase.model,
                    reason: checker.firstFailure ?? "mismatch"))
            }
            if checker.bitExact && checker.passed {
                report.bitExact += 1
                bitExact += 1
            }
            if checker.worstAbsolute > report.worstAbsoluteError {
                report.worstAbsoluteError = checker.worstAbsolute
                report.worstCase = vectorCase.id
            }
            report.worstRelativeError = max(report.worstRelativeError, checker.worstRelative)
            reports[vectorCase.model] = report
        }

        let knownOrder = ModelKind.allCases.map(\.rawValue)
        let ordered = knownOrder.compactMap { reports[$0] }
            + reports.keys.filter { !knownOrder.contains($0) }.sorted().compactMap { reports[$0] }
        return VectorReport(
            math: mathName, totalCases: file.cases.count, passedCases: passed,
            bitExactCases: bitExact, comparedValues: compared, referenceBitExactCases: file.reimplBitExactCases,
            models: ordered, failures: failures)
    }

    // MARK: - Evaluation

    struct CaseError: Error, CustomStringConvertible {
        var description: String
    }

    static func makeModel(_ vectorCase: VectorCase, math: MathFunctions) throws -> any RatingModel {
        guard let kind = ModelKind(rawValue: vectorCase.model) else {
            throw CaseError(description: "unknown model \(vectorCase.model)")
        }
        let p = vectorCase.modelParams
        var bounds: WeightBounds? = nil
        if let wb = p.weightBounds {
            guard wb.count == 2 else { throw CaseError(description: "weight_bounds needs 2 numbers") }
            bounds = WeightBounds(lower: wb[0], upper: wb[1])
        }
        let parameters = ModelParameters(
            mu: p.mu, sigma: p.sigma, beta: p.beta, kappa: p.kappa, tau: p.tau, margin: p.margin,
            limitSigma: p.limitSigma, balance: p.balance, weightBounds: bounds)
        return kind.makeModel(
            parameters: parameters, epsilon: p.epsilon ?? 0.1, windowSize: p.windowSize ?? 4,
            math: math)
    }

    static func ratings(_ teams: [[VectorRating]]) -> [[Rating]] {
        teams.map { $0.map { Rating(mu: $0.mu, sigma: $0.sigma) } }
    }

    static func rate(
        _ model: inout any RatingModel, _ teams: [[Rating]], _ args: VectorRateArgs
    ) throws -> [[Rating]] {
        try model.rate(
            teams, ranks: args.ranks, scores: args.scores, weights: args.weights, tau: args.tau,
            limitSigma: args.limitSigma)
    }

    static func evaluate(_ c: VectorCase, math: MathFunctions, into checker: inout CaseChecker) throws {
        switch c.kind {
        case "rate":
            guard let teams = c.teams, let args = c.rateArgs, let expected = c.rateExpected else {
                throw CaseError(description: "rate case lacks teams, rate_args or expected")
            }
            var model = try makeModel(c, math: math)
            let result = try rate(&model, ratings(teams), args)
            checkRateResult(result, expected, "", &checker)
            if let predict = c.predict {
                let fresh = try makeModel(c, math: math)
                try checkPredictions(fresh, ratings(teams), predict, "predict", &checker)
            }
        case "history":
            guard let start = c.players, let games = c.games, let expected = c.historyExpected else {
                throw CaseError(description: "history case lacks players, games or expected")
            }
            var model = try makeModel(c, math: math)
            var players = start.map { Rating(mu: $0.mu, sigma: $0.sigma) }
            for (g, game) in games.enumerated() {
                let teams = game.teams.map { $0.map { players[$0] } }
                let result = try rate(&model, teams, game.rateArgs)
                if let expectedResult = game.result {
                    checkRatings(result, expectedResult, "games[\(g)].result", &checker)
                }
                for (t, team) in game.teams.enumerated() {
                    for (p, index) in team.enumerated() { players[index] = result[t][p] }
                }
            }
            for (i, player) in players.enumerated() {
                checker.value(player.mu, expected.players[i].mu, "players[\(i)].mu")
                checker.value(player.sigma, expected.players[i].sigma, "players[\(i)].sigma")
                checker.value(player.ordinal(), expected.ordinals[i], "ordinals[\(i)]")
            }
            for (name, predict) in [("predict_ffa4", expected.predictFFA4), ("predict_2v2", expected.predict2v2)] {
                guard let predict, let indices = predict.teams else { continue }
                let teams = indices.map { $0.map { players[$0] } }
                try checkPredictions(model, teams, predict, name, &checker)
            }
        case "sequence_same_model":
            guard let calls = c.calls else { throw CaseError(description: "sequence case lacks calls") }
            var model = try makeModel(c, math: math)
            for (k, call) in calls.enumerated() {
                let result = try rate(&model, ratings(call.teams), call.rateArgs)
                checkRateResult(result, call.expected, "calls[\(k)].", &checker)
            }
        default:
            throw CaseError(description: "unknown case kind \(c.kind)")
        }
    }

    static func checkRatings(
        _ got: [[Rating]], _ expected: [[VectorRating]], _ label: String, _ checker: inout CaseChecker
    ) {
        guard got.count == expected.count else {
            checker.fail("\(label): \(got.count) teams, expected \(expected.count)")
            return
        }
        for t in got.indices {
            guard got[t].count == expected[t].count else {
                checker.fail("\(label)[\(t)]: \(got[t].count) players, expected \(expected[t].count)")
                return
            }
            for p in got[t].indices {
                checker.value(got[t][p].mu, expected[t][p].mu, "\(label)[\(t)][\(p)].mu")
                checker.value(got[t][p].sigma, expected[t][p].sigma, "\(label)[\(t)][\(p)].sigma")
            }
        }
    }

    static func checkRateResult(
        _ got: [[Rating]], _ expected: VectorRateExpected, _ prefix: String,
        _ checker: inout CaseChecker
    ) {
        checkRatings(got, expected.teams, prefix + "teams", &checker)
        guard checker.passed else { return }
        for t in got.indices {
            for p in got[t].indices {
                checker.value(got[t][p].ordinal(), expected.ordinals[t][p], "\(prefix)ordinals[\(t)][\(p)]")
            }
        }
        for custom in expected.ordinalsCustom ?? [] {
            for t in got.indices {
                for p in got[t].indices {
                    let value = got[t][p].ordinal(z: custom.z, alpha: custom.alpha, target: custom.target)
                    checker.value(value, custom.values[t][p],
                                  "\(prefix)ordinal(z: \(custom.z), alpha: \(custom.alpha), target: \(custom.target))[\(t)][\(p)]")
                }
            }
        }
    }

    static func checkPredictions(
        _ model: any RatingModel, _ teams: [[Rating]], _ expected: VectorPredict, _ label: String,
        _ checker: inout CaseChecker
    ) throws {
        let win = try model.predictWin(teams)
        guard win.count == expected.predictWin.count else {
            checker.fail("\(label).predict_win has \(win.count) entries")
            return
        }
        for i in win.indices {
            checker.probability(win[i], expected.predictWin[i], "\(label).predict_win[\(i)]")
        }
        let rank = try model.predictRank(teams)
        guard rank.count == expected.predictRank.count else {
            checker.fail("\(label).predict_rank has \(rank.count) entries")
            return
        }
        for i in rank.indices {
            let pair = expected.predictRank[i]
            if Double(rank[i].rank) != pair[0] {
                checker.fail("\(label).predict_rank[\(i)].rank is \(rank[i].rank), expected \(pair[0])")
            }
            checker.probability(rank[i].probability, pair[1], "\(label).predict_rank[\(i)].probability")
        }
        checker.probability(try model.predictDraw(teams), expected.predictDraw, "\(label).predict_draw")
    }
}

/// Accumulates the comparison of one case: tolerance, bit-exactness and worst errors.
struct CaseChecker {
    let atol: Double
    let rtol: Double
    let tailSensitive: Bool
    var passed = true
    var bitExact = true
    var worstAbsolute = 0.0
    var worstRelative = 0.0
    var firstFailure: String?
    var comparedValues = 0

    init(tolerance: VectorTolerance) {
        atol = tolerance.suggestedAtol
        rtol = tolerance.suggestedRtol
        tailSensitive = tolerance.tailSensitive ?? false
    }

    mutating func fail(_ reason: String) {
        passed = false
        bitExact = false
        if firstFailure == nil { firstFailure = reason }
    }

    private mutating func record(_ got: Double, _ expected: Double) -> Double {
        comparedValues += 1
        if got.bitPattern != expected.bitPattern { bitExact = false }
        let difference = abs(got - expected)
        worstAbsolute = max(worstAbsolute, difference.isNaN ? .infinity : difference)
        if expected != 0 {
            worstRelative = max(worstRelative, difference / abs(expected))
        } else if difference != 0 {
            worstRelative = .infinity
        }
        return difference
    }

    /// Ratings and ordinals: |got − expected| ≤ atol + rtol·|expected| (the case's suggestion).
    mutating func value(_ got: Double, _ expected: Double, _ label: String) {
        let difference = record(got, expected)
        if !(difference <= atol + rtol * abs(expected)) {
            fail("\(label) = \(got), expected \(expected) (diff \(difference))")
        }
    }

    /// Probabilities: 1e-12 absolute; tail-sensitive cases also get the case's tolerance, since
    /// their ratings (and so the predictions made from them) may legitimately move.
    mutating func probability(_ got: Double, _ expected: Double, _ label: String) {
        let difference = record(got, expected)
        let allowed = 1e-12 + (tailSensitive ? atol + rtol * abs(expected) : 0)
        if !(difference <= allowed) {
            fail("\(label) = \(got), expected \(expected) (diff \(difference))")
        }
    }
}
