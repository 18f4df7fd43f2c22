import CairnCore
import DAGRider

/// Which vertices wait for which contribution blobs, and whom to ask next (D50). Pure: the
/// consensus shell checks its blob store, sends the asks it returns, stores the blobs that arrive
/// and hands released messages to the core.
///
/// A proposal is held until every blob its contribution records name is stored here, so this
/// validator votes only for vertices whose blobs it holds; one still waiting after
/// `proposalWaitMs` is dropped unvoted (the author repeats a proposal that gathers no quorum, which
/// starts a new wait). A certificate is held the same way but never expires: 2f+1 validators voted
/// for it, so at least f+1 honest ones stored its blobs and keep them, and every vertex in this
/// validator's DAG then has its blobs here by the time the ledger needs them.
struct BlobAvailability {
    struct Limits {
        /// How long a proposal waits for its blobs before it is dropped unvoted.
        var proposalWaitMs: UInt64 = 10_000
        /// A blob not arrived this long after an ask is asked of the next peer.
        var askEveryMs: UInt64 = 1_000
        /// Held vertices in all (a certificate beyond it is dropped; the core fetches it again
        /// as a missing parent when a child arrives).
        var maxHeld = 512
        /// Held proposals per author: an equivocating author cannot fill the table alone.
        var maxProposalsPerAuthor = 4
        /// Asks sent per tick, so a catch-up that names thousands of blobs paces itself.
        var maxAsksPerTick = 64
    }

    enum Held: Sendable, Hashable {
        case proposal(SignedVertex, digest: Digest, from: Int)
        case certificate(VerifiedCertificate, from: Int)

        var digest: Digest {
            switch self {
            case let .proposal(_, digest, _): digest
            case let .certificate(certificate, _): certificate.digest
            }
        }

        var vertex: Vertex {
            switch self {
            case let .proposal(signed, _, _): signed.vertex
            case let .certificate(certificate, _): certificate.vertex
            }
        }

        var isProposal: Bool { if case .proposal = self { true } else { false } }
    }

    enum Action: Sendable, Hashable {
        case ask(blob: Digest, peer: Int)
        /// Every blob of this vertex is stored: hand it to the core.
        case release(Held)
        /// A proposal whose blobs did not arrive in time: dropped unvoted.
        case expired(Held)
    }

    struct Entry {
        var held: Held
        var missing: Set<Digest>
        var sinceMs: UInt64
    }

    struct Want {
        /// Peers to ask, in order: the sender first (it proposed or certified the vertex), then
        /// the certificate's voters, then everyone else.
        var peers: [Int]
        var next = 0
        var askedAtMs: UInt64?
        var dependents: Set<Digest> = []
    }

    let limits: Limits
    let me: Int
    let validators: Int
    private(set) var entries: [Digest: Entry] = [:]
    private(set) var wants: [Digest: Want] = [:]

    init(me: Int, validators: Int, limits: Limits = Limits()) {
        self.me = me
        self.validators = validators
        self.limits = limits
    }

    var heldCount: Int { entries.count }
    func isWanted(_ blob: Digest) -> Bool { wants[blob] != nil }
    func isHeld(_ vertex: Digest) -> Bool { entries[vertex] != nil }

    /// Holds `held` until `missing` (non-empty) arrive; returns the first asks, or nil when the
    /// table refuses it (full, or too many proposals of its author).
    mutating func hold(_ held: Held, missing: Set<Digest>, nowMs: UInt64) -> [Action]? {
        let digest = held.digest
        if let existing = entries[digest] {
            // A certificate for a held proposal takes its place: it never expires.
            if existing.held.isProposal, !held.isProposal { entries[digest]?.held = held }
            return []
        }
        guard entries.count < limits.maxHeld else { return nil }
        if held.isProposal {
            let author = held.vertex.author
            let sameAuthor = entries.values.filter { $0.held.isProposal && $0.held.vertex.author == author }.count
            guard sameAuthor < limits.maxProposalsPerAuthor else { return nil }
        }
        entries[digest] = Entry(held: held, missing: missing, sinceMs: nowMs)
        var actions: [Action] = []
        for blob in missing.sorted(by: { $0.bytes.lexicographicallyPrecedes($1.bytes) }) {
            if wants[blob] == nil {
                wants[blob] = Want(peers: peerOrder(for: held))
            }
            wants[blob]?.dependents.insert(digest)
            if wants[blob]?.askedAtMs == nil, let ask = ask(blob, nowMs: nowMs) { actions.append(ask) }
        }
        return actions
    }

    /// A wanted blob is stored: releases the vertices that waited only on it.
    mutating func arrived(_ blob: Digest) -> [Action] {
        guard let want = wants.removeValue(forKey: blob) else { return [] }
        var released: [Action] = []
        for digest in want.dependents.sorted(by: { $0.bytes.lexicographicallyPrecedes($1.bytes) }) {
            guard var entry = entries[digest] else { continue }
            entry.missing.remove(blob)
            if entry.missing.isEmpty {
                entries[digest] = nil
                released.append(.release(entry.held))
            } else {
                entries[digest] = entry
            }
        }
        return released
    }

    /// Expires proposals past their wait and asks the next peer for blobs whose ask went
    /// unanswered.
    mutating func tick(nowMs: UInt64) -> [Action] {
        var actions: [Action] = []
        for (digest, entry) in entries where entry.held.isProposal && nowMs >= entry.sinceMs &+ limits.proposalWaitMs {
            entries[digest] = nil
            actions.append(.expired(entry.held))
            for blob in entry.missing {
                wants[blob]?.dependents.remove(digest)
                if wants[blob]?.dependents.isEmpty == true { wants[blob] = nil }
            }
        }
        var asks = 0
        for blob in wants.keys.sorted(by: { $0.bytes.lexicographicallyPrecedes($1.bytes) }) where asks < limits.maxAsksPerTick {
            guard let want = wants[blob] else { continue }
            if let at = want.askedAtMs, nowMs < at &+ limits.askEveryMs { continue }
            if let ask = ask(blob, nowMs: nowMs) {
                actions.append(ask)
                asks += 1
            }
        }
        return actions
    }

    private mutating func ask(_ blob: Digest, nowMs: UInt64) -> Action? {
        guard var want = wants[blob], !want.peers.isEmpty else { return nil }
        let peer = want.peers[want.next % want.peers.count]
        want.next = (want.next + 1) % want.peers.count
        want.askedAtMs = nowMs
        wants[blob] = want
        return .ask(blob: blob, peer: peer)
    }

    private func peerOrder(for held: Held) -> [Int] {
        var order: [Int] = []
        func add(_ peer: Int) {
            if peer != me, (0 ..< validators).contains(peer), !order.contains(peer) { order.append(peer) }
        }
        switch held {
        case let .proposal(signed, _, from):
            add(from)
            add(Int(signed.vertex.author))
        case let .certificate(certificate, from):
            add(from)
            add(Int(certificate.vertex.author))
            for vote in certificate.certificate.votes { add(Int(vote.voter)) }
        }
        for peer in 0 ..< validators { add(peer) }
        return order
    }
}

extension BlobAvailability {
    /// Blob ids named by the contribution records of `vertex` (records that do not decode name
    /// none: the ledger rejects them, and they need no blob).
    static func blobs(of vertex: Vertex) -> Set<Digest> {
        var ids: Set<Digest> = []
        for bytes in vertex.payload {
            guard let record = try? SignedRecord(canonicalBytes: bytes),
                  case let .contribution(contribution)? = try? RecordBody(canonicalBytes: record.body) else { continue }
            ids.insert(contribution.blob)
        }
        return ids
    }
}
