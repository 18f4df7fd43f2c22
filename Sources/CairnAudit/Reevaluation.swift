import CairnCore
import CairnCrypto
import CairnLedger
import CairnChain
import CairnStorage
import CairnTraining

/// `cairn audit verify --reevaluate`: every contribution evaluated again by the auditor, on the
/// model and data the ledger names (θ_{k+1} for window k's contributions, D59), and compared with the quorum the ledger recorded — the
/// SimHash within the Hamming threshold of a majority of the quorum's members, the random- and
/// own-data improvements within `validator_loss_tolerance_ppb` of the accepted ones, a flagged
/// outcome flagged again. Run after the replay has shown the stored state is the replay's.
public struct Reevaluation {
    public struct Result: Sendable, Encodable {
        public var reevaluated = 0
        /// Contributions with no quorum: nothing recorded to compare with.
        public var withoutQuorum = 0
        public var problem: String?

        enum CodingKeys: String, CodingKey {
            case reevaluated, withoutQuorum = "without_quorum", problem
        }
    }

    let store: ConsensusStore
    let genesis: Genesis
    let genesisHash: Digest
    let task: ReferenceTask

    public init(database: Database, genesis: Genesis, genesisHash: Digest, task: ReferenceTask) {
        store = ConsensusStore(database: database)
        self.genesis = genesis
        self.genesisHash = genesisHash
        self.task = task
    }

    /// `report(done, total)` after each contribution.
    public func run(progress report: (Int, Int) -> Void = { _, _ in }) throws -> Result {
        let spec = genesis.task
        let evaluator = ContributionEvaluation.evaluator(task: task, spec: spec)
        let updater = try ModelUpdater(blobs: BlobStore(database: store.database), task: spec, storesModels: false)
        let blobs = BlobStore(database: store.database)
        let threshold = Int(spec.lsh.hammingThreshold)
        let tolerance = genesis.rewards.penalties.validatorLossTolerancePPB
        let contributions = try store.stateEntries(prefix: Array("c/".utf8))
        var result = Result()
        var models: [UInt64: (record: ModelRecord, clipBound: Double, parameters: [Float])] = [:]
        var baselines: [Digest: Evaluator.Baseline] = [:]
        var baselineWindow: UInt64?
        for (n, entry) in contributions.enumerated() {
            defer { report(n + 1, contributions.count) }
            guard entry.key.count == 2 + 8 + Digest.byteCount, let id = try? Digest(bytes: Array(entry.key.suffix(Digest.byteCount))) else {
                return failed("state key \(StateKey.describe(entry.key)) is not a contribution key")
            }
            let stored = try StoredContribution(canonicalBytes: entry.value)
            guard let outcome = try store.ledgerValue(StateKey.contributionOutcome(id)).map({ try EvaluationQuorum.Outcome(canonicalBytes: $0) }) else {
                continue  // not finalized yet
            }
            guard !outcome.members.isEmpty else { result.withoutQuorum += 1; continue }
            // The window it landed in (its key), whose successor's model it is evaluated on (D59).
            let window = try UInt64(canonicalBytes: Array(entry.key[2 ..< 10]))
            if models[window] == nil {
                let evaluated: (record: ModelRecord, clipBound: Double)
                do { evaluated = try ContributionEvaluation.model(window: window, spec: spec) { try store.model(window: $0) } } catch {
                    return failed("contribution \(id.hex): \(error)")
                }
                models[window] = (evaluated.record, evaluated.clipBound, try updater.parameters(of: evaluated.record))
            }
            let (_, clipBound, base) = models[window]!
            let assignment = try ContributionEvaluation.assignmentBeacon(window: stored.contribution.baseWindow, chain: genesisHash, database: store.database)
            // Contributions come in window order (the key), so one window's baselines at a time.
            if baselineWindow != window { baselines = [:]; baselineWindow = window }
            let baseline = baselines[stored.beacon]
                ?? evaluator.baseline(base: base, seed: stored.beacon, workspace: ByteMLP.Workspace(layout: task.layout, capacity: ReferenceTask.batchCapacity))
            baselines[stored.beacon] = baseline
            let count = try store.ledgerValue(StateKey.contributionCount(window: window)).map { try UInt64(canonicalBytes: $0) } ?? 1
            let mine = ContributionEvaluation.compute(id: id, stored: stored, base: base, clipNorm: clipBound,
                                                      step: ContributionEvaluation.step(spec: spec, contributions: count), assignment: assignment,
                                                      blob: try blobs.get(stored.contribution.blob), spec: spec, evaluator: evaluator,
                                                      salt: .zero, baseline: baseline)
            result.reevaluated += 1
            if !outcome.flags.isEmpty || !mine.flags.isEmpty {
                guard !outcome.flags.isDisjoint(with: mine.flags) else {
                    return failed("contribution \(id.hex) (window \(window)): the quorum recorded flags \(outcome.flags.rawValue), the re-evaluation \(mine.flags.rawValue)")
                }
                continue
            }
            let members = try outcome.members.compactMap { validator -> CairnCore.Evaluation? in
                try store.ledgerValue(StateKey.evaluation(contribution: id, validator: validator)).map { try StoredEvaluation(canonicalBytes: $0).evaluation }
            }
            guard members.count == outcome.members.count else {
                return failed("contribution \(id.hex): \(outcome.members.count - members.count) of its quorum members' reveals are missing from state")
            }
            let close = members.filter { Self.hamming($0.simHash, mine.simHash) <= threshold }.count
            guard 2 * close > members.count else {
                let distances = members.map { String(Self.hamming($0.simHash, mine.simHash)) }.joined(separator: ", ")
                return failed("contribution \(id.hex) (window \(window)): the re-evaluated SimHash is \(distances) bits from the quorum members' (threshold \(threshold)); the recorded quorum does not hold")
            }
            for (name, recorded, measured) in [("random-data", outcome.score, EvaluationQuorum.improvement(mine.random)),
                                               ("own-data", outcome.ownScore, EvaluationQuorum.improvement(mine.own))] {
                guard let recorded, let measured, recorded.distance(to: measured).magnitude <= tolerance else {
                    return failed("contribution \(id.hex) (window \(window)): the \(name) improvement re-evaluated is \(measured.map(String.init) ?? "none") ppb, the quorum accepted \(recorded.map(String.init) ?? "none") (tolerance \(tolerance))")
                }
            }
        }
        return result

        func failed(_ problem: String) -> Result {
            var r = result
            r.problem = problem
            return r
        }
    }

    static func hamming(_ a: [UInt8], _ b: [UInt8]) -> Int {
        guard a.count == b.count else { return .max }
        return zip(a, b).reduce(0) { $0 + ($1.0 ^ $1.1).nonzeroBitCount }
    }
}
