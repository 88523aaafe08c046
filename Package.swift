// swift-tools-version: 6.1
import PackageDescription

// One settings array for every target (hummingbird's habit): upcoming features that keep
// the API surface explicit and existentials visible.
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

// Server-based connectors and the HTTP endpoints pull in SwiftNIO and TLS (about 14 minutes
// of cold debug build on 2 cores). They come in through traits so that the quickstart
// (`swift run runnel-batch run examples/quickstart/pipeline.yaml`) stays a ~2 minute build.
// The image, CI and scripts/test build with `--enable-all-traits`.
let package = Package(
    name: "runnel",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "runnel-batch", targets: ["runnel-batch"]),
        .executable(name: "runnel-stream", targets: ["runnel-stream"]),
        // Both commands in one binary, for the container image (see Sources/runnel/main.swift).
        .executable(name: "runnel", targets: ["runnel"]),
        .library(name: "RunnelCore", targets: ["RunnelCore"]),
        .library(name: "RunnelFiles", targets: ["RunnelFiles"]),
        .library(name: "RunnelSQLite", targets: ["RunnelSQLite"]),
        .library(name: "RunnelConfig", targets: ["RunnelConfig"]),
        .library(name: "RunnelRuntime", targets: ["RunnelRuntime"]),
        .library(name: "RunnelTesting", targets: ["RunnelTesting"]),
    ],
    traits: [
        .trait(name: "Postgres", description: "PostgreSQL extractor, loader, checkpoint store and lease (postgres-nio)."),
        .trait(name: "Redis", description: "Redis Streams extractor, loader and dead letter stream (SwiftNIO)."),
        .trait(name: "HTTP", description: "/livez, /readyz and /metrics endpoints (hummingbird, swift-prometheus)."),
        .default(enabledTraits: []),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.5.0"),
        .package(url: "https://github.com/apple/swift-async-algorithms.git", from: "1.0.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.0.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.6.0"),
        // Trait-gated below; resolved always, built only when the trait is on.
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.80.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.30.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.10.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.1.0"),
    ],
    targets: [
        // System libraries: Debian's libsqlite3-dev and zlib1g-dev.
        .systemLibrary(name: "CSQLite", path: "Sources/CSQLite", pkgConfig: "sqlite3",
                       providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", pkgConfig: "zlib",
                       providers: [.apt(["zlib1g-dev"])]),

        .target(
            name: "RunnelCore",
            dependencies: [
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "AsyncAlgorithms", package: "swift-async-algorithms"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(name: "RunnelFiles", dependencies: ["RunnelCore", "CZlib"], swiftSettings: swiftSettings),
        .target(name: "RunnelSQLite", dependencies: ["RunnelCore", "CSQLite"], swiftSettings: swiftSettings),
        .target(
            name: "RedisClient",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio", condition: .when(traits: ["Redis"])),
                .product(name: "NIOPosix", package: "swift-nio", condition: .when(traits: ["Redis"])),
                .product(name: "NIOSSL", package: "swift-nio-ssl", condition: .when(traits: ["Redis"])),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "RunnelRedis",
            dependencies: [
                "RunnelCore",
                .target(name: "RedisClient", condition: .when(traits: ["Redis"])),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "RunnelPostgres",
            dependencies: [
                "RunnelCore",
                .product(name: "PostgresNIO", package: "postgres-nio", condition: .when(traits: ["Postgres"])),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "RunnelConfig",
            dependencies: [
                "RunnelCore", "RunnelFiles", "RunnelSQLite",
                .target(name: "RunnelPostgres", condition: .when(traits: ["Postgres"])),
                .target(name: "RunnelRedis", condition: .when(traits: ["Redis"])),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "RunnelRuntime",
            dependencies: [
                "RunnelCore", "RunnelConfig",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "RunnelHTTP",
            dependencies: [
                "RunnelCore", "RunnelRuntime",
                .product(name: "Hummingbird", package: "hummingbird", condition: .when(traits: ["HTTP"])),
                .product(name: "Prometheus", package: "swift-prometheus", condition: .when(traits: ["HTTP"])),
            ],
            swiftSettings: swiftSettings
        ),
        .target(name: "RunnelTesting", dependencies: ["RunnelCore"], swiftSettings: swiftSettings),
        .executableTarget(
            name: "runnel-batch",
            dependencies: [
                "RunnelRuntime",
                .target(name: "RunnelHTTP", condition: .when(traits: ["HTTP"])),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "runnel",
            dependencies: [
                "RunnelRuntime",
                .target(name: "RunnelHTTP", condition: .when(traits: ["HTTP"])),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "runnel-stream",
            dependencies: [
                "RunnelRuntime",
                .target(name: "RunnelHTTP", condition: .when(traits: ["HTTP"])),
            ],
            swiftSettings: swiftSettings
        ),

        .testTarget(name: "RunnelCoreTests", dependencies: ["RunnelCore", "RunnelTesting"], swiftSettings: swiftSettings),
        .testTarget(name: "RunnelFilesTests", dependencies: ["RunnelFiles", "RunnelTesting"], swiftSettings: swiftSettings),
        .testTarget(name: "RunnelSQLiteTests", dependencies: ["RunnelSQLite", "RunnelTesting"], swiftSettings: swiftSettings),
        .testTarget(name: "RunnelConfigTests", dependencies: ["RunnelConfig", "RunnelTesting"], swiftSettings: swiftSettings),
        .testTarget(name: "RunnelRuntimeTests", dependencies: ["RunnelRuntime", "RunnelSQLite", "RunnelTesting"], swiftSettings: swiftSettings),
        .testTarget(name: "RedisClientTests", dependencies: ["RedisClient", "RunnelTesting"], swiftSettings: swiftSettings),
        .testTarget(name: "RunnelRedisTests", dependencies: ["RunnelRedis", "RunnelTesting", "RunnelSQLite"], swiftSettings: swiftSettings),
        .testTarget(name: "RunnelPostgresTests", dependencies: ["RunnelPostgres", "RunnelTesting"], swiftSettings: swiftSettings),
    ]
)
