
#if Postgres
    import Foundation
    import Logging
    import PostgresReplication
    import RunnelCore
    @testable import RunnelPostgres
    import RunnelTesting
    import Testing

    /// `load.table: "copy_{table}"` with no `key`: a publication of two tables (one with a composite
    /// key) lands in two target tables, each keyed by its source's primary key; the snapshot and
    /// the stream route alike, and a transaction that touches both tables is applied to both.
    @Suite struct PostgresCDCRoutingTests {
        typealias Target = PostgresCDCHybridTests.Target

        @Test(arguments: Target.allCases)
        func eachSourceTableLandsInItsOwnTable(_ kind: Target) async throws {
            let id = UInt32.random(in: 0..<UInt32.max)
            let a = "rt_a_\(id)"
            let b = "rt_b_\(id)"
            _ = try await PostgresCDCTests.sql(
                "CREATE TABLE \(a) (id int PRIMARY KEY, name text)",
                "CREATE TABLE \(b) (code text, n int, qty int, PRIMARY KEY (code, n))",
                "INSERT INTO \(a) SELECT g, 'a' || g FROM generate_series(1, 30) g",
                "INSERT INTO \(b) SELECT 'c' || (g % 3), g, g * 10 FROM generate_series(1, 30) g")
            let r = try Runner()
            let load =
                kind == .sqlite
                ? "load:\n  type: sqlite\n  path: \(r.directory)/out.db\n  table: \"copy_{table}\""
                : "load:\n  type: postgres\n\(TestServer.connectionYAML())\n  table: \"copy_{table}\""
            let spec = try r.write(
                "cdc.yaml",
                """
                pipeline: cdc-routing-\(id)
                extract:
                  type: postgres_cdc
                \(TestServer.connectionYAML())
                  publication: rt_pub_\(id)
                  slot: rt_\(id)
                  tables: [public.\(a), public.\(b)]
                \(load)
                  version: _lsn
                checkpoint:
                  type: \(kind.rawValue)
                dead_letter:
                  type: \(kind.rawValue)
                batching:
                  max_records: 7
                  max_linger: 20ms
                """)
            var out = try r.run(spec)  // creates the publication and the slot
            #expect(out.exitCode == 0, "\(out.stdout)\(out.stderr)")
            out = try r.run(spec, ["--snapshot"])
            #expect(out.exitCode == 0, "\(out.stdout)\(out.stderr)")
            _ = try await PostgresCDCTests.sql(
                "BEGIN; UPDATE \(a) SET name = 'changed' WHERE id <= 5; DELETE FROM \(b) WHERE n <= 4; "
                    + "INSERT INTO \(b) VALUES ('new', 1, 1); DELETE FROM \(a) WHERE id = 30; COMMIT",
                "INSERT INTO \(a) VALUES (31, 'a31')")
            out = try r.run(spec)
            #expect(out.exitCode == 0, "\(out.stdout)\(out.stderr)")

            func target(_ query: String) async throws -> [String] {
                switch kind {
                case .sqlite:
                    return try CommandRunner.run("/usr/bin/env", ["sqlite3", "\(r.directory)/out.db", query]).stdout
                        .split(separator: "\n").map(String.init)
                case .postgres:
                    return (try await PostgresCDCTests.sql(query)?.rows ?? []).map { $0.map { $0 ?? "" }.joined(separator: "|") }
                }
            }
            func source(_ query: String) async throws -> [String] {
                (try await PostgresCDCTests.sql(query)?.rows ?? []).map { $0.map { $0 ?? "" }.joined(separator: "|") }
            }
            let aRows = "SELECT id, name FROM %@ ORDER BY id"
            let bRows = "SELECT code, n, qty FROM %@ ORDER BY code, n"
            #expect(try await target(String(format: aRows, "copy_\(a)")) == source(String(format: aRows, a)))
            #expect(try await target(String(format: bRows, "copy_\(b)")) == source(String(format: bRows, b)))
            #expect(try await source(String(format: aRows, a)).count == 30)

            try await ReplicationConnection.withConnection(
                configuration: PostgresCDCTests.connection, logger: Logger(label: "cdc-test")
            ) { try await $0.dropSlot("rt_\(id)", wait: true) }
            _ = try await PostgresCDCTests.sql("DROP PUBLICATION rt_pub_\(id)", "DROP TABLE \(a), \(b)")
            if kind == .postgres {
                _ = try await PostgresCDCTests.sql(
                    "DROP TABLE copy_\(a), copy_\(b), copy_\(a)__tombstones, copy_\(b)__tombstones, copy_\(a)__truncated, copy_\(b)__truncated")
            }
        }
    }
#endif
