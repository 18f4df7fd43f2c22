import CairnAPI
import CairnCore
@testable import CairnNode
import CairnTraining
import Testing

@Suite("Bounded intake and binary submissions")
struct IntakeTests {
    @Test("the bound follows the measured commit rate × the delay target, within its floor and ceiling")
    func boundFollowsRate() {
        var control = AdmissionControl(settings: .init(targetDelayMs: 500, minLimit: 100))
        #expect(control.limit == 100)  // no rate measured yet
        // 2,000 own commits a second for five seconds, reported every 100 ms.
        var now: UInt64 = 0
        for _ in 0..<50 {
            now += 100
            control.admitted(200)
            control.committed(200, nowMs: now)
        }
        #expect(abs(control.ratePerSecond - 2_000) < 20, "\(control.ratePerSecond)")
        #expect((980...1000).contains(control.limit), "\(control.limit)")
        // A stall: no commits for three seconds. The rate decays and the bound falls to its floor.
        for _ in 0..<30 {
            now += 100
            control.committed(0, nowMs: now)
        }
        #expect(control.ratePerSecond < 110, "\(control.ratePerSecond)")
        #expect(control.limit == 100)
    }

    @Test("a request is taken whole or refused whole, with Retry-After from in flight ÷ rate; an empty queue takes any request")
    func reserveAndRelease() {
        var control = AdmissionControl(settings: .init(targetDelayMs: 1_000, minLimit: 10))
        #expect(control.reserve(25) == .accept)  // larger than the bound, but nothing is in flight
        #expect(control.inFlight == 25)
        guard case let .refuse(retry, inFlight, limit) = control.reserve(1) else {
            Issue.record("a full queue accepted a record")
            return
        }
        #expect(retry == 1 && inFlight == 25 && limit == 10)  // no rate yet: retry in a second
        control.released(20)  // e.g. the batch held an invalid record
        #expect(control.inFlight == 5)
        #expect(control.reserve(5) == .accept)
        #expect(control.reserve(1) == .refuse(retryAfterSeconds: 1, inFlight: 10, limit: 10))
        // Commits at 4 records/s: 10 in flight take 3 s to drain → Retry-After 3.
        var now: UInt64 = 0
        for _ in 0..<40 {
            now += 250
            control.committed(1, nowMs: now)
            control.admitted(1)
        }
        #expect(abs(control.ratePerSecond - 4) < 0.1)
        #expect(control.reserve(1) == .refuse(retryAfterSeconds: 3, inFlight: 10, limit: 10))
        control.released(1_000)  // never below zero
        #expect(control.inFlight == 0)
    }

    @Test("a stalled network (no commits for minutes) decays the rate toward 0: the bound falls to its floor and Retry-After stays 60 s, never a trap")
    func stalledRateNeverTraps() {
        var control = AdmissionControl(settings: .init(targetDelayMs: 800, minLimit: 4))
        var now: UInt64 = 0
        for _ in 0 ..< 50 {  // 1,000 records/s for 10 s
            now += 200
            control.committed(200, nowMs: now)
        }
        control.admitted(100)
        // A partition: time passes, nothing commits. After minutes the rate is a subnormal
        // number, and in flight ÷ rate is finite but far beyond Int.max.
        for _ in 0 ..< 5_000 {
            now += 200
            control.committed(0, nowMs: now)
            // Every step on the way down, including where in flight ÷ rate passes Int.max.
            if case let .refuse(retry, _, _) = control.verdict(incoming: 1) { #expect((1 ... 60).contains(retry)) }
        }
        #expect(control.ratePerSecond > 0 && control.ratePerSecond < 1e-100)
        #expect(control.limit == 4)
        #expect(control.verdict(incoming: 1) == .refuse(retryAfterSeconds: 60, inFlight: 100, limit: 4))
        // And the other extreme: a rate so large the bound would overflow Int.
        var flood = AdmissionControl()
        flood.committed(0, nowMs: 0)
        flood.committed(Int.max, nowMs: 200)
        #expect(flood.limit == AdmissionControl.Settings().maxLimit)
    }

    @Test("a clock that steps back restarts the rate sample instead of trapping")
    func clockStepBack() {
        var control = AdmissionControl()
        control.committed(10, nowMs: 10_000)
        control.committed(10, nowMs: 5_000)
        control.committed(10, nowMs: 5_400)
        #expect(control.ratePerSecond.isFinite && control.ratePerSecond >= 0)
        control.committed(Int.max, nowMs: .max)  // extreme inputs stay finite
        #expect(control.ratePerSecond.isFinite)
    }

    @Test("length-prefixed records split back into the records framed, for many random batches")
    func framingRoundTrip() {
        var rng = SplitMix64(seed: 29)
        for _ in 0..<200 {
            let records = (0..<Int(rng.below(20)) + 1).map { _ in (0..<Int(rng.below(300)) + 1).map { _ in UInt8(truncatingIfNeeded: rng.next()) } }
            let body = RecordFraming.frame(records)
            #expect(RecordFraming.split(body, maxRecords: 1_000, maxRecordBytes: 4_096) == .success(records))
            #expect(RecordFraming.split(body[...], maxRecords: 1_000, maxRecordBytes: 4_096) == .success(records))
        }
    }

    @Test("a bad frame is refused whole with what is wrong: empty, cut prefix, zero or oversize length, cut record, too many")
    func framingRefusals() {
        let one: [UInt8] = [0, 0, 0, 3, 7, 8, 9]
        #expect(RecordFraming.split([UInt8](), maxRecords: 10, maxRecordBytes: 100) == .failure(.empty))
        #expect(RecordFraming.split(one + [0, 0], maxRecords: 10, maxRecordBytes: 100) == .failure(.truncatedLength(offset: 7)))
        #expect(RecordFraming.split([0, 0, 0, 0], maxRecords: 10, maxRecordBytes: 100) == .failure(.badLength(index: 0, length: 0, max: 100)))
        #expect(RecordFraming.split([0xFF, 0xFF, 0xFF, 0xFF, 1], maxRecords: 10, maxRecordBytes: 100)
                    == .failure(.badLength(index: 0, length: .max, max: 100)))
        #expect(RecordFraming.split(one + [0, 0, 0, 9, 1, 2], maxRecords: 10, maxRecordBytes: 100)
                    == .failure(.truncatedRecord(index: 1, length: 9, available: 2)))
        #expect(RecordFraming.split(one + one, maxRecords: 1, maxRecordBytes: 100) == .failure(.tooManyRecords(max: 1)))
    }

    @Test("random bytes never trap the splitter: each body splits or is refused with a reason")
    func framingFuzz() {
        var rng = SplitMix64(seed: 30)
        var split = 0
        for _ in 0..<5_000 {
            var body = (0..<Int(rng.below(64))).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            // Small length prefixes now and then, so some bodies are well framed.
            if !body.isEmpty, rng.below(2) == 0 { body.replaceSubrange(0..<min(4, body.count), with: [0, 0, 0, UInt8(rng.below(8))].prefix(min(4, body.count))) }
            if case .success = RecordFraming.split(body, maxRecords: 8, maxRecordBytes: 32) { split += 1 }
        }
        #expect(split > 0)
    }
}

