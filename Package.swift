// swift-tools-version: 6.1
import PackageDescription

// One settings block for every Swift target (STYLE.md §5): Swift 6 language mode gives strict
// concurrency checking; the upcoming features below are the ones the codebase is written against.
let sharedSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

// The codec, crypto wrappers, consensus core and simulator are optimised even in debug builds: the
// test suite runs over a thousand simulated networks through them, 5× slower unoptimised.
let optimisedSettings: [SwiftSetting] = sharedSettings + [.unsafeFlags(["-O"], .when(configuration: .debug))]

let package = Package(
    name: "Cairn",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "cairn", targets: ["cairn"]),
        .library(name: "CairnCore", targets: ["CairnCore"]),
        .library(name: "CairnCrypto", targets: ["CairnCrypto"]),
        .library(name: "CairnStorage", targets: ["CairnStorage"]),
        .library(name: "DAGRider", targets: ["DAGRider"]),
        .library(name: "OpenSkill", targets: ["OpenSkill"]),
        .library(name: "CairnLedger", targets: ["CairnLedger"]),
        .library(name: "CairnTraining", targets: ["CairnTraining"]),
        .library(name: "CairnAudit", targets: ["CairnAudit"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
        .package(url: "https://github.com/apple/swift-nio", exact: "2.101.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", exact: "2.28.1"),
        .package(url: "https://github.com/LebJe/TOMLKit", exact: "0.6.0"),
        .package(url: "https://github.com/apple/swift-log", exact: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", exact: "2.13.0"),
        .package(url: "https://github.com/apple/swift-metrics", exact: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", exact: "2.4.1"),
        // Hummingbird's own header types, named directly by the signed blob-upload headers (D59).
        .package(url: "https://github.com/apple/swift-http-types", exact: "1.8.0"),
    ],
    targets: [
        // MARK: System libraries (Debian -dev packages, installed by tools/setup)
        .systemLibrary(name: "CSodium", path: "Sources/CSodium", pkgConfig: "libsodium",
                       providers: [.apt(["libsodium-dev"])]),
        .systemLibrary(name: "CRocksDB", path: "Sources/CRocksDB", pkgConfig: "rocksdb",
                       providers: [.apt(["librocksdb-dev"])]),
        .systemLibrary(name: "COpenSSL", path: "Sources/COpenSSL", pkgConfig: "libcrypto",
                       providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),

        // MARK: Libraries
        // jemalloc as the process allocator (D44), with its statistics for /metrics.
        .target(name: "CairnAllocator", linkerSettings: [.linkedLibrary("jemalloc")]),
        .target(name: "CairnCore", swiftSettings: optimisedSettings),
        .target(name: "CairnCrypto", dependencies: ["CairnCore", "CSodium", "COpenSSL"],
                swiftSettings: optimisedSettings),
        .target(name: "CairnStorage", dependencies: ["CairnCore", "CRocksDB"],
                swiftSettings: sharedSettings),
        .target(name: "DAGRider", dependencies: ["CairnCore", "CairnCrypto"],
                swiftSettings: optimisedSettings),
        // DAG-Rider's ordering re-derived apart from the core, and the DAG export format: the
        // simulator checks every run against it, the auditor every stored DAG.
        .target(name: "ConsensusOracle", dependencies: ["CairnCore", "CairnCrypto"],
                swiftSettings: optimisedSettings),
        .target(name: "ConsensusSimulator", dependencies: ["CairnCore", "CairnCrypto", "DAGRider", "ConsensusOracle"],
                swiftSettings: optimisedSettings),
        // Pure rating models (no Foundation); the ledger's ratings run on its portable math.
        .target(name: "OpenSkill", swiftSettings: optimisedSettings),
        // Reads openskill.py reference-vector files (JSON) and checks them against OpenSkill.
        .target(name: "OpenSkillVectors", dependencies: ["OpenSkill"], swiftSettings: sharedSettings),
        // Encrypted, mutually authenticated validator transport (SwiftNIO).
        .target(name: "CairnNet",
                dependencies: [
                    "CairnCore", "CairnCrypto",
                    .product(name: "NIOCore", package: "swift-nio"),
                    .product(name: "NIOPosix", package: "swift-nio"),
                    .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                ],
                swiftSettings: sharedSettings),
        .target(name: "CairnLedger",
                dependencies: ["CairnCore", "CairnCrypto", "OpenSkill"],
                swiftSettings: sharedSettings),
        // The reference training task: byte MLP, AdamW, data assignment (OpenBLAS for products).
        .target(name: "CairnTraining", dependencies: ["CairnCore", "CairnCrypto", "CBLAS"],
                swiftSettings: optimisedSettings),
        // The node's HTTP API as types (requests, replies, error codes): the server, the CLI and the
        // tests share one contract (D61).
        .target(name: "CairnAPI", dependencies: ["CairnLedger"], swiftSettings: sharedSettings),
        // What a validator and the auditor share (ARCHITECTURE §2): the chain's store layout and
        // reads, the outer step over the blob store, and the evaluation a quorum agrees on.
        .target(name: "CairnChain",
                dependencies: ["CairnCore", "CairnCrypto", "CairnStorage", "DAGRider", "CairnLedger", "CairnTraining",
                               .product(name: "NIOConcurrencyHelpers", package: "swift-nio")],
                swiftSettings: sharedSettings),
        .target(name: "CairnNode",
                dependencies: ["CairnCore", "CairnCrypto", "CairnStorage", "DAGRider", "CairnAPI", "CairnChain", "CairnNet", "CairnLedger", "CairnTraining", "CairnAllocator",
                               .product(name: "Hummingbird", package: "hummingbird"),
                               .product(name: "HTTPTypes", package: "swift-http-types"),
                               .product(name: "NIOCore", package: "swift-nio"),
                               .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                               .product(name: "TOMLKit", package: "TOMLKit"),
                               .product(name: "Logging", package: "swift-log"),
                               .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                               .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                               .product(name: "Metrics", package: "swift-metrics"),
                               .product(name: "Prometheus", package: "swift-prometheus")],
                swiftSettings: sharedSettings),
        // The auditor (ARCHITECTURE §2): replays a node's stored data or an archive from genesis and
        // trusts nothing the node computed; `cairn audit` is its shell.
        .target(name: "CairnAudit",
                dependencies: ["CairnCore", "CairnCrypto", "CairnStorage", "DAGRider", "ConsensusOracle", "CairnChain", "CairnLedger", "CairnTraining"],
                swiftSettings: sharedSettings),
        .target(name: "CairnBench",
                dependencies: ["CairnCore", "CairnCrypto", "CairnLedger", "CairnStorage", "ConsensusSimulator", "CairnTraining"],
                swiftSettings: sharedSettings),

        // MARK: Executables
        .executableTarget(
            name: "cairn",
            dependencies: [
                "CairnCore", "CairnCrypto", "CairnStorage", "CairnAPI", "CairnChain", "CairnNode", "CairnAudit", "CairnBench", "CairnTraining", "DAGRider", "ConsensusSimulator", "OpenSkill", "OpenSkillVectors",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: sharedSettings),
        // `rate` calls per second next to openskill.py's (tools/bench-openskill).
        .executableTarget(name: "OpenSkillBench", dependencies: ["OpenSkill"], swiftSettings: sharedSettings),
        // Child process for the RocksDB crash test: writes numbered synced batches until killed.
        .executableTarget(name: "CairnCrashWriter", dependencies: ["CairnStorage"],
                          swiftSettings: sharedSettings),

        // MARK: Tests
        // What several test targets share: seeded generators, built executables, and `cairn node`
        // networks on loopback (`LocalNetwork`, run one at a time in the `NodeProcesses` suite).
        .target(name: "CairnTestKit", dependencies: ["CairnAPI", "CairnCore", "CairnCrypto", "CairnChain", "CairnStorage", "CairnTraining"], path: "Tests/CairnTestKit",
                swiftSettings: sharedSettings),
        .testTarget(name: "CairnCoreTests", dependencies: ["CairnCore", "CairnTestKit"],
                    swiftSettings: sharedSettings),
        .testTarget(name: "CairnCryptoTests", dependencies: ["CairnCore", "CairnCrypto", "CairnTestKit"],
                    swiftSettings: sharedSettings),
        .testTarget(name: "CairnStorageTests",
                    dependencies: ["CairnCore", "CairnStorage", "CairnCrashWriter", "CairnTestKit"],
                    swiftSettings: sharedSettings),
        .testTarget(name: "DAGRiderTests",
                    dependencies: ["CairnCore", "CairnCrypto", "DAGRider", "ConsensusOracle", "ConsensusSimulator", "CairnTestKit"],
                    swiftSettings: sharedSettings),
        .testTarget(name: "ConsensusSimulatorTests",
                    dependencies: ["CairnCore", "DAGRider", "ConsensusSimulator"],
                    swiftSettings: sharedSettings),
        .testTarget(name: "CairnNetTests",
                    dependencies: ["CairnCore", "CairnCrypto", "CairnNet",
                                   .product(name: "NIOCore", package: "swift-nio"),
                                   .product(name: "NIOPosix", package: "swift-nio")],
                    swiftSettings: sharedSettings),
        // Fixtures/ holds the reference vectors, read by path (tests and `cairn rate`), not bundled.
        .testTarget(name: "OpenSkillTests", dependencies: ["OpenSkill", "OpenSkillVectors"], exclude: ["Fixtures"],
                    swiftSettings: sharedSettings),
        .testTarget(name: "CairnLedgerTests", dependencies: ["CairnCore", "CairnCrypto", "CairnLedger", "CairnTestKit"],
                    swiftSettings: sharedSettings),
        .testTarget(name: "CairnTrainingTests", dependencies: ["CairnCore", "CairnCrypto", "CairnTraining"],
                    swiftSettings: sharedSettings),
        // The vectors the Python client's tests read (Tests/Interop/vectors.json, outside the target).
        .testTarget(name: "InteropTests", dependencies: ["CairnAPI", "CairnCore", "CairnCrypto", "CairnTraining"],
                    swiftSettings: sharedSettings),
        .testTarget(name: "CairnChainTests",
                    dependencies: ["CairnChain", "CairnCore", "CairnCrypto", "CairnLedger", "CairnStorage", "CairnTestKit", "CairnTraining"],
                    swiftSettings: sharedSettings),
        // The auditor against stored ledgers of real `cairn node` networks ("cairn" is built first).
        .testTarget(name: "CairnAuditTests",
                    dependencies: ["CairnAPI", "CairnAudit", "CairnChain", "CairnCore", "CairnCrypto", "CairnLedger", "CairnStorage", "CairnTestKit", "cairn"],
                    swiftSettings: sharedSettings),
        .testTarget(name: "CairnNodeTests",
                    dependencies: ["CairnAPI", "CairnCore", "CairnCrypto", "CairnChain", "CairnNode", "CairnAudit", "CairnStorage", "CairnBench", "cairn", "CairnTestKit",
                                   "DAGRider", "CairnNet", "CairnLedger", "CairnTraining"],
                    swiftSettings: sharedSettings),
    ]
)
