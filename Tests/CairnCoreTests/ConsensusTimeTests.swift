import CairnCore
import CairnTestKit
import Testing

@Suite("Consensus time")
struct ConsensusTimeTests {
    @Test("the median of 2f+1 … 3f+1 parents' timestamps stays inside the honest clocks' range whatever f Byzantine ones say",
          arguments: 0 ..< 50 as Range<UInt64>)
    func boundedByHonestClocks(seed: UInt64) throws {
        var g = SeededGenerator(seed: 0x71DE + seed)
        let f = Int.random(in: 1 ... 10, using: &g)
        let parents = Int.random(in: (2 * f + 1) ... (3 * f + 1), using: &g)
        let byzantine = Int.random(in: 0 ... f, using: &g)
        let base = UInt64.random(in: 1_700_000_000_000 ... 1_800_000_000_000, using: &g)
        let honest = (0 ..< parents - byzantine).map { _ in base + UInt64.random(in: 0 ... 2_000, using: &g) }
        // Liars pick extremes, or values just outside the honest range, to drag the median.
        let liars = (0 ..< byzantine).map { _ -> UInt64 in
            [0, .max, honest.min()! - 1, honest.max()! + 1, UInt64.random(in: 0 ... .max, using: &g)].randomElement(using: &g)!
        }
        let time = try #require(ConsensusTime.median((honest + liars).shuffled(using: &g)))
        #expect(time >= honest.min()! && time <= honest.max()!, "f \(f), parents \(parents), liars \(liars)")
    }

    @Test("no parents, no time; one value is its own median; the lower median of an even count")
    func edges() {
        #expect(ConsensusTime.median([]) == nil)
        #expect(ConsensusTime.median([7]) == 7)
        #expect(ConsensusTime.median([4, 1, 3, 2]) == 2)
        #expect(ConsensusTime.median([.max, 0, .max]) == .max)
    }

    @Test("the leader time ignores f Byzantine clocks and one honest clock far ahead: with 2f+2 or more parents it stays inside the other honest clocks' range, with 2f+1 it never exceeds them (D59, attack 7)",
          arguments: 0 ..< 50 as Range<UInt64>)
    func robustToOneFastHonestClock(seed: UInt64) throws {
        var g = SeededGenerator(seed: 0x7A11 + seed)
        let f = Int.random(in: 1 ... 10, using: &g)
        let parents = Int.random(in: (2 * f + 1) ... (3 * f + 1), using: &g)
        let byzantine = Int.random(in: 0 ... f, using: &g)
        let base = UInt64.random(in: 1_700_000_000_000 ... 1_800_000_000_000, using: &g)
        let honest = (0 ..< parents - byzantine - 1).map { _ in base + UInt64.random(in: 0 ... 2_000, using: &g) }
        let fast = base + 20_000  // a misconfigured honest clock, 20 s ahead
        let liars = (0 ..< byzantine).map { _ -> UInt64 in
            [0, .max, .max, honest.max()! + 1, UInt64.random(in: 0 ... .max, using: &g)].randomElement(using: &g)!
        }
        let time = try #require(ConsensusTime.leaderTime((honest + [fast] + liars).shuffled(using: &g), faults: f))
        #expect(time <= honest.max()!, "f \(f), parents \(parents), liars \(liars)")
        if parents >= 2 * f + 2 { #expect(time >= honest.min()!, "f \(f), parents \(parents), liars \(liars)") }
        // The lower median (D46) follows the fast clock as soon as the liars sit above it.
        if parents == 2 * f + 1, byzantine == f, liars.allSatisfy({ $0 >= fast }) {
            #expect(ConsensusTime.median(honest + [fast] + liars) == fast)
        }
    }

    @Test("leader time edges: none, one value, f = 0, exactly 2f+1 and 3f+1 parents")
    func leaderTimeEdges() {
        #expect(ConsensusTime.leaderTime([], faults: 1) == nil)
        #expect(ConsensusTime.leaderTime([7], faults: 0) == 7)
        #expect(ConsensusTime.leaderTime([7], faults: 1) == 7)
        #expect(ConsensusTime.leaderTime([3, 1, 2], faults: 1) == 1)        // 2f+1 = 3: the smallest
        #expect(ConsensusTime.leaderTime([4, 1, 3, 2], faults: 1) == 2)     // 3f+1 = 4: the second
        #expect(ConsensusTime.leaderTime([.max, 5, .max - 1, 6], faults: 1) == 6)
    }
}
