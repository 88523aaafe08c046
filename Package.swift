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
        .library(name: "RunnelExpressions", targets: ["RunnelExpressions"]),
        .library(name: "RunnelStandard", targets: ["RunnelStandard"]),
        .library(name: "RunnelRuntime", targets: ["RunnelRuntime"]),
        .library(name: "RunnelTesting", targets: ["RunnelTesting"]),
        .library(name: "Parquet", targets: ["Parquet"]),
    ],
    traits: [
        .trait(name: "Postgres", description: "PostgreSQL extractor, loader, checkpoint store and lease (postgres-nio)."),
        .trait(name: "Redis", description: "Redis Streams extractor, loader and dead letter stream (SwiftNIO)."),
        .trait(name: "Kafka", description: "Kafka consumer-group source, idempotent sink and dead letters (librdkafka)."),
        .trait(name: "HTTP", description: "/livez, /readyz and /metrics endpoints (hummingbird, swift-prometheus)."),
        .trait(name: "S3", description: "S3-compatible object extractor, part-file loader and dead letters (async-http-client, swift-crypto)."),
        .trait(name: "HTTPAPI", description: "HTTP API extractor and webhook loader, `type: http` (async-http-client)."),
        .trait(name: "Parquet", description: "Parquet files: part-file loader format and extractor (libzstd, libsnappy)."),
        // No dependency: the spans and their OTLP/JSON export are Runnel's own (a few files of
        // RunnelRuntime/Tracing), over the metrics push's plain HTTP client. swift-otel was left
        // out on purpose: ~7 more minutes of cold build (swift-protobuf, gRPC) on a CI budget that
        // is already spent. See docs/operations.md, "Traces".
        .trait(name: "Tracing", description: "OpenTelemetry traces: a span tree per batch, exported by OTLP/HTTP (JSON) from the OTEL_* variables."),
        .default(enabledTraits: []),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.5.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.0.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.6.0"),
        // Trait-gated below; resolved always, built only when the trait is on.
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.80.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.30.0"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.20.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.10.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.1.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
    ],
    targets: [
        // System libraries: Debian's libsqlite3-dev and zlib1g-dev.
        .systemLibrary(name: "CSQLite", path: "Sources/CSQLite", pkgConfig: "sqlite3",
                       providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", pkgConfig: "zlib",
                       providers: [.apt(["zlib1g-dev"])]),
        // Debian's libzstd-dev and libsnappy-dev, for the Parquet codecs (gzip goes through CZlib).
        .systemLibrary(name: "CZstd", path: "Sources/CZstd", pkgConfig: "libzstd",
                       providers: [.apt(["libzstd-dev"])]),
        .systemLibrary(name: "CSnappy", path: "Sources/CSnappy",
                       providers: [.apt(["libsnappy-dev"])]),
        // Debian's librdkafka-dev (2.0.x); the runtime image needs only librdkafka1.
        .systemLibrary(name: "CRdkafka", path: "Sources/CRdkafka", pkgConfig: "rdkafka",
                       providers: [.apt(["librdkafka-dev"])]),

        .target(
            name: "RunnelCore",
            dependencies: [
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: swiftSettings
        ),
        // The spec module: YAML, ${ENV}, the component registry, typed shared resources, lint.
        // It knows no connector; connectors register themselves (see docs/architecture.md).
        .target(
            name: "RunnelConfig",
            dependencies: ["RunnelCore", .product(name: "Yams", package: "Yams")],
            swiftSettings: swiftSettings
        ),

        // Connectors: each module holds its stages and its own `register…()`. Their client
        // libraries are plain dependencies; the traits appear only in RunnelStandard below.
        .target(name: "RunnelFiles", dependencies: ["RunnelCore", "RunnelConfig", "CZlib"], swiftSettings: swiftSettings),
        // `type: parquet` extractor and loader, and the `parquet` part encoder of the S3 loader.
        .target(name: "RunnelParquet", dependencies: ["RunnelCore", "RunnelConfig", "RunnelFiles", "Parquet"], swiftSettings: swiftSettings),
        .target(name: "RunnelSQLite", dependencies: ["RunnelCore", "RunnelConfig", "CSQLite"], swiftSettings: swiftSettings),
        .target(
            name: "RedisClient",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOHTTPCompression", package: "swift-nio-extras"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // The PostgreSQL logical-replication client (postgres-nio has no replication protocol).
        // Its pgoutput decoder (PgOutput/) uses nothing but the standard library, so that
        // scripts/fuzz compiles it alone under libFuzzer.
        .target(
            name: "PostgresReplication",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(name: "KafkaClient", dependencies: ["CRdkafka", .product(name: "Logging", package: "swift-log")], swiftSettings: swiftSettings),
        .target(
            name: "RunnelKafka",
            dependencies: [
                "RunnelCore", "RunnelConfig", "KafkaClient", .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "RunnelRedis",
            dependencies: ["RunnelCore", "RunnelConfig", "RedisClient", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "RunnelPostgres",
            dependencies: [
                "RunnelCore", "RunnelConfig", "PostgresReplication", .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"), .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "RunnelHTTPAPI",
            dependencies: [
                "RunnelCore", "RunnelConfig",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                // To read a secret's raw spec text (it must be a ${VAR} reference).
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: swiftSettings
        ),

        .target(
            name: "RunnelS3",
            dependencies: [
                "RunnelCore", "RunnelConfig", "RunnelFiles", "CZlib",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),

        // The bundle: `ComponentRegistry.standard`, one line per connector; the only place where
        // connector traits appear.
        .target(
            name: "RunnelStandard",
            dependencies: [
                "RunnelCore", "RunnelConfig", "RunnelExpressions", "RunnelFiles", "RunnelSQLite",
                .target(name: "RunnelPostgres", condition: .when(traits: ["Postgres"])),
                .target(name: "RunnelRedis", condition: .when(traits: ["Redis"])),
                .target(name: "RunnelS3", condition: .when(traits: ["S3"])),
                .target(name: "RunnelKafka", condition: .when(traits: ["Kafka"])),
                .target(name: "RunnelHTTPAPI", condition: .when(traits: ["HTTPAPI"])),
                .target(name: "RunnelParquet", condition: .when(traits: ["Parquet"])),
            ],
            swiftSettings: swiftSettings
        ),

        // /livez, /readyz, /metrics on hummingbird; used by RunnelRuntime when the HTTP trait is on.
        .target(
            name: "RunnelHTTP",
            dependencies: [
                "RunnelCore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // The expression language (a CEL subset) and its stages: pure Swift, so no trait.
        .target(name: "RunnelExpressions", dependencies: ["RunnelCore", "RunnelConfig"], swiftSettings: swiftSettings),
        .target(
            name: "RunnelRuntime",
            dependencies: [
                "RunnelCore", "RunnelConfig", "RunnelStandard", "RunnelExpressions", "RunnelFiles",
                .target(name: "RunnelHTTP", condition: .when(traits: ["HTTP"])),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(name: "RunnelTesting", dependencies: ["RunnelCore"], swiftSettings: swiftSettings),
        // The Parquet format (Thrift footer, encodings, codecs): its own typed columns, no RunnelCore,
        // so the batch redesign and the fuzz target (scripts/fuzz parquet) can use it alone.
        .target(name: "Parquet", dependencies: ["CZstd", "CSnappy", "CZlib"], swiftSettings: swiftSettings),
        .executableTarget(name: "runnel-batch", dependencies: ["RunnelRuntime"], swiftSettings: swiftSettings),
        .executableTarget(name: "runnel-stream", dependencies: ["RunnelRuntime"], swiftSettings: swiftSettings),
        .executableTarget(name: "runnel", dependencies: ["RunnelRuntime"], swiftSettings: swiftSettings),

        .testTarget(name: "RunnelCoreTests", dependencies: ["RunnelCore", "RunnelTesting"], swiftSettings: swiftSettings),
        .testTarget(name: "RunnelFilesTests", dependencies: ["RunnelFiles", "RunnelTesting"], swiftSettings: swiftSettings),
        .testTarget(
            name: "RunnelParquetTests", dependencies: ["RunnelParquet", "RunnelFiles", "Parquet", "RunnelTesting"],
            swiftSettings: swiftSettings),
        .testTarget(name: "RunnelSQLiteTests", dependencies: ["RunnelSQLite", "RunnelTesting"], swiftSettings: swiftSettings),
        .testTarget(
            name: "RunnelExpressionsTests", dependencies: ["RunnelExpressions", "RunnelTesting"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "RunnelConfigTests", dependencies: ["RunnelConfig", "RunnelStandard", "RunnelSQLite", "RunnelFiles", "RunnelRuntime", "RunnelTesting"],
            swiftSettings: swiftSettings),
        .testTarget(name: "RunnelRuntimeTests", dependencies: ["RunnelRuntime", "RunnelSQLite", "RunnelTesting", "RunnelConfig", "RunnelStandard"], swiftSettings: swiftSettings),
        .testTarget(name: "RedisClientTests", dependencies: ["RedisClient", "RunnelTesting"], swiftSettings: swiftSettings),
        .testTarget(name: "PostgresReplicationTests", dependencies: ["PostgresReplication", "RunnelTesting"], swiftSettings: swiftSettings),
        .testTarget(name: "KafkaClientTests", dependencies: ["KafkaClient"], swiftSettings: swiftSettings),
        .testTarget(
            name: "RunnelKafkaTests", dependencies: ["RunnelKafka", "KafkaClient", "RunnelSQLite", "RunnelTesting", "RunnelConfig"],
            swiftSettings: swiftSettings),
        .testTarget(name: "RunnelRedisTests", dependencies: ["RunnelRedis", "RunnelTesting", "RunnelSQLite", "RunnelConfig"], swiftSettings: swiftSettings),
        .testTarget(
            name: "RunnelS3Tests", dependencies: ["RunnelS3", "RunnelFiles", "RunnelParquet", "RunnelConfig", "RunnelSQLite", "RunnelTesting"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "RunnelHTTPAPITests", dependencies: ["RunnelHTTPAPI", "RunnelTesting", "RunnelSQLite", "RunnelConfig"],
            swiftSettings: swiftSettings),
        .testTarget(name: "ParquetTests", dependencies: ["Parquet"], swiftSettings: swiftSettings),
        .testTarget(
            name: "RunnelPostgresTests",
            dependencies: [
                "RunnelPostgres", "PostgresReplication", "RunnelTesting", .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings),
    ]
)
