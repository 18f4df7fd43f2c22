import CairnChain
import CairnCore
import CairnLedger

/// A checkpoint certificate (2f+1 validators) that disagrees with this validator's own record of
/// the window's close: its state is not the network's, and it must stop (`/health` reports it).
extension ConsensusNode {
    public struct Divergence: Sendable, Hashable, CustomStringConvertible {
        public var window: UInt64
        public var ours: ClosedWindow
        public var certified: CheckpointVote
        public var description: String {
            "window \(window): our state root \(ours.stateRoot.hex) and sequence hash \(ours.sequenceHash.hex) differ from the "
                + "certified \(certified.stateRoot.hex) and \(certified.sequenceHash.hex); stop this node and run "
                + "`cairn audit` on its database to find the first differing position"
        }

        /// The last of `certified` whose state root or sequence hash differs from what this
        /// validator recorded at that window's close, or nil.
        static func latest(in certified: [CheckpointCertificate], store: ConsensusStore) throws -> Divergence? {
            var found: Divergence?
            for certificate in certified {
                if let ours = try store.closedWindow(certificate.vote.window),
                   ours.stateRoot != certificate.vote.stateRoot || ours.sequenceHash != certificate.vote.sequenceHash {
                    found = Divergence(window: certificate.vote.window, ours: ours, certified: certificate.vote)
                }
            }
            return found
        }
    }
}
