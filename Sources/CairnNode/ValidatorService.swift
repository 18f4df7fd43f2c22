import Hummingbird
import Logging
import CairnCore
import CairnStorage
import ServiceLifecycle
import UnixSignals

extension Validator {
    /// Runs consensus and the API until SIGTERM or SIGINT, then stops both and closes RocksDB.
    public func run(logger: Logger) async throws {
        let consensus = ConsensusService(validator: self)
        let api = Application(router: NodeAPI.router(for: self),
                              configuration: .init(address: .hostname(config.apiListen.host, port: config.apiListen.port),
                                                   serverName: "cairn"),
                              logger: logger)
        let group = ServiceGroup(configuration: .init(services: [consensus, api], gracefulShutdownSignals: [.sigterm, .sigint],
                                                      logger: logger))
        logger.info("validator starting", metadata: [
            "node.name": "\(config.name)", "node.index": "\(index)", "p2p.listen": "\(config.p2pListen)",
            "api.listen": "\(config.apiListen)", "genesis.hash": "\(genesisHash.hex)",
        ])
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
