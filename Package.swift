// swift-tools-version: 6.1
import PackageDescription

// Data flows one way:
//   COpenSSL → ALVHSigning → (ALVHEngine is pure computation) → ALVHApproval → ALVHLedger → ALVHSigner → alvh
//   ALVHLedger → ALVHService (`alvh serve`: the HTTP API) → alvh
// (ALVHEngine uses ALVHSigning's SecureFile to read its files, nothing else of it.)
// Only ALVHSigning imports COpenSSL, and it does so with `internal import`.
// Only ALVHService imports Hummingbird / HummingbirdTLS (and NIOSSL for the TLS configuration);
// only ALVHStorageRemote (the seam over `alvh serve`) imports AsyncHTTPClient — and alvh-bench, whose
// load generator drives `alvh serve` and its bare Hummingbird peer over mTLS.
let package = Package(
    name: "alvh",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "alvh", targets: ["alvh"]),
        .library(name: "ALVHSigning", targets: ["ALVHSigning"]),
        .library(name: "ALVHEngine", targets: ["ALVHEngine"]),
        .library(name: "ALVHBacktest", targets: ["ALVHBacktest"]),
        .library(name: "ALVHApproval", targets: ["ALVHApproval"]),
        .library(name: "ALVHLedger", targets: ["ALVHLedger"]),
        .library(name: "ALVHSigner", targets: ["ALVHSigner"]),
        .library(name: "ALVHService", targets: ["ALVHService"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.3"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
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
            // The one check every YAML input passes before Yams composes it (no anchors/aliases).
            name: "ALVHYAML",
            dependencies: [.product(name: "Yams", package: "Yams")]
        ),
        .target(
            name: "ALVHEngine",
            // ALVHSigning for SecureFile only: every file alvh reads is opened the one same way.
            dependencies: ["ALVHSigning", "ALVHYAML", .product(name: "Yams", package: "Yams")],
            resources: [.embedInCode("Calendar/releases.csv")]
        ),
        .target(
            // The backtest: the engine's rules day by day over the shared history. Pure computation.
            name: "ALVHBacktest",
            // ALVHSigning for SecureFile only (the HTML report's atomic write).
            dependencies: ["ALVHSigning", "ALVHEngine"],
            resources: [.embedInCode("Data/tbill-3m.csv"), .embedInCode("Data/releases-history.csv")]
        ),
        .target(
            name: "ALVHApproval",
            dependencies: ["ALVHSigning", "ALVHYAML", .product(name: "Yams", package: "Yams")]
        ),
        .target(
            // The storage seam: the protocol, its plain records and typed outcomes, the in-memory double.
            name: "ALVHStorage",
            dependencies: ["ALVHSigning"]
        ),
        .target(
            // SQLite through GRDB: the only module that imports GRDB.
            name: "ALVHStorageSQLite",
            dependencies: ["ALVHStorage", "ALVHSigning", .product(name: "GRDB", package: "GRDB.swift")]
        ),
        .target(
            // The PostgreSQL backend of the seam: the only module that imports PostgresNIO (none of
            // its types is in this module's public API).
            name: "ALVHStoragePostgres",
            dependencies: ["ALVHStorage", "ALVHSigning", .product(name: "PostgresNIO", package: "postgres-nio"),
                           .product(name: "Logging", package: "swift-log")]
        ),
        .target(
            // The seam over `alvh serve` (a signer, coordinator or CLI on another host): the only
            // module that imports AsyncHTTPClient. It trusts the service no more than a database.
            name: "ALVHStorageRemote",
            dependencies: ["ALVHStorage", "ALVHSigning",
                           .product(name: "AsyncHTTPClient", package: "async-http-client"),
                           .product(name: "NIOCore", package: "swift-nio"),
                           .product(name: "NIOHTTP1", package: "swift-nio"),
                           .product(name: "NIOSSL", package: "swift-nio-ssl")]
        ),
        .target(
            name: "ALVHLedger",
            dependencies: ["ALVHSigning", "ALVHEngine", "ALVHApproval", "ALVHStorage", "ALVHStorageSQLite", "ALVHStoragePostgres", "ALVHStorageRemote",
                           .product(name: "Logging", package: "swift-log")]
        ),
        .target(
            name: "ALVHSigner",
            dependencies: ["ALVHSigning", "ALVHEngine", "ALVHApproval", "ALVHLedger", "ALVHStorage", "ALVHYAML",
                           .product(name: "Yams", package: "Yams"), .product(name: "Logging", package: "swift-log")]
        ),
        .target(
            // `alvh serve`: the versioned JSON API in front of a ledger (Hummingbird 2, TLS 1.3 with
            // client certificates, Server-Sent Events). The only module that imports Hummingbird.
            name: "ALVHService",
            dependencies: ["ALVHSigning", "ALVHApproval", "ALVHLedger", "ALVHStorage",
                           .product(name: "Hummingbird", package: "hummingbird"),
                           .product(name: "HummingbirdCore", package: "hummingbird"),
                           .product(name: "HummingbirdTLS", package: "hummingbird"),
                           .product(name: "NIOCore", package: "swift-nio"),
                           .product(name: "NIOTLS", package: "swift-nio"),
                           .product(name: "NIOSSL", package: "swift-nio-ssl"),
                           .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                           .product(name: "Logging", package: "swift-log")],
            // A copy of docs/openapi.yaml, served at /openapi.yaml (a test keeps the two identical).
            resources: [.embedInCode("openapi.yaml")]
        ),
        .executableTarget(
            name: "alvh",
            dependencies: [
                "ALVHSigning",
                "ALVHEngine",
                "ALVHApproval",
                "ALVHLedger",
                "ALVHSigner",
                "ALVHBacktest",
                "ALVHService",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "alvh-bench",
            // No database module's types: it reaches SQLite and PostgreSQL through the seam (and the
            // SQLite backend's testing SPI for bulk inserts). ALVHService for its bench SPI only (the
            // bare Hummingbird peer, on the service's own TLS configuration); AsyncHTTPClient is the
            // load generator of the service benchmarks.
            dependencies: ["ALVHSigning", "ALVHApproval", "ALVHEngine", "ALVHBacktest", "ALVHLedger", "ALVHSigner",
                           "ALVHStorage", "ALVHStorageSQLite", "ALVHStoragePostgres", "ALVHService",
                           .product(name: "Logging", package: "swift-log"),
                           .product(name: "AsyncHTTPClient", package: "async-http-client"),
                           .product(name: "NIOCore", package: "swift-nio"),
                           .product(name: "NIOHTTP1", package: "swift-nio"),
                           .product(name: "NIOSSL", package: "swift-nio-ssl")]
        ),
        .target(
            name: "ALVHTestSupport",
            // ALVHStorage and ALVHStoragePostgres: PostgresTestServer (a fresh database per test).
            dependencies: ["ALVHSigning", "ALVHEngine", "ALVHLedger", "ALVHStorage", "ALVHStoragePostgres"],
            path: "Tests/ALVHTestSupport"
        ),
        .testTarget(
            name: "ALVHSigningTests",
            dependencies: ["ALVHSigning", "ALVHTestSupport"],
            exclude: ["Vectors"]
        ),
        .testTarget(
            name: "ALVHApprovalTests",
            dependencies: ["ALVHApproval", "ALVHSigning"]
        ),
        .testTarget(
            name: "ALVHLedgerTests",
            dependencies: ["ALVHLedger", "ALVHApproval", "ALVHSigning", "ALVHEngine", "ALVHSigner", "ALVHTestSupport",
                           "ALVHStorage", "ALVHStorageSQLite", "ALVHStoragePostgres"],
            exclude: ["Fixtures"]
        ),
        .testTarget(
            name: "ALVHSignerTests",
            dependencies: ["ALVHSigner", "ALVHLedger", "ALVHApproval", "ALVHSigning", "ALVHEngine", "ALVHTestSupport",
                           "ALVHStorage", "ALVHStorageSQLite", .product(name: "Logging", package: "swift-log")]
        ),
        .testTarget(
            // One conformance suite over every storage backend (memory, SQLite, PostgreSQL),
            // and the PostgreSQL-only tests (triggers, role, races, query plans).
            name: "ALVHStorageTests",
            dependencies: ["ALVHStorage", "ALVHStorageSQLite", "ALVHStoragePostgres", "ALVHSigning", "ALVHTestSupport"]
        ),
        .testTarget(
            // Route-level tests (HummingbirdTesting) against a temporary SQLite ledger, and an
            // end-to-end `alvh serve` over TLS driven with curl.
            name: "ALVHServiceTests",
            dependencies: ["ALVHService", "ALVHLedger", "ALVHStorage", "ALVHApproval", "ALVHSigning", "ALVHEngine", "ALVHTestSupport", "ALVHStorageRemote",
                           "ALVHSigner", .product(name: "Logging", package: "swift-log"),
                           .product(name: "HummingbirdTesting", package: "hummingbird"),
                           .product(name: "Hummingbird", package: "hummingbird"),
                           // The lying service forwards to the real one.
                           .product(name: "AsyncHTTPClient", package: "async-http-client")]
        ),
        .testTarget(
            name: "ALVHEngineTests",
            dependencies: ["ALVHEngine"]
        ),
        .testTarget(
            name: "ALVHBacktestTests",
            dependencies: ["ALVHBacktest", "ALVHEngine"]
        ),
    ]
)
