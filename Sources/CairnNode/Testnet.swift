import CairnCore
import CairnCrypto
import CairnTraining
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Writes a local network: one genesis, N validator homes with keys and dealt coin shares, M funded
/// trainer keys, and network.json. Everything is built in a hidden staging directory beside the
/// output and renamed into place at the end, so a failure never leaves partial output.
public struct TestnetGenerator: Sendable {
    public struct Settings: Sendable {
        public var validators: Int
        public var trainers: Int
        public var output: String
        public var force = false
        /// Chain id, corpus, consensus and task settings (shared with the ceremony's draft).
        public var parameters = GenesisParameters(chainID: "cairn-localnet")
        public var host = "127.0.0.1"
        /// Node i listens for peers on basePort + 10·i and serves its API on basePort + 10·i + 1.
        public var basePort = 26600
        public var trainerBalance: UInt64 = 1_000_000_000
        /// Make the coin by the genesis ceremony's distributed key generation, each validator
        /// home running its own steps through the same code as `cairn genesis dkg` (D63), instead
        /// of dealing it here; the transcript is kept in OUTPUT/ceremony.
        public var distributedKeyGeneration = false

        public init(validators: Int, trainers: Int, output: String) {
            self.validators = validators
            self.trainers = trainers
            self.output = output
        }
    }

    public struct Error: Swift.Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    /// What was written, for the CLI to print.
    public struct Summary: Sendable {
        public var output: String
        public var genesis: Genesis
        public var genesisHash: Digest
        public var nodes: [NetworkEntry]
        public var trainerKeyFiles: [String]
    }

    /// One node in network.json.
    public struct NetworkEntry: Codable, Sendable {
        public var name: String
        public var home: String
        public var peerAddress: String
        public var apiURL: String
        public var publicKey: PublicKey

        enum CodingKeys: String, CodingKey {
            case name, home, peerAddress = "peer_address", apiURL = "api_url", publicKey = "public_key"
        }
    }

    public var settings: Settings

    public init(settings: Settings) { self.settings = settings }

    /// The reference task with the values measured for it (genesis/README.md, BENCHMARKS.md).
    public static func defaultTask(corpus: CorpusSpec) -> TrainingTaskSpec {
        TrainingTaskSpec(
            name: ReferenceSpec.name, corpus: corpus, model: ReferenceSpec.model,
            compression: ReferenceSpec.compression, lsh: ReferenceSpec.lsh,
            training: ReferenceSpec.training, evaluation: ReferenceSpec.evaluation)
    }

    public static let defaultRewards = RewardParameters(
        registrationFee: 1_000_000, contributionFee: 500_000, emissionPerWindow: 100_000_000, validatorShareBps: 1_000,
        payoutExponent: 2, rating: RatingParameters(mu: 25, sigma: 25.0 / 3, beta: 25.0 / 6, tau: 25.0 / 300))

    /// Fields later issues define; recorded in genesis so nobody mistakes them for settled.
    public static let placeholders: [String] = []

    public func generate() throws -> Summary {
        let s = settings
        if let problem = validatorCountProblem(s.validators) {
            throw Error(description: "--validators \(s.validators): \(problem)")
        }
        guard (0 ... 10_000).contains(s.trainers) else {
            throw Error(description: "--trainers \(s.trainers) must be between 0 and 10000")
        }
        guard (1024 ... 65535).contains(s.basePort) else {
            throw Error(description: "--base-port \(s.basePort) must be between 1024 and 65535")
        }
        let lastPort = s.basePort + 10 * (s.validators - 1) + 1  // validators ≤ 3001 (checked above)
        guard lastPort <= 65535 else {
            throw Error(description: "--base-port \(s.basePort) gives ports up to \(lastPort); choose a base between 1024 and \(65535 - 10 * (s.validators - 1) - 1)")
        }

        let output = URL(fileURLWithPath: s.output).standardizedFileURL.path
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        let exists = fm.fileExists(atPath: output, isDirectory: &isDirectory)
        if exists {
            guard isDirectory.boolValue else {
                throw Error(description: "--output \(output) exists and is not a directory")
            }
            let contents = (try? fm.contentsOfDirectory(atPath: output)) ?? []
            if !contents.isEmpty && !s.force {
                throw Error(description: "--output \(output) is not empty (\(contents.count) entries); pass --force to replace it")
            }
        }
        let parent = (output as NSString).deletingLastPathComponent
        guard fm.fileExists(atPath: parent) else {
            throw Error(description: "parent directory \(parent) of --output does not exist")
        }
        guard access(parent, W_OK) == 0 else {
            throw Error(description: "cannot write to \(parent): \(String(cString: strerror(errno)))")
        }

        // Measure the corpus before writing anything, so a missing corpus leaves nothing behind.
        let corpus = try CorpusFiles.spec(directory: s.parameters.corpusDirectory)

        let staging = parent + "/." + (output as NSString).lastPathComponent + ".staging-\(getpid())-\(UInt32.random(in: 0 ... .max))"
        do {
            let summary = try write(into: staging, finalOutput: output, corpus: corpus)
            try install(staging: staging, output: output, replacing: exists)
            return summary
        } catch {
            try? fm.removeItem(atPath: staging)
            throw error
        }
    }

    private func write(into staging: String, finalOutput: String, corpus: CorpusSpec) throws -> Summary {
        let s = settings
        let fm = FileManager.default
        try fm.createDirectory(atPath: staging, withIntermediateDirectories: false)

        let f = (s.validators - 1) / 3
        // The dealer path knows every share: fine for tests, labelled as such in --help.
        let deal = s.distributedKeyGeneration ? nil : try ThresholdCoin.deal(validators: s.validators, threshold: f + 1)
        let validatorKeys = (0 ..< s.validators).map { _ in SigningKey.generate() }
        let trainerKeys = (0 ..< s.trainers).map { _ in SigningKey.generate() }

        var nodes: [NetworkEntry] = []
        var genesisValidators: [GenesisValidator] = []
        for i in 0 ..< s.validators {
            let peerAddress = "\(s.host):\(s.basePort + 10 * i)"
            let apiAddress = "\(s.host):\(s.basePort + 10 * i + 1)"
            genesisValidators.append(GenesisValidator(
                name: "node\(i)", publicKey: validatorKeys[i].publicKey, address: peerAddress,
                coinPublicShare: deal?.publicShares[i] ?? GenesisCeremony.placeholderPoint))
            nodes.append(NetworkEntry(name: "node\(i)", home: finalOutput + "/node\(i)", peerAddress: peerAddress,
                                      apiURL: "http://\(apiAddress)", publicKey: validatorKeys[i].publicKey))
        }
        let accounts = trainerKeys.enumerated().map {
            GenesisAccount(name: "trainer\($0.offset)", publicKey: $0.element.publicKey, balance: s.trainerBalance)
        }
        var genesis = s.parameters.genesis(corpus: corpus, accounts: accounts)
        if let deal {
            genesis.validators = genesisValidators
            genesis.coin = CoinSetup(threshold: UInt32(f + 1), commitments: deal.commitments)
        }
        let homes = (0 ..< s.validators).map { NodeHome(staging + "/node\($0)") }
        let corpusPath = URL(fileURLWithPath: s.parameters.corpusDirectory).standardizedFileURL.path
        for i in 0 ..< s.validators {
            try homes[i].createDirectories()
            try Data(Self.configTOML(name: "node\(i)", peer: nodes[i].peerAddress,
                                     api: String(nodes[i].apiURL.dropFirst("http://".count)), corpus: corpusPath).utf8)
                .write(to: URL(fileURLWithPath: homes[i].configFile))
            try KeyFiles.writeSigningKey(validatorKeys[i], to: homes[i].validatorKeyFile)
        }
        if deal == nil {
            genesis = try runCeremony(draft: genesis, homes: homes, nodes: nodes, directory: staging + "/ceremony")
        }
        do {
            try genesis.verify()
        } catch {
            throw Error(description: "generated genesis does not verify (\(error)); check --chain-id and --host")
        }
        let genesisJSON = try genesis.jsonData()
        try genesisJSON.write(to: URL(fileURLWithPath: staging + "/genesis.json"))
        for i in 0 ..< s.validators {
            if let deal {
                try genesisJSON.write(to: URL(fileURLWithPath: homes[i].genesisFile))
                try KeyFiles.writeCoinShare(deal.secretShares[i], to: homes[i].coinShareFile)
            }
        }
        var trainerFiles: [String] = []
        if !trainerKeys.isEmpty {
            try fm.createDirectory(atPath: staging + "/trainers", withIntermediateDirectories: false,
                                   attributes: [.posixPermissions: 0o700])
            for (j, key) in trainerKeys.enumerated() {
                try KeyFiles.writeSigningKey(key, to: staging + "/trainers/trainer\(j).key")
                trainerFiles.append(finalOutput + "/trainers/trainer\(j).key")
            }
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        var network = try encoder.encode(NetworkFile(chainID: s.parameters.chainID, genesisHash: genesis.hash, nodes: nodes))
        network.append(0x0a)
        try network.write(to: URL(fileURLWithPath: staging + "/network.json"))
        return Summary(output: finalOutput, genesis: genesis, genesisHash: genesis.hash, nodes: nodes,
                       trainerKeyFiles: trainerFiles)
    }

    /// The genesis ceremony run by every home in turn, through the operators' own steps: join,
    /// deal, respond, finish, install. Keeps the transcript in `directory` for `cairn genesis
    /// verify --transcript`.
    private func runCeremony(draft genesis: Genesis, homes: [NodeHome], nodes: [NetworkEntry], directory: String) throws -> Genesis {
        var draft = GenesisDraft(genesis: genesis, joins: [])
        for (i, home) in homes.enumerated() {
            let join = try GenesisCeremony.join(home: home, chainID: genesis.chainID, name: nodes[i].name, peerAddress: nodes[i].peerAddress,
                                                apiAddress: String(nodes[i].apiURL.dropFirst("http://".count)))
            try GenesisCeremony.addValidator(join, to: &draft)
        }
        let deals = try homes.map { try GenesisCeremony.deal(home: $0, draft: draft) }
        let responses = try homes.map { try GenesisCeremony.respond(home: $0, draft: draft, deals: deals).response }
        let (final, outcome) = try GenesisCeremony.finish(draft: draft, deals: deals, responses: responses)
        guard outcome.qualified.count == homes.count else {
            throw Error(description: "local ceremony disqualified honest dealers: \(outcome.faults)")
        }
        let fm = FileManager.default
        try fm.createDirectory(atPath: directory + "/deals", withIntermediateDirectories: true)
        try fm.createDirectory(atPath: directory + "/responses", withIntermediateDirectories: true)
        try GenesisCeremony.write(draft, to: directory + "/draft.json")
        for (i, deal) in deals.enumerated() { try GenesisCeremony.write(deal, to: directory + "/deals/node\(i).json") }
        for (i, response) in responses.enumerated() { try GenesisCeremony.write(response, to: directory + "/responses/node\(i).json") }
        for home in homes {
            _ = try GenesisCeremony.install(home: home, draft: draft, genesis: final, outcome: outcome, deals: deals,
                                            corpusDirectory: settings.parameters.corpusDirectory)
        }
        return final
    }

    struct NetworkFile: Codable {
        var chainID: String
        var genesisHash: Digest
        var nodes: [NetworkEntry]
        enum CodingKeys: String, CodingKey { case chainID = "chain_id", genesisHash = "genesis_hash", nodes }
    }

    /// Moves the finished staging directory into place; with --force the old output is moved
    /// aside first and deleted only once the new one is in place.
    private func install(staging: String, output: String, replacing: Bool) throws {
        if replacing {
            let aside = staging + ".old"
            guard rename(output, aside) == 0 else {
                throw Error(description: "cannot move the existing \(output) aside: \(String(cString: strerror(errno)))")
            }
            guard rename(staging, output) == 0 else {
                let reason = String(cString: strerror(errno))
                _ = rename(aside, output)
                throw Error(description: "cannot move the new network into \(output): \(reason)")
            }
            try? FileManager.default.removeItem(atPath: aside)
        } else {
            guard rename(staging, output) == 0 else {
                throw Error(description: "cannot move the new network into \(output): \(String(cString: strerror(errno)))")
            }
        }
    }

    static func configTOML(name: String, peer: String, api: String, corpus: String) -> String {
        """
        # Cairn node configuration, written by `cairn testnet`.
        [node]
        name = "\(name)"

        [p2p]
        # Address this validator accepts peer connections on (genesis lists it for the others).
        listen = "\(peer)"

        [api]
        # HTTP API: /health, /status, /metrics, /v1/...
        listen = "\(api)"

        [log]
        # plain or json
        format = "plain"
        level = "info"

        [consensus]
        # This validator's round pacing; genesis' values apply when these are absent.
        # min_round_interval_ms = 25
        # max_round_interval_ms = 1000

        [training]
        # The corpus genesis hashes (task.corpus); the node refuses one whose hash differs.
        corpus = "\(corpus.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\""))"
        # Evaluate every committed contribution (commit, then reveal; ARCHITECTURE §6).
        evaluate = true

        [storage]
        # Closed windows whose whole state is kept, so light clients can get Merkle proofs of a
        # balance or rating under those windows' checkpoint certificates (each is a state copy).
        proof_windows = 8
        # Below this many free bytes on the database's disk, blob uploads are refused (507) while
        # consensus goes on.
        min_free_bytes = 1073741824

        [limits]
        # Per client IP address: API requests per second, and the burst allowed above it.
        api_requests_per_second = 500
        api_burst = 1000
        # Largest blob PUT /v1/blobs/{id} accepts (the genesis task's largest pseudo-gradient caps it
        # too). Uploads need a registered trainer's signature; each trainer may store at most
        # upload_bytes_per_window here per window (default: eight of the task's largest blobs).
        max_blob_bytes = 67108864
        # Bounded intake (D62): records accepted and not yet committed may wait about
        # intake_delay_ms at this validator's own commit rate (at least intake_min_records are
        # always allowed); past that, POST /v1/records answers 503 with Retry-After at once.
        # intake_delay_ms = 800
        # intake_min_records = 512

        """
    }
}
