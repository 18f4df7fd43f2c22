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
    /// Content-addressed blobs, uploaded by registered trainers only (D59): the signed headers are
    /// checked before the body is read, the body is read up to the genesis maximum or what is left
    /// of the trainer's quota, and only a valid, nonzero pseudo-gradient whose id is
    /// SHA-256(0x03 ‖ bytes) is stored. Downloads by id.
    static func addBlobRoutes(to router: Router<APIRequestContext>, validator: Validator) {
        let node = validator.node
        let blobs = BlobStore(database: validator.database)
        let uploads = validator.uploads
        router.put("/v1/blobs/{id}") { request, context -> Response in
            guard let text = context.parameters.get("id"), let id = try? Digest(hex: text) else {
                return NodeAPI.error(.badRequest, .badRequest, "blob id must be 64 hex characters (SHA-256 over 0x03 ‖ bytes)")
            }
            func header(_ name: String) -> String? { HTTPField.Name(name).flatMap { request.headers[$0] } }
            do {
                let trainer = try uploads.authorize(trainer: header(BlobUpload.trainerHeader), time: header(BlobUpload.timeHeader),
                                                    signature: header(BlobUpload.signatureHeader), blob: id, nowMs: ConsensusNode.unixTimeMs())
                let window = await node.status.progress.window
                let limit = try uploads.readLimit(trainer: trainer, window: window, declaredLength: request.headers[.contentLength].flatMap { Int($0) })
                let body: ByteBuffer
                do {
                    body = try await request.body.collect(upTo: limit)
                } catch {
                    return NodeAPI.error(.contentTooLarge, limit < uploads.maxBlobBytes ? .quotaExceeded : .tooLarge,
                                         limit < uploads.maxBlobBytes
                                             ? "the body exceeds the \(limit) bytes left of this trainer's upload quota for window \(window)"
                                             : "the body exceeds \(uploads.maxBlobBytes) bytes, the largest pseudo-gradient of the genesis task")
                }
                let created = try uploads.store(Array(buffer: body), id: id, trainer: trainer, window: window)
                return json(BlobReceipt(id: id.hex, size: body.readableBytes), status: created ? .created : .ok)
            } catch let refusal as BlobUploads.Refusal {
                switch refusal {
                case .unauthorized: return NodeAPI.error(.unauthorized, .unauthorized, refusal.description)
                case .notRegistered: return NodeAPI.error(.forbidden, .notRegistered, refusal.description)
                case .tooLarge: return NodeAPI.error(.contentTooLarge, .tooLarge, refusal.description)
                case .quota: return NodeAPI.error(.contentTooLarge, .quotaExceeded, refusal.description)
                case .invalid: return NodeAPI.error(.badRequest, .invalidBlob, refusal.description)
                case .insufficientStorage: return NodeAPI.error(HTTPResponse.Status(code: 507, reasonPhrase: "Insufficient Storage"), .insufficientStorage, refusal.description)
                }
            }
        }

        router.get("/v1/blobs/{id}") { _, context -> Response in
            guard let text = context.parameters.get("id"), let id = try? Digest(hex: text) else {
                return NodeAPI.error(.badRequest, .badRequest, "blob id must be 64 hex characters (SHA-256 over 0x03 ‖ bytes)")
            }
            guard let bytes = try blobs.get(id) else {
                return NodeAPI.error(.notFound, .unknownBlob, "no blob \(id.short)… here; upload it with PUT /v1/blobs/\(id.hex)")
            }
            return Response(status: .ok, headers: [.contentType: "application/octet-stream"],
                            body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
        }
    }
}
