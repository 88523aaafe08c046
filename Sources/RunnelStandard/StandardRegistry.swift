public import RunnelConfig
import RunnelExpressions
import RunnelFiles
import RunnelSQLite

#if Postgres
    import RunnelPostgres
#endif
#if Redis
    import RunnelRedis
#endif
#if S3
    import RunnelS3
#endif
#if Kafka
    import RunnelKafka
#endif
#if HTTPAPI
    import RunnelHTTPAPI
#endif
#if Parquet
    import RunnelParquet
#endif

/// A connector that comes in through a package trait: the types it registers, and its
/// registration when this binary was built with the trait (nil otherwise).
struct OptionalConnector: Sendable {
    let trait: String
    let types: [String]
    let register: (@Sendable (inout ComponentRegistry) -> Void)?
}

/// The one table of optional connectors. A build without a trait still knows the types, so a
/// spec naming one is told which trait brings it. Adding a connector: one line here (and its
/// trait in Package.swift); a test checks that each line's types are what it registers.
let optionalConnectors: [OptionalConnector] = {
    var all: [OptionalConnector] = []
    #if Postgres
        all.append(.init(trait: "Postgres", types: ["postgres", "postgres_cdc"]) { $0.registerPostgres() })
    #else
        all.append(.init(trait: "Postgres", types: ["postgres", "postgres_cdc"], register: nil))
    #endif
    #if Redis
        all.append(.init(trait: "Redis", types: ["redis_stream"]) { $0.registerRedis() })
    #else
        all.append(.init(trait: "Redis", types: ["redis_stream"], register: nil))
    #endif
    #if S3
        all.append(.init(trait: "S3", types: ["s3"]) { $0.registerS3() })
    #else
        all.append(.init(trait: "S3", types: ["s3"], register: nil))
    #endif
    #if Kafka
        all.append(.init(trait: "Kafka", types: ["kafka"]) { $0.registerKafka() })
    #else
        all.append(.init(trait: "Kafka", types: ["kafka"], register: nil))
    #endif
    #if HTTPAPI
        all.append(.init(trait: "HTTPAPI", types: ["http"]) { $0.registerHTTPAPI() })
    #else
        all.append(.init(trait: "HTTPAPI", types: ["http"], register: nil))
    #endif
    // `parquet` is the extractor, the part-file loader and the part encoder of the S3 loader's
    // `format: parquet` (which reports the trait through `ComponentContext.partEncoder`).
    #if Parquet
        all.append(.init(trait: "Parquet", types: ["parquet"]) { $0.registerParquet() })
    #else
        all.append(.init(trait: "Parquet", types: ["parquet"], register: nil))
    #endif
    return all
}()

extension ComponentRegistry {
    /// What every build has, whatever its traits: the light path of the quickstart.
    public static var alwaysBuiltIn: ComponentRegistry {
        var r = ComponentRegistry()
        r.registerCore()
        r.registerExpressions()
        r.registerFiles()
        r.registerSQLite()
        return r
    }

    /// Every connector and transformer built into this binary.
    public static var standard: ComponentRegistry {
        var r = alwaysBuiltIn
        for connector in optionalConnectors {
            if let register = connector.register {
                register(&r)
            } else {
                r.markUnavailable(connector.types, trait: connector.trait)
            }
        }
        return r
    }

    /// The optional connectors' traits and types, for a test that they match what is registered.
    public static var optionalConnectorTypes: [(trait: String, types: [String], builtIn: Bool)] {
        optionalConnectors.map { ($0.trait, $0.types, $0.register != nil) }
    }
}
