import Hummingbird
import Logging
import CairnChain
import CairnCore
import CairnStorage
import ServiceLifecycle
import UnixSignals

extension Validator {
    /// Runs consensus and the API until SIGTERM or SIGINT, then stops both and closes RocksDB.
    public func run(logger: Logger) async throws {
        let consensus = ConsensusService(validator: self)
        let connections = try apiConnections(logger: logger)
        let api = Application(router: NodeAPI.router(for: self, connections: connections),
                              server: .http1(configuration: .init(additionalChannelHandlers: [connections.guardHandler()],
                                                                  idleTimeout: .seconds(Int64(config.limits.apiIdleTimeoutSeconds)))),
                              configuration: .init(address: .hostname(config.apiListen.host, port: config.apiListen.port),
                                                   serverName: "cairn", availableConnectionsDelegate: connections.acceptance),
                              logger: logger)
        var services: [any Service] = [consensus, api, UploadPruning(validator: self, logger: logger)]
        if let task {
            services.append(EvaluationLoop(service: EvaluationService(validator: self, task: task, logger: logger)))
        } else {
            logger.warning("this validator does not evaluate contributions ([training] evaluate = false)")
        }
        let group = ServiceGroup(configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint],
                                                      logger: logger))
        logger.info("validator starting", metadata: [
            "node.name": "\(config.name)", "node.index": "\(index)", "p2p.listen": "\(config.p2pListen)",
            "api.listen": "\(config.apiListen)", "genesis.hash": "\(genesisHash.hex)",
            "process.allocator": "\(ProcessMemory.allocator)",
        ])
        if let skew = config.clockSkew {
            await node.skewClock(skew)
            logger.warning("testing.clock_offset_ms: this validator stamps its proposals with a wrong clock", metadata: ["clock.skew": "\(skew)"])
        }
        let uploads = self.uploads
        await node.setBlobsNamedHandler { blobs, window in uploads.pin(blobs, window: window) }
        await node.setDivergenceHandler { divergence in
            logger.critical("state diverges from a certified checkpoint", metadata: [
                "ledger.window": "\(divergence.window)", "ledger.state_root": "\(divergence.ours.stateRoot.hex)",
                "ledger.certified_state_root": "\(divergence.certified.stateRoot.hex)", "detail": "\(divergence)",
            ])
        }
        let unrestorable = await node.unrestorableCertificates
        if unrestorable > 0 {
            logger.warning("database damaged: stored certificates lack their parents; they will be fetched from peers", metadata: [
                "certificates": "\(unrestorable)",
            ])
        }
        defer { database.close() }
        try await group.run()
        logger.info("validator stopped; database closed")
    }
}

extension Validator {
    /// The API's connection bounds within this process's file-descriptor budget (D41).
    func apiConnections(logger: Logger) throws -> APIConnections {
        let soft = DescriptorBudget.raiseSoftLimit()
        let peers = genesis.validators.count - 1
        let total = DescriptorBudget.apiConnections(softLimit: soft, peers: peers, configured: config.limits.apiMaxConnections)
        guard total >= 8 else {
            throw Error(description: "only \(soft) file descriptors (ulimit -n), and \(DescriptorBudget.reserved(peers: peers)) are needed for RocksDB and \(peers) peers before any API client; raise the limit (e.g. ulimit -n 4096) and start again")
        }
        logger.info("api connection limits", metadata: [
            "api.max_connections": "\(total)", "api.max_connections_per_client": "\(config.limits.apiMaxConnectionsPerClient)",
            "api.idle_timeout_s": "\(config.limits.apiIdleTimeoutSeconds)", "process.fd_limit": "\(soft)",
        ])
        // One client may never hold more than a quarter of the total, so others are still served
        // when the budget is small.
        return APIConnections(maxTotal: total, maxPerClient: min(config.limits.apiMaxConnectionsPerClient, max(1, total / 4)))
    }
}

struct ConsensusService: Service {
    let validator: Validator

    func run() async throws {
        do {
            try await cancelWhenGracefulShutdown {
                try await validator.node.run(host: validator.config.p2pListen.host, port: validator.config.p2pListen.port)
            }
        } catch is CancellationError {
            // SIGTERM/SIGINT: a requested stop, not a failure.
        }
    }
}

/// Runs the evaluation service beside consensus until the validator stops.
struct EvaluationLoop: Service {
    let service: EvaluationService

    func run() async throws {
        try await cancelWhenGracefulShutdown {
            await service.run()
        }
    }
}

/// Drops uploaded blobs that no committed contribution named within genesis
/// `task.training.blob_retention_windows` (D59), once per window.
struct UploadPruning: Service {
    let validator: Validator
    let logger: Logger

    func run() async throws {
        try await cancelWhenGracefulShutdown {
            var pruned: UInt64?
            let retention = UInt64(validator.genesis.task.training.blobRetentionWindows)
            while !Task.isCancelled {
                let window = await validator.node.status.progress.window
                if pruned != window {
                    do {
                        let dropped = try validator.uploads.prune(window: window, retention: retention)
                        pruned = window
                        if dropped.blobs > 0 {
                            logger.info("dropped uploaded blobs no contribution named", metadata: [
                                "ledger.window": "\(window)", "blobs": "\(dropped.blobs)", "bytes": "\(dropped.bytes)",
                                "retention_windows": "\(retention)",
                            ])
                        }
                    } catch {
                        logger.error("pruning uploaded blobs failed", metadata: ["error": "\(error)"])
                    }
                }
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }
}
