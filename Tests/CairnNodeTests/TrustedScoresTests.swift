import CairnAPI
import CairnLedger
import Testing

/// Whose Δs a trainer predicts the pending step from (`cairn submit --eager all`, D67): only
/// authors the ledger took into the judged window's step, weighted by their accepted scores.
@Suite("Trusted scores for eager starts")
struct TrustedScoresTests {
    static func contribution(_ author: Character, score: Int64?, copycatOf: String? = nil, flags: UInt32 = 0) -> ContributionReply {
        let key = String(repeating: author, count: 64)
        return ContributionReply(id: String(repeating: "0", count: 64), author: key, baseWindow: 4, blob: String(repeating: "b", count: 64),
                                 blobSize: 1, beacon: String(repeating: "c", count: 64), innerSteps: 10, evaluations: [],
                                 outcome: OutcomeReply(members: [0, 1, 2], scorePpb: score, indicator: 1, copycatOf: copycatOf, flags: flags))
    }

    static func result(_ author: Character, penalties: [String]) -> TrainerResultReply {
        TrainerResultReply(trainer: String(repeating: author, count: 64), rank: 1, muBeforeNano: 0, sigmaBeforeNano: 0, muAfterNano: 0,
                           sigmaAfterNano: 0, muBefore: 0, sigmaBefore: 0, muAfter: 0, sigmaAfter: 0, ordinalAfter: 0, bma: 0, finalScore: 0,
                           penalties: penalties, payout: 0)
    }

    @Test("authors kept out of the judged window's step are not trusted; the rest weigh by their best accepted score")
    func leftOutOfTheStep() {
        let judged = WindowReply(window: 4, status: "finalized",
                                 contributions: [Self.contribution("1", score: 900), Self.contribution("1", score: 1200),
                                                 Self.contribution("2", score: 74_000_000), Self.contribution("3", score: -5),
                                                 Self.contribution("4", score: 800, copycatOf: String(repeating: "1", count: 64)),
                                                 Self.contribution("5", score: 700, flags: 1), Self.contribution("6", score: 600),
                                                 Self.contribution("7", score: nil), Self.contribution("8", score: 500)],
                                 validatorFlags: [],
                                 trainers: [Self.result("1", penalties: ["bma_floor"]), Self.result("2", penalties: ["oversized"]),
                                            Self.result("6", penalties: ["excluded"]), Self.result("8", penalties: ["stale"])])
        let scores = judged.trustedScores()
        #expect(scores == [String(repeating: "1", count: 64): 1200])
    }

    @Test("every penalty that keeps a Δ out of the ledger's step is named")
    func outOfStepNames() {
        #expect(Set(TrainerWindowResult.Penalties.outOfStep.names) == ["no_quorum", "copycat", "invalid_blob", "excluded", "stale", "oversized"])
    }
}
