// swift-tools-version:5.4
// libFuzzer targets for Cairn's decoders (tools/fuzz builds and runs them).
//
// A separate package on purpose: SwiftPM ≥ 5.5 links executables through a `<Target>_main` alias
// that breaks libFuzzer's entry point, so fuzz targets live under tools-version 5.4 and depend on
// the main package by path (../shared/reference/swift-toolchain.md, "Fuzzing with libFuzzer").
import PackageDescription

let package = Package(
    name: "CairnFuzz",
    dependencies: [.package(name: "Cairn", path: "..")],
    targets: [
        .executableTarget(
            name: "FuzzCodec",
            dependencies: [.product(name: "CairnCore", package: "Cairn")],
            swiftSettings: [.unsafeFlags(["-parse-as-library"])]),
    ]
)
