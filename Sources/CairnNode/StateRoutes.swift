import CairnAPI
import CairnChain
import CairnCore
import CairnCrypto
import CairnNet
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NIOConcurrencyHelpers
import CairnStorage
import CairnLedger

extension NodeAPI {
    /// Accounts, checkpoint certificates, and state entries proven under a certified root (D58).
    static func addStateRoutes(to router: Router<APIRequestContext>, validator: Validator) {
        let proofs = StateProofService(store: validator.node.database)
        router.get("/v1/accounts/{key}") { _, context -> Response in
            guard let text = context.parameters.get("key"), let bytes = Hex.decode(text), bytes.count == 32 else {
                return NodeAPI.error(.badRequest, .badRequest, "account must be a 64-hex-character Ed25519 public key")
            }
            let key = PublicKey(uncheckedBytes: bytes)
            guard let account = try validator.node.database.account(key) else {
                return NodeAPI.error(.notFound, .unknownAccount, "no account \(key.short)… (an account exists once it holds or held a balance)")
            }
            return json(AccountReply(account: key.hex, balance: account.balance, nonce: account.nonce))
        }

        router.get("/v1/checkpoints/{window}") { _, context -> Response in
            guard let text = context.parameters.get("window"), let window = UInt64(text) else {
                return NodeAPI.error(.badRequest, .badRequest, "window must be a non-negative integer")
            }
            guard let certificate = try validator.node.database.checkpoint(window) else {
                return NodeAPI.error(.notFound, .notCertified, "window \(window) has no checkpoint certificate yet")
            }
            return json(CheckpointReply(window: window, stateRoot: certificate.vote.stateRoot.hex,
                                        sequenceHash: certificate.vote.sequenceHash.hex, modelHash: certificate.vote.modelHash.hex,
                                        signers: certificate.signers.map { Int($0.validator) }, nonces: certificate.signers.map(\.nonce),
                                        signatures: certificate.signers.map(\.signature.hex)))
        }

        // One state entry's value (or absence) at a window's close, with its Merkle path to the
        // state root that window's checkpoint certificate signs (D58): a light client checks the
        // certificate against genesis, then the path against the certificate, and trusts no node.
        router.get("/v1/checkpoints/{window}/proof/{key}") { _, context -> Response in
            guard let text = context.parameters.get("window"), let window = UInt64(text) else {
                return NodeAPI.error(.badRequest, .badRequest, "window must be a non-negative integer")
            }
            guard let keyText = context.parameters.get("key"), keyText.utf8.count <= 2 * StateKey.maxLength,
                  let key = Hex.decode(keyText), !key.isEmpty else {
                return NodeAPI.error(.badRequest, .badRequest, "key must be a state key as hex, 1 to \(StateKey.maxLength) bytes (e.g. 612f ‖ public key for an account)")
            }
            do {
                guard let (proof, root) = try proofs.prove(window: window, key: key) else {
                    return NodeAPI.error(.serviceUnavailable, .busy, "another proof is being computed; retry in a moment")
                }
                let certified = try validator.node.database.checkpoint(window) != nil
                return json(ProofReply(window: window, stateRoot: root.hex, certified: certified, key: StateKey.describe(key), proof: proof))
            } catch let unavailable as ConsensusStore.ProofUnavailable {
                switch unavailable {
                case .notClosed: return NodeAPI.error(.notFound, .notClosed, unavailable.description)
                case .notKept: return NodeAPI.error(.gone, .notKept, unavailable.description)
                case .damaged: return NodeAPI.error(.internalServerError, .damaged, unavailable.description)
                }
            }
        }
    }
}
