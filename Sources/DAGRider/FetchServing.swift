import CairnCore

/// How a validator serves catch-up requests (ARCHITECTURE §4 "Catch-up", D39): a per-peer budget
/// of requests per second, and answers split by encoded size so that every one fits a frame.
/// Shared by the core (which serves from memory) and the node (which serves from storage).
public struct FetchServing: Sendable {
    public let perPeerPerSecond: Int
    public let maxAnswerBytes: Int
    private var windows: [Int: (startMs: UInt64, served: Int)] = [:]

    public init(perPeerPerSecond: Int, maxAnswerBytes: Int) {
        self.perPeerPerSecond = perPeerPerSecond
        self.maxAnswerBytes = maxAnswerBytes
    }

    public init(settings: DAGRiderSettings) {
        self.init(perPeerPerSecond: settings.maxFetchesServedPerPeerPerSecond, maxAnswerBytes: settings.maxFetchAnswerBytes)
    }

    /// Whether `peer` may have one more request served now (fixed one-second windows).
    public mutating func admit(peer: Int, nowMs: UInt64) -> Bool {
        var window = windows[peer] ?? (nowMs, 0)
        if nowMs >= window.startMs &+ 1000 || nowMs < window.startMs { window = (nowMs, 0) }
        guard window.served < perPeerPerSecond else { windows[peer] = window; return false }
        window.served += 1
        windows[peer] = window
        return true
    }

    /// `certificates` as answers of at most `maxAnswerBytes` encoded bytes each, in order. A
    /// certificate that alone exceeds the limit is left out (counted in `skipped`): it could
    /// never be sent, and asking again would not change that.
    public func answers(_ certificates: [Certificate]) -> (messages: [ConsensusMessage], skipped: Int) {
        var messages: [ConsensusMessage] = []
        var current: [Certificate] = []
        var bytes = 0
        var skipped = 0
        for certificate in certificates {
            let size = certificate.canonicalBytes.count
            guard size <= maxAnswerBytes else { skipped += 1; continue }
            if !current.isEmpty, bytes + size > maxAnswerBytes || current.count == ConsensusMessage.maxCertificatesPerMessage {
                messages.append(.certificates(current))
                current = []
                bytes = 0
            }
            current.append(certificate)
            bytes += size
        }
        if !current.isEmpty { messages.append(.certificates(current)) }
        return (messages, skipped)
    }
}
