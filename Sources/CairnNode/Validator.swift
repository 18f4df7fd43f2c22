import CairnChain
import CairnCore
import CairnLedger
import CairnCrypto
import CairnNet
import CairnStorage
import DAGRider
import CairnTraining
import Foundation
import NIOConcurrencyHelpers

/// A validator assembled from its home directory: genesis, keys, config, database, mesh and the
/// consensus node. `cairn node --home DIR` runs one.
public struct Validator: Sendable {
    public let home: NodeHome
    public let config: NodeConfig
    public let genesis: Genesis
    public let genesisHash: Digest
    public let index: Int
    /// This validator's public key (genesis `validators[index]`).
    public var publicKey: PublicKey { genesis.validators[index].publicKey }
    public let node: ConsensusNode
    public let mesh: PeerMesh
    public let database: Database
    /// Genesis `consensus.window_ms`: the length of a training window in consensus time.
    public var windowMs: UInt64 { UInt64(genesis.consensus.windowMs) }
    /// Record signatures checked once and cached (at submission, before voting or at execution),
    /// with the count of checks by site (ARCHITECTURE §3: verify once, cache).
    public let recordSignatures: RecordSignatures
    /// The outer step and the model cache (D48), shared with the evaluation service.
    public let modelUpdater: ModelUpdater
    /// The reference task over the genesis corpus, when this validator evaluates (`[training]`).
    public let task: ReferenceTask?
    /// This node's metrics registry (D52), shared by the consensus node, evaluation service and API.
    public let telemetry: NodeTelemetry
    /// Who may upload blobs here, quotas and pruning (D59).
    public let uploads: BlobUploads

    public struct Error: Swift.Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    public static func open(home: NodeHome) throws -> Validator {
        let genesis = try home.loadGenesis()
        let genesisHash = genesis.hash
        let config = try NodeConfig.load(path: home.configFile)
        let key = try KeyFiles.readSigningKey(at: home.validatorKeyFile)
        guard let index = genesis.validators.firstIndex(where: { $0.publicKey == key.publicKey }) else {
            throw Error(description: "\(home.validatorKeyFile) holds key \(key.publicKey.short)…, which is not a validator in \(home.genesisFile)")
        }
        let share = try KeyFiles.readCoinShare(at: home.coinShareFile)
        guard share.index == UInt32(index + 1), share.publicShare == genesis.validators[index].coinPublicShare else {
            throw Error(description: "\(home.coinShareFile) is not validator \(index)'s coin share in genesis")
        }
        let coin = try genesis.verify()
        try FileManager.default.createDirectory(atPath: home.dataDirectory, withIntermediateDirectories: true)
        let database = try NodeDatabase.open(path: home.databaseDirectory, genesisHash: genesisHash)
        var addresses: [Int: (host: String, port: Int)] = [:]
        for (i, validator) in genesis.validators.enumerated() {
            let address = try NodeConfig.HostPort(parsing: validator.address, key: "genesis validators[\(i)].address")
            addresses[i] = (address.host, address.port)
        }
        let publicKeys = genesis.validators.map(\.publicKey)
        let mesh = PeerMesh(identity: PeerIdentity(chain: genesisHash, publicKeys: publicKeys, me: index, key: key), addresses: addresses)
        var settings = DAGRiderSettings(genesis: genesis, genesisHash: genesisHash, me: index)
        if let low = config.minRoundIntervalMs { settings.minRoundIntervalMs = low }
        if let high = config.maxRoundIntervalMs { settings.maxRoundIntervalMs = high }
        guard settings.minRoundIntervalMs <= settings.maxRoundIntervalMs else {
            throw Error(description: "\(home.configFile): the round intervals (min \(settings.minRoundIntervalMs) ms, max \(settings.maxRoundIntervalMs) ms) are inverted once combined with genesis")
        }
        // Records are looked up here seconds after their check (vote, then execution); 100,000 per
        // generation covers minutes at the measured throughput. It was 500,000: two generations of
        // that held ~80 MB and took half an hour to fill, most of the growth tools/soak-memory saw.
        // An eviction costs one signature check again, never a wrong answer.
        let recordSignatures = RecordSignatures(chain: genesisHash, capacity: 98_304)
        // θ_0 and the outer step (D48): the model lives in the blob store, its record in state.
        let blobs = BlobStore(database: database)
        let initialModel = try ModelUpdater.initialModel(genesis: genesis, blobs: blobs)
        // A validator that evaluates needs the corpus genesis names, byte for byte.
        var task: ReferenceTask?
        if config.evaluate {
            do {
                task = try ReferenceTask(corpus: try CorpusText(directory: config.corpusDirectory, expected: genesis.task.corpus), model: genesis.task.model)
            } catch {
                throw Error(description: "\(home.configFile) [training]: \(error); install the corpus genesis names (tools/setup installs Debian's fortunes) and point training.corpus at it, or set training.evaluate = false to run without evaluating")
            }
            BLASThreads.set(1)  // one thread per evaluation (ARCHITECTURE §6)
        }
        let updater = try ModelUpdater(blobs: blobs, task: genesis.task)
        let telemetry = NodeTelemetry()
        let node = try ConsensusNode(
            settings: settings, signer: Ed25519ConsensusKeys(key: key, publicKeys: publicKeys),
            verifier: CountedConsensusVerifier(keys: Ed25519ConsensusKeys(key: nil, publicKeys: publicKeys), counts: recordSignatures.counts),
            coin: ThresholdCoinScheme(coin: coin, secret: share), coinVerifier: ThresholdCoinScheme(coin: coin, secret: nil),
            database: database, mesh: mesh,
            payloadValidator: { bytes in
                recordSignatures.check(id: Hashing.digest(.record, bytes), at: .proposal) { try? SignedRecord(canonicalBytes: bytes) }
            },
            ledger: LedgerRuntime(ledger: Ledger(genesis: genesis, genesisHash: genesisHash, transition: updater), models: updater,
                                  proofWindows: config.proofWindows) { record, id in
                recordSignatures.check(id: id, at: .execution) { record }
            },
            genesisState: try Ledger.genesisState(genesis, model: initialModel), recordSigner: key, telemetry: telemetry,
            intake: AdmissionControl.Settings(targetDelayMs: UInt64(config.limits.intakeDelayMs), minLimit: config.limits.intakeMinRecords))
        let largest = PseudoGradientBlob.maxBytes(parameterCount: genesis.task.model.parameterCount, chunkSize: Int(genesis.task.compression.chunkSize),
                                                  topK: Int(genesis.task.compression.topK))
        let uploads = BlobUploads(database: database, chain: genesisHash, task: genesis.task, maxBlobBytes: config.limits.maxBlobBytes,
                                  quotaBytes: UInt64(config.limits.uploadBytesPerWindow ?? 8 * largest), minFreeBytes: config.minFreeBytes,
                                  directory: home.databaseDirectory)
        return Validator(home: home, config: config, genesis: genesis, genesisHash: genesisHash, index: index, node: node,
                         mesh: mesh, database: database, recordSignatures: recordSignatures, modelUpdater: updater, task: task,
                         telemetry: telemetry, uploads: uploads)
    }

    /// Checks a submitted record: canonical envelope, size, signature over this chain, and for a
    /// contribution that its blob is stored here (D50: this validator proposes only vertices whose
    /// blobs its peers can fetch from it).
    public func validateRecord(_ bytes: [UInt8]) throws -> (SignedRecord, Digest) {
        let id = Hashing.digest(.record, bytes)
        let record: SignedRecord
        do {
            record = try SignedRecord(canonicalBytes: bytes)
        } catch {
            throw Error(description: "record is not a canonical SignedRecord: \(error)")
        }
        // A retried submission, or one a peer's proposal already brought, was checked here before.
        guard recordSignatures.check(id: id, at: .intake, { record }) else {
            throw Error(description: "record signature does not verify for author \(record.author.short)… on this chain")
        }
        if !config.acceptMissingBlobs, case let .contribution(contribution)? = try? RecordBody(canonicalBytes: record.body) {
            guard try BlobStore(database: database).contains(contribution.blob) else {
                throw Error(description: "its blob \(contribution.blob.hex) is not stored on this node; upload it first with PUT /v1/blobs/\(contribution.blob.hex), then submit the record again")
            }
            // Kept for the record's way through consensus, however old its upload (D59).
            if let window = try? database.get(WindowState.self, .state, StateKey.window)?.current {
                uploads.pin([contribution.blob], window: window)
            }
            // A blob_size that differs from the blob is the evaluators' `invalid_blob` flag and an
            // oversize one the ledger's `oversize`: both are judged on the chain, not here.
        }
        return (record, id)
    }
}
