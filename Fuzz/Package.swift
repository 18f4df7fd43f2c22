// swift-tools-version:5.4
// libFuzzer targets for Cairn's decoders (tools/fuzz builds and runs them).
//
// A separate package on purpose: SwiftPM ≥ 5.5 links executables through a `<Target>_main` alias
// that breaks libFuzzer's entry point (`undefined symbol 'FuzzX_main'`), so fuzz targets live under
// tools-version 5.4, depend on the main package by path, and are compiled with -parse-as-library;
// `swift build -c release -Xswiftc -sanitize=fuzzer,address --product FuzzX` instruments every
// module (verified with Swift 6.3.1; ld.gold's "Cannot export local symbol" warnings are harmless).
import PackageDescription

let package = Package(
    name: "CairnFuzz",
    dependencies: [.package(name: "Cairn", path: "..")],
    targets: [
        .executableTarget(
            name: "FuzzCodec",
            dependencies: [.product(name: "CairnCore", package: "Cairn")],
            swiftSettings: [.unsafeFlags(["-parse-as-library"])]),
        .executableTarget(
            name: "FuzzExecutor",
            dependencies: [.product(name: "CairnCore", package: "Cairn"), .product(name: "CairnCrypto", package: "Cairn"),
                           .product(name: "CairnLedger", package: "Cairn")],
            swiftSettings: [.unsafeFlags(["-parse-as-library"])]),
        .executableTarget(
            name: "FuzzBlob",
            dependencies: [.product(name: "CairnCore", package: "Cairn"), .product(name: "CairnTraining", package: "Cairn")],
            swiftSettings: [.unsafeFlags(["-parse-as-library"])]),
        .executableTarget(
            name: "FuzzCeremony",
            dependencies: [.product(name: "CairnCore", package: "Cairn"), .product(name: "CairnCrypto", package: "Cairn")],
            swiftSettings: [.unsafeFlags(["-parse-as-library"])]),
    ]
)
