import OpenSkill
import OpenSkillVectors
import Testing

/// The 357 reference cases produced by openskill.py 6.2.0 on CPython 3.11 / glibc 2.36.
@Suite("Reference vectors")
struct VectorTests {
    static let vectorsPath: String? = {
        let testDirectory = String(#filePath.split(separator: "/", omittingEmptySubsequences: false)
            .dropLast().joined(separator: "/"))
        return VectorRunner.locateVectors(searchingUpFrom: testDirectory)
    }()

    @Test("libm math reproduces every case bit for bit")
    func libmVectors() throws {
        let path = try #require(Self.vectorsPath, "set CAIRN_OPENSKILL_VECTORS or provide ../shared/openskill/vectors.json")
        let report = try VectorRunner.run(path: path, math: .libm, mathName: "libm")
        print(report.table)
        #expect(report.totalCases == 357)
        #expect(report.failures.isEmpty, "\(report.failures.prefix(5))")
        #expect(report.passedCases == report.totalCases)
        #expect(report.bitExactCases == (report.referenceBitExactCases ?? report.totalCases))
        let json = try report.json()
        #expect(json.contains("\"passedCases\" : 357"))
    }

    @Test("portable math passes every case within tolerance")
    func portableVectors() throws {
        let path = try #require(Self.vectorsPath, "set CAIRN_OPENSKILL_VECTORS or provide ../shared/openskill/vectors.json")
        let report = try VectorRunner.run(path: path, math: .portable, mathName: "portable")
        print(report.table)
        #expect(report.totalCases == 357)
        #expect(report.failures.isEmpty, "\(report.failures.prefix(5))")
        #expect(report.passedCases == report.totalCases)
        // Measured, not guaranteed by design: the portable functions are correctly rounded in all
        // but rare cases, and on these vectors they agree with glibc everywhere it matters.
        #expect(report.bitExactCases == report.totalCases)
    }
}
