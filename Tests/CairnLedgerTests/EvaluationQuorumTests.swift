import CairnCore
import CairnCrypto
import CairnLedger
import CairnTestKit
import Testing

@Suite("Ledger: LSH evaluation quorum")
struct EvaluationQuorumTests {
    static func reveal(_ validator: UInt32, hash: [UInt8], random: Float = 2.0, own: Float = 1.9, flags: Evaluation.Flags = []) -> EvaluationQuorum.Reveal {
        EvaluationQuorum.Reveal(validator: validator, evaluation: Evaluation(
            contribution: .zero, own: LossPair(before: 2.5, after: own), random: LossPair(before: 2.5, after: random),
            simHash: hash, flags: flags))
    }

    static func flip(_ hash: [UInt8], bits: [Int]) -> [UInt8] {
        var out = hash
        for bit in bits { out[bit / 8] ^= 1 << UInt8(bit % 8) }
        return out
    }

    @Test("honest reveals a bit apart form the quorum; a lazy one 80 bits away is left out; the score is the members' lower median")
    func honestAndLazy() {
        let honest = [UInt8](repeating: 0xa5, count: 32)
        let reveals = [
            Self.reveal(3, hash: Self.flip(honest, bits: Array(0 ..< 80)), random: 1.0),  // lazy, claims a huge gain
            Self.reveal(0, hash: honest, random: 2.0),
            Self.reveal(1, hash: Self.flip(honest, bits: [7]), random: 2.1),
            Self.reveal(2, hash: Self.flip(honest, bits: [200]), random: 1.95),
        ]
        let outcome = EvaluationQuorum.decide(reveals, quorum: 3, hashBytes: 32, threshold: 7)
        #expect(outcome.members == [0, 1, 2])
        // Improvements 0.2, 0.16, 0.22 → lower median 0.2; own 0.24 > 0.2 → indicator +1.
        #expect(outcome.score == EvaluationQuorum.improvement(LossPair(before: 2.5, after: 2.0)))
        #expect(outcome.indicator == 1 && outcome.noScore == nil)
        // Two honest reveals are not enough at quorum 3.
        let thin = EvaluationQuorum.decide(Array(reveals.prefix(3)), quorum: 3, hashBytes: 32, threshold: 7)
        #expect(thin.noScore == .noQuorum && thin.members.isEmpty && thin.score == nil)
        // Flagged evaluations agree with each other, never with unflagged ones.
        let flagged = (0 ..< 3).map { Self.reveal(UInt32($0), hash: [], flags: .invalidBlob) } + [Self.reveal(3, hash: honest)]
        let bad = EvaluationQuorum.decide(flagged, quorum: 3, hashBytes: 32, threshold: 7)
        #expect(bad.noScore == .flagged && bad.flags == .invalidBlob && bad.members == [0, 1, 2])
        // A hash of the wrong length agrees with nothing.
        let short = EvaluationQuorum.decide([Self.reveal(0, hash: [0xa5]), Self.reveal(1, hash: [0xa5]), Self.reveal(2, hash: [0xa5])],
                                            quorum: 3, hashBytes: 32, threshold: 7)
        #expect(short.noScore == .noQuorum)
    }

    @Test("the largest agreeing set: pairwise within T, as large as brute force finds, the same in any input order; ties go to the lowest indices",
          arguments: 0 ..< 40 as Range<UInt64>)
    func property(seed: UInt64) {
        var g = SeededGenerator(seed: 0x9E3779B9 &+ seed)
        let n = Int.random(in: 1 ... 10, using: &g)
        let threshold = 6
        // A few centres; each reveal sits a few bits from one of them, so agreement graphs of every shape appear.
        let centres = (0 ..< Int.random(in: 1 ... 3, using: &g)).map { _ in (0 ..< 4).map { _ in UInt8.random(in: 0 ... 255, using: &g) } }
        let reveals = (0 ..< n).map { i in
            Self.reveal(UInt32(i), hash: Self.flip(centres.randomElement(using: &g)!, bits: (0 ..< Int.random(in: 0 ... 4, using: &g)).map { _ in Int.random(in: 0 ..< 32, using: &g) }))
        }
        let set = EvaluationQuorum.largestAgreeingSet(reveals, hashBytes: 4, threshold: threshold)
        for a in set { for b in set { #expect(EvaluationQuorum.hamming(reveals[a].evaluation.simHash, reveals[b].evaluation.simHash)! <= threshold) } }
        var best: [Int] = []
        for mask in 1 ..< (1 << n) {
            let members = (0 ..< n).filter { mask & (1 << $0) != 0 }
            let agreeing = members.allSatisfy { a in members.allSatisfy { b in
                EvaluationQuorum.agree(reveals[a].evaluation, reveals[b].evaluation, hashBytes: 4, threshold: threshold) } }
            if agreeing && (members.count > best.count || (members.count == best.count && members.lexicographicallyPrecedes(best))) { best = members }
        }
        #expect(set == best, "seed \(seed)")
        let shuffled = reveals.shuffled(using: &g)
        let quorum = Int.random(in: 1 ... n, using: &g)
        #expect(EvaluationQuorum.decide(shuffled, quorum: quorum, hashBytes: 4, threshold: threshold)
                == EvaluationQuorum.decide(reveals, quorum: quorum, hashBytes: 4, threshold: threshold))
    }

    @Test("a step limit bounds a crafted search and still gives one answer, pairwise agreeing")
    func stepLimit() {
        // 30 reveals in a ring where each agrees with its neighbours only: many maximal sets.
        let reveals = (0 ..< 30).map { i in Self.reveal(UInt32(i), hash: Self.flip([UInt8](repeating: 0, count: 8), bits: Array(i ..< i + 2))) }
        let a = EvaluationQuorum.largestAgreeingSet(reveals, hashBytes: 8, threshold: 2, stepLimit: 50)
        let b = EvaluationQuorum.largestAgreeingSet(reveals, hashBytes: 8, threshold: 2, stepLimit: 50)
        #expect(a == b && !a.isEmpty)
        for x in a { for y in a { #expect(EvaluationQuorum.hamming(reveals[x].evaluation.simHash, reveals[y].evaluation.simHash)! <= 2) } }
    }

    @Test("improvements in fixed point: exact, clamped, nil for non-finite or non-positive losses")
    func improvements() {
        #expect(EvaluationQuorum.improvement(LossPair(before: 2, after: 1)) == 500_000_000)
        #expect(EvaluationQuorum.improvement(LossPair(before: 2, after: 0)) == 1_000_000_000)
        #expect(EvaluationQuorum.improvement(LossPair(before: 2, after: -5)) == 1_000_000_000)  // clamped to +1
        #expect(EvaluationQuorum.improvement(LossPair(before: .leastNonzeroMagnitude, after: .greatestFiniteMagnitude)) == EvaluationQuorum.minimumScore)
        for bad in [LossPair(before: 0, after: 1), LossPair(before: -1, after: 1), LossPair(before: .nan, after: 1),
                    LossPair(before: 1, after: .infinity), LossPair(before: .infinity, after: 1), LossPair(before: -0.0, after: 0)] {
            #expect(EvaluationQuorum.improvement(bad) == nil)
        }
    }

    @Test("outcomes round-trip through their canonical bytes; a score stored with a no-score reason is refused")
    func outcomeCodec() throws {
        let scored = EvaluationQuorum.Outcome(members: [0, 2, 3], score: -12, ownScore: 5, indicator: 1, noScore: nil, flags: [])
        #expect(try EvaluationQuorum.Outcome(canonicalBytes: scored.canonicalBytes) == scored)
        let none = EvaluationQuorum.Outcome(members: [], score: nil, ownScore: nil, indicator: 0, noScore: .noQuorum, flags: [])
        #expect(try EvaluationQuorum.Outcome(canonicalBytes: none.canonicalBytes) == none)
        var forged = none.canonicalBytes
        forged[1 + 4 + 7] = 1  // a byte of the score field
        #expect(throws: CodecError.self) { try EvaluationQuorum.Outcome(canonicalBytes: forged) }
    }
}
