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
            // Refused before the body is read when the queue is already at its bound (D62).
            if case let .refuse(retry, inFlight, limit) = node.intake.verdict(incoming: 1) {
                return overloaded(retryAfter: retry, inFlight: inFlight, limit: limit, rejections: rejections)
            }
            let body: ByteBuffer
            do {
                body = try await request.body.collect(upTo: maxBodyBytes)
            } catch {
                rejections.add("too_large")
                return NodeAPI.error(.contentTooLarge, .tooLarge, "request body exceeds \(maxBodyBytes) bytes")
            }
            let records: [[UInt8]]
            let batch: Bool
            switch decodeSubmission(body, contentType: request.headers[.contentType]) {
            case let .success(decoded): (records, batch) = decoded
            case let .failure(failure):
                rejections.add(failure.reason)
                return NodeAPI.error(.badRequest, .badRequest, failure.detail)
            }
            // The whole request is reserved in the bound before any signature is checked.
            if case let .refuse(retry, inFlight, limit) = node.intake.reserve(records.count) {
                return overloaded(retryAfter: retry, inFlight: inFlight, limit: limit, rejections: rejections)
            }
            var ids: [String] = []
            ids.reserveCapacity(records.count)
            for (index, bytes) in records.enumerated() {
                do {
                    ids.append(try validator.validateRecord(bytes).1.hex)
                } catch {
                    node.intake.released(records.count)
                    rejections.add("invalid_record")
                    return NodeAPI.error(.badRequest, .invalidRecord, "record \(index): \(error)")
                }
            }
            // Durable before the 202 (D42): a crash after the answer cannot lose what it promised.
            let taken: Int
            do {
                taken = try await node.admitRecords(records, keepRefused: false)
            } catch {
                node.intake.released(records.count)
                rejections.add("storage_failure")
                return NodeAPI.error(.serviceUnavailable, .storageFailure, "could not store the records durably (\(error)); nothing was accepted, retry later")
            }
            guard taken == records.count else {
                node.intake.released(records.count - taken)
                rejections.add("overloaded")
                return NodeAPI.error(.serviceUnavailable, .overloaded,
                                     taken == 0 ? "the pending-record queue is full; retry later"
                                                : "the pending-record queue took only the first \(taken) of \(records.count) records (their ids are the first \(taken) of a full submission); resubmit the rest later")
            }
            return json(batch ? SubmitReply(ids: ids) : SubmitReply(id: ids[0]), status: .accepted)
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

    /// 503 with Retry-After: this validator holds as many accepted, uncommitted records as it can
    /// commit within its delay target (D62).
    static func overloaded(retryAfter: Int, inFlight: Int, limit: Int, rejections: RejectionCounter) -> Response {
        rejections.add("overloaded")
        var response = NodeAPI.error(.serviceUnavailable, .overloaded,
                                     "this validator holds \(inFlight) accepted records not yet committed (its bound is \(limit), what it commits in its intake delay); retry after \(retryAfter) s or submit to another validator")
        response.headers[.retryAfter] = "\(retryAfter)"
        return response
    }

    struct SubmissionFailure: Error {
        let reason: String
        let detail: String
    }

    /// The records of a submission: JSON `{"record": hex}` / `{"records": [hex, …]}`, or
    /// `application/octet-stream` — records in their canonical encoding, each preceded by its length
    /// as a 4-byte big-endian integer (`RecordFraming`). At most 1,000 records either way.
    static func decodeSubmission(_ body: ByteBuffer, contentType: String?) -> Result<(records: [[UInt8]], batch: Bool), SubmissionFailure> {
        if let contentType, contentType.lowercased().hasPrefix("application/octet-stream") {
            switch RecordFraming.split(body.readableBytesView, maxRecords: maxRecordsPerSubmission, maxRecordBytes: maxBodyBytes) {
            case let .success(records): return .success((records, true))
            case let .failure(error): return .failure(SubmissionFailure(reason: "bad_framing", detail: "binary submission: \(error)"))
            }
        }
        guard let submit = try? JSONDecoder().decode(RecordSubmissionRequest.self, from: Data(body.readableBytesView)),
              let texts = submit.records ?? submit.record.map({ [$0] }), !texts.isEmpty, texts.count <= maxRecordsPerSubmission else {
            return .failure(SubmissionFailure(reason: "bad_request",
                                              detail: "body must be {\"record\": \"<hex SignedRecord>\"} or {\"records\": [up to \(maxRecordsPerSubmission) of them]}, or application/octet-stream with length-prefixed records"))
        }
        var records: [[UInt8]] = []
        records.reserveCapacity(texts.count)
        for (index, text) in texts.enumerated() {
            guard let bytes = Hex.decode(text) else { return .failure(SubmissionFailure(reason: "not_hex", detail: "record \(index) is not hexadecimal")) }
            records.append(bytes)
        }
        return .success((records, submit.records != nil))
    }

    static let maxRecordsPerSubmission = 1_000
}
