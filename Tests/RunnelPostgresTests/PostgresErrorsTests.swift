#if Postgres
    import NIOCore
    import RunnelCore
    @testable import RunnelPostgres
    import Testing

    #if canImport(Glibc)
        import Glibc
    #endif

    /// A refused connection printed SwiftNIO's raw `NIOConnectionError(… SingleConnectionFailure(…))`.
    @Suite struct PostgresErrorsTests {
        @Test func aRefusedConnectionSaysRefusedInWords() {
            let refused = IOError(errnoCode: ECONNREFUSED, reason: "connect")
            #expect(PostgresErrors.describe(refused).hasPrefix("connection refused (is the server running"))
            let e = PostgresErrors.classify(refused, operation: "open extractor", settings: PostgresSettings(port: 1, database: "db", user: "u"))
            #expect(e.code == .transient)
            #expect(e.description.contains("cannot connect: connection refused"), "\(e.description)")
            #expect(!e.description.contains("IOError") && !e.description.contains("errno"))
        }
    }
#endif
