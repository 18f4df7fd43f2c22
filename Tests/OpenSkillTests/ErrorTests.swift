import OpenSkill
import Testing

/// Bad input is refused with a typed error naming the value, never answered with NaN.
@Suite("Errors")
struct ErrorTests {
    let a = Rating(mu: 25, sigma: 8.333)
    let b = Rating(mu: 20, sigma: 6)

    @Test("structural errors", arguments: ModelKind.allCases)
    func structural(kind: ModelKind) {
        var model = kind.makeModel()
        #expect(throws: OpenSkillError.tooFewTeams(count: 1)) {
            try model.rate([[a]], ranks: nil, scores: nil, weights: nil, tau: nil, limitSigma: nil)
        }
        #expect(throws: OpenSkillError.tooFewTeams(count: 0)) { try model.predictWin([]) }
        #expect(throws: OpenSkillError.emptyTeam(team: 1)) {
            try model.rate([[a], []], ranks: nil, scores: nil, weights: nil, tau: nil, limitSigma: nil)
        }
        #expect(throws: OpenSkillError.ranksAndScoresBothGiven) {
            try model.rate([[a], [b]], ranks: [1, 2], scores: [3, 4], weights: nil, tau: nil, limitSigma: nil)
        }
        #expect(throws: OpenSkillError.lengthMismatch(argument: "ranks", expected: 2, actual: 3, team: nil)) {
            try model.rate([[a], [b]], ranks: [1, 2, 3], scores: nil, weights: nil, tau: nil, limitSigma: nil)
        }
        #expect(throws: OpenSkillError.lengthMismatch(argument: "scores", expected: 2, actual: 1, team: nil)) {
            try model.rate([[a], [b]], ranks: nil, scores: [1], weights: nil, tau: nil, limitSigma: nil)
        }
        #expect(throws: OpenSkillError.lengthMismatch(argument: "weights", expected: 2, actual: 1, team: nil)) {
            try model.rate([[a], [b]], ranks: nil, scores: nil, weights: [[1]], tau: nil, limitSigma: nil)
        }
        #expect(throws: OpenSkillError.lengthMismatch(argument: "weights[1]", expected: 1, actual: 2, team: 1)) {
            try model.rate([[a], [b]], ranks: nil, scores: nil, weights: [[1], [1, 2]], tau: nil, limitSigma: nil)
        }
    }

    @Test("non-finite and negative values are named", arguments: ModelKind.allCases)
    func values(kind: ModelKind) {
        var model = kind.makeModel()
        #expect(throws: OpenSkillError.nonFiniteInput(path: "teams[1][0].mu", value: .infinity)) {
            try model.rate([[a], [Rating(mu: .infinity, sigma: 1)]], ranks: nil, scores: nil, weights: nil, tau: nil, limitSigma: nil)
        }
        #expect(throws: OpenSkillError.negativeSigma(path: "teams[0][0].sigma", value: -1)) {
            try model.rate([[Rating(mu: 1, sigma: -1)], [b]], ranks: nil, scores: nil, weights: nil, tau: nil, limitSigma: nil)
        }
        #expect(throws: OpenSkillError.self) {
            try model.rate([[Rating(mu: 1, sigma: .nan)], [b]], ranks: nil, scores: nil, weights: nil, tau: nil, limitSigma: nil)
        }
        #expect(throws: OpenSkillError.nonFiniteInput(path: "ranks[1]", value: .infinity)) {
            try model.rate([[a], [b]], ranks: [1, .infinity], scores: nil, weights: nil, tau: nil, limitSigma: nil)
        }
        #expect(throws: OpenSkillError.nonFiniteInput(path: "weights[0][0]", value: -.infinity)) {
            try model.rate([[a], [b]], ranks: nil, scores: nil, weights: [[-.infinity], [1]], tau: nil, limitSigma: nil)
        }
        #expect(throws: OpenSkillError.nonFiniteInput(path: "tau", value: .infinity)) {
            try model.rate([[a], [b]], ranks: nil, scores: nil, weights: nil, tau: .infinity, limitSigma: nil)
        }
        model.parameters.kappa = -1
        #expect(throws: OpenSkillError.invalidParameter(name: "kappa", value: -1, requirement: "≥ 0")) {
            try model.rate([[a], [b]], ranks: nil, scores: nil, weights: nil, tau: nil, limitSigma: nil)
        }
    }

    @Test("exp overflow is an error, as OverflowError is in openskill.py")
    func expOverflow() {
        let far = [[Rating(mu: 1e6, sigma: 1)], [Rating(mu: 0, sigma: 1)]]
        var pl = PlackettLuce(parameters: ModelParameters(beta: 1, tau: 0))
        #expect {
            try pl.rate(far)
        } throws: { error in
            guard case OpenSkillError.expOverflow(let argument, _) = error else { return false }
            return argument > 709
        }
        var bt = BradleyTerryFull(parameters: ModelParameters(beta: 1, tau: 0))
        #expect {
            try bt.rate(far)
        } throws: { error in
            if case OpenSkillError.expOverflow = error { return true }
            return false
        }
    }

    @Test("Thurstone–Mosteller has no exp to overflow: a lopsided game rates as in Python")
    func lopsidedThurstoneMosteller() throws {
        // openskill.py 6.2.0 returns these exact values for both TM models.
        let far = [[Rating(mu: 1e6, sigma: 1)], [Rating(mu: 0, sigma: 1)]]
        for kind in [ModelKind.thurstoneMostellerFull, .thurstoneMostellerPart] {
            for math in [MathFunctions.libm, .portable] {
                var model = kind.makeModel(parameters: ModelParameters(beta: 1, tau: 0), math: math)
                let rated = try model.rate(far, ranks: nil, scores: nil, weights: nil, tau: nil, limitSigma: nil)
                #expect(rated == [[Rating(mu: 1e6, sigma: 1)], [Rating(mu: 0, sigma: 1)]])
            }
        }
    }

    @Test("a zero weight on a losing player is a division-by-zero error", arguments: ModelKind.allCases)
    func zeroWeightLoss(kind: ModelKind) {
        // Bounds (0, 1) map the lighter player to weight 0; openskill.py raises ZeroDivisionError.
        var model = kind.makeModel(parameters: ModelParameters(weightBounds: WeightBounds(lower: 0, upper: 1)))
        let teams = [[Rating(mu: 25, sigma: 8.333333333333334), Rating(mu: 30, sigma: 8.333333333333334)],
                     [Rating(mu: 25, sigma: 8.333333333333334)]]
        #expect {
            try model.rate(teams, ranks: [2, 1], scores: nil, weights: [[1, 2], [1]], tau: nil, limitSigma: nil)
        } throws: { error in
            if case OpenSkillError.divisionByZero = error { return true }
            return false
        }
    }

    @Test("zero variance is a division-by-zero error", arguments: ModelKind.allCases)
    func zeroVariance(kind: ModelKind) {
        var model = kind.makeModel(parameters: ModelParameters(tau: 0))
        let teams = [[Rating(mu: 25, sigma: 0)], [Rating(mu: 20, sigma: 0)]]
        #expect {
            try model.rate(teams, ranks: nil, scores: nil, weights: nil, tau: nil, limitSigma: nil)
        } throws: { error in
            if case OpenSkillError.divisionByZero = error { return true }
            return false
        }
    }

    @Test("descriptions name the value and the remedy")
    func descriptions() {
        let text = OpenSkillError.negativeSigma(path: "teams[0][1].sigma", value: -2).description
        #expect(text.contains("teams[0][1].sigma") && text.contains("-2.0") && text.contains("must be"))
        #expect(OpenSkillError.ranksAndScoresBothGiven.description.contains("only one"))
    }

    @Test("extreme but finite inputs either rate to finite numbers or throw", arguments: ModelKind.allCases)
    func neverNaN(kind: ModelKind) {
        var rng = SplitMix64(seed: 77)
        let magnitudes = [1e-300, 1e-8, 1.0, 1e3, 1e8, 1e150, 1e300]
        for _ in 0..<3000 {
            var model = kind.makeModel(parameters: ModelParameters(
                beta: magnitudes.randomElement(using: &rng)!,
                tau: Bool.random(using: &rng) ? 0 : magnitudes.randomElement(using: &rng)!,
                margin: Bool.random(using: &rng) ? 0 : 1,
                balance: Bool.random(using: &rng)))
            let teams = (0..<Int.random(in: 2...5, using: &rng)).map { _ in
                (0..<Int.random(in: 1...3, using: &rng)).map { _ in
                    Rating(mu: Double.random(in: -1...1, using: &rng) * magnitudes.randomElement(using: &rng)!,
                           sigma: magnitudes.randomElement(using: &rng)! * Double.random(in: 0...1, using: &rng))
                }
            }
            let scores = teams.map { _ in Double(Int.random(in: 0...5, using: &rng)) }
            do {
                let out = try model.rate(teams, ranks: nil, scores: Bool.random(using: &rng) ? scores : nil,
                                         weights: nil, tau: nil, limitSigma: nil)
                #expect(out.allSatisfy { $0.allSatisfy { $0.mu.isFinite && $0.sigma.isFinite } })
                let win = try model.predictWin(teams)
                #expect(win.allSatisfy { $0.isFinite })
                #expect(try model.predictDraw(teams).isFinite)
            } catch {
                // A typed OpenSkillError is the only other acceptable outcome.
            }
        }
    }
}
