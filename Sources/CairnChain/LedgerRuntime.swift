import CairnCore
import CairnLedger
import CairnStorage

/// The ledger as a node runs it: the rules, and how record signatures are checked (the node's
/// check remembers records it verified when they were submitted or voted on).
public struct LedgerRuntime: Sendable {
    public let ledger: Ledger
    /// Checks a record's signature; given the record and its id (computed once by the ledger).
    public let verify: @Sendable (SignedRecord, Digest) -> Bool
    /// Closed windows whose state the node keeps for proofs (`[storage] proof_windows`).
    public let proofWindows: UInt64
    /// The outer step the ledger calls at each window's close (its `transition`): the model blobs
    /// it computes are written in the same batch as the state that names them (D61).
    public let models: ModelUpdater?

    public init(ledger: Ledger, models: ModelUpdater? = nil, proofWindows: UInt64 = ConsensusStore.defaultProofWindows,
                verify: @escaping @Sendable (SignedRecord, Digest) -> Bool) {
        self.ledger = ledger
        self.models = models
        self.proofWindows = proofWindows
        self.verify = verify
    }
}
