import Testing
import CairnCore
import CairnTestKit

@Suite("ClipReference: the score-weighted median the outer step clips to (D59)")
struct ClipReferenceTests {
    @Test("equal weights give the lower median, whatever the order of the items")
    func equalWeights() {
        var rng = SeededGenerator(seed: 7)
        for count in 1 ... 9 {
            let norms = (0 ..< count).map { _ in Double(rng.next() % 1_000) / 10 }
            let lower = norms.sorted()[(count - 1) / 2]
            #expect(ClipReference.weightedLowerMedian(norms.map { ($0, 1) }) == lower)
            #expect(ClipReference.weightedLowerMedian(norms.reversed().map { ($0, 5) }) == lower)
        }
        #expect(ClipReference.weightedLowerMedian([]) == nil)
    }

    @Test("many items of tiny weight do not move the median off the items that carry the weight")
    func tinyWeights() {
        let honest: [(norm: Double, weight: Int64)] = [(3.2, 100_000_000), (3.6, 90_000_000), (4.0, 110_000_000)]
        let spam: [(norm: Double, weight: Int64)] = Array(repeating: (1.0, 400_000), count: 17)
        #expect(ClipReference.weightedLowerMedian(honest + spam) == 3.6)
        // Counted once each, the spam would be the median.
        #expect(ClipReference.weightedLowerMedian((honest + spam).map { ($0.norm, 1) }) == 1.0)
    }

    @Test("weights at the limits: Int64.max weights do not overflow, nonpositive weights count as 1, NaN sorts last")
    func limits() {
        #expect(ClipReference.weightedLowerMedian([(1, .max), (2, .max), (3, .max)]) == 2)
        #expect(ClipReference.weightedLowerMedian([(1, 0), (2, -5), (3, 1)]) == 2)
        #expect(ClipReference.weightedLowerMedian([(.nan, 10), (1, 1), (2, 1)]) == .infinity)
        #expect(ClipReference.weightedLowerMedian([(.nan, 1), (1, 1), (2, 1)]) == 2)
        #expect(ClipReference.clip([(100, 1)], floor: 0.5, bound: 2) == 2)
        #expect(ClipReference.clip([(0.01, 1)], floor: 0.5, bound: 2) == 0.5)
        #expect(ClipReference.clip([], floor: 0.5, bound: 2) == 2)
    }
}
