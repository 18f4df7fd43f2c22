import CairnCore
import CairnCrypto
import CairnTraining
import Foundation

/// A genesis under ceremony (D63): the genesis without its coin (every validator's
/// `coin_public_share` zero, `coin` empty) and the signed joins, one per validator, in genesis
/// order. Written by `cairn genesis init`, grown by `add-validator` and `add-account`, frozen once
/// the first deal names its session.
public struct GenesisDraft: Codable, Sendable {
    public var genesis: Genesis
    public var joins: [CeremonyJoin]

    public var session: Digest { DistributedKeyGeneration.sessionID(draft: genesis, joins: joins) }

    /// The key generation this draft describes, after checking that its genesis lists exactly the
    /// joined validators (name, key, address, in order) with no coin yet: the coordinator holds no
    /// secret and must not be able to seat an unvouched key under someone's signed join.
    public func keyGeneration() throws -> DistributedKeyGeneration {
        guard genesis.validators.count == joins.count else {
            throw CeremonyError("the draft lists \(genesis.validators.count) validators but holds \(joins.count) joins; it was edited by hand — rebuild it with `cairn genesis add-validator`")
        }
        for (index, (validator, join)) in zip(genesis.validators, joins).enumerated() {
            guard validator.name == join.name, validator.publicKey == join.publicKey, validator.address == join.peerAddress,
                  validator.coinPublicShare == GenesisCeremony.placeholderPoint else {
                throw CeremonyError("the draft's validator \(index) (\(validator.name)) differs from the join it was added from; it was edited by hand — rebuild it with `cairn genesis add-validator`")
            }
        }
        guard genesis.coin.threshold == 0, genesis.coin.commitments.isEmpty else {
            throw CeremonyError("the draft already has a coin; a draft's coin comes only from `cairn genesis dkg finish`")
        }
        return try DistributedKeyGeneration(session: session, joins: joins)
    }

    /// The index of `key` among the validators, or a clear error.
    public func index(of key: PublicKey) throws -> Int {
        guard let index = joins.firstIndex(where: { $0.publicKey == key }) else {
            throw CeremonyError("validator key \(key.short)… has not joined this draft; send your join file to the coordinator")
        }
        return index
    }
}

/// What a new chain's genesis is made of besides its validators, coin and accounts: the chain id,
/// the corpus, consensus pacing and the task's window-dependent limits. `cairn testnet` and the
/// ceremony's draft build genesis from it alike.
public struct GenesisParameters: Sendable {
    public var chainID: String
    public var corpusDirectory = CorpusFiles.defaultDirectory
    public var consensus = ConsensusParameters.defaults
    /// Genesis `task.training.max_contributions_per_window`; nil: sized from the window length
    /// (`TrainingSpec.contributionCap`).
    public var maxContributionsPerWindow: UInt32?
    /// Genesis `task.training.blob_retention_windows`.
    public var blobRetentionWindows = TrainingSpec.defaultBlobRetentionWindows

    public init(chainID: String) { self.chainID = chainID }

    /// The reference task and rewards, no validators, an empty coin.
    func genesis(corpus: CorpusSpec, accounts: [GenesisAccount]) -> Genesis {
        var task = TestnetGenerator.defaultTask(corpus: corpus)
        task.training.maxContributionsPerWindow = maxContributionsPerWindow ?? TrainingSpec.contributionCap(windowMs: consensus.windowMs)
        task.training.blobRetentionWindows = blobRetentionWindows
        return Genesis(chainID: chainID, consensus: consensus, validators: [], coin: CoinSetup(threshold: 0, commitments: []),
                       accounts: accounts, task: task, rewards: TestnetGenerator.defaultRewards,
                       placeholders: TestnetGenerator.placeholders)
    }
}

/// The file side of the genesis ceremony: each step reads and writes plain JSON files that the
/// operators exchange through a coordinator who holds no secret; the secrets (validator key,
/// ceremony key, coin share) never leave their home.
public enum GenesisCeremony {
    static let placeholderPoint = CurvePoint(uncheckedBytes: [UInt8](repeating: 0, count: 32))

    // MARK: Draft

    /// A draft with the reference task and rewards, no validators and no accounts.
    public static func draft(_ parameters: GenesisParameters) throws -> GenesisDraft {
        GenesisDraft(genesis: parameters.genesis(corpus: try CorpusFiles.spec(directory: parameters.corpusDirectory), accounts: []), joins: [])
    }

    /// Appends a validator after checking its join: signed by the key it names, for this chain,
    /// with a usable peer address, and not already present.
    public static func addValidator(_ join: CeremonyJoin, to draft: inout GenesisDraft) throws {
        guard join.chainID == draft.genesis.chainID else {
            throw CeremonyError("join file of \(join.name) is for chain '\(join.chainID)', this draft is '\(draft.genesis.chainID)'")
        }
        guard join.publicKey.isValidEd25519Point, join.publicKey.verify(join.signature, for: join.signedBytes) else {
            throw CeremonyError("join file of \(join.name) is not signed by the validator key it names (\(join.publicKey.short)…)")
        }
        guard join.ceremonyKeyProven else {
            throw CeremonyError("join file of \(join.name) does not prove knowledge of its ceremony key; it was not made by `cairn genesis join`")
        }
        if let problem = Genesis.addressProblem(join.peerAddress) { throw CeremonyError("join file of \(join.name): peer_address \(problem)") }
        if let problem = Genesis.addressProblem(join.apiAddress) { throw CeremonyError("join file of \(join.name): api_address \(problem)") }
        for other in draft.joins {
            guard other.publicKey != join.publicKey else { throw CeremonyError("validator key \(join.publicKey.short)… has already joined (as \(other.name))") }
            guard other.name != join.name else { throw CeremonyError("a validator named '\(join.name)' has already joined") }
            guard other.peerAddress != join.peerAddress else { throw CeremonyError("peer address \(join.peerAddress) is already \(other.name)'s") }
            guard other.ceremonyKey != join.ceremonyKey else { throw CeremonyError("\(join.name)'s ceremony key is already \(other.name)'s") }
        }
        guard draft.joins.count < Genesis.maxValidators else { throw CeremonyError("the draft already has \(Genesis.maxValidators) validators") }
        draft.joins.append(join)
        draft.genesis.validators.append(GenesisValidator(name: join.name, publicKey: join.publicKey, address: join.peerAddress,
                                                         coinPublicShare: placeholderPoint))
    }

    public static func addAccount(name: String, publicKey: PublicKey, balance: UInt64, to draft: inout GenesisDraft) throws {
        guard publicKey.isValidEd25519Point else { throw CeremonyError("\(publicKey.short)… is not a valid Ed25519 public key") }
        guard !draft.genesis.accounts.contains(where: { $0.publicKey == publicKey || $0.name == name }) else {
            throw CeremonyError("an account named '\(name)' or with key \(publicKey.short)… is already in the draft")
        }
        guard draft.genesis.accounts.count < Genesis.maxAccounts else { throw CeremonyError("the draft already has \(Genesis.maxAccounts) accounts") }
        draft.genesis.accounts.append(GenesisAccount(name: name, publicKey: publicKey, balance: balance))
    }

    // MARK: An operator's steps

    /// Signs a join for the validator key in `home`, creating its ceremony key (or reusing the one
    /// an earlier `join` created, so a re-run sends the same key).
    public static func join(home: NodeHome, chainID: String, name: String, peerAddress: String, apiAddress: String) throws -> CeremonyJoin {
        let key = try KeyFiles.readSigningKey(at: home.validatorKeyFile)
        let secret: CeremonySecret
        if FileManager.default.fileExists(atPath: home.ceremonyKeyFile) {
            secret = try KeyFiles.readCeremonySecret(at: home.ceremonyKeyFile)
        } else {
            secret = CeremonySecret.generate()
            try KeyFiles.writeCeremonySecret(secret, to: home.ceremonyKeyFile)
        }
        var join = CeremonyJoin(chainID: chainID, name: name, publicKey: key.publicKey, peerAddress: peerAddress,
                                apiAddress: apiAddress, ceremonyKey: secret.publicKey)
        join.proveCeremonyKey(secret)
        join.signature = key.sign(join.signedBytes)
        return join
    }

    public static func deal(home: NodeHome, draft: GenesisDraft) throws -> CeremonyDeal {
        let (key, secret) = try operatorKeys(home)
        return try draft.keyGeneration().deal(as: try draft.index(of: key.publicKey), secret: secret, signingKey: key)
    }

    public static func respond(home: NodeHome, draft: GenesisDraft, deals: [CeremonyDeal]) throws -> (response: CeremonyResponse, bad: [UInt32: String]) {
        let (key, secret) = try operatorKeys(home)
        return try draft.keyGeneration().respond(as: try draft.index(of: key.publicKey), deals: deals, secret: secret, signingKey: key)
    }

    private static func operatorKeys(_ home: NodeHome) throws -> (SigningKey, CeremonySecret) {
        guard FileManager.default.fileExists(atPath: home.ceremonyKeyFile) else {
            throw CeremonyError("\(home.ceremonyKeyFile) does not exist: run `cairn genesis join --home \(home.root)` first (or this home's ceremony is over)")
        }
        return (try KeyFiles.readSigningKey(at: home.validatorKeyFile), try KeyFiles.readCeremonySecret(at: home.ceremonyKeyFile))
    }

    // MARK: Finishing

    /// The final genesis: the draft with the coin the transcript decides. Anyone can run it.
    public static func finish(draft: GenesisDraft, deals: [CeremonyDeal], responses: [CeremonyResponse]) throws -> (genesis: Genesis, outcome: CeremonyOutcome) {
        let outcome = try draft.keyGeneration().finish(deals: deals, responses: responses)
        var genesis = draft.genesis
        genesis.coin = CoinSetup(threshold: UInt32(outcome.commitments.count), commitments: outcome.commitments)
        for index in genesis.validators.indices { genesis.validators[index].coinPublicShare = outcome.publicShares[index] }
        do {
            try genesis.verify()
        } catch {
            throw CeremonyError("the finished genesis does not verify: \(error)")
        }
        return (genesis, outcome)
    }

    /// Installs the outcome in an operator's home: its coin share (computed from the deals with
    /// its ceremony key and checked against genesis), config/genesis.json, a config.toml from its
    /// join when none exists; then deletes the ceremony key, which has no further use.
    public static func install(home: NodeHome, draft: GenesisDraft, genesis: Genesis, outcome: CeremonyOutcome,
                               deals: [CeremonyDeal], corpusDirectory: String) throws -> CoinSecretShare {
        let (key, secret) = try operatorKeys(home)
        let index = try draft.index(of: key.publicKey)
        // A coordinator could leave out honest responses so that bad shares to them go unjudged:
        // an operator installs only an outcome its own current response is part of.
        guard !outcome.silentResponders.contains(UInt32(index)), !outcome.staleResponders.contains(UInt32(index)) else {
            throw CeremonyError("this validator's response to the final deals is not among the responses: run `cairn genesis dkg respond` on them and have the coordinator include it")
        }
        let share = try draft.keyGeneration().secretShare(for: index, deals: deals, outcome: outcome, secret: secret)
        guard genesis.validators[index].coinPublicShare == share.publicShare else {
            throw CeremonyError("this validator's coin share does not match its coin_public_share in the finished genesis")
        }
        try home.createDirectories()
        let fm = FileManager.default
        if fm.fileExists(atPath: home.coinShareFile) {
            let existing = try KeyFiles.readCoinShare(at: home.coinShareFile)
            guard existing.secretBytes == share.secretBytes, existing.index == share.index else {
                throw CeremonyError("\(home.coinShareFile) already holds another coin share; move it away if it belongs to an old network")
            }
        } else {
            try KeyFiles.writeCoinShare(share, to: home.coinShareFile)
        }
        if fm.fileExists(atPath: home.genesisFile) {
            guard (try? Genesis.parseJSON(Data(contentsOf: URL(fileURLWithPath: home.genesisFile))))?.hash == genesis.hash else {
                throw CeremonyError("\(home.genesisFile) already holds another genesis; move it away if it belongs to an old network")
            }
        } else {
            try genesis.jsonData().write(to: URL(fileURLWithPath: home.genesisFile))
        }
        if !fm.fileExists(atPath: home.configFile) {
            let join = draft.joins[index]
            try Data(TestnetGenerator.configTOML(name: join.name, peer: join.peerAddress, api: join.apiAddress,
                                                 corpus: URL(fileURLWithPath: corpusDirectory).standardizedFileURL.path).utf8)
                .write(to: URL(fileURLWithPath: home.configFile))
        }
        try fm.removeItem(atPath: home.ceremonyKeyFile)
        return share
    }

    // MARK: Files

    /// Writes `value` as pretty JSON with sorted keys; refuses to replace a file unless asked.
    public static func write(_ value: some Encodable, to path: String, replace: Bool = false) throws {
        if !replace, FileManager.default.fileExists(atPath: path) {
            throw CeremonyError("\(path) exists; pass --force to replace it")
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        var data = try encoder.encode(value)
        data.append(0x0a)
        try data.write(to: URL(fileURLWithPath: path), options: .atomic)
    }

    /// Largest ceremony file read (a deal for 3001 validators is ~0.5 MB of hex).
    static let maxFileBytes = 16 << 20

    public static func read<T: Codable>(_: T.Type, from path: String, what: String) throws -> T {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
              let size = attributes[.size] as? Int else { throw CeremonyError("\(what) \(path) cannot be read") }
        guard size <= maxFileBytes else { throw CeremonyError("\(what) \(path) is \(size) bytes, more than \(maxFileBytes)") }
        do {
            return try StrictJSON.decode(T.self, from: Data(contentsOf: URL(fileURLWithPath: path)), what: "\(what) \(path)")
        } catch let error as StrictJSON.Error {
            throw CeremonyError(error.description)
        } catch {
            throw CeremonyError("\(what) \(path) is not valid JSON: \(error)")
        }
    }

    public static func readDraft(_ path: String) throws -> GenesisDraft { try read(GenesisDraft.self, from: path, what: "draft") }
    public static func readDeals(_ directory: String) throws -> [CeremonyDeal] { try readAll(CeremonyDeal.self, in: directory, what: "deal") }
    public static func readResponses(_ directory: String) throws -> [CeremonyResponse] {
        try readAll(CeremonyResponse.self, in: directory, what: "response")
    }

    /// Every `*.json` file of a directory (sorted by name, so messages come out in one order).
    public static func readAll<T: Codable>(_: T.Type, in directory: String, what: String) throws -> [T] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else {
            throw CeremonyError("directory \(directory) of \(what)s cannot be read")
        }
        return try names.filter { $0.hasSuffix(".json") }.sorted().map { try read(T.self, from: directory + "/" + $0, what: what) }
    }
}
