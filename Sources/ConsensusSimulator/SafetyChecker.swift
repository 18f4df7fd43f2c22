import CairnCore
import DAGRider

/// Checks a run from the outside (ARCHITECTURE §12): it looks only at messages on the simulated wire and
/// at the sequences validators delivered, never at a core's own bookkeeping.
struct SafetyChecker {
    struct Certified {
        let round: UInt64
        let author: Int
        let parents: [Digest]
    }

    let committee: Committee
    let gcDepth: UInt64
    let signatures: KeyedHashSignatures
    private(set) var certified: [Digest: Certified] = [:]
    private var slotCertificates: [String: Set<Digest>] = [:]
    private var honestVotes: [String: Digest] = [:]
    private(set) var violations: [String] = []

    init(committee: Committee, gcDepth: UInt64, signatures: KeyedHashSignatures) {
        self.committee = committee
        self.gcDepth = gcDepth
        self.signatures = signatures
    }

    mutating func violation(_ text: String) {
        if violations.count < 20 { violations.append(text) }
    }

    /// A certificate seen anywhere: counted as certified only if the checker itself finds 2f+1
    /// distinct valid vote signatures over the vertex it carries.
    mutating func observe(_ certificate: Certificate) {
        let digest = SigningMessages.vertexDigest(certificate.vertex)
        guard certified[digest] == nil else { return }
        let message = SigningMessages.vote(chain: committee.chain, digest: digest)
        let voters = Set(certificate.votes.filter { signatures.verify($0.signature, message: message, signer: Int($0.voter)) }.map(\.voter))
        guard voters.count >= committee.quorum else { return }
        let vertex = certificate.vertex
        certified[digest] = Certified(round: vertex.round, author: Int(vertex.author), parents: vertex.strongEdges + vertex.weakEdges)
        let slot = "\(vertex.author)/\(vertex.round)"
        slotCertificates[slot, default: []].insert(digest)
        if slotCertificates[slot]!.count > 1 {
            violation("two certified vertices for author \(vertex.author) round \(vertex.round)")
        }
    }

    /// A vote sent by an honest validator: it must never vote for two vertices of one slot, not even
    /// across a crash and restart.
    mutating func observeHonestVote(_ vote: Vote) {
        let key = "\(vote.voter)/\(vote.author)/\(vote.round)"
        if let earlier = honestVotes[key], earlier != vote.digest {
            violation("honest validator \(vote.voter) voted for two vertices of author \(vote.author) round \(vote.round)")
        }
        honestVotes[key] = vote.digest
    }

    /// Final checks over the delivered sequences of honest validators.
    mutating func checkSequences(_ sequences: [Int: [(digest: Digest, leaderRound: UInt64)]]) {
        let nodes = sequences.keys.sorted()
        for node in nodes {
            let sequence = sequences[node]!
            var position: [Digest: Int] = [:]
            for (index, entry) in sequence.enumerated() {
                if position[entry.digest] != nil { violation("validator \(node) delivered \(entry.digest.short) twice") }
                position[entry.digest] = index
                guard let info = certified[entry.digest] else {
                    violation("validator \(node) delivered \(entry.digest.short), which no valid certificate on the wire certifies")
                    continue
                }
                // Causal order: every parent within the delivery line comes first.
                let line = entry.leaderRound > gcDepth ? entry.leaderRound - gcDepth : 0
                for parent in info.parents {
                    guard let parentInfo = certified[parent], parentInfo.round >= line else { continue }
                    guard let at = position[parent], at < index else {
                        violation("validator \(node) delivered \(entry.digest.short) (round \(info.round)) before its parent \(parent.short) (round \(parentInfo.round))")
                        break
                    }
                }
            }
        }
        // Agreement and total order: all sequences are prefixes of the longest.
        guard let longest = nodes.max(by: { sequences[$0]!.count < sequences[$1]!.count }) else { return }
        let reference = sequences[longest]!.map(\.digest)
        for node in nodes where node != longest {
            let sequence = sequences[node]!.map(\.digest)
            if let index = zip(sequence, reference).enumerated().first(where: { $0.element.0 != $0.element.1 })?.offset {
                violation("validators \(node) and \(longest) diverge at position \(index): \(sequence[index].short) vs \(reference[index].short)")
            }
        }
    }
}
