import CairnCore
import CairnCrypto

/// Why an incoming message was refused before reaching the core (also metric labels).
public enum RejectReason: String, Error, Sendable, Hashable, CaseIterable {
    case unknownValidator = "unknown_validator"
    case senderMismatch = "sender_mismatch"
    case invalidSignature = "invalid_signature"
    case invalidCoinShare = "invalid_coin_share"
    case missingCoinShare = "missing_coin_share"
    case unexpectedCoinShare = "unexpected_coin_share"
    case notEnoughVotes = "not_enough_votes"
    case duplicateVoter = "duplicate_voter"
    case malformedVertex = "malformed_vertex"
    case oversizedPayload = "oversized_payload"
    case oversizedRequest = "oversized_request"
    case farFutureRound = "far_future_round"
    case belowGarbageCollection = "below_gc"
    case equivocation
    case conflictingCertificate = "conflicting_certificate"
    case bufferFull = "buffer_full"
    /// The author already has its share of the buffer (D39).
    case authorBufferFull = "author_buffer_full"
    /// A peer asked for more than its fetch budget (D39).
    case fetchFlood = "fetch_flood"
    case tooManyWeakEdges = "too_many_weak_edges"
    case invalidRecord = "invalid_record"
}

/// A certificate whose signatures, votes and coin share have been checked, with its digest.
public struct VerifiedCertificate: Sendable, Hashable {
    public let certificate: Certificate
    public let digest: Digest
    public var vertex: Vertex { certificate.vertex }
}

/// A message that passed `MessageVerifier`: the only form the core accepts, so a caller cannot
/// skip verification by accident.
public enum VerifiedMessage: Sendable, Hashable {
    case proposal(SignedVertex, digest: Digest)
    case vote(Vote)
    case certificate(VerifiedCertificate)
    case fetchCertificates([Digest])
    case fetchRounds(from: UInt64, to: UInt64)
    /// Valid certificates of a fetch answer (invalid ones are dropped and counted).
    case certificates([VerifiedCertificate], rejected: Int)
    /// Blob availability (D50), served and consumed by the shell; the core ignores both.
    case fetchBlobs([Digest])
    /// A blob and its id (SHA-256 over 0x03 ‖ bytes), computed here off the shell's actor.
    case blob(id: Digest, bytes: [UInt8])
}

/// Checks everything about a message that needs cryptography or only the committee: signatures,
/// vote quorums, coin-share proofs, structural vertex rules. Stateless and Sendable, so a shell can
/// run it on any thread, in parallel, before handing the result to the core.
public struct MessageVerifier: Sendable {
    public let settings: DAGRiderSettings
    let verifier: any ConsensusVerifier
    let coin: any CoinScheme
    /// Checks each record of a proposal before this validator votes for it (ARCHITECTURE §4: vote only
    /// if the payload is valid). Certificates need no check: 2f+1 voters, so at least f+1 honest
    /// ones, already made it.
    let payloadValidator: (@Sendable ([UInt8]) -> Bool)?
    /// Checks already done (shared by every connection's verifier); nil: verify everything.
    let cache: VerificationCache?

    public init(settings: DAGRiderSettings, verifier: any ConsensusVerifier, coin: any CoinScheme,
                payloadValidator: (@Sendable ([UInt8]) -> Bool)? = nil, cache: VerificationCache? = nil) {
        self.settings = settings
        self.verifier = verifier
        self.coin = coin
        self.payloadValidator = payloadValidator
        self.cache = cache
    }

    var committee: Committee { settings.committee }

    public func verify(_ message: ConsensusMessage, from sender: Int) -> Result<VerifiedMessage, RejectReason> {
        guard (0 ..< committee.size).contains(sender) else { return .failure(.unknownValidator) }
        switch message {
        case let .proposal(signed):
            guard Int(signed.vertex.author) == sender else { return .failure(.senderMismatch) }
            return verifySigned(signed, checkPayload: true).map { VerifiedMessage.proposal(signed, digest: $0) }
        case let .vote(vote):
            guard Int(vote.voter) == sender else { return .failure(.senderMismatch) }
            guard Int(vote.author) < committee.size else { return .failure(.unknownValidator) }
            guard verifier.verify(vote.signature, message: SigningMessages.vote(chain: committee.chain, digest: vote.digest),
                                  signer: Int(vote.voter)) else { return .failure(.invalidSignature) }
            return .success(.vote(vote))
        case let .certificate(certificate):
            return verify(certificate).map { .certificate($0) }
        case let .fetchCertificates(digests):
            guard digests.count <= ConsensusMessage.maxFetchDigests else { return .failure(.oversizedRequest) }
            return .success(.fetchCertificates(digests))
        case let .fetchRounds(from, to):
            guard from <= to, to - from <= settings.futureRoundWindow else { return .failure(.oversizedRequest) }
            return .success(.fetchRounds(from: from, to: to))
        case let .certificates(certificates):
            var valid: [VerifiedCertificate] = []
            for certificate in certificates {
                if case let .success(verified) = verify(certificate) { valid.append(verified) }
            }
            return .success(.certificates(valid, rejected: certificates.count - valid.count))
        case let .fetchBlobs(ids):
            guard ids.count <= ConsensusMessage.maxFetchBlobs else { return .failure(.oversizedRequest) }
            return .success(.fetchBlobs(ids))
        case let .blob(bytes):
            return .success(.blob(id: Hashing.digest(.blob, bytes), bytes: bytes))
        }
    }

    public func verify(_ certificate: Certificate) -> Result<VerifiedCertificate, RejectReason> {
        let digest: Digest
        switch verifySigned(certificate.signedVertex, checkPayload: false) {
        case let .success(d): digest = d
        case let .failure(reason): return .failure(reason)
        }
        guard certificate.votes.count >= committee.quorum else { return .failure(.notEnoughVotes) }
        let key = cache.map { _ in VerificationCache.key(digest: digest, votes: certificate.votes) }
        if let cache, let key, cache.containsCertified(key) {
            return .success(VerifiedCertificate(certificate: certificate, digest: digest))
        }
        var previous = -1
        let message = SigningMessages.vote(chain: committee.chain, digest: digest)
        for vote in certificate.votes {
            // Sorted strictly ascending: distinct voters and one canonical form per certificate.
            guard Int(vote.voter) > previous else { return .failure(.duplicateVoter) }
            guard Int(vote.voter) < committee.size else { return .failure(.unknownValidator) }
            previous = Int(vote.voter)
            guard verifier.verify(vote.signature, message: message, signer: Int(vote.voter)) else {
                return .failure(.invalidSignature)
            }
        }
        if let cache, let key { cache.insertCertified(key) }
        return .success(VerifiedCertificate(certificate: certificate, digest: digest))
    }

    /// Structural rules, the author's signature and the coin share of a signed vertex, and — for a
    /// proposal this validator may vote for — every record of its payload (ARCHITECTURE §4: vote only if
    /// the payload is valid; a certificate's payload was already vouched for by f+1 honest voters).
    func verifySigned(_ signed: SignedVertex, checkPayload: Bool) -> Result<Digest, RejectReason> {
        let vertex = signed.vertex
        guard Int(vertex.author) < committee.size else { return .failure(.unknownValidator) }
        if let reason = structuralProblem(vertex) { return .failure(reason) }
        let digest = SigningMessages.vertexDigest(vertex)
        // A cached entry means all of this, payload included, already passed for these exact bytes.
        let key = cache.map { _ in VerificationCache.key(digest: digest, signature: signed.signature) }
        if let cache, let key, cache.containsSigned(key) { return .success(digest) }
        guard verifier.verify(signed.signature, message: SigningMessages.proposal(chain: committee.chain, digest: digest),
                              signer: Int(vertex.author)) else { return .failure(.invalidSignature) }
        if let wave = Wave.coinWave(carriedIn: vertex.round) {
            guard let share = vertex.coinShare else { return .failure(.missingCoinShare) }
            guard share.index == vertex.author + 1, coin.verify(share, wave: wave) else { return .failure(.invalidCoinShare) }
        } else if vertex.coinShare != nil {
            return .failure(.unexpectedCoinShare)
        }
        if checkPayload, let payloadValidator, !vertex.payload.allSatisfy(payloadValidator) { return .failure(.invalidRecord) }
        // Only a full check (payload included, when there is a validator) may be remembered.
        if let cache, let key, checkPayload || payloadValidator == nil { cache.insertSigned(key) }
        return .success(digest)
    }

    /// Rules that need no DAG: round ≥ 1; round 1 has no edges; later rounds have ≥ 2f+1 distinct
    /// strong edges (DAG-Rider Alg. 2 line 4); edges are distinct; payload within bounds.
    func structuralProblem(_ vertex: Vertex) -> RejectReason? {
        guard vertex.round >= 1 else { return .malformedVertex }
        if vertex.round == 1 {
            guard vertex.strongEdges.isEmpty && vertex.weakEdges.isEmpty else { return .malformedVertex }
        } else {
            guard vertex.strongEdges.count >= committee.quorum, vertex.strongEdges.count <= committee.size else {
                return .malformedVertex
            }
            guard vertex.weakEdges.count <= committee.maxWeakEdges else { return .tooManyWeakEdges }
            let all = vertex.strongEdges + vertex.weakEdges
            guard Set(all).count == all.count else { return .malformedVertex }
        }
        guard vertex.payload.count <= settings.maxRecordsPerVertex, vertex.payloadBytes <= settings.maxVertexBytes else {
            return .oversizedPayload
        }
        return nil
    }
}
