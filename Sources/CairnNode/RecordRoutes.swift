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
    /// Submitting records (durable before the 202, D42), following what was committed, one record's outcome, the delivered sequence.
    static func addRecordRoutes(to router: Router<APIRequestContext>, validator: Validator, rejections: RejectionCounter) {
        let node = validator.node
        router.post("/v1/records") { request, _ -> Response in
            let body: ByteBuffer
            do {
                body = try await request.body.collect(upTo: maxBodyBytes)
            } catch {
                rejections.add("too_large")
                return NodeAPI.error(.contentTooLarge, .tooLarge, "request body exceeds \(maxBodyBytes) bytes")
            }
            // One record {"record": hex} or a batch {"records": [hex, …]} (load generators).
            guard let submit = try? JSONDecoder().decode(RecordSubmissionRequest.self, from: Data(Array(buffer: body))),
                  let texts = submit.records ?? submit.record.map({ [$0] }), !texts.isEmpty, texts.count <= 1000 else {
                return NodeAPI.error(.badRequest, .badRequest,
                                     "body must be {\"record\": \"<hex SignedRecord>\"} or {\"records\": [up to 1000 of them]}")
            }
            var accepted: [[UInt8]] = []
            var ids: [String] = []
            for (index, text) in texts.enumerated() {
                guard let bytes = Hex.decode(text) else {
                    rejections.add("not_hex")
                    return NodeAPI.error(.badRequest, .badRequest, "record \(index) is not hexadecimal")
                }
                do {
                    let (_, id) = try validator.validateRecord(bytes)
                    accepted.append(bytes)
                    ids.append(id.hex)
                } catch {
                    rejections.add("invalid_record")
                    return NodeAPI.error(.badRequest, .invalidRecord, "record \(index): \(error)")
                }
            }
            // Durable before the 202 (D42): a crash after the answer cannot lose what it promised.
            let taken: Int
            do {
                taken = try await node.admitRecords(accepted, keepRefused: false)
            } catch {
                rejections.add("storage_failure")
                return NodeAPI.error(.serviceUnavailable, .storageFailure, "could not store the records durably (\(error)); nothing was accepted, retry later")
            }
            guard taken == accepted.count else {
                rejections.add("overloaded")
                return NodeAPI.error(.serviceUnavailable, .overloaded,
                                     taken == 0 ? "the pending-record queue is full; retry later"
                                                : "the pending-record queue took only the first \(taken) of \(accepted.count) records (their ids are the first \(taken) of a full submission); resubmit the rest later")
            }
            return json(submit.records == nil ? SubmitReply(id: ids[0]) : SubmitReply(ids: ids), status: .accepted)
        }

        // Committed records in sequence order, for clients that follow the ledger (load generators,
        // indexers): GET /v1/committed?from=P[&limit=N] → {"records": [id…], "next": P'}.
        router.get("/v1/committed") { request, _ -> Response in
            guard let from = request.uri.queryParameters.get("from", as: UInt64.self) else {
                return NodeAPI.error(.badRequest, .badRequest, "give ?from=<sequence position>")
            }
            let limit = min(request.uri.queryParameters.get("limit", as: Int.self) ?? 1000, 5000)
            do {
                let (ids, next) = try validator.node.database.committedRecords(from: from, limit: max(1, limit))
                return json(CommittedRecords(records: ids.map(\.hex), next: next))
            } catch let pruned as ConsensusStore.HistoryPruned {
                return NodeAPI.error(.gone, .pruned, pruned.description)
            }
        }

        // Batch status: {"ids": [hex, …]} → {"committed": {id: position}} for those committed.
        router.post("/v1/records/status") { request, _ -> Response in
            guard let body = try? await request.body.collect(upTo: maxBodyBytes * 4) else {
                return NodeAPI.error(.contentTooLarge, .tooLarge, "request body exceeds \(maxBodyBytes * 4) bytes")
            }
            guard let query = try? JSONDecoder().decode(RecordStatusQuery.self, from: Data(Array(buffer: body))), query.ids.count <= 10_000 else {
                return NodeAPI.error(.badRequest, .badRequest, "body must be {\"ids\": [up to 10000 hex record ids]}")
            }
            var committed: [String: UInt64] = [:]
            for text in query.ids {
                if let id = try? Digest(hex: text), let position = try validator.node.database.recordPosition(id) { committed[text] = position }
            }
            return json(CommittedPositions(committed: committed))
        }

        router.get("/v1/records/{id}") { _, context -> Response in
            guard let text = context.parameters.get("id"), let id = try? Digest(hex: text) else {
                return NodeAPI.error(.badRequest, .badRequest, "id must be 64 hex characters")
            }
            if let status = try validator.node.database.recordStatus(id) {
                if let rejection = status.rejection {
                    return json(RecordReply(id: id.hex, status: "rejected", position: status.position,
                                            reason: rejection.reason.rawValue, detail: rejection.detail))
                }
                return json(RecordReply(id: id.hex, status: "committed", position: status.position, reason: nil, detail: nil))
            }
            return NodeAPI.error(.notFound, .unknownRecord, "record \(id.short)… is not committed (it may still be pending)")
        }

        router.get("/v1/sequence/{position}") { _, context -> Response in
            guard let text = context.parameters.get("position"), let position = UInt64(text) else {
                return NodeAPI.error(.badRequest, .badRequest, "position must be a non-negative integer")
            }
            guard let entry = try validator.node.database.sequenceEntry(position) else {
                return NodeAPI.error(.notFound, .notDelivered, "nothing delivered at position \(position) yet")
            }
            return json(SequenceEntry(position: position, digest: entry.digest.hex, round: entry.round, sequenceHash: entry.sequenceHash.hex))
        }
    }
}
