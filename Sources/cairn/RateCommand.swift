import ArgumentParser
import OpenSkill
import OpenSkillVectors

struct Rate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check the OpenSkill models against a reference-vector file from openskill.py.",
        discussion: """
            Reads a file in the schema of shared/openskill/README.md (schema_version 1), runs every \
            case (rate, history, sticky limit_sigma sequences, predictions, ordinals) with the chosen \
            math, and prints per-model pass and bit-exact counts with the worst absolute and relative \
            error. Exits non-zero if any case is outside its tolerance.
            """)

    @Option(help: "Reference vectors (JSON).")
    var vectors: String

    @Option(help: "Math functions: libm (glibc, to match the reference) or portable (Cairn's own, used for ledger state).")
    var math: String = "libm"

    @Flag(help: "Print one JSON object.")
    var json = false

    func validate() throws {
        guard ["libm", "portable"].contains(math) else { throw ValidationError("--math must be libm or portable, not '\(math)'") }
    }

    func run() throws {
        let report = try VectorRunner.run(path: vectors, math: math == "libm" ? .libm : .portable, mathName: math)
        print(json ? try report.json() : report.table)
        if !report.allPassed { throw ExitCode(3) }
    }
}
