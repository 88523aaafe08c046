#if Postgres
    import Foundation
    import RunnelCore
    @testable import RunnelPostgres
    import RunnelTesting
    import Testing

    /// The built `runnel-batch` against the real server: what a user sees (rows, checkpoints, exit codes).
    @Suite struct PostgresEndToEndTests {
        // 1. CSV → PostgreSQL and PostgreSQL → PostgreSQL

        @Test func csvToPostgres() async throws {
            let db = try await TestDatabase.make("csv")
            defer { Task { await db.drop() } }
            let r = try Runner()
            var csv = "order_id,customer,amount,updated_at\n"
            for i in 1...1_234 { csv += "\(i),\"cust \(i % 50), \"\"vip\"\"\",\(Double(i) * 0.5),2024-02-01T00:00:\(String(format: "%02d", i % 60))Z\n" }
            csv += "1,\"cust 1 again\",99.5,2024-03-01T00:00:00Z\n"  // a newer version of order 1 at the end
            csv += "oops,bad,row,2024-01-01T00:00:00Z\n"  // rejected by cast, parked in the dead letter table
            _ = try r.write("orders.csv", csv)
            let spec = try r.write(
                "csv.yaml",
                """
                pipeline: csv-orders
                extract:
                  type: csv
                  path: orders.csv
                transform:
                  - type: cast
                    fields: {order_id: int, amount: double, updated_at: timestamp}
                load:
                  type: postgres
                \(TestServer.connectionYAML())
                  schema: \(db.schema)
                  table: orders
                  key: order_id
                  version: updated_at
                  columns: {order_id: int, customer: string, amount: double, updated_at: timestamp}
                checkpoint:
                  type: postgres
                  schema: \(db.schema)
                dead_letter:
                  type: postgres
                  schema: \(db.schema)
                batching:
                  max_records: 100
                """)
            let out = try r.run(spec)
            #expect(out.exitCode == 0, "\(out.stdout)\(out.stderr)")
            #expect(try await db.int("SELECT count(*) FROM \(db.schema).orders") == 1_234)
            #expect(try await db.rows("SELECT customer, amount FROM \(db.schema).orders WHERE order_id = 1") == [["cust 1 again", 99.5]])
            #expect(try await db.rows("SELECT customer FROM \(db.schema).orders WHERE order_id = 7") == [["cust 7, \"vip\""]])
            #expect(try await db.int("SELECT count(*) FROM \(db.schema).runnel_dead_letters WHERE pipeline = 'csv-orders'") == 1)
            #expect(try await db.checkpoint("csv-orders") != nil)
            // The summary names the target without the password.
            #expect(out.stdout.contains("table \(db.schema).orders"))
            #expect(!(out.stdout + out.stderr).contains(TestServer.settings.password ?? "\u{0}"))
            // A second run reads nothing new and changes nothing.
            let before = try await db.rows("SELECT * FROM \(db.schema).orders ORDER BY order_id")
            let again = try r.run(spec)
            #expect(again.exitCode == 0)
            #expect(try await db.rows("SELECT * FROM \(db.schema).orders ORDER BY order_id") == before)
            // --dry-run shows no password either.
            let dry = try r.run(spec, ["--dry-run"])
            #expect(!(dry.stdout + dry.stderr).contains(TestServer.settings.password ?? "\u{0}"))
        }

        @Test func postgresToPostgresIncremental() async throws {
            let db = try await TestDatabase.make("p2p")
            defer { Task { await db.drop() } }
            try await db.makeOrders("src", count: 2_000, tie: 9)
            let r = try Runner()
            let spec = try r.write("p2p.yaml", ordersSpec(pipeline: "p2p-\(db.schema)", schema: db.schema, pageSize: 64, extraExtract: "  lookback: 30s"))
            var out = try r.run(spec)
            #expect(out.exitCode == 0, "\(out.stdout)\(out.stderr)")
            #expect(try await db.difference("src", "dst") == 0)
            // New rows: some share the last cursor value (larger ids), some come later, one row is updated.
            try await db.makeOrders("src", count: 300, tie: 9, offset: 2_000)
            try await db.execute("UPDATE \(db.schema).src SET status = 'refunded', updated_at = updated_at + interval '1 hour' WHERE id = 5")
            out = try r.run(spec)
            #expect(out.exitCode == 0, "\(out.stdout)\(out.stderr)")
            #expect(try await db.difference("src", "dst") == 0)
            // A late row: committed with a cursor 10 s behind the checkpoint, inside the 30 s lookback.
            try await db.execute(
                "INSERT INTO \(db.schema).src SELECT 99999, 'late', 1, 'new', max(updated_at) - interval '10 seconds' FROM \(db.schema).src")
            let checkpointBefore = try await db.checkpoint("p2p-\(db.schema)")
            out = try r.run(spec)
            #expect(out.exitCode == 0, "\(out.stdout)\(out.stderr)")
            #expect(try await db.difference("src", "dst") == 0)
            // Re-reading the lookback window does not move the checkpoint backwards.
            #expect(try await db.checkpoint("p2p-\(db.schema)") == checkpointBefore)
        }

        // 2. SIGKILL at random instants

        @Test func killedRunsLoseNothingAndDuplicateNothing() async throws {
            let db = try await TestDatabase.make("kill")
            defer { Task { await db.drop() } }
            try await db.makeOrders("src", count: 30_000, tie: 11)
            let r = try Runner()
            let reference = try r.write("ref.yaml", ordersSpec(pipeline: "ref-\(db.schema)", schema: db.schema, target: "ref", pageSize: 150))
            let clock = ContinuousClock()
            let started = clock.now
            let ref = try r.run(reference)
            let full = clock.now - started
            #expect(ref.exitCode == 0, "\(ref.stdout)\(ref.stderr)")

            let pipeline = "kill-\(db.schema)"
            let spec = try r.write("kill.yaml", ordersSpec(pipeline: pipeline, schema: db.schema, pageSize: 150))
            var rng = SeededGenerator(seed: 0x5EED_0004)
            // Kill instants are drawn across a short slice of a full run, so the kills land at every
            // stage: start-up, lease, reads, COPY, merge, commit.
            var kills = 0
            var compared = 0
            var attempts = 0
            var added = 0
            // Under load some runs finish, or meet the lease of a killed run the server has not reaped yet;
            // keep going until 22 kills land (bounded).
            while kills < 22, attempts < 200 {
                attempts += 1
                let code = try await r.startAndKill(spec, fullRun: full, using: &rng)
                if code == 128 + SIGKILL {
                    kills += 1
                } else if code == 0 {
                    // The run finished before its kill: the source keeps growing, as a stream's would.
                    try await db.makeOrders("src", count: 2_000, tie: 11, offset: 30_000 + added)
                    added += 2_000
                }
                // The checkpoint is never ahead of the data, and the data never ahead of the checkpoint:
                // the target holds exactly the source rows up to the committed position (one snapshot).
                if try await db.expectTargetMatchesCheckpoint(
                    "dst", pipeline: pipeline,
                    committed: """
                        (SELECT count(*) FROM \(db.schema).src s, cp
                          WHERE (s.updated_at, s.id) <= ((cp.p->>'cursor')::timestamptz, (cp.p->'key'->>0)::bigint))
                        """, "after kill \(kills)")
                {
                    compared += 1
                }
            }
            #expect(kills >= 20)
            #expect(compared >= 5, "the kills must also land after commits: \(compared) did")
            let last = try r.runUntilLeaseFree(spec)
            #expect(last.exitCode == 0, "\(last.stdout)\(last.stderr)")
            // The reference run catches up on the rows added meanwhile, uninterrupted.
            #expect(try r.run(reference).exitCode == 0)
            #expect(try await db.difference("ref", "dst") == 0)
            #expect(try await db.int("SELECT count(*) FROM \(db.schema).dst") == Int64(30_000 + added))
        }

        /// The same for a CSV source, whose typed columns go into the table by binary COPY (the
        /// PostgreSQL source above gives rows, which go as text): after every kill the table holds
        /// exactly the rows before the committed line, and the finished runs equal one run.
        @Test func killedBinaryCopyLoadsLoseNothingAndDuplicateNothing() async throws {
            let db = try await TestDatabase.make("killbin")
            defer { Task { await db.drop() } }
            let r = try Runner()
            let rows = 40_000
            var csv = "id,customer,amount,updated_at\n"
            for i in 1...rows { csv += "\(i),cust \(i % 97),\(Double(i % 1000) * 0.25),2024-02-01T00:\(String(format: "%02d", i / 60 % 60)):\(String(format: "%02d", i % 60))Z\n" }
            _ = try r.write("orders.csv", csv)
            func spec(_ pipeline: String, table: String) -> String {
                """
                pipeline: \(pipeline)
                extract: {type: csv, path: orders.csv}
                transform:
                  - {type: cast, fields: {id: int, amount: double, updated_at: timestamp}}
                validate:
                  on_invalid: fail
                load:
                  type: postgres
                \(TestServer.connectionYAML())
                  schema: \(db.schema)
                  table: \(table)
                  key: [id]
                  version: updated_at
                  columns: {id: bigint, customer: text, amount: double precision, updated_at: timestamptz}
                checkpoint:
                  type: postgres
                  schema: \(db.schema)
                batching:
                  max_records: 500
                """
            }
            let reference = try r.write("ref.yaml", spec("ref-\(db.schema)", table: "ref"))
            let clock = ContinuousClock()
            let started = clock.now
            let ref = try r.run(reference, ["--log-level", "debug"])
            let full = clock.now - started
            #expect(ref.exitCode == 0, "\(ref.stdout)\(ref.stderr)")
            #expect(!(ref.stdout + ref.stderr).contains("COPY as text"), "every batch should go in binary")

            let pipeline = "killbin-\(db.schema)"
            let killed = try r.write("kill.yaml", spec(pipeline, table: "dst"))
            var rng = SeededGenerator(seed: 0x5EED_0006)
            var kills = 0
            var compared = 0
            var attempts = 0
            while kills < 20, attempts < 200 {
                attempts += 1
                // Anywhere in a whole run (start-up included), so that kills land after commits too.
                let code = try await r.startAndKill(killed, fullRun: full, within: 1, using: &rng)
                if code == 128 + SIGKILL {
                    kills += 1
                } else if code == 0 {
                    // Finished before its kill: start over, so that the next run can be interrupted.
                    try await db.execute("DROP TABLE \(db.schema).dst")
                    try await db.execute("DELETE FROM \(db.schema).runnel_checkpoints WHERE pipeline = '\(pipeline)'")
                    continue
                }
                // The next line to read is `line` (the header is line 1); a finished file is done.
                if try await db.expectTargetMatchesCheckpoint(
                    "dst", pipeline: pipeline,
                    committed: """
                        COALESCE((SELECT CASE WHEN jsonb_array_length(p->'files_done') > 0 THEN \(rows)
                                              ELSE (p->>'line')::bigint - 2 END FROM cp), 0)
                        """, "after kill \(kills)")
                {
                    compared += 1
                }
            }
            #expect(kills >= 10)
            #expect(compared >= 5, "the kills must also land after commits: \(compared) did")
            let last = try r.runUntilLeaseFree(killed)
            #expect(last.exitCode == 0, "\(last.stdout)\(last.stderr)")
            #expect(try await db.difference("ref", "dst") == 0)
            #expect(try await db.int("SELECT count(*) FROM \(db.schema).dst") == Int64(rows))
        }

        // 3. Two scheduled runs at once

        @Test func concurrentScheduledRunsOneExits4() async throws {
            let db = try await TestDatabase.make("lease")
            defer { Task { await db.drop() } }
            try await db.makeOrders("src", count: 20_000, tie: 5)
            let r = try Runner()
            let spec = try r.write("lease.yaml", ordersSpec(pipeline: "lease-\(db.schema)", schema: db.schema, pageSize: 50))
            let a = try r.start(spec)
            let b = try r.start(spec)
            // Read the output while waiting, so a full pipe never blocks a child.
            async let aErr = Task.detached { String(decoding: a.stderrPipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self) }.value
            async let bErr = Task.detached { String(decoding: b.stderrPipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self) }.value
            async let aOut = Task.detached { String(decoding: a.stdoutPipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self) }.value
            async let bOut = Task.detached { String(decoding: b.stdoutPipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self) }.value
            // While a scheduled run holds the incremental lease, a backfill of a window still runs.
            #expect(try await poll { try await db.int("SELECT count(*) FROM \(db.schema).dst") > 0 })
            let backfill = try r.run(spec, ["--from", "2024-01-01T00:00:00Z", "--to", "2024-01-01T00:00:10Z"])
            let codes = [a.wait(), b.wait()]
            let outputs = await [aOut, bOut, aErr, bErr].joined()
            #expect(codes.sorted() == [0, 4], "\(outputs)")
            #expect(outputs.contains("another run holds the lease"))
            #expect(backfill.exitCode == 0, "\(backfill.stdout)\(backfill.stderr)")
            #expect(try await db.difference("src", "dst") == 0)
        }

        // 4. A backfill replaying older versions behind the stream

        @Test func backfillNeverOverwritesNewerRows() async throws {
            let db = try await TestDatabase.make("backfill")
            defer { Task { await db.drop() } }
            let r = try Runner()
            func spec(_ file: String) -> String {
                """
                pipeline: hybrid-\(db.schema)
                extract:
                  type: csv
                  path: \(file)
                  cursor: day
                transform:
                  - type: cast
                    fields: {id: int, version: int}
                load:
                  type: postgres
                \(TestServer.connectionYAML())
                  schema: \(db.schema)
                  table: items
                  key: [id]
                  version: version
                  columns: {id: bigint, name: text, version: bigint, day: date}
                checkpoint:
                  type: postgres
                  schema: \(db.schema)
                validate:
                  on_invalid: fail
                """
            }
            // The stream: version 2 of items 1–10.
            _ = try r.write("stream.csv", "id,name,version,day\n" + (1...10).map { "\($0),stream,2,2024-05-0\($0 % 9 + 1)" }.joined(separator: "\n") + "\n")
            let stream = try r.write("stream.yaml", spec("stream.csv"))
            #expect(try r.run(stream).exitCode == 0)
            let checkpoint = try await db.checkpoint("hybrid-\(db.schema)")
            // The backfill: version 1 of the same items, item 5 twice in one batch (3 then 1),
            // item 11 twice with equal versions (the last read wins), item 12 outside the window.
            var lines = (1...10).map { "\($0),backfill,1,2024-05-0\($0 % 9 + 1)" }
            lines += ["5,newest,3,2024-05-06", "5,stale,1,2024-05-06", "11,first,1,2024-05-02", "11,second,1,2024-05-03", "12,outside,1,2024-06-01"]
            _ = try r.write("backfill.csv", "id,name,version,day\n" + lines.joined(separator: "\n") + "\n")
            let backfill = try r.write("backfill.yaml", spec("backfill.csv"))
            let out = try r.run(backfill, ["--from", "2024-05-01", "--to", "2024-06-01"])
            #expect(out.exitCode == 0, "\(out.stdout)\(out.stderr)")
            let rows = try await db.rows("SELECT id, name, version FROM \(db.schema).items ORDER BY id")
            var expected: [[Value]] = (1...10).map { [.int(Int64($0)), "stream", 2] }
            expected[4] = [5, "newest", 3]
            expected.append([11, "second", 1])
            #expect(rows == expected)
            // A backfill does not move the incremental checkpoint.
            #expect(try await db.checkpoint("hybrid-\(db.schema)") == checkpoint)
            // Replaying the backfill changes nothing.
            #expect(try r.run(backfill, ["--from", "2024-05-01", "--to", "2024-06-01"]).exitCode == 0)
            #expect(try await db.rows("SELECT id, name, version FROM \(db.schema).items ORDER BY id") == expected)
        }

        // 5. PostgreSQL restarted mid-run

        @Test func serverRestartMidRunExits1ThenRecovers() async throws {
            let server = try PrivateServer.start()
            defer { server.stop() }
            let settings = server.settings
            let db = try await TestDatabase.make("restart", settings: settings)
            // Large enough that the run cannot finish between the first loaded row and the stop.
            try await db.makeOrders("src", count: 60_000, tie: 3)
            var r = try Runner()
            r.environment = TestServer.environment(settings)
            let spec = try r.write(
                "restart.yaml",
                ordersSpec(
                    pipeline: "restart", schema: db.schema, pageSize: 50, settings: settings,
                    retry: "retry: {max_attempts: 3, base_delay: 50ms, max_delay: 200ms}"))
            let p = try r.start(spec)
            async let output = Task.detached { String(decoding: p.stdoutPipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self) }.value
            #expect(try await poll { try await db.int("SELECT count(*) FROM \(db.schema).dst") > 0 })
            try server.stopServer()
            let code = p.wait()
            let text = await output
            #expect(code == 1, "\(text)")
            try server.startServer()
            let out = try r.runUntilLeaseFree(spec)
            #expect(out.exitCode == 0, "\(out.stdout)\(out.stderr)")
            #expect(try await db.difference("src", "dst") == 0)
        }

        // 6. Sharded backfill

        @Test func shardedBackfillEqualsUnsharded() async throws {
            let db = try await TestDatabase.make("shards")
            defer { Task { await db.drop() } }
            try await db.makeOrders("src", count: 5_000, tie: 17)
            let r = try Runner()
            let window = ["--from", "2024-01-01T00:01:00Z", "--to", "2024-01-01T00:04:00Z"]
            let whole = try r.write("whole.yaml", ordersSpec(pipeline: "whole-\(db.schema)", schema: db.schema, target: "whole", pageSize: 40))
            #expect(try r.run(whole, window).exitCode == 0)
            let sharded = try r.write("shard.yaml", ordersSpec(pipeline: "shard-\(db.schema)", schema: db.schema, target: "sharded", pageSize: 40))
            // Three pods of an Indexed Job at once: each takes the lease of its own shard.
            let pods = try (0..<3).map { i in
                try CommandRunner.start(
                    Runner.binary, ["run", sharded, "--no-progress"] + window,
                    environment: r.environment.merging(["JOB_COMPLETION_INDEX": "\(i)", "RUNNEL_SHARD_COUNT": "3"]) { $1 })
            }
            #expect(pods.map { $0.wait() } == [0, 0, 0])
            #expect(try await db.difference("whole", "sharded") == 0)
            let expected = try await db.int(
                "SELECT count(*) FROM \(db.schema).src WHERE updated_at >= '2024-01-01T00:01:00Z' AND updated_at < '2024-01-01T00:04:00Z'")
            #expect(try await db.int("SELECT count(*) FROM \(db.schema).whole") == expected)
            #expect(expected > 0)
            // Windowed runs leave no incremental checkpoint behind.
            #expect(try await db.checkpoint("whole-\(db.schema)") == nil)
            #expect(try await db.checkpoint("shard-\(db.schema)") == nil)
            // Without a window, shards are refused (they would share one checkpoint).
            #expect(try r.run(sharded, ["--shard", "1/3"]).exitCode == 2)
        }

        // 7. A table that does not match the spec

        @Test(arguments: [
            ("amount text", "cannot hold"),  // incompatible type
            ("", "has no column 'amount'"),  // missing column
        ])
        func mismatchedTableExits3WithoutWriting(column: String, message: String) async throws {
            let db = try await TestDatabase.make("contract")
            defer { Task { await db.drop() } }
            try await db.makeOrders("src", count: 100)
            try await db.execute(
                "CREATE TABLE \(db.schema).dst (id bigint PRIMARY KEY, customer text, \(column.isEmpty ? "" : column + ",") status text, updated_at timestamptz)")
            let r = try Runner()
            let spec = try r.write("contract.yaml", ordersSpec(pipeline: "contract-\(db.schema)", schema: db.schema))
            let out = try r.run(spec)
            #expect(out.exitCode == 3, "\(out.stdout)\(out.stderr)")
            #expect((out.stdout + out.stderr).contains(message))
            #expect(try await db.int("SELECT count(*) FROM \(db.schema).dst") == 0)
            #expect(try await db.checkpoint("contract-\(db.schema)") == nil)
        }

        @Test func wrongPasswordIsAConfigError() async throws {
            let db = try await TestDatabase.make("auth")
            defer { Task { await db.drop() } }
            var r = try Runner()
            r.environment["RUNNEL_TEST_PG_SECRET"] = "not-the-password"
            let spec = try r.write("auth.yaml", ordersSpec(pipeline: "auth", schema: db.schema))
            let out = try r.run(spec)
            #expect(out.exitCode == 2, "\(out.stdout)\(out.stderr)")
            #expect(!(out.stdout + out.stderr).contains("not-the-password"))
        }
    }

    /// A PostgreSQL instance of the test's own, on another port, that the test may stop and start
    /// without disturbing the shared server other tests use.
    final class PrivateServer: Sendable {
        let directory: String
        let port: Int
        let bin: String

        var settings: PostgresSettings {
            var s = PostgresSettings(host: "127.0.0.1", port: port, database: "postgres", user: "postgres", password: "private", tls: .disable)
            s.connectTimeout = .seconds(1)
            return s
        }

        /// Extra server settings (`-c wal_level=logical`).
        let options: String

        private init(directory: String, port: Int, bin: String, options: String) {
            self.directory = directory
            self.port = port
            self.bin = bin
            self.options = options
        }

        static func start(logical: Bool = false) throws -> PrivateServer {
            let env = ProcessInfo.processInfo.environment
            let bin = env["RUNNEL_TEST_PG_BIN"] ?? "/usr/lib/postgresql/15/bin"
            let dir = "/tmp/runnel-pg-private-\(UInt32.random(in: 0..<UInt32.max))"
            let port = unusedLoopbackPort()
            try sh("mkdir -p \(dir) && chown postgres: \(dir) && chmod 700 \(dir)")
            try sh(
                "echo private > \(dir)/pw && chown postgres: \(dir)/pw && runuser -u postgres -- \(bin)/initdb -D \(dir)/data -U postgres "
                    + "--pwfile=\(dir)/pw --auth=scram-sha-256 -E UTF8 --locale=C.UTF-8 >/dev/null")
            let s = PrivateServer(
                directory: dir, port: port, bin: bin, options: logical ? "-c wal_level=logical -c max_wal_senders=20" : "")
            try s.startServer()
            return s
        }

        func startServer() throws {
            try Self.sh(
                "runuser -u postgres -- \(bin)/pg_ctl -D \(directory)/data -l \(directory)/log -w -t 30 start "
                    + "-o \"-c listen_addresses=127.0.0.1 -c port=\(port) -c unix_socket_directories='\(directory)' \(options)\" >/dev/null")
        }

        /// A crash: `pg_ctl stop -m immediate` (no checkpoint, recovery at the next start), then a start.
        func crashAndRestart() throws {
            try Self.sh("runuser -u postgres -- \(bin)/pg_ctl -D \(directory)/data -m immediate -w -t 30 stop >/dev/null")
            try startServer()
        }

        func stopServer() throws {
            try Self.sh("runuser -u postgres -- \(bin)/pg_ctl -D \(directory)/data -m fast -w -t 30 stop >/dev/null")
        }

        func stop() {
            try? stopServer()
            try? Self.sh("rm -rf \(directory)")
        }

        /// `system(3)`, not Foundation's `Process`: `waitUntilExit` does not return after `pg_ctl start`
        /// on Linux (the server it leaves running seems to keep it waiting).
        static func sh(_ command: String) throws {
            let status = system(command + " </dev/null >/dev/null 2>&1")
            if status != 0 { throw ConformanceFailure("command failed (\(status)): \(command)") }
        }
    }
#endif
