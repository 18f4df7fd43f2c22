import CairnCore
import CairnCrypto
import CairnLedger

/// Arbitrary bytes as a record body (or, with the top selector bit, as a whole signed record),
/// signed as a registered trainer, a plain account or a validator, executed against a state with
/// trainers, funded accounts, window 3 open and a stored contribution (DECISIONS D38). Bugs: any
/// trap or sanitizer report; an outcome other than accepted or rejected-with-a-reason; two
/// executions from the same state that reach different state roots.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzExecutor(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard bytes.count >= 2 else { return 0 }
    let selector = bytes[0], nonceChoice = bytes[1]
    let payload = Array(bytes.dropFirst(2))
    let fixture = ExecutorFixture.shared
    let record: [UInt8]
    if selector & 0x80 != 0 {
        record = payload  // the envelope itself is untrusted too
    } else {
        // With bit 0x40 the bytes choose the fields of a well-formed body, so mutations explore
        // the executor's rules instead of stopping at the decoder.
        let body = selector & 0x40 != 0 ? structuredBody(payload, fixture: fixture).canonicalBytes : payload
        let signer = fixture.signers[Int(selector & 0x3f) % fixture.signers.count]
        let next = fixture.nextNonce[signer.publicKey, default: 0]
        let nonces: [UInt64] = [next, 0, 1, next &+ 1, UInt64.max - 1, UInt64.max, next &+ Ledger.maxNonceGap &- 1, next &+ Ledger.maxNonceGap]
        let nonce = nonces[Int(nonceChoice) % nonces.count]
        let signature = signer.sign(SignedRecord.signingBytes(chain: fixture.chain, author: signer.publicKey, nonce: nonce, body: body))
        record = SignedRecord(author: signer.publicKey, nonce: nonce, body: body, signature: signature).canonicalBytes
    }
    let time = 3 * fixture.windowMs + 1 + UInt64(nonceChoice)
    let first = fixture.execute(record, leaderTimeMs: time)
    let second = fixture.execute(record, leaderTimeMs: time)
    guard first.root == second.root, first.records == second.records else {
        fatalError("executing the same record twice from the same state gave different results")
    }
    // A record the fixture already executed is a duplicate: ignored, no outcome (ARCHITECTURE §5).
    let duplicate = (try? fixture.store.recordExecuted(Hashing.digest(.record, record))) ?? false
    guard first.records.count == (duplicate ? 0 : 1) else { fatalError("one record in (duplicate: \(duplicate)), \(first.records.count) outcomes out") }
    if let executed = first.records.first, case let .rejected(rejection) = executed.outcome, rejection.detail.isEmpty {
        fatalError("rejected without a reason: \(rejection.reason)")
    }
    return 0
}

/// A record body whose kind and fields come from `bytes` (missing bytes read as zero).
func structuredBody(_ bytes: [UInt8], fixture: ExecutorFixture) -> RecordBody {
    var cursor = 1
    func take(_ count: Int) -> UInt64 {
        var value: UInt64 = 0
        for _ in 0 ..< count {
            value = value << 8 | UInt64(cursor < bytes.count ? bytes[cursor] : 0)
            cursor += 1
        }
        return value
    }
    let digests = [Digest.zero, fixture.contribution, Hashing.digest(.record, [UInt8(take(1))])]
    switch (bytes.first ?? 0) % 6 {
    case 0:
        return .register(Register(name: ["t", "fuzz-trainer", "a-b", String(repeating: "z", count: Register.maxNameBytes)][Int(take(1) % 4)]))
    case 1:
        let recipients = fixture.signers.map(\.publicKey) + [PublicKey(uncheckedBytes: [UInt8](repeating: UInt8(take(1)), count: 32))]
        return .transfer(Transfer(to: recipients[Int(take(1)) % recipients.count], amount: take(8)))
    case 2:
        return .contribution(Contribution(baseWindow: take(8), blob: digests[Int(take(1)) % 3], blobSize: take(8),
                                          compression: CompressionParameters(chunkSize: UInt32(take(4)), topK: UInt32(take(4)),
                                                                             valueBits: UInt8(take(1)), indexBits: UInt8(take(1))),
                                          assignment: digests[Int(take(1)) % 3]))
    case 3:
        let loss = { Float(bitPattern: UInt32(take(4))) }
        return .evaluation(Evaluation(contribution: digests[Int(take(1)) % 3], own: LossPair(before: loss(), after: loss()),
                                      random: LossPair(before: loss(), after: loss()),
                                      simHash: [UInt8](repeating: UInt8(take(1)), count: Int(take(1)) % (Evaluation.maxSimHashBytes + 1)),
                                      flags: Evaluation.Flags(rawValue: UInt32(take(4)) & Evaluation.Flags.known.rawValue),
                                      salt: digests[Int(take(1)) % 3]))
    case 4:
        return .evaluationCommit(EvaluationCommit(contribution: digests[Int(take(1)) % 3], commitment: digests[Int(take(1)) % 3]))
    default:
        return .checkpointVote(CheckpointVote(window: take(8), sequenceHash: digests[Int(take(1)) % 3], stateRoot: Digest.zero, modelHash: Digest.zero))
    }
}

/// The state every input runs against, built once with real keys and records.
final class ExecutorFixture: @unchecked Sendable {  // immutable after init
    static let shared = ExecutorFixture()

    let chain: Digest
    let windowMs: UInt64
    let signers: [SigningKey]
    let ledger: Ledger
    let store: InMemoryLedgerStore
    let nextNonce: [PublicKey: UInt64]
    /// Id of the contribution stored in window 3.
    let contribution: Digest

    init() {
        let chain = Hashing.digest(.genesis, Array("fuzz-executor".utf8))
        let windowMs: UInt64 = 8
        self.chain = chain
        self.windowMs = windowMs
        func key(_ label: String) -> SigningKey { try! SigningKey(seed: SHA256.hash(Array(label.utf8)).bytes) }
        let validators = (0 ..< 4).map { key("validator-\($0)") }
        let trainer = key("trainer"), account = key("account")
        signers = [trainer, account, validators[0]]
        var parameters = Ledger.Parameters(chain: chain, validators: validators.map(\.publicKey), registrationFee: 100, windowMs: windowMs)
        parameters.maxContributionBytes = 1 << 20
        ledger = Ledger(parameters: parameters)
        var store = InMemoryLedgerStore(entries: try! Ledger.genesisState(accounts: [(trainer.publicKey, 1_000_000), (account.publicKey, UInt64.max / 2)],
                                                                          validators: validators.map(\.publicKey)))
        var nonces: [PublicKey: UInt64] = [:]
        func signed(_ author: SigningKey, _ body: RecordBody) -> [UInt8] {
            let nonce = nonces[author.publicKey, default: 0]
            nonces[author.publicKey] = nonce + 1
            let bytes = body.canonicalBytes
            let signature = author.sign(SignedRecord.signingBytes(chain: chain, author: author.publicKey, nonce: nonce, body: bytes))
            return SignedRecord(author: author.publicKey, nonce: nonce, body: bytes, signature: signature).canonicalBytes
        }
        let registration = signed(trainer, .register(Register(name: "fuzz-trainer")))  // nonce 0, then the contribution's 1
        let contributionRecord = signed(trainer, .contribution(Contribution(
            baseWindow: 3, blob: Digest.zero, blobSize: 1000,
            compression: CompressionParameters(chunkSize: 4096, topK: 64, valueBits: 8, indexBits: 16), assignment: Digest.zero)))
        contribution = Hashing.digest(.record, contributionRecord)
        let setup: [(UInt64, [[UInt8]])] = [
            (1, [registration]),  // window 0 opens at consensus time 1
            (1 + windowMs, []), (1 + 2 * windowMs, []), (1 + 3 * windowMs, []),  // windows 0–2 close, one per leader
            (1 + 3 * windowMs, [contributionRecord]),
            (1 + 3 * windowMs, [signed(validators[1], .checkpointVote(CheckpointVote(window: 1, sequenceHash: Digest.zero, stateRoot: Digest.zero, modelHash: Digest.zero)))]),
        ]
        for (position, (time, payload)) in setup.enumerated() {
            var overlay = Overlay()
            let result = try! ledger.execute([DeliveredVertex(position: UInt64(position), payload: payload)], leaderTimeMs: time,
                                    beacon: Digest.zero, store: store, overlay: &overlay, verify: { _ in true })
            store.commit(overlay)
            precondition(result.records.allSatisfy { $0.outcome == .accepted }, "fixture record rejected: \(result.records)")
        }
        self.store = store
        nextNonce = nonces
    }

    func execute(_ record: [UInt8], leaderTimeMs: UInt64) -> (root: Digest, records: [ExecutedRecord]) {
        var overlay = Overlay()
        let chain = self.chain
        do {
            let result = try ledger.execute([DeliveredVertex(position: 10, payload: [record])], leaderTimeMs: leaderTimeMs,
                                            beacon: Digest.zero, store: store, overlay: &overlay, verify: { record in
                record.author.verify(record.signature, for: SignedRecord.signingBytes(chain: chain, author: record.author, nonce: record.nonce, body: record.body))
            })
            return (try Ledger.stateRoot(store: store, overlay: overlay), result.records)
        } catch {
            fatalError("the in-memory store cannot fail, yet execution threw: \(error)")
        }
    }
}
