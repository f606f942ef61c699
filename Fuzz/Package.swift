// swift-tools-version: 6.1
import PackageDescription

// Fuzz targets for alvh's decoders (libFuzzer, built by scripts/fuzz with
// `swift build --sanitize=fuzzer --sanitize=address`). A separate package so that the main
// package's normal build never sees an executable without a main.
let fuzzFlags: [SwiftSetting] = [.unsafeFlags(["-parse-as-library"])]

func fuzzTarget(_ name: String, _ dependencies: [Target.Dependency]) -> Target {
    .executableTarget(name: name, dependencies: dependencies, swiftSettings: fuzzFlags)
}

let package = Package(
    name: "alvh-fuzz",
    platforms: [.macOS(.v13)],
    dependencies: [.package(name: "alvh", path: "..")],
    targets: [
        .target(name: "FuzzSupport", dependencies: [.product(name: "ALVHSigning", package: "alvh"), .product(name: "ALVHApproval", package: "alvh")]),
        fuzzTarget("FuzzEnvelope", ["FuzzSupport", .product(name: "ALVHApproval", package: "alvh")]),
        fuzzTarget("FuzzProposal", ["FuzzSupport", .product(name: "ALVHApproval", package: "alvh")]),
        fuzzTarget("FuzzPolicy", ["FuzzSupport", .product(name: "ALVHApproval", package: "alvh")]),
        fuzzTarget("FuzzPEM", ["FuzzSupport", .product(name: "ALVHSigning", package: "alvh")]),
        fuzzTarget("FuzzSnapshot", [.product(name: "ALVHEngine", package: "alvh")]),
        fuzzTarget("FuzzCSV", [.product(name: "ALVHEngine", package: "alvh")]),
    ]
)
