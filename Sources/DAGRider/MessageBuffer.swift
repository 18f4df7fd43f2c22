import CairnCore

/// Proposals and certificates held while their missing parents are fetched, bounded so that no
/// single author can fill them (ARCHITECTURE §4 "Limits"; DECISIONS D39).
///
/// - At most one buffered proposal and one buffered certificate per slot (author, round): a
///   second, different proposal for a slot is equivocation evidence, not a new entry, and a
///   second certificate for a slot would need f+1 double voters.
/// - Per author, at most `proposalsPerAuthor` proposals and `certificatesPerAuthor` certificates;
///   the two kinds have separate totals, so proposals (which anyone can sign for their own slots)
///   can never crowd out certificates (which carry 2f+1 votes).
/// - Callers refuse rounds below the GC floor and beyond the far-future window before buffering,
///   so an author's slots are bounded too.
struct MessageBuffer {
    struct Limits: Sendable {
        var proposalsPerAuthor: Int
        var certificatesPerAuthor: Int
        var totalProposals: Int
        var totalCertificates: Int
    }

    struct Slot: Hashable { let author: Int; let round: UInt64 }

    struct Proposal { let signed: SignedVertex; let from: Int; var missing: Int }
    struct Certificate { let certificate: VerifiedCertificate; var missing: Int }

    enum Refusal: Equatable {
        /// A different proposal for a slot that already has one buffered.
        case equivocation
        /// A different certificate for a slot that already has one buffered.
        case conflictingCertificate
        /// The author's own budget is spent.
        case authorBudget
        /// The kind's total is spent.
        case full
    }

    let limits: Limits
    private(set) var proposals: [Digest: Proposal] = [:]
    private(set) var certificates: [Digest: Certificate] = [:]
    private var proposalSlots: [Slot: Digest] = [:]
    private var certificateSlots: [Slot: Digest] = [:]
    private var proposalsByAuthor: [Int: Int] = [:]
    private var certificatesByAuthor: [Int: Int] = [:]

    init(limits: Limits) { self.limits = limits }

    var count: Int { proposals.count + certificates.count }

    func proposalCount(author: Int) -> Int { proposalsByAuthor[author, default: 0] }
    func certificateCount(author: Int) -> Int { certificatesByAuthor[author, default: 0] }

    /// Buffers a proposal, or says why not. The caller has checked that `digest` is not buffered.
    mutating func add(proposal signed: SignedVertex, digest: Digest, from sender: Int, missing: Int) -> Refusal? {
        let slot = Slot(author: Int(signed.vertex.author), round: signed.vertex.round)
        if let existing = proposalSlots[slot] { return existing == digest ? nil : .equivocation }
        guard proposalsByAuthor[slot.author, default: 0] < limits.proposalsPerAuthor else { return .authorBudget }
        guard proposals.count < limits.totalProposals else { return .full }
        proposals[digest] = Proposal(signed: signed, from: sender, missing: missing)
        proposalSlots[slot] = digest
        proposalsByAuthor[slot.author, default: 0] += 1
        return nil
    }

    /// Buffers a certificate, or says why not. The caller has checked that `digest` is not buffered.
    mutating func add(certificate: VerifiedCertificate, missing: Int) -> Refusal? {
        let slot = Slot(author: Int(certificate.vertex.author), round: certificate.vertex.round)
        if let existing = certificateSlots[slot] { return existing == certificate.digest ? nil : .conflictingCertificate }
        guard certificatesByAuthor[slot.author, default: 0] < limits.certificatesPerAuthor else { return .authorBudget }
        guard certificates.count < limits.totalCertificates else { return .full }
        certificates[certificate.digest] = Certificate(certificate: certificate, missing: missing)
        certificateSlots[slot] = certificate.digest
        certificatesByAuthor[slot.author, default: 0] += 1
        return nil
    }

    /// One parent of a buffered proposal arrived; returns the proposal once none is missing
    /// (it has then left the buffer).
    mutating func parentArrived(proposal digest: Digest) -> Proposal? {
        guard var entry = proposals[digest] else { return nil }
        entry.missing -= 1
        guard entry.missing <= 0 else { proposals[digest] = entry; return nil }
        removeProposal(digest)
        return entry
    }

    /// One parent of a buffered certificate arrived; returns the certificate once none is missing
    /// (it has then left the buffer).
    mutating func parentArrived(certificate digest: Digest) -> VerifiedCertificate? {
        guard var entry = certificates[digest] else { return nil }
        entry.missing -= 1
        guard entry.missing <= 0 else { certificates[digest] = entry; return nil }
        removeCertificate(digest)
        return entry.certificate
    }

    /// Drops everything of rounds below `floor`.
    mutating func removeBelow(_ floor: UInt64) {
        for (digest, entry) in proposals where entry.signed.vertex.round < floor { removeProposal(digest) }
        for (digest, entry) in certificates where entry.certificate.vertex.round < floor { removeCertificate(digest) }
    }

    /// Every edge of every buffered message.
    var edges: Set<Digest> {
        var edges = Set<Digest>()
        for entry in certificates.values { edges.formUnion(entry.certificate.vertex.strongEdges + entry.certificate.vertex.weakEdges) }
        for entry in proposals.values { edges.formUnion(entry.signed.vertex.strongEdges + entry.signed.vertex.weakEdges) }
        return edges
    }

    private mutating func removeProposal(_ digest: Digest) {
        guard let entry = proposals.removeValue(forKey: digest) else { return }
        let slot = Slot(author: Int(entry.signed.vertex.author), round: entry.signed.vertex.round)
        proposalSlots[slot] = nil
        Self.decrement(&proposalsByAuthor, slot.author)
    }

    private mutating func removeCertificate(_ digest: Digest) {
        guard let entry = certificates.removeValue(forKey: digest) else { return }
        let slot = Slot(author: Int(entry.certificate.vertex.author), round: entry.certificate.vertex.round)
        certificateSlots[slot] = nil
        Self.decrement(&certificatesByAuthor, slot.author)
    }

    private static func decrement(_ counts: inout [Int: Int], _ author: Int) {
        let left = counts[author, default: 0] - 1
        counts[author] = left > 0 ? left : nil
    }
}
