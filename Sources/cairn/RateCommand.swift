import ArgumentParser
import OpenSkill
import OpenSkillVectors

struct Rate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check the OpenSkill models against a reference-vector file from openskill.py.",
        discussion: """
            Reads a file in the schema of Tests/OpenSkillTests/Fixtures/README.md (schema_version 1; \
            by default the repository's own fixture, generated against openskill.py 6.2.0), runs every \
            case (rate, history, sticky limit_sigma sequences, predictions, ordinals) with the chosen \
            math, and prints per-model pass and bit-exact counts with the worst absolute and relative \
            error. Exits non-zero if any case is outside its tolerance.
            """)

    @Option(help: "Reference vectors (JSON). Default: the repository's fixture (Tests/OpenSkillTests/Fixtures/vectors.json).")
    var vectors: String?

    @Option(help: "Math functions: libm (glibc, to match the reference) or portable (Cairn's own, used for ledger state).")
    var math: String = "libm"

    @Flag(help: "Print one JSON object.")
    var json = false

    func validate() throws {
        guard ["libm", "portable"].contains(math) else { throw ValidationError("--math must be libm or portable, not '\(math)'") }
    }

    func run() throws {
        guard let path = vectors ?? VectorRunner.repositoryFixture() else {
            throw ValidationError("no --vectors given and the repository fixture \(VectorRunner.fixtureRelativePath) is not beside this build; pass --vectors FILE")
        }
        let report = try VectorRunner.run(path: path, math: math == "libm" ? .libm : .portable, mathName: math)
        print(json ? try report.json() : report.table)
        if !report.allPassed { throw ExitCode(3) }
    }
}
