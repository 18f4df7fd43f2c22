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
    /// `/status`, `/health` (2f live peers, no divergence, caught up) and `/metrics`.
    static func addNodeRoutes(to router: Router<APIRequestContext>, validator: Validator, connections: APIConnections?, rejections: RejectionCounter) {
        let node = validator.node
        let quorumPeers = 2 * validator.genesis.faultTolerance
        // A live validator sends at least an empty vertex every max round interval, and repeats
        // unanswered proposals; three seconds of silence means it is gone.
        let liveWindowMs = max(3_000, 3 * Int64(validator.genesis.consensus.maxRoundIntervalMs))
        router.get("/status") { _, _ -> Response in
            let status = await node.status
            return json(StatusReply(
                chainID: validator.genesis.chainID, genesisHash: validator.genesisHash.hex, version: version,
                node: validator.config.name, validatorIndex: validator.index, round: status.round,
                lastCommittedWave: status.progress.decidedWave, committedLeaders: status.progress.committedLeaders,
                delivered: status.progress.delivered, sequenceHash: status.progress.sequenceHash.hex,
                stateRoot: status.progress.stateRoot.hex, window: status.progress.window,
                peers: validator.mesh.livePeers(withinMs: liveWindowMs).count, catchingUp: status.catchingUp,
                pendingRecords: status.pendingRecords))
        }

        router.get("/health") { _, _ -> Response in
            let status = await node.status
            let peers = validator.mesh.livePeers(withinMs: liveWindowMs).count
            if peers < quorumPeers {
                return error(.serviceUnavailable, .unhealthy, "heard from \(peers) peers in the last \(liveWindowMs) ms, need 2f = \(quorumPeers)")
            }
            if let divergence = status.divergence {
                return error(.serviceUnavailable, .diverged, divergence.description)
            }
            if status.catchingUp {
                return error(.serviceUnavailable, .unhealthy, "catching up: round \(status.round), the DAG is complete to \(status.highestCompleteRound)")
            }
            return json(HealthReply(status: "ok"))
        }

        router.get("/metrics") { _, _ -> Response in
            let status = await node.status
            let bytes = validator.telemetry.render(Self.metricSamples(validator: validator, status: status, connections: connections,
                                                                      rejections: rejections.snapshot))
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                            body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
        }
    }
}
