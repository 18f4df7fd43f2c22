import Foundation

/// Results of checking one model's cases.
public struct ModelReport: Sendable, Encodable {
    public var model: String
    public var cases: Int = 0
    /// How many numbers were compared (ratings, ordinals, probabilities).
    public var comparedValues: Int = 0
    public var passed: Int = 0
    /// Cases where every compared number matched the reference bit for bit.
    public var bitExact: Int = 0
    /// Largest |got − expected| over all compared numbers.
    public var worstAbsoluteError: Double = 0
    /// Largest |got − expected| / |expected| (expected ≠ 0) over all compared numbers.
    public var worstRelativeError: Double = 0
    /// The case holding the worst absolute error.
    public var worstCase: String?

    public init(model: String) { self.model = model }
}

/// A case that did not pass, with the first reason found.
public struct CaseFailure: Sendable, Encodable {
    public var id: String
    public var model: String
    public var reason: String
}

/// Results of checking a whole vectors file.
public struct VectorReport: Sendable, Encodable {
    /// Which math functions were used ("libm" or "portable").
    public var math: String
    public var totalCases: Int
    public var passedCases: Int
    public var bitExactCases: Int
    /// How many numbers were compared in all.
    public var comparedValues: Int
    /// The file's `reimpl_bit_exact_cases`: how many cases a glibc-based port can match exactly.
    public var referenceBitExactCases: Int?
    /// Per model, in openskill's model order.
    public var models: [ModelReport]
    public var failures: [CaseFailure]

    public var allPassed: Bool { passedCases == totalCases }

    /// A fixed-width table for terminals.
    public var table: String {
        func pad(_ s: String, _ width: Int) -> String {
            s.count >= width ? s : s + String(repeating: " ", count: width - s.count)
        }
        var lines: [String] = []
        lines.append("math: \(math)")
        lines.append(pad("model", 24) + pad("cases", 7) + pad("passed", 8) + pad("bit-exact", 11)
            + pad("worst abs err", 24) + "worst rel err")
        for m in models {
            lines.append(pad(m.model, 24) + pad("\(m.cases)", 7) + pad("\(m.passed)", 8)
                + pad("\(m.bitExact)", 11) + pad("\(m.worstAbsoluteError)", 24)
                + "\(m.worstRelativeError)")
        }
        lines.append(pad("total", 24) + pad("\(totalCases)", 7) + pad("\(passedCases)", 8)
            + pad("\(bitExactCases)", 11)
            + "\(comparedValues) values compared"
            + (referenceBitExactCases.map { "; reference marks \($0) cases bit-exact" } ?? ""))
        for failure in failures {
            lines.append("FAIL \(failure.id): \(failure.reason)")
        }
        return lines.joined(separator: "\n")
    }
}

extension VectorReport {
    /// The report as pretty-printed JSON (for `cairn rate --vectors FILE --json`).
    public func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }
}
