// swift-tools-version: 6.1
import PackageDescription

// Data flows one way:
//   COpenSSL → ALVHSigning → (ALVHEngine is pure computation) → ALVHApproval → ALVHLedger → ALVHSigner → alvh
// Only ALVHSigning imports COpenSSL, and it does so with `internal import`.
let package = Package(
    name: "alvh",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "alvh", targets: ["alvh"]),
        .library(name: "ALVHSigning", targets: ["ALVHSigning"]),
        .library(name: "ALVHEngine", targets: ["ALVHEngine"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    ],
    targets: [
        .systemLibrary(
            name: "COpenSSL",
            pkgConfig: "libcrypto",
            providers: [.apt(["libssl-dev"])]
        ),
        .target(
            name: "ALVHSigning",
            dependencies: ["COpenSSL"]
        ),
        .target(
            name: "ALVHEngine",
            dependencies: [.product(name: "Yams", package: "Yams")]
        ),
        .executableTarget(
            name: "alvh",
            dependencies: [
                "ALVHSigning",
                "ALVHEngine",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(
            name: "ALVHSigningTests",
            dependencies: ["ALVHSigning"]
        ),
        .testTarget(
            name: "ALVHEngineTests",
            dependencies: ["ALVHEngine"]
        ),
    ]
)
