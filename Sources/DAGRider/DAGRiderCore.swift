import CairnCore

/// DAG-Rider (Keidar et al., "All You Need is DAG", PODC'21) over certified vertices, as a pure
/// state machine (ARCHITECTURE §4): every input returns the directives its shell must execute, in order.
/// No I/O, no clock (time is an input), no verification crypto (inputs are `VerifiedMessage`s);
/// the injected signer and coin only produce this validator's own signatures and shares.
///
/// ### Layers
/// - Reliable broadcast by certificates (replacing the paper's Bracha RBC, Alg. 1): a proposal
///   collects 2f+1 votes into a certificate; a validator votes at most once per (author, round),
///   so at most one vertex per slot is ever certified.
/// - DAG construction (Alg. 2): certified vertices enter the DAG once their edges are present; a
///   new round starts when the DAG holds 2f+1 certificates of the current one.
/// - Ordering (Alg. 3): waves of 4 rounds, leader from the threshold coin, commit on 2f+1 strong
///   paths from round 4w, recursive commit of earlier leaders, deterministic delivery.
public struct DAGRiderCore: Sendable {
    public let settings: DAGRiderSettings
    let signer: any ConsensusSigner
    let coin: any CoinScheme

    var committee: Committee { settings.committee }
    var me: Int { settings.me }

    // MARK: State

    var dag: DAG
    /// Round of this validator's latest proposal (0 before the first).
    public internal(set) var round: UInt64 = 0
    var lastProposalMs: UInt64 = 0
    var lastProposalBroadcastMs: UInt64 = 0
    var now: UInt64 = 0
    /// Wall-clock time (ms since the Unix epoch) at `now` = 0: the shell anchors its monotonic
    /// clock here so proposals carry wall-clock timestamps while intervals stay monotonic.
    public var clockOriginMs: UInt64 = 0
    var started = false
    /// While rebuilding from storage: no commits (they run once, in `onStart`).
    var restoring = false
    /// Stored certificates `restore` left out because storage lacked their parents (damage);
    /// catch-up fetches them again. Always 0 for an intact database.
    public internal(set) var unrestorable = 0

    struct OwnProposal {
        let signed: SignedVertex
        let digest: Digest
        var votes: [Int: Signature]
        var certified = false
    }
    /// This validator's proposals still collecting votes or recently certified, by round.
    var ownProposals: [UInt64: OwnProposal] = [:]
    /// The highest round of a valid certificate received: 2f+1 validators have reached it.
    var highestCertifiedRoundHeard: UInt64 = 0

    struct Slot: Hashable { let author: Int; let round: UInt64 }
    /// Digest this validator voted for in each slot (DAG-Rider's "first INIT" rule, made durable).
    var votedSlots: [Slot: Digest] = [:]

    /// Messages waiting for missing parents: dependents by the digest they wait on. A proposal
    /// and the certificate of the same vertex may both wait, so each waiter says which it is.
    struct Waiter: Hashable { let digest: Digest; let isCertificate: Bool }
    var waitingOn: [Digest: [Waiter]] = [:]
    /// Proposals and certificates waiting for parents, bounded per author and per slot (D39).
    var buffer: MessageBuffer
    /// Digests known to be certified below the GC line, with their round and author: they
    /// satisfy edges without being in the DAG, and the edge rules are still checked against them,
    /// so a validator whose floor is higher judges a vertex exactly as one that still holds the
    /// parent (otherwise the two could disagree on a vertex and the stricter one block on it).
    struct BelowFloorVertex: Hashable { let round: UInt64; let author: Int }
    var belowFloor: [Digest: BelowFloorVertex] = [:]
    /// Edges of restored certificates that lie below the floor, known only from this validator's
    /// own storage (which held only checked certificates): trusted during `restore`, cleared after.
    var restoredBelowFloor: Set<Digest> = []

    struct FetchState { var sinceMs: UInt64; var peer: Int; var attempts: Int }
    var fetching: [Digest: FetchState] = [:]
    /// Budget and answer sizes for requests this validator serves (D39).
    var fetchServing: FetchServing
    var lastRangeFetchMs: UInt64 = 0

    /// Verified coin shares per wave (from certified round-4w+1 vertices) and computed leaders.
    var coinShares: [UInt64: [CoinShare]] = [:]
    public internal(set) var leaders: [UInt64: Int] = [:]
    var beacons: [UInt64: Digest] = [:]
    public internal(set) var decidedWave: UInt64 = 0
    public internal(set) var lastCommittedRound: UInt64 = 0
    /// Delivered vertices at or above the delivery line (older ones can never be considered again).
    var delivered: Set<Digest> = []
    /// Certified vertices in the DAG that carry records and are not delivered yet. While there are
    /// any, the network is busy: the rounds that commit them must not slow to the idle pace.
    var undeliveredPayload: Set<Digest> = []
    public internal(set) var committedLeaders = 0

    /// Certified vertices reachable from this validator's own vertices, and those that are not
    /// (yet): the candidates for weak edges, kept up to date so a proposal rarely walks the DAG.
    var referenced: Set<Digest> = []
    var unreferenced: Set<Digest> = []
    var pendingRecords: [[UInt8]] = []
    var pendingRecordsHead = 0
    /// Bytes of the records in `pendingRecords[pendingRecordsHead...]`.
    var pendingRecordBytes = 0

    // MARK: Init

    public init(settings: DAGRiderSettings, signer: any ConsensusSigner, coin: any CoinScheme) {
        self.settings = settings
        self.signer = signer
        self.coin = coin
        self.dag = DAG(quorum: settings.committee.quorum)
        self.fetchServing = FetchServing(settings: settings)
        self.buffer = MessageBuffer(limits: .init(
            proposalsPerAuthor: settings.maxBufferedProposalsPerAuthor, certificatesPerAuthor: settings.maxBufferedCertificatesPerAuthor,
            totalProposals: settings.maxBufferedProposalsPerAuthor * settings.committee.size, totalCertificates: settings.maxBufferedMessages))
    }

    public var dagSize: Int { dag.count }
    public var gcFloor: UInt64 { dag.floor }
    public var highestQuorumRound: UInt64 { dag.highestQuorumRound }
    public var pendingRecordCount: Int { pendingRecords.count - pendingRecordsHead }
    public var missingCertificates: Int { fetching.count }
    /// Proposals and certificates waiting for parents (bounded per author, D39).
    public var bufferedProposalCount: Int { buffer.proposals.count }
    public var bufferedCertificateCount: Int { buffer.certificates.count }
    /// Parents that buffered messages wait for (each waiter entry counted once).
    public var waiterCount: Int { waitingOn.values.reduce(0) { $0 + $1.count } }

    /// Parents that buffered messages wait for and that have not arrived at all (the roots of
    /// what catch-up still has to fetch).
    var missingRoots: [Digest] {
        waitingOn.keys.filter { buffer.certificates[$0] == nil && !dag.contains($0) }.sorted()
    }

    /// One line of internal state, for failure reports.
    public var diagnostics: String {
        "highest complete round \(dag.highestQuorumRound), floor \(dag.floor), \(dag.count) certificates, "
            + "decided wave \(decidedWave), \(fetching.count) fetching, \(buffer.certificates.count) buffered certificates, "
            + "\(buffer.proposals.count) buffered proposals, \(missingRoots.count) missing parents never received, \(belowFloor.count) below floor, "
            + "own proposal of round \(round): \(ownProposals[round].map { "\($0.votes.count) votes\($0.certified ? ", certified" : "")" } ?? "none")"
    }

    // MARK: Inputs

    /// Starts (or resumes after `restore`) at time `nowMs`.
    public mutating func onStart(nowMs: UInt64) -> [Directive] {
        now = nowMs
        started = true
        var out: [Directive] = []
        if round == 0 {
            propose(round: 1, into: &out)
        } else if let own = ownProposals[round], !own.certified {
            // Resumed mid-round: ask again for votes on the very same vertex (never a new one).
            out.append(.broadcast(.proposal(own.signed)))
            lastProposalBroadcastMs = now
        }
        for wave in leaders.keys.sorted() where wave > decidedWave { tryCommit(wave: wave, into: &out) }
        tryAdvance(into: &out)
        out.append(.scheduleTick(atMs: now + tickInterval))
        return out
    }

    var tickInterval: UInt64 { max(1, min(settings.minRoundIntervalMs, settings.fetchRetryMs / 2)) }

    /// Records to include in this validator's next vertices. Returns how many were accepted.
    /// Bounded by count and by bytes (D39): 100,000 records of 64 KiB would otherwise be 6.5 GB.
    public mutating func onRecords(_ records: [[UInt8]]) -> Int {
        var accepted = 0
        for record in records {
            guard pendingRecordCount < settings.maxPendingRecords, record.count <= settings.maxVertexBytes,
                  pendingRecordBytes + record.count <= settings.maxPendingRecordBytes else { break }
            pendingRecords.append(record)
            pendingRecordBytes += record.count
            accepted += 1
        }
        return accepted
    }

    public mutating func onTick(nowMs: UInt64) -> [Directive] {
        now = max(now, nowMs)
        var out: [Directive] = []
        guard started else { return out }
        tryAdvance(into: &out)
        retryFetches(into: &out)
        if let own = ownProposals[round], now >= lastProposalBroadcastMs + settings.proposalRetryMs {
            if !own.certified {
                // Lost or unanswered proposal: repeat it; voters who already voted re-send their vote.
                out.append(.broadcast(.proposal(own.signed)))
                lastProposalBroadcastMs = now
            } else if dag.highestQuorumRound < round, let node = dag.node(own.digest) {
                // Certified, yet the round is still short of 2f+1 certificates here: peers may have
                // missed (or had to drop) this certificate, and if every validator is short the
                // same way nobody ever proposes again to make the others fetch it. Repeat it.
                out.append(.broadcast(.certificate(node.certificate.certificate)))
                lastProposalBroadcastMs = now
            }
        }
        out.append(.scheduleTick(atMs: now + tickInterval))
        return out
    }

    public mutating func onMessage(_ message: VerifiedMessage, from sender: Int, nowMs: UInt64) -> [Directive] {
        now = max(now, nowMs)
        var out: [Directive] = []
        switch message {
        case let .proposal(signed, digest):
            onProposal(signed, digest: digest, from: sender, into: &out)
        case let .vote(vote):
            onVote(vote, into: &out)
        case let .certificate(certificate):
            onCertificate(certificate, from: sender, into: &out)
        case let .fetchCertificates(digests):
            guard fetchServing.admit(peer: sender, nowMs: now) else { out.append(.rejected(.fetchFlood, from: sender)); break }
            let found = digests.compactMap { dag.node($0)?.certificate.certificate }
            for answer in fetchServing.answers(found).messages { out.append(.send(to: sender, answer)) }
        case let .fetchRounds(from, to):
            guard fetchServing.admit(peer: sender, nowMs: now) else { out.append(.rejected(.fetchFlood, from: sender)); break }
            // Only rounds the DAG holds, so `to` near 2^64 − 1 neither wraps nor walks empty rounds.
            var found: [Certificate] = []
            for r in dag.rounds(from: max(from, dag.floor), through: to) where found.count < ConsensusMessage.maxCertificatesPerMessage {
                found += dag.digests(round: r).compactMap { dag.node($0)?.certificate.certificate }
            }
            for answer in fetchServing.answers(Array(found.prefix(ConsensusMessage.maxCertificatesPerMessage))).messages {
                out.append(.send(to: sender, answer))
            }
        case let .certificates(certificates, _):
            // Parents first, so a batch that contains a whole chain inserts in one pass.
            for certificate in certificates.sorted(by: { ($0.vertex.round, $0.vertex.author) < ($1.vertex.round, $1.vertex.author) }) {
                onCertificate(certificate, from: sender, into: &out)
            }
        case .fetchBlobs, .blob:
            // Blob availability is the shell's (it holds the blob store); nothing for the core.
            break
        }
        return out
    }

    // MARK: Broadcast layer

    /// DAG-Rider Alg. 1 (r_deliver of INIT → ECHO), with certificates: vote for the first valid
    /// vertex of each (author, round) once all its parents are in the DAG.
    mutating func onProposal(_ signed: SignedVertex, digest: Digest, from sender: Int, into out: inout [Directive]) {
        let vertex = signed.vertex
        let slot = Slot(author: Int(vertex.author), round: vertex.round)
        if let voted = votedSlots[slot] {
            if voted == digest {
                // Repeated proposal (the author lost our vote or restarted): repeat the same vote.
                out.append(.send(to: slot.author, .vote(makeVote(digest: digest, vertex: vertex))))
            } else {
                out.append(.rejected(.equivocation, from: sender))
            }
            return
        }
        guard vertex.round >= dag.floor else { out.append(.rejected(.belowGarbageCollection, from: sender)); return }
        guard vertex.round <= farFutureLimit else { out.append(.rejected(.farFutureRound, from: sender)); return }
        if dag.contains(digest) || buffer.proposals[digest] != nil { return }
        let missing = missingParents(of: vertex)
        if missing.isEmpty {
            voteIfValid(signed, digest: digest, from: sender, into: &out)
        } else {
            if let refusal = buffer.add(proposal: signed, digest: digest, from: sender, missing: missing.count) {
                out.append(.rejected(Self.reason(refusal), from: sender)); return
            }
            for parent in missing { waitingOn[parent, default: []].append(Waiter(digest: digest, isCertificate: false)) }
            requestMissing(missing, from: sender, referencingRound: vertex.round, into: &out)
        }
    }

    /// Parents are present: check the edge rules that need the DAG, then vote (persist first).
    mutating func voteIfValid(_ signed: SignedVertex, digest: Digest, from sender: Int, into out: inout [Directive]) {
        let vertex = signed.vertex
        let slot = Slot(author: Int(vertex.author), round: vertex.round)
        guard votedSlots[slot] == nil else { return }
        guard edgesValid(vertex) else { out.append(.rejected(.malformedVertex, from: sender)); return }
        votedSlots[slot] = digest
        let vote = makeVote(digest: digest, vertex: vertex)
        if slot.author == me {
            onVote(vote, into: &out)
        } else {
            out.append(.persistVote(vote))
            out.append(.send(to: slot.author, .vote(vote)))
        }
    }

    func makeVote(digest: Digest, vertex: Vertex) -> Vote {
        Vote(digest: digest, round: vertex.round, author: vertex.author, voter: UInt32(me),
             signature: signer.sign(SigningMessages.vote(chain: committee.chain, digest: digest)))
    }

    /// Collects votes for an own proposal; at 2f+1 forms the certificate (Alg. 1 "r_deliver").
    mutating func onVote(_ vote: Vote, into out: inout [Directive]) {
        guard Int(vote.author) == me, var own = ownProposals[vote.round], own.digest == vote.digest, !own.certified else { return }
        own.votes[Int(vote.voter)] = vote.signature
        ownProposals[vote.round] = own
        guard own.votes.count >= committee.quorum else { return }
        own.certified = true
        ownProposals[vote.round] = own
        let votes = own.votes.keys.sorted().map { CertificateVote(voter: UInt32($0), signature: own.votes[$0]!) }
        let certificate = VerifiedCertificate(certificate: Certificate(signedVertex: own.signed, votes: votes), digest: own.digest)
        out.append(.broadcast(.certificate(certificate.certificate)))
        onCertificate(certificate, from: me, into: &out)
    }

    var farFutureLimit: UInt64 { max(round, dag.highestQuorumRound) + settings.futureRoundWindow }

    // MARK: DAG layer

    /// DAG-Rider Alg. 2 lines 1–9: a certified vertex enters the DAG when all its edges are there.
    mutating func onCertificate(_ certificate: VerifiedCertificate, from sender: Int, into out: inout [Directive]) {
        let vertex = certificate.vertex
        let digest = certificate.digest
        highestCertifiedRoundHeard = max(highestCertifiedRoundHeard, vertex.round)
        if dag.contains(digest) || buffer.certificates[digest] != nil { return }
        if vertex.round < dag.floor {
            // Only useful as proof that an edge points below our floor. Stored all the same (not
            // in the DAG): a validator further behind, whose floor is lower, needs it in its DAG
            // and can fetch it only from validators that kept it.
            if fetching.removeValue(forKey: digest) != nil || waitingOn[digest] != nil {
                belowFloor[digest] = BelowFloorVertex(round: vertex.round, author: Int(vertex.author))
                out.append(.storeCertificate(certificate))
                // Certificates whose last missing parent this was are ready now.
                for ready in resolveWaiters(of: digest, into: &out) { insert(ready, into: &out) }
            }
            return
        }
        guard vertex.round <= farFutureLimit else {
            // Certified (2f+1 votes were checked) yet far ahead: this validator fell behind, e.g.
            // after a long restart. Ask the sender for the next window of rounds rather than
            // buffering the future.
            out.append(.rejected(.farFutureRound, from: sender))
            requestRoundRange(upTo: vertex.round, from: sender, into: &out)
            return
        }
        if let existing = dag.digest(round: vertex.round, author: Int(vertex.author)), existing != digest {
            // Two certificates for one slot need f+1 double voters: more faults than tolerated.
            out.append(.rejected(.conflictingCertificate, from: sender))
            return
        }
        let missing = missingParents(of: vertex)
        if !missing.isEmpty {
            if let refusal = buffer.add(certificate: certificate, missing: missing.count) {
                out.append(.rejected(Self.reason(refusal), from: sender)); return
            }
            fetching.removeValue(forKey: digest)  // it arrived; now its parents are fetched
            for parent in missing { waitingOn[parent, default: []].append(Waiter(digest: digest, isCertificate: true)) }
            requestMissing(missing, from: sender, referencingRound: vertex.round, into: &out)
            return
        }
        insert(certificate, into: &out)
    }

    static func reason(_ refusal: MessageBuffer.Refusal) -> RejectReason {
        switch refusal {
        case .equivocation: .equivocation
        case .conflictingCertificate: .conflictingCertificate
        case .authorBudget: .authorBufferFull
        case .full: .bufferFull
        }
    }

    func missingParents(of vertex: Vertex) -> [Digest] {
        (vertex.strongEdges + vertex.weakEdges).filter { !dag.contains($0) && belowFloor[$0] == nil }
    }

    /// Strong edges point to distinct authors of round − 1; weak edges to older rounds (or below
    /// the floor). Checked once all parents are known.
    func edgesValid(_ vertex: Vertex) -> Bool {
        guard vertex.round > 1 else { return true }
        var authors = Set<Int>()
        for edge in vertex.strongEdges {
            if restoring && restoredBelowFloor.contains(edge) { continue }
            guard let (round, author) = parentPosition(edge), round == vertex.round - 1, authors.insert(author).inserted else { return false }
        }
        for edge in vertex.weakEdges {
            if restoring && restoredBelowFloor.contains(edge) { continue }
            guard let (round, _) = parentPosition(edge), round + 1 < vertex.round else { return false }
        }
        return true
    }

    /// Round and author of a parent, from the DAG or the below-floor record.
    func parentPosition(_ digest: Digest) -> (round: UInt64, author: Int)? {
        if let node = dag.node(digest) { return (node.round, node.author) }
        if let below = belowFloor[digest] { return (below.round, below.author) }
        return nil
    }

    mutating func insert(_ certificate: VerifiedCertificate, into out: inout [Directive]) {
        guard edgesValid(certificate.vertex) else {
            out.append(.rejected(.malformedVertex, from: Int(certificate.vertex.author)))
            return
        }
        var work = [certificate]
        while let next = work.popLast() {
            guard !dag.contains(next.digest) else { continue }
            dag.insert(next)
            if !referenced.contains(next.digest) { unreferenced.insert(next.digest) }
            if !next.vertex.payload.isEmpty, !delivered.contains(next.digest) { undeliveredPayload.insert(next.digest) }
            fetching.removeValue(forKey: next.digest)
            out.append(.storeCertificate(next))
            if let own = ownProposals[next.vertex.round], own.digest == next.digest, !own.certified {
                ownProposals[next.vertex.round]?.certified = true
            }
            if let wave = Wave.coinWave(carriedIn: next.vertex.round), let share = next.vertex.coinShare {
                collectCoinShare(share, wave: wave, into: &out)
            }
            // A late certificate of round 4w may complete the support of an undecided leader.
            if !restoring, let wave = leaders.keys.first(where: { Wave.lastRound($0) == next.vertex.round }), wave > decidedWave {
                tryCommit(wave: wave, into: &out)
            }
            work += resolveWaiters(of: next.digest, into: &out)
        }
        tryAdvance(into: &out)
    }

    /// Releases messages that waited on `digest`; returns certificates now ready to insert (the
    /// caller must insert them: they have left the buffer).
    mutating func resolveWaiters(of digest: Digest, into out: inout [Directive]) -> [VerifiedCertificate] {
        guard let dependents = waitingOn.removeValue(forKey: digest) else { return [] }
        var ready: [VerifiedCertificate] = []
        for dependent in dependents {
            if dependent.isCertificate {
                guard let certificate = buffer.parentArrived(certificate: dependent.digest) else { continue }
                if edgesValid(certificate.vertex) {
                    ready.append(certificate)
                } else {
                    out.append(.rejected(.malformedVertex, from: Int(certificate.vertex.author)))
                }
            } else if let entry = buffer.parentArrived(proposal: dependent.digest) {
                voteIfValid(entry.signed, digest: dependent.digest, from: entry.from, into: &out)
            }
        }
        return ready
    }

    // MARK: Catch-up

    mutating func requestMissing(_ digests: [Digest], from peer: Int, referencingRound: UInt64, into out: inout [Directive]) {
        let fresh = digests.filter { fetching[$0] == nil }
        for digest in fresh { fetching[digest] = FetchState(sinceMs: now, peer: peer, attempts: 1) }
        if !fresh.isEmpty && peer != me {
            out.append(.send(to: peer, .fetchCertificates(Array(fresh.prefix(ConsensusMessage.maxFetchDigests)))))
        }
        // Far behind: ask for whole rounds rather than walking back one digest at a time.
        if referencingRound > max(dag.highestQuorumRound, dag.floor) + 2 {
            requestRoundRange(upTo: referencingRound, from: peer, into: &out)
        }
    }

    /// Asks `peer` for the rounds after the highest complete one, up to one window (at most once
    /// per retry interval). Peers answer from storage, so this works past their GC line too.
    mutating func requestRoundRange(upTo round: UInt64, from peer: Int, into out: inout [Directive]) {
        guard peer != me, now >= lastRangeFetchMs + settings.fetchRetryMs || lastRangeFetchMs == 0 else { return }
        lastRangeFetchMs = now
        let from = max(dag.highestQuorumRound, dag.floor) + 1
        guard round > from else { return }
        out.append(.send(to: peer, .fetchRounds(from: from, to: min(round - 1, from + settings.futureRoundWindow - 1))))
    }

    /// Re-asks another peer, in turn, for certificates that did not arrive in time, backing off
    /// up to 8 × the retry interval once every peer was asked. Never gives up while something
    /// waits on the certificate: a validator that stopped asking could stall for good, since only
    /// commits (which need the missing history) would clear its buffers.
    mutating func retryFetches(into out: inout [Directive]) {
        var byPeer: [Int: [Digest]] = [:]
        for (digest, var state) in fetching
        where now >= state.sinceMs + settings.fetchRetryMs * UInt64(min(8, 1 + state.attempts / committee.size)) {
            if waitingOn[digest] == nil {
                fetching[digest] = nil
                continue
            }
            var peer = (state.peer + 1) % committee.size
            if peer == me { peer = (peer + 1) % committee.size }
            state = FetchState(sinceMs: now, peer: peer, attempts: state.attempts + 1)
            fetching[digest] = state
            byPeer[peer, default: []].append(digest)
        }
        for peer in byPeer.keys.sorted() {
            let digests = byPeer[peer]!.sorted()
            for start in stride(from: 0, to: digests.count, by: ConsensusMessage.maxFetchDigests) {
                out.append(.send(to: peer, .fetchCertificates(Array(digests[start ..< min(digests.count, start + ConsensusMessage.maxFetchDigests)]))))
            }
        }
    }

    // MARK: Proposing

    /// Alg. 2 lines 10–16 with pacing: move to round r+1 once the DAG has 2f+1 certificates of
    /// round r and either the batch is full, there is work (records here or in round r) and the
    /// minimum interval passed, or the maximum interval passed (an empty vertex keeps waves
    /// completing when idle). A validator that fell
    /// behind jumps straight to the round after the highest complete one.
    mutating func tryAdvance(into out: inout [Directive]) {
        guard started, round >= 1 else { return }
        let complete = dag.highestQuorumRound
        guard complete >= round else { return }
        let elapsed = now >= lastProposalMs ? now - lastProposalMs : 0
        let batchFull = pendingRecordCount >= settings.maxRecordsPerVertex
        // "Idle" means the network has nothing left to order, not that this validator has nothing:
        // while any certified vertex carrying records is undelivered, keep the minimum pace — the
        // rounds after the last records are what commits them (a wave needs its 4th round), and
        // at the idle pace they took a second each (the p99 tail of D35).
        let busy = pendingRecordCount > 0 || !undeliveredPayload.isEmpty
        let ready = complete > round
            || batchFull
            || (busy && elapsed >= settings.minRoundIntervalMs)
            || elapsed >= settings.maxRoundIntervalMs
        if ready { propose(round: complete + 1, into: &out) }
    }

    mutating func propose(round next: UInt64, into out: inout [Directive]) {
        let strong = next == 1 ? [] : dag.digests(round: next - 1)
        let weak = next <= 2 ? [] : weakEdges(forRound: next, strong: strong)
        var payload: [[UInt8]] = []
        var bytes = 0
        // A validator catching up proposes at rounds the others may already have collected: such
        // a vertex is never certified, and records in it would wait for the GC line to come back
        // (below). They wait in the queue instead until this validator is within reach.
        let catchingUp = highestCertifiedRoundHeard > next + settings.gcDepth / 2
        while !catchingUp, pendingRecordsHead < pendingRecords.count, payload.count < settings.maxRecordsPerVertex {
            let record = pendingRecords[pendingRecordsHead]
            if bytes + record.count > settings.maxVertexBytes { break }
            payload.append(record)
            bytes += record.count
            pendingRecordBytes -= record.count
            pendingRecordsHead += 1
        }
        if pendingRecordsHead > 4096 && pendingRecordsHead * 2 > pendingRecords.count {
            pendingRecords.removeFirst(pendingRecordsHead)
            pendingRecordsHead = 0
        }
        var share: CoinShare?
        if let wave = Wave.coinWave(carriedIn: next) {
            // Released only now, after round 4w holds 2f+1 certificates (Alg. 3: the coin is
            // flipped only once the wave is complete), so nobody learns the leader earlier.
            share = try? coin.makeShare(wave: wave)
        }
        let (stamp, overflow) = clockOriginMs.addingReportingOverflow(now)
        let vertex = Vertex(round: next, author: UInt32(me), strongEdges: strong, weakEdges: weak, payload: payload, coinShare: share,
                            timestampMs: overflow ? .max : stamp)
        let digest = SigningMessages.vertexDigest(vertex)
        let signed = SignedVertex(vertex: vertex, signature: signer.sign(SigningMessages.proposal(chain: committee.chain, digest: digest)))
        round = next
        lastProposalMs = now
        lastProposalBroadcastMs = now
        ownProposals[next] = OwnProposal(signed: signed, digest: digest, votes: [:])
        markReferenced(strong + weak)
        out.append(.persistProposal(signed))
        out.append(.broadcast(.proposal(signed)))
        voteIfValid(signed, digest: digest, from: me, into: &out)
    }

    /// Alg. 2 `set_weak_edges`: certified vertices of rounds < r−1 that no path from the strong
    /// edges reaches. `referenced` (everything reachable from this validator's earlier vertices)
    /// makes the common case — nothing left behind — free of any graph walk.
    func weakEdges(forRound next: UInt64, strong: [Digest]) -> [Digest] {
        let candidates = unreferenced.compactMap { dag.node($0) }.filter { $0.round + 1 < next }
            .sorted { ($0.round, $0.author) < ($1.round, $1.author) }.map(\.digest)
        guard !candidates.isEmpty else { return [] }
        let lowest = candidates.compactMap { dag.node($0)?.round }.min() ?? 0
        var reachable = Set<Digest>()
        var stack = strong
        while let digest = stack.popLast() {
            guard let node = dag.node(digest), node.round >= lowest, reachable.insert(digest).inserted else { continue }
            stack += node.strongEdges
            stack += node.weakEdges
        }
        // As in the paper, walk rounds from newest to oldest: a weak edge added for a newer
        // candidate already reaches some older ones, which then need no edge of their own.
        var weak: [Digest] = []
        var covered = reachable
        for digest in candidates.reversed() where !covered.contains(digest) {
            weak.append(digest)
            var walk = [digest]
            while let d = walk.popLast() {
                guard let node = dag.node(d), node.round >= lowest, covered.insert(d).inserted else { continue }
                walk += node.strongEdges
                walk += node.weakEdges
            }
        }
        // Over the protocol's cap (D39) the rest stay unreferenced and go into the next vertices.
        return Array(weak.prefix(committee.maxWeakEdges)).sorted()
    }

    mutating func markReferenced(_ edges: [Digest]) {
        var stack = edges
        while let digest = stack.popLast() {
            guard referenced.insert(digest).inserted else { continue }
            unreferenced.remove(digest)
            guard let node = dag.node(digest) else { continue }
            stack += node.strongEdges
            stack += node.weakEdges
        }
    }

    // MARK: Ordering layer

    mutating func collectCoinShare(_ share: CoinShare, wave: UInt64, into out: inout [Directive]) {
        guard wave > decidedWave, leaders[wave] == nil else { return }
        coinShares[wave, default: []].append(share)
        guard coinShares[wave]!.count >= committee.validity,
              let value = try? coin.combine(wave: wave, shares: coinShares[wave]!) else { return }
        leaders[wave] = value.leader
        beacons[wave] = value.beacon
        coinShares[wave] = nil
        if !restoring { tryCommit(wave: wave, into: &out) }
    }

    /// Alg. 3 `wave_ready`: commit the leader of `wave` if 2f+1 vertices of its round 4w have
    /// strong paths to it; then walk back through undecided waves and commit every earlier leader
    /// the newer one has a strong path to; deliver oldest first. Later waves whose leaders are
    /// already known are tried next (catch-up inserts many waves at once).
    mutating func tryCommit(wave: UInt64, into out: inout [Directive]) {
        guard wave > decidedWave, let leaderAuthor = leaders[wave],
              let leader = dag.digest(round: Wave.firstRound(wave), author: leaderAuthor) else { return }
        let rules = settings.orderingRules
        guard rules.support(of: leader, through: Wave.lastRound(wave), in: DAGView(dag: dag)) >= rules.commitQuorum(committee) else { return }
        var stack = [(wave, leader)]
        var current = leader
        var earlier = wave - 1
        while rules.commitsRecursively && earlier > decidedWave {
            if let author = leaders[earlier], let candidate = dag.digest(round: Wave.firstRound(earlier), author: author),
               rules.links(from: current, to: candidate, in: DAGView(dag: dag)) {
                stack.append((earlier, candidate))
                current = candidate
            }
            earlier -= 1
        }
        decidedWave = wave
        while let (committedWave, digest) = stack.popLast() { deliver(leader: digest, wave: committedWave, into: &out) }
        collectGarbage(into: &out)
        if let next = leaders.keys.filter({ $0 > decidedWave }).min() { tryCommit(wave: next, into: &out) }
    }

    /// Alg. 3 `order_vertices`: the leader's causal history not yet delivered, restricted to rounds
    /// at or above leaderRound − gcDepth (the same on every validator, since it depends only on the
    /// committed leader), sorted by (round, author).
    mutating func deliver(leader digest: Digest, wave: UInt64, into out: inout [Directive]) {
        guard let leader = dag.node(digest) else { return }
        let line = leader.round > settings.gcDepth ? leader.round - settings.gcDepth : 0
        var found: [DAG.Node] = []
        var seen: Set<Digest> = [digest]
        var stack = [digest]
        while let next = stack.popLast() {
            guard let node = dag.node(next), !delivered.contains(next) else { continue }
            found.append(node)
            for edge in node.strongEdges + node.weakEdges where !seen.contains(edge) {
                seen.insert(edge)
                if let parent = dag.node(edge), parent.round >= line { stack.append(edge) }
            }
        }
        // Each node's view is built once, not twice per comparison (this runs on every commit).
        let rules = settings.orderingRules
        found = zip(found, found.map(DAGView.Vertex.init)).sorted { rules.deliveredBefore($0.1, $1.1) }.map(\.0)
        for node in found {
            delivered.insert(node.digest)
            undeliveredPayload.remove(node.digest)
        }
        lastCommittedRound = max(lastCommittedRound, leader.round)
        committedLeaders += 1
        let parentTimes = leader.strongEdges.compactMap { dag.node($0)?.certificate.vertex.timestampMs }
        out.append(.commit(CommittedLeader(wave: wave, leader: digest, leaderRound: leader.round, leaderAuthor: leader.author,
                                           beacon: beacons[wave] ?? .zero, timeMs: ConsensusTime.leaderTime(parentTimes, faults: committee.faults) ?? 0,
                                           certificates: found.map(\.certificate))))
    }

    /// Drops rounds below lastCommittedRound − gcDepth from memory, reporting undelivered vertices.
    mutating func collectGarbage(into out: inout [Directive]) {
        let floor = lastCommittedRound > settings.gcDepth ? lastCommittedRound - settings.gcDepth : 0
        guard floor > dag.floor else { return }
        let removed = dag.raiseFloor(to: floor)
        let dropped = removed.filter { !delivered.contains($0.digest) }.sorted { ($0.round, $0.author) < ($1.round, $1.author) }
        for node in removed {
            undeliveredPayload.remove(node.digest)
            delivered.remove(node.digest)
            referenced.remove(node.digest)
            unreferenced.remove(node.digest)
        }
        // `markReferenced` also records the below-floor parents of the lowest rounds, which never
        // enter the DAG and so were never removed above: a few digests per round, forever (found
        // by tools/soak-memory). Only DAG members matter for weak-edge candidates.
        if referenced.count > 2 * dag.count { referenced = referenced.filter { dag.contains($0) } }
        if !dropped.isEmpty { out.append(.dropped(dropped.map(\.certificate))) }
        votedSlots = votedSlots.filter { $0.key.round >= floor }
        // Own proposals that never gathered a certificate (only their author can form one, so none
        // exists) and now lie below the GC line can never be ordered: their records go back to the
        // front of the queue. A validator cut off by a partition lost 509 accepted records this way
        // (tools/netns-scenario minority, D64). Certified ones that fell below undelivered are
        // `.dropped` above and re-queued by the shell from its pending store.
        let abandoned = ownProposals.filter { $0.key < floor && !$0.value.certified }.sorted { $0.key < $1.key }
        let requeued = abandoned.flatMap(\.value.signed.vertex.payload)
        if !requeued.isEmpty {
            pendingRecords.insert(contentsOf: requeued, at: pendingRecordsHead)
            pendingRecordBytes += requeued.reduce(0) { $0 + $1.count }
        }
        ownProposals = ownProposals.filter { $0.key >= floor }
        buffer.removeBelow(floor)
        // Waiters whose dependents are gone, and fetches nobody needs any more.
        waitingOn = waitingOn.compactMapValues { deps in
            let alive = deps.filter { $0.isCertificate ? buffer.certificates[$0.digest] != nil : buffer.proposals[$0.digest] != nil }
            return alive.isEmpty ? nil : alive
        }
        fetching = fetching.filter { waitingOn[$0.key] != nil }
        // Edges of buffered messages that now point below the floor (some were in the DAG a
        // moment ago) must still count as satisfied, or the message fails its edge check once its
        // last parent arrives and a valid certificate is lost.
        let bufferedEdges = buffer.edges
        belowFloor = belowFloor.filter { waitingOn[$0.key] != nil || bufferedEdges.contains($0.key) }
        for node in removed where bufferedEdges.contains(node.digest) {
            belowFloor[node.digest] = BelowFloorVertex(round: node.round, author: node.author)
        }
        coinShares = coinShares.filter { $0.key > decidedWave }
        leaders = leaders.filter { $0.key > decidedWave }
        beacons = beacons.filter { $0.key > decidedWave }
    }
}
