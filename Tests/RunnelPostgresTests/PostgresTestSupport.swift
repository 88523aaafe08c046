#if Postgres
    import Foundation
    import PostgresNIO
    import RunnelCore
    @testable import RunnelPostgres
    import RunnelTesting
    import Testing

    /// The test server, from the environment scripts/test exports (loopback defaults otherwise).
    enum TestServer {
        static var env: [String: String] { ProcessInfo.processInfo.environment }

        static var settings: PostgresSettings {
            var s = PostgresSettings(
                host: env["RUNNEL_TEST_PG_HOST"] ?? "127.0.0.1", port: Int(env["RUNNEL_TEST_PG_PORT"] ?? "") ?? 5433,
                database: env["RUNNEL_TEST_PG_DATABASE"] ?? "runnel", user: env["RUNNEL_TEST_PG_USER"] ?? "runnel",
                password: env["RUNNEL_TEST_PG_PASSWORD"] ?? "runnel-test-secret", tls: .disable)
            if let url = env["RUNNEL_TEST_POSTGRES_URL"], let parsed = parse(url: url) { s = parsed }
            // Generous: the whole suite runs in parallel on 2 cores, and the pool waits at most this long.
            s.connectTimeout = .seconds(30)
            return s
        }

        /// `postgres://user:password@host:port/database`
        static func parse(url: String) -> PostgresSettings? {
            guard let u = URLComponents(string: url), let host = u.host, let user = u.user else { return nil }
            let database = String(u.path.dropFirst())
            return PostgresSettings(
                host: host, port: u.port ?? 5432, database: database.isEmpty ? user : database, user: user,
                password: u.password, tls: .disable)
        }

        /// The `connection:` block of a spec for `settings`; the password travels in an environment
        /// variable, as it would from a Kubernetes secret.
        static func connectionYAML(_ s: PostgresSettings = settings, indent: String = "  ") -> String {
            """
            \(indent)connection:
            \(indent)  host: \(s.host)
            \(indent)  port: \(s.port)
            \(indent)  database: \(s.database)
            \(indent)  user: \(s.user)
            \(indent)  password: ${RUNNEL_TEST_PG_SECRET}
            \(indent)  tls: disable
            \(indent)  connect_timeout: 2s
            """
        }

        static func environment(_ s: PostgresSettings = settings) -> [String: String] {
            ["RUNNEL_TEST_PG_SECRET": s.password ?? ""]
        }
    }

    /// A schema of its own for one test, so tests run in parallel; dropped by `drop()`.
    struct TestDatabase: Sendable {
        let pool: PostgresPool
        let schema: String

        static func make(_ name: String, settings: PostgresSettings = TestServer.settings) async throws -> TestDatabase {
            let schema = "t_\(name)_\(UInt32.random(in: 0..<UInt32.max))"
            let db = TestDatabase(pool: PostgresPool(settings: settings), schema: schema)
            try await db.execute("CREATE SCHEMA \(schema)")
            return db
        }

        func execute(_ sql: String) async throws {
            _ = try await pool.withConnection("test sql") { c in
                try await pool.rows(PostgresQuery(unsafeSQL: sql), on: c).count
            }
        }

        func rows(_ sql: String) async throws -> [[Value]] {
            try await pool.withConnection("test sql") { c in
                try await pool.rows(PostgresQuery(unsafeSQL: sql), on: c).map { row in row.map(PostgresDecoding.value) }
            }
        }

        func int(_ sql: String) async throws -> Int64 {
            guard case .int(let n)? = try await rows(sql).first?.first else { return -1 }
            return n
        }

        /// Rows of `a` not in `b` plus rows of `b` not in `a`: zero when the tables are equal.
        func difference(_ a: String, _ b: String, columns: String = "*") async throws -> Int64 {
            try await int(
                """
                SELECT (SELECT count(*) FROM (SELECT \(columns) FROM \(schema).\(a) EXCEPT ALL SELECT \(columns) FROM \(schema).\(b)) x)
                     + (SELECT count(*) FROM (SELECT \(columns) FROM \(schema).\(b) EXCEPT ALL SELECT \(columns) FROM \(schema).\(a)) y)
                """)
        }

        func checkpoint(_ pipeline: String) async throws -> String? {
            guard try await rows("SELECT to_regclass('\(schema).runnel_checkpoints')::text").first?.first != .null else { return nil }
            let r = try await rows("SELECT position FROM \(schema).runnel_checkpoints WHERE pipeline = '\(pipeline)'")
            if case .string(let s)? = r.first?.first { return s }
            return nil
        }

        /// After a kill: `table` holds exactly the rows the committed position covers, and before
        /// the first commit there is neither table nor checkpoint. `committed` is SQL that counts
        /// those rows from `cp.p`, the checkpoint's position as jsonb. True when there was a table
        /// to compare (a kill after a commit): the tests count those, so that kills which all
        /// land before the first commit cannot pass for a test of the committed state.
        @discardableResult
        func expectTargetMatchesCheckpoint(
            _ table: String, pipeline: String, committed: String, _ context: String,
            sourceLocation: SourceLocation = #_sourceLocation
        ) async throws -> Bool {
            if try await rows("SELECT to_regclass('\(schema).\(table)')::text").first?.first == .null {
                #expect(try await checkpoint(pipeline) == nil, "\(context): a checkpoint without its table", sourceLocation: sourceLocation)
                return false
            }
            let state = try await rows(
                """
                WITH cp AS (SELECT position::jsonb AS p FROM \(schema).runnel_checkpoints WHERE pipeline = '\(pipeline)')
                SELECT (SELECT count(*) FROM \(schema).\(table)), \(committed)
                """)
            #expect(
                state.first?[0] == state.first?[1], "\(context): target rows vs rows the checkpoint covers: \(state)",
                sourceLocation: sourceLocation)
            return true
        }

        func drop() async {
            try? await execute("DROP SCHEMA \(schema) CASCADE")
        }

        /// A source table of `count` orders whose cursor (`updated_at`) repeats in runs of `tie`
        /// rows, so equal cursor values straddle page boundaries.
        func makeOrders(_ table: String, count: Int, tie: Int = 7, offset: Int = 0) async throws {
            try await execute(
                """
                CREATE TABLE IF NOT EXISTS \(schema).\(table) (id bigint PRIMARY KEY, customer text, amount numeric(12,2),
                  status text, updated_at timestamptz NOT NULL)
                """)
            try await execute(
                """
                INSERT INTO \(schema).\(table)
                SELECT g, 'customer ' || (g % 97) || E'\\t"quoted"\\\\', (g % 1000) * 1.25, (ARRAY['new','paid','shipped'])[1 + g % 3],
                  timestamptz '2024-01-01 00:00:00+00' + ((g + \(offset)) / \(tie)) * interval '1 second'
                FROM generate_series(\(offset + 1), \(offset + count)) g
                """)
        }
    }

    /// Writes pipeline specs into a temporary folder and runs the built `runnel-batch` on them.
    struct Runner {
        let directory: String
        var environment: [String: String] = TestServer.environment()

        init() throws { directory = try CommandRunner.temporaryDirectory("runnel-pg") }

        func write(_ name: String, _ text: String) throws -> String {
            let path = directory + "/" + name
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }

        static var binary: String { CommandRunner.binary("runnel-batch") }

        func run(_ spec: String, _ extra: [String] = []) throws -> CommandRunner.Output {
            try CommandRunner.run(Self.binary, ["run", spec, "--no-progress"] + extra, environment: environment)
        }

        func start(_ spec: String, _ extra: [String] = []) throws -> CommandRunner.Running {
            try CommandRunner.start(Self.binary, ["run", spec, "--no-progress"] + extra, environment: environment)
        }

        /// Starts a run of `spec`, kills it with SIGKILL at a random instant within `share` of
        /// `window`, a full run's time (at least 40 ms; by default an eighth, so that a resuming
        /// source gets a little further each run and the kills land at every stage), and returns
        /// its exit code: 128 + SIGKILL when the kill landed.
        func startAndKill(
            _ spec: String, fullRun window: Duration, within share: Double = 1.0 / 8, using rng: inout SeededGenerator
        ) async throws -> Int32 {
            let milliseconds = Double(window.components.seconds * 1000 + window.components.attoseconds / 1_000_000_000_000_000)
            let slice = max(Int(milliseconds * share), 40)
            let p = try start(spec)
            try await Task.sleep(for: .milliseconds(Int.random(in: 0...slice, using: &rng)))
            p.kill(SIGKILL)
            return p.wait()
        }

        /// Runs until the run is not refused for the lease: a killed run's session lingers until the
        /// server notices the closed socket, as a Job's next pod would find.
        func runUntilLeaseFree(_ spec: String, deadline: Duration = .seconds(30)) throws -> CommandRunner.Output {
            let clock = ContinuousClock()
            let end = clock.now + deadline
            while true {
                let out = try run(spec)
                if out.exitCode != 4 || clock.now > end { return out }
            }
        }
    }

    /// `rows` (aligned to `fields`, origin line n + 1 for row n) as a columnar batch, or as rows:
    /// the same records on the two paths the loaders take.
    func testBatch(_ fields: [String], _ rows: [[Value]], columnar: Bool) -> Batch {
        let origins = rows.indices.map { Origin(source: "t", line: $0 + 1) }
        return columnar
            ? Batch(schema: Schema(fields), columns: fields.indices.map { i in Column(rows.map { $0[i] }) }, origins: origins)
            : Batch(schema: Schema(fields), rows: rows, origins: origins)
    }

    /// Runs `body` with a new database's pool running (as the runtime's service group does), then
    /// drops its schema.
    func withDatabase(_ name: String, _ body: (TestDatabase) async throws -> Void) async throws {
        let db = try await TestDatabase.make(name)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await db.pool.run() }
            do {
                try await body(db)
            } catch {
                await db.drop()
                group.cancelAll()
                throw error
            }
            await db.drop()
            group.cancelAll()
        }
    }

    /// PostgreSQL → PostgreSQL spec over `source` into `target`, incremental by (updated_at, id).
    func ordersSpec(
        pipeline: String, schema: String, source: String = "src", target: String = "dst", pageSize: Int = 100,
        settings: PostgresSettings = TestServer.settings, extraExtract: String = "", retry: String = ""
    ) -> String {
        """
        pipeline: \(pipeline)
        extract:
          type: postgres
        \(TestServer.connectionYAML(settings))
          schema: \(schema)
          table: \(source)
          cursor: updated_at
          key: id
          page_size: \(pageSize)
        \(extraExtract)
        validate:
          on_invalid: fail
        load:
          type: postgres
        \(TestServer.connectionYAML(settings))
          schema: \(schema)
          table: \(target)
          key: [id]
          version: updated_at
          columns:
            id: bigint
            customer: text
            amount: numeric(12,2)
            status: text
            updated_at: timestamptz
        checkpoint:
          type: postgres
          schema: \(schema)
        \(retry)
        """
    }

    /// Polls `condition` until it holds or `timeout` passes; returns whether it held. A condition
    /// that throws (the table does not exist yet) does not hold.
    func poll(timeout: Duration = .seconds(30), _ condition: () async throws -> Bool) async throws -> Bool {
        let clock = ContinuousClock()
        let end = clock.now + timeout
        while clock.now < end {
            if (try? await condition()) == true { return true }
            try await Task.sleep(for: .milliseconds(20))
        }
        return (try? await condition()) == true
    }
#endif
