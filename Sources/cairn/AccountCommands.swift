import ArgumentParser
import CairnAPI
import CairnCore
import CairnCrypto
import Foundation

/// An account given as a public key in hex, or as the key file holding its signing key.
struct AccountOptions: ParsableArguments {
    @Option(help: "The account's Ed25519 public key (64 hex characters).")
    var account: String?

    @Option(help: "Or: a key file (0600) whose public key is the account.")
    var key: String?

    func publicKey() throws -> PublicKey {
        switch (account, key) {
        case let (text?, nil):
            guard let bytes = Hex.decode(text), bytes.count == 32 else {
                throw ValidationError("--account must be 64 hex characters (an Ed25519 public key)")
            }
            return PublicKey(uncheckedBytes: bytes)
        case let (nil, path?):
            return try KeyFiles.readSigningKey(at: path).publicKey
        default:
            throw ValidationError("give exactly one of --account HEX or --key FILE")
        }
    }
}

struct Balance: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print an account's balance and next nonce, as a node's ledger has them.")

    @Option(help: "The node's API URL, e.g. http://127.0.0.1:26601.")
    var node: String

    @OptionGroup var who: AccountOptions

    @Flag(help: "Print one JSON object.")
    var json = false

    func run() async throws {
        let client = try NodeClient(node)
        let key = try who.publicKey()
        let account = try await client.get("v1/accounts/\(key.hex)", as: AccountReply.self)
        let (balance, nonce) = (account.balance, account.nonce)
        // Earnings as a trainer (D53), when the account is one the ledger rates.
        let rating = try await client.get("v1/ratings", as: Leaderboard.self).trainers.first { $0.trainer == key.hex }
        let total = rating?.totalPayout, last = rating?.lastPayout
        if json {
            let earnings = rating.map { _ in ", \"total_payout\": \(total ?? 0), \"last_payout\": \(last ?? 0)" } ?? ""
            print("{\"account\": \"\(key.hex)\", \"balance\": \(balance), \"nonce\": \(nonce)\(earnings)}")
        } else {
            print("account \(key.hex)\nbalance \(balance) base units\nnonce   \(nonce) (the next record must carry it)")
            if rating != nil {
                print("earned  \(total ?? 0) base units as a trainer (\(last ?? 0) in the last finalized window)")
            }
        }
    }
}

/// Signs a record body with a key file and submits it; with `wait`, reports the ledger's outcome.
final class RecordSubmission {
    let client: NodeClient
    let signer: SigningKey
    /// Id of the last record submitted.
    var lastID: String?

    init(client: NodeClient, signer: SigningKey) {
        self.client = client
        self.signer = signer
    }

    func submit(_ body: RecordBody, nonce explicit: UInt64?, wait: Bool, node: String) async throws {
        let status = try await client.get("status", as: StatusReply.self)
        guard let chain = try? Digest(hex: status.genesisHash) else {
            throw CLIError("\(node)/status did not report a genesis hash")
        }
        var nonce = explicit ?? 0
        if explicit == nil {
            nonce = try await client.get("v1/accounts/\(signer.publicKey.hex)", as: AccountReply.self).nonce
        }
        let bytes = body.canonicalBytes
        let signature = signer.sign(SignedRecord.signingBytes(chain: chain, author: signer.publicKey, nonce: nonce, body: bytes))
        let record = SignedRecord(author: signer.publicKey, nonce: nonce, body: bytes, signature: signature)
        let reply = try await client.post("v1/records", json: RecordSubmissionRequest(record: Hex.encode(record.canonicalBytes)), as: SubmitReply.self)
        guard let id = reply.id else { throw CLIError("\(node) accepted the record without naming its id") }
        lastID = id
        print("submitted \(body.kind.name) \(id) (nonce \(nonce))")
        guard wait else { return }
        for _ in 0 ..< 600 {
            do {
                let outcome = try await client.get("v1/records/\(id)", as: RecordReply.self)
                if outcome.status == "rejected" {
                    throw RecordRejected(id: id, position: outcome.position, reason: outcome.reason ?? "?", detail: outcome.detail ?? "")
                }
                print("executed at sequence position \(outcome.position)")
                return
            } catch let error as APIError where error.code == .unknownRecord {
                try await Task.sleep(for: .milliseconds(100))  // not committed yet
            }
        }
        throw CLIError("\(id) was not committed within 60 s; check `cairn status --node \(node)`")
    }
}

struct TransferCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "transfer",
        abstract: "Sign a transfer with a key file and submit it to a node.",
        discussion: """
            The record is signed here, never on the node: the key file stays on this machine. \
            The nonce is the account's next one as the node reports it, unless --nonce is given. \
            With --wait, waits until the record is committed and prints whether the ledger \
            executed or rejected it (exit status 1 when rejected).
            """)

    @Option(help: "The node's API URL, e.g. http://127.0.0.1:26601.")
    var node: String

    @Option(help: "Key file (0600) of the paying account.")
    var key: String

    @Option(help: "Recipient's Ed25519 public key (64 hex characters).")
    var to: String

    @Option(help: "Amount in base units (≥ 1).")
    var amount: UInt64

    @Option(help: "Nonce to use instead of the account's next one.")
    var nonce: UInt64?

    @Flag(help: "Wait for the record to be committed and report the outcome.")
    var wait = false

    func run() async throws {
        guard let recipient = Hex.decode(to), recipient.count == 32 else { throw ValidationError("--to must be 64 hex characters") }
        guard amount >= 1 else { throw ValidationError("--amount must be at least 1 base unit") }
        let submission = RecordSubmission(client: try NodeClient(node), signer: try KeyFiles.readSigningKey(at: key))
        try await submission.submit(.transfer(CairnCore.Transfer(to: PublicKey(uncheckedBytes: recipient), amount: amount)),
                                    nonce: nonce, wait: wait, node: node)
    }
}

struct RegisterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "register",
        abstract: "Register a key file's account as a trainer, paying genesis' registration fee.",
        discussion: """
            Signed here and submitted to --node; the fee (rewards.registration_fee in genesis) is \
            burned. With --wait, prints whether the ledger executed or rejected it (e.g. \
            insufficient_balance, already_registered).
            """)

    @Option(help: "The node's API URL, e.g. http://127.0.0.1:26601.")
    var node: String

    @Option(help: "Key file (0600) of the trainer's account.")
    var key: String

    @Option(help: "Display name: 1–32 characters of a-z, 0-9 and -.")
    var name: String

    @Flag(help: "Wait for the record to be committed and report the outcome.")
    var wait = false

    func run() async throws {
        guard Register.validName(name) else { throw ValidationError("--name must be 1–32 characters of a-z, 0-9 and -") }
        let submission = RecordSubmission(client: try NodeClient(node), signer: try KeyFiles.readSigningKey(at: key))
        try await submission.submit(.register(Register(name: name)), nonce: nil, wait: wait, node: node)
    }
}
