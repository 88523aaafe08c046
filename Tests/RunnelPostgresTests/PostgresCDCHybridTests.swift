#if Postgres
    import Foundation
    import Logging
    import PostgresReplication
    import RunnelCore
    @testable import RunnelPostgres
    import RunnelTesting
    import Testing

    /// The CDC hybrid end to end, with the built binaries: `runnel-stream` consumes the slot while
    /// writers insert, update (leaving a TOASTed column unchanged) and delete, and a 4-shard
    /// `runnel-batch --snapshot` loads the table's history into the same SQLite target. Both are
    /// SIGKILLed and restarted along the way. At quiescence the target equals the source exactly
    /// (deleted keys absent, TOASTed values intact), and the slot is never confirmed past what the
    /// target stored.
    @Suite(.serialized)
    struct PostgresCDCHybridTests {
        static let streamBinary = CommandRunner.binary("runnel-stream")

        enum Target: String, CaseIterable, Sendable { case sqlite, postgres }

        struct Setup {
            let id = UInt32.random(in: 0..<UInt32.max)
            let kind: Target
            var table: String { "cdc_hy_\(id)" }
            var slot: String { "cdc_hy_\(id)" }
            var publication: String { "cdc_hy_pub_\(id)" }
            let runner: Runner
            let spec: String
            var target: String { runner.directory + "/out.db" }

            var targetTable: String { "cdc_hy_target_\(id)" }
            /// The source server's settings (the shared test server, or a private one).
            let server: PostgresSettings

            init(_ kind: Target = .sqlite, server: PostgresSettings = TestServer.settings) throws {
                self.kind = kind
                self.server = server
                var runner = try Runner()
                runner.environment["RUNNEL_TEST_PG_SECRET"] = server.password ?? ""
                self.runner = runner
                let id = self.id
                let load =
                    kind == .sqlite
                    ? """
                    load:
                      type: sqlite
                      path: \(runner.directory)/out.db
                      table: items
                    """
                    : """
                    load:
                      type: postgres
                    \(TestServer.connectionYAML(server))
                      table: cdc_hy_target_\(id)
                      columns: {id: int, note: string, big: string, amount: int, _lsn: int, _table: string, _index: int, _commit_time: timestamp}
                    """
                spec = try runner.write(
                    "cdc.yaml",
                    """
                    pipeline: cdc-hybrid-\(id)
                    extract:
                      type: postgres_cdc
                    \(TestServer.connectionYAML(server))
                      publication: cdc_hy_pub_\(id)
                      slot: cdc_hy_\(id)
                      tables: [public.cdc_hy_\(id)]
                      heartbeat: 200ms
                    \(load)
                      key: [id]
                      version: _lsn
                    checkpoint:
                      type: \(kind.rawValue)
                    dead_letter:
                      type: \(kind.rawValue)
                    batching:
                      max_records: 50
                      max_linger: 20ms
                    """)
            }

            var connection: ReplicationConfiguration {
                ReplicationConfiguration(
                    host: server.host, port: server.port, user: server.user, password: server.password,
                    database: server.database, tls: .disable)
            }

            /// Runs statements on the source server; the last one's rows.
            @discardableResult
            func sql(_ statements: String...) async throws -> ReplicationStateMachine.QueryResult? {
                try await ReplicationConnection.withConnection(configuration: connection, logger: .init(label: "cdc-test")) { c in
                    var last: ReplicationStateMachine.QueryResult?
                    for s in statements { last = try await c.simpleQuery(s) }
                    return last
                }
            }

            /// The source's rows as `id|note|length(big)|right(big, 12)|amount`, ordered by id.
            func source() async throws -> [String] {
                let rows = try await sql(
                    "SELECT id, note, length(big), right(big, 12), amount FROM \(table) ORDER BY id")?.rows ?? []
                return rows.map { $0.map { $0 ?? "" }.joined(separator: "|") }
            }

            /// The target's rows in the same form (and none still waiting for a TOASTed value).
            func target() async throws -> [String] {
                switch kind {
                case .sqlite:
                    let out = try CommandRunner.run(
                        "/usr/bin/env",
                        ["sqlite3", target, "SELECT id, note, length(big), substr(big, -12), amount FROM items ORDER BY id"])
                    return out.stdout.split(separator: "\n").map(String.init)
                case .postgres:
                    let rows = try await sql(
                        "SELECT id, note, length(big), right(big, 12), amount FROM \(targetTable) ORDER BY id")?.rows ?? []
                    return rows.map { $0.map { $0 ?? "" }.joined(separator: "|") }
                }
            }

            /// Rows of the target still listing columns whose values are not known.
            func pendingRows() async throws -> String {
                switch kind {
                case .sqlite:
                    return try CommandRunner.run(
                        "/usr/bin/env", ["sqlite3", target, "SELECT count(*) FROM items WHERE _runnel_pending IS NOT NULL"]
                    ).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
                case .postgres:
                    let result = try await sql(
                        "SELECT count(*) FROM \(targetTable) WHERE _runnel_pending IS NOT NULL")
                    return result?.rows.first?.first.flatMap { $0 } ?? "?"
                }
            }

            /// The stored checkpoint of the stream.
            func storedPosition() async throws -> String {
                let query = "SELECT position FROM runnel_checkpoints WHERE pipeline = 'cdc-hybrid-\(id)'"
                switch kind {
                case .sqlite:
                    return try CommandRunner.run("/usr/bin/env", ["sqlite3", target, query]).stdout
                        .trimmingCharacters(in: .whitespacesAndNewlines)
                case .postgres:
                    let result = try await sql(query)
                    return result?.rows.first?.first.flatMap { $0 } ?? ""
                }
            }

            func startStream() throws -> CommandRunner.Running {
                try CommandRunner.start(
                    PostgresCDCHybridTests.streamBinary, ["run", spec, "--log-level", "error"], environment: runner.environment)
            }

            func snapshotShard(_ i: Int, of n: Int) throws -> CommandRunner.Running {
                try runner.start(spec, ["--snapshot", "--shard", "\(i)/\(n)", "--log-level", "error"])
            }

            func slotExists() async throws -> Bool {
                try await sql("SELECT 1 FROM pg_replication_slots WHERE slot_name = '\(slot)'")?.rows
                    .isEmpty == false
            }

            func cleanUp() async throws {
                try? await ReplicationConnection.withConnection(
                    configuration: connection, logger: Logger(label: "cdc-test")
                ) { try await $0.dropSlot(slot, wait: true) }
                _ = try await sql(
                    "DROP PUBLICATION IF EXISTS \(publication)", "DROP TABLE IF EXISTS \(table)",
                    "DROP TABLE IF EXISTS \(targetTable), \(targetTable)__tombstones, \(targetTable)__truncated")
            }
        }

        /// Random inserts, updates of `note` only (the out-of-line `big` column arrives as
        /// TOAST-unchanged), deletes and re-inserts of deleted keys, in small transactions.
        /// With `tolerateFailures`, a transaction that fails (the server is down) is left out and
        /// the next one tried: the source, whatever it ended with, is what the target must equal.
        static func write(_ s: Setup, transactions: Int, seed: UInt64, tolerateFailures: Bool = false) async throws {
            var random = SeededGenerator(seed: seed)
            var next = 20_001
            for _ in 0..<transactions {
                var statements: [String] = ["BEGIN"]
                for _ in 0..<Int.random(in: 1...6, using: &random) {
                    let key = Int.random(in: 1..<next, using: &random)
                    switch Int.random(in: 0..<4, using: &random) {
                    case 0:
                        statements.append(
                            "INSERT INTO \(s.table) VALUES (\(next), 'new \(next)', repeat('b', 3000) || '-\(next)', \(next))")
                        next += 1
                    case 1:
                        statements.append("UPDATE \(s.table) SET note = 'upd ' || md5(random()::text) WHERE id = \(key)")
                    case 2:
                        statements.append("DELETE FROM \(s.table) WHERE id = \(key)")
                    default:
                        statements.append(
                            "INSERT INTO \(s.table) VALUES (\(key), 'again', repeat('c', 2500) || '-\(key)', \(key)) "
                                + "ON CONFLICT (id) DO UPDATE SET amount = excluded.amount + 1")
                    }
                }
                statements.append("COMMIT")
                do {
                    try await s.sql(statements.joined(separator: "; "))
                } catch where tolerateFailures {
                    try await Task.sleep(for: .milliseconds(50))
                }
            }
        }

        /// Polls until `condition` holds or the deadline passes (an upper bound, not a wait).
        static func eventually(_ deadline: Duration, _ condition: () async throws -> Bool) async throws -> Bool {
            let end = ContinuousClock.now + deadline
            while ContinuousClock.now < end {
                if try await condition() { return true }
                try await Task.sleep(for: .milliseconds(100))
            }
            return try await condition()
        }

        @Test(arguments: Target.allCases)
        func streamAndShardedSnapshotConvergeThroughKills(_ kind: Target) async throws {
            let s = try Setup(kind)
            _ = try await s.sql(
                "CREATE TABLE \(s.table) (id int PRIMARY KEY, note text, big text, amount int)",
                // Out of line and uncompressed: an update that leaves it alone sends it as unchanged.
                "ALTER TABLE \(s.table) ALTER COLUMN big SET STORAGE EXTERNAL",
                """
                INSERT INTO \(s.table) SELECT g, 'n' || g, CASE WHEN g % 3 = 0 THEN repeat('a', 4000) || '-' || g END, g
                FROM generate_series(1, 20000) g
                """)

            // The stream first: it creates the publication and the slot.
            var stream = try s.startStream()
            #expect(try await Self.eventually(.seconds(60)) { try await s.slotExists() }, "the stream did not create its slot")

            // Writers, the snapshot's 4 shards, and kills of both, all at once.
            async let writes: Void = Self.write(s, transactions: 300, seed: UInt64(s.id))
            var shards = try (0..<4).map { try s.snapshotShard($0, of: 4) }
            var kills = 0
            var random = SeededGenerator(seed: UInt64(s.id) ^ 0x5eed)
            for _ in 0..<20 {
                try await Task.sleep(for: .milliseconds(Int.random(in: 150...500, using: &random)))
                stream.kill(SIGKILL)
                _ = stream.wait()
                stream = try s.startStream()
                kills += 1
                // Kill a shard still running (a finished one exited 0 and stays done).
                if let i = shards.indices.first(where: { shards[$0].process.isRunning }) {
                    shards[i].kill(SIGKILL)
                    _ = shards[i].wait()
                    shards[i] = try s.snapshotShard(i, of: 4)
                    kills += 1
                }
            }
            try await writes
            for (i, shard) in shards.enumerated() {
                let code = shard.wait()
                #expect(code == 0, "snapshot shard \(i) exited \(code): \(String(decoding: shard.stderrPipe.fileHandleForReading.availableData, as: UTF8.self))")
            }

            // Quiescence: the target converges to the source.
            let expected = try await s.source()
            let converged = try await Self.eventually(.seconds(120)) { try await s.target() == expected }
            stream.kill(SIGTERM)
            let streamExit = stream.wait()
            #expect(converged, "after \(kills) kills the target differs from the source")
            if !converged {
                let target = try await s.target()
                let missing = Set(expected).subtracting(target).sorted().prefix(5)
                let extra = Set(target).subtracting(expected).sorted().prefix(5)
                Issue.record("source only: \(Array(missing)); target only: \(Array(extra))")
            }
            #expect(streamExit == 0, "the stream exited \(streamExit) on SIGTERM")
            #expect(kills >= 20)
            #expect(try await s.pendingRows() == "0")

            // The slot is never confirmed past what the target stored.
            let position = try #require(CDCPosition(try await s.storedPosition()))
            let confirmed = try await s.sql(
                "SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = '\(s.slot)'")?
                .rows.first?.first?.flatMap { LSN($0) }
            #expect(try #require(confirmed) <= position.resume)
            try await s.cleanUp()
        }

        /// `pg_ctl stop -m immediate` of the source under load, then a start: the stream (restarted
        /// when it exits, as a Deployment would) resumes from the stored position and the target
        /// ends equal to the source; the slot is never confirmed past what the target stored.
        @Test func aSourceCrashUnderLoadLosesNothing() async throws {
            let server = try PrivateServer.start(logical: true)
            defer { server.stop() }
            let s = try Setup(.sqlite, server: server.settings)
            try await s.sql(
                "CREATE TABLE \(s.table) (id int PRIMARY KEY, note text, big text, amount int)",
                "ALTER TABLE \(s.table) ALTER COLUMN big SET STORAGE EXTERNAL",
                "INSERT INTO \(s.table) SELECT g, 'n' || g, CASE WHEN g % 3 = 0 THEN repeat('a', 4000) || '-' || g END, g "
                    + "FROM generate_series(1, 20000) g")
            var stream = try s.startStream()
            #expect(try await Self.eventually(.seconds(60)) { try await s.slotExists() }, "the stream did not create its slot")
            // The history the stream did not see: the snapshot, as in production.
            let snapshot = try s.runner.run(s.spec, ["--snapshot", "--log-level", "error"])
            #expect(snapshot.exitCode == 0, "\(snapshot.stdout)\(snapshot.stderr)")

            async let writes: Void = Self.write(s, transactions: 400, seed: UInt64(s.id), tolerateFailures: true)
            try await Task.sleep(for: .milliseconds(700))
            try server.crashAndRestart()
            try await writes

            let expected = try await s.source()
            var restarts = 0
            let converged = try await Self.eventually(.seconds(120)) {
                if !stream.process.isRunning {
                    stream = try s.startStream()
                    restarts += 1
                }
                return try await s.target() == expected
            }
            stream.kill(SIGTERM)
            _ = stream.wait()
            #expect(converged, "after the source's crash the target differs from the source (\(restarts) stream restarts)")
            #expect(try await s.pendingRows() == "0")
            let position = try #require(CDCPosition(try await s.storedPosition()))
            let confirmed = try await s.sql("SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = '\(s.slot)'")?
                .rows.first?.first?.flatMap { LSN($0) }
            #expect(try #require(confirmed) <= position.resume)
        }

        /// An idle publication does not pin WAL: while other tables are written, the stream's
        /// heartbeat confirms the server's position, so the slot advances with no change to load,
        /// and the stored checkpoint moves with it.
        @Test func anIdlePublicationsSlotAdvancesWithHeartbeats() async throws {
            let s = try Setup()
            try await s.sql(
                "CREATE TABLE \(s.table) (id int PRIMARY KEY, note text, big text, amount int)",
                "CREATE TABLE \(s.table)_other (id int)")
            let stream = try s.startStream()
            #expect(try await Self.eventually(.seconds(60)) { try await s.slotExists() }, "the stream did not create its slot")
            let created = try #require(
                try await s.sql("SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = '\(s.slot)'")?
                    .rows.first?.first?.flatMap { LSN($0) })
            try await s.sql("INSERT INTO \(s.table)_other SELECT generate_series(1, 10000)")
            let written = try #require(try await s.sql("SELECT pg_current_wal_lsn()")?.rows.first?.first?.flatMap { LSN($0) })
            #expect(written > created)
            var confirmed: LSN?
            let advanced = try await Self.eventually(.seconds(60)) {
                confirmed = try await s.sql("SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = '\(s.slot)'")?
                    .rows.first?.first?.flatMap { LSN($0) }
                return (confirmed ?? .zero) >= written
            }
            stream.kill(SIGTERM)
            #expect(stream.wait() == 0)
            #expect(advanced, "the idle slot stayed at \(confirmed.map { "\($0)" } ?? "?"), the server wrote up to \(written)")
            let stored = try #require(CDCPosition(try await s.storedPosition()))
            #expect(stored.resume >= written)
            try await s.sql("DROP TABLE \(s.table)_other")
            try await s.cleanUp()
        }

        @Test func aSnapshotWaitsForTheStreamsSlot() async throws {
            let s = try Setup()
            _ = try await s.sql("CREATE TABLE \(s.table) (id int PRIMARY KEY, note text, big text, amount int)")
            let out = try s.runner.run(s.spec, ["--snapshot"])
            #expect(out.exitCode == 2)
            #expect(out.stderr.contains("slot 'cdc_hy_\(s.id)' does not exist yet"), "\(out.stderr)")
            try await s.cleanUp()
        }
    }
#endif
