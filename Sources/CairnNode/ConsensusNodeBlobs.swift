import CairnChain
import CairnCore
import CairnCrypto
import CairnLedger
import CairnNet
import CairnStorage
import DAGRider
import Foundation

/// The consensus actor's side of blob availability (D50): a certificate naming blobs this
/// validator lacks waits in `BlobAvailability` while they are fetched from the peers that voted
/// for it; blobs asked of this validator are served.
extension ConsensusNode {

    /// Hands a proposal or certificate to the core once this validator holds every blob its
    /// contribution records name; until then it waits while the blobs are fetched from peers.
    func admit(_ held: BlobAvailability.Held) throws {
        let missing = try missingBlobs(of: held.vertex)
        if missing.isEmpty { try release(held) } else { hold(held, missing: missing) }
    }

    func missingBlobs(of vertex: Vertex) throws -> Set<Digest> {
        guard !vertex.payload.isEmpty else { return [] }
        let named = BlobAvailability.blobs(of: vertex)
        let missing = try named.filter { try !blobs.contains($0) }
        let present = named.subtracting(missing)
        if !present.isEmpty { onBlobsNamed?(present.sorted { $0.bytes.lexicographicallyPrecedes($1.bytes) }, progress.window) }
        return missing
    }

    func hold(_ held: BlobAvailability.Held, missing: Set<Digest>) {
        guard let actions = availability?.hold(held, missing: missing, nowMs: nowMs) else {
            refused["blob_wait_full", default: 0] += 1
            return
        }
        metrics.blobWaits += 1
        perform(actions)
    }

    func release(_ held: BlobAvailability.Held) throws {
        switch held {
        case let .proposal(signed, digest, from):
            try execute(core.onMessage(.proposal(signed, digest: digest), from: from, nowMs: nowMs))
        case let .certificate(certificate, from):
            try execute(core.onMessage(.certificate(certificate), from: from, nowMs: nowMs))
        }
    }

    func perform(_ actions: [BlobAvailability.Action]) {
        var asks: [Int: [Digest]] = [:]
        for action in actions {
            switch action {
            case let .ask(blob, peer): asks[peer, default: []].append(blob)
            case .expired:
                // Not voted for: the blob never reached this validator in time (D50).
                refused["blob_unavailable", default: 0] += 1
                metrics.blobWaitsExpired += 1
            case .release: break
            }
        }
        for (peer, ids) in asks.sorted(by: { $0.key < $1.key }) {
            for start in stride(from: 0, to: ids.count, by: ConsensusMessage.maxFetchBlobs) {
                metrics.blobFetchesSent += 1
                mesh.send(to: peer, ConsensusMessage.fetchBlobs(Array(ids[start ..< min(ids.count, start + ConsensusMessage.maxFetchBlobs)])).canonicalBytes)
            }
        }
    }

    /// Answers a peer's blob request with every named blob stored here (one message each).
    func serveBlobs(_ ids: [Digest], to peer: Int) throws {
        for id in ids {
            guard let bytes = try blobs.get(id) else { continue }
            guard bytes.count <= ConsensusMessage.maxBlobBytes else { refused["fetch_answer_oversize", default: 0] += 1; continue }
            metrics.blobsServed += 1
            mesh.send(to: peer, ConsensusMessage.blob(bytes).canonicalBytes)
        }
    }

    /// Stores a blob that a held vertex waits for and releases what waited on it. Unrequested
    /// blobs are dropped: a peer cannot fill this validator's store with blobs nobody named.
    func receiveBlob(id: Digest, bytes: [UInt8]) throws {
        guard var availability, availability.isWanted(id) else { refused["unsolicited_blob", default: 0] += 1; return }
        if let limit = store.ledger?.ledger.parameters.maxContributionBytes, UInt64(bytes.count) > limit {
            refused["oversize_blob", default: 0] += 1
            return
        }
        do {
            try blobs.put(bytes, expected: id)
        } catch {
            storageFailure = error
            throw error
        }
        metrics.blobsFetched += 1
        metrics.blobBytesFetched += UInt64(bytes.count)
        let actions = availability.arrived(id)
        self.availability = availability
        for case let .release(held) in actions { try release(held) }
    }
}
