#if Postgres
    import Foundation
    import Logging
    import PostgresReplication
    import RunnelCore
    import RunnelPostgres
    import RunnelTesting
    import Testing

    /// The built `runnel-batch` with a `postgres_cdc` source into SQLite: the first run creates the
    /// slot, a later run drains what committed since, up to the WAL position current at its
    /// start; the slot is confirmed to the stored checkpoint.
    @Suite struct PostgresCDCEndToEndTests {
        @Test func drainsChangesIntoSQLite() async throws {
            let id = UInt32.random(in: 0..<UInt32.max)
            let table = "cdc_e2e_\(id)"
            let publication = "cdc_e2e_pub_\(id)"
            let slot = "cdc_e2e_\(id)"
            _ = try await PostgresCDCTests.sql(
                "CREATE TABLE \(table) (id int PRIMARY KEY, note text, amount double precision)")
            let r = try Runner()
            let spec = try r.write(
                "cdc.yaml",
                """
                pipeline: cdc-e2e-\(id)
                extract:
                  type: postgres_cdc
                \(TestServer.connectionYAML())
                  publication: \(publication)
                  slot: \(slot)
                  tables: [public.\(table)]
                load:
                  type: sqlite
                  path: \(r.directory)/out.db
                  table: items
                  key: [id]
                  version: _lsn
                checkpoint:
                  type: sqlite
                dead_letter:
                  type: sqlite
                batching:
                  max_records: 3
                  max_linger: 50ms
                """)
            // First run: publication and slot are created; nothing to drain.
            var out = try r.run(spec)
            #expect(out.exitCode == 0, "\(out.stdout)\(out.stderr)")
            #expect(
                try await PostgresCDCTests.sql("SELECT count(*) FROM pg_replication_slots WHERE slot_name = '\(slot)'")?
                    .rows == [["1"]])

            _ = try await PostgresCDCTests.sql(
                "INSERT INTO \(table) SELECT g, 'n' || g, g * 1.5 FROM generate_series(1, 8) g",
                "UPDATE \(table) SET note = 'changed' WHERE id = 3",
                "DELETE FROM \(table) WHERE id = 8")
            out = try r.run(spec)
            #expect(out.exitCode == 0, "\(out.stdout)\(out.stderr)")
            let rows = try CommandRunner.run(
                "/usr/bin/env",
                ["sqlite3", "\(r.directory)/out.db", "SELECT id, note, amount FROM items ORDER BY id"])
            #expect(
                rows.stdout.split(separator: "\n") == [
                    "1|n1|1.5", "2|n2|3.0", "3|changed|4.5", "4|n4|6.0", "5|n5|7.5", "6|n6|9.0", "7|n7|10.5",
                ])
            #expect(!(out.stdout + out.stderr).contains(TestServer.settings.password ?? "\u{0}"))

            // The stored checkpoint is what the slot was confirmed to, after the commit.
            let stored = try CommandRunner.run(
                "/usr/bin/env", ["sqlite3", "\(r.directory)/out.db", "SELECT position FROM runnel_checkpoints"])
            let position = try #require(CDCPosition(stored.stdout.trimmingCharacters(in: .whitespacesAndNewlines)))
            #expect(position.within == nil)
            var confirmed: LSN?
            let deadline = ContinuousClock.now + .seconds(20)
            while ContinuousClock.now < deadline {
                confirmed = try await PostgresCDCTests.sql(
                    "SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = '\(slot)'")?
                    .rows.first?.first?.flatMap { LSN($0) }
                if let confirmed, confirmed >= position.resume { break }
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(confirmed == position.resume)

            // Nothing new: a third run changes nothing.
            out = try r.run(spec)
            #expect(out.exitCode == 0, "\(out.stdout)\(out.stderr)")
            let again = try CommandRunner.run(
                "/usr/bin/env",
                ["sqlite3", "\(r.directory)/out.db", "SELECT id, note, amount FROM items ORDER BY id"])
            #expect(again.stdout == rows.stdout)

            // A column added at the source mid-stream reaches the target (schema_drift: evolve,
            // the default with postgres_cdc).
            _ = try await PostgresCDCTests.sql(
                "ALTER TABLE \(table) ADD COLUMN email text", "INSERT INTO \(table) VALUES (9, 'n9', 13.5, 'n9@example.com')")
            out = try r.run(spec)
            #expect(out.exitCode == 0, "\(out.stdout)\(out.stderr)")
            let evolved = try CommandRunner.run(
                "/usr/bin/env", ["sqlite3", "\(r.directory)/out.db", "SELECT id, email FROM items WHERE id >= 7 ORDER BY id"])
            #expect(evolved.stdout.split(separator: "\n") == ["7|", "9|n9@example.com"])

            try await ReplicationConnection.withConnection(
                configuration: PostgresCDCTests.connection, logger: Logger(label: "cdc-test")
            ) {
                try await $0.dropSlot(slot, wait: true)
            }
            _ = try await PostgresCDCTests.sql("DROP PUBLICATION \(publication)", "DROP TABLE \(table)")
        }
    }
#endif
