#if Postgres
    import Foundation
    import Logging
    import PostgresReplication
    import RunnelCore
    @testable import RunnelPostgres
    import Testing

    /// `type: postgres_cdc` against the test server: changes become records, a transaction spans
    /// batches and a resume from inside it skips exactly what was stored, and the slot is confirmed
    /// only by the acknowledgement.
    @Suite(.serialized)
    struct PostgresCDCTests {
        static var connection: ReplicationConfiguration {
            let s = TestServer.settings
            return ReplicationConfiguration(
                host: s.host, port: s.port, user: s.user, password: s.password, database: s.database, tls: .disable)
        }

        static func sql(_ statements: String...) async throws -> ReplicationStateMachine.QueryResult? {
            try await ReplicationConnection.withConnection(configuration: connection, logger: .init(label: "cdc-test"))
            { c in
                var last: ReplicationStateMachine.QueryResult?
                for s in statements { last = try await c.simpleQuery(s) }
                return last
            }
        }

        /// Reads batches until `count` records arrived (bounded by the server's pace, not a sleep).
        static func read(_ reader: any BatchReader, records count: Int) async throws -> [(batch: Batch, commit: BatchCommit)] {
            var batches: [(batch: Batch, commit: BatchCommit)] = []
            // An upper bound, not a wait: it returns as soon as the records arrive. Generous because
            // the server decodes every other test's WAL (bulk loads in parallel suites) before these
            // changes, which on two loaded cores has taken over 30 s.
            let deadline = ContinuousClock.now + .seconds(120)
            while batches.reduce(0, { $0 + $1.batch.records.count }) < count, ContinuousClock.now < deadline {
                if case .batch(let batch, let commit) = try await reader.read(), !batch.records.isEmpty { batches.append((batch, commit)) }
            }
            return batches
        }

        @Test
        func aTransactionSpansBatchesAndResumesInsideIt() async throws {
            let id = UInt32.random(in: 0..<UInt32.max)
            let table = "cdc_t_\(id)"
            let publication = "cdc_pub_\(id)"
            let slot = "cdc_slot_\(id)"
            _ = try await Self.sql(
                "CREATE TABLE \(table) (id int PRIMARY KEY, note text, big text)",
                "ALTER TABLE \(table) ALTER COLUMN big SET STORAGE EXTERNAL")
            var c = PostgresCDCExtractor.Configuration(
                connection: Self.connection, publication: publication, slot: slot)
            c.tables = ["public.\(table)"]
            let extractor = PostgresCDCExtractor(c)
            var request = ExtractRequest(batching: .init(maxRecords: 2, maxLinger: .milliseconds(200)), follow: true)

            let reader = try await extractor.open(request)
            _ = try await Self.sql(
                "BEGIN", "INSERT INTO \(table) SELECT g, 'n' || g, repeat('x', 5000) FROM generate_series(1, 5) g",
                "COMMIT",
                "UPDATE \(table) SET note = 'changed' WHERE id = 1", "DELETE FROM \(table) WHERE id = 2")
            let first = try await Self.read(reader, records: 4)
            await reader.close()
            // Batches of two inside the five-row transaction; the first one's checkpoint points inside it.
            #expect(first.map { $0.batch.records.count } == [2, 2])
            let stored = try #require(first[0].commit.checkpoint)
            let position = try #require(CDCPosition(stored.position))
            #expect(position.within?.index == 1)
            let schema = first[0].batch.schema
            let rows = first.flatMap { $0.batch.records.map { $0.object(schema) } }
            #expect(rows.map { $0["_op"] } == Array(repeating: .string("insert"), count: 4))
            #expect(rows.map { $0["id"] } == [.int(1), .int(2), .int(3), .int(4)])
            #expect(rows.allSatisfy { $0["_table"] == .string("public.\(table)") })
            // Nothing acknowledged: the slot has not moved past its start.
            let before = try await Self.sql(
                "SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = '\(slot)'")?.rows

            // Resume from the first batch only: rows 3, 4, 5, then the update and the delete.
            request.checkpoint = stored
            let resumed = try await extractor.open(request)
            let rest = try await Self.read(resumed, records: 5)
            let restRows = rest.flatMap { r in r.batch.records.map { $0.object(r.batch.schema) } }
            #expect(
                restRows.map { "\($0["_op"]?.text ?? "-") \($0["id"]?.text ?? "-")" } == [
                    "insert 3", "insert 4", "insert 5", "update 1", "delete 2",
                ])
            // The update left the TOASTed column alone: it is named, not nulled.
            #expect(restRows.count == 5 && restRows[3]["_unchanged"] == .array([.string("big")]))
            #expect(restRows.allSatisfy { ($0["_lsn"]?.text.isEmpty ?? true) == false })
            let after = try await Self.sql(
                "SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = '\(slot)'")?.rows
            #expect(after == before)

            // The acknowledgement of the last batch confirms the end of its last whole transaction.
            let last = try #require(rest.last)
            let lastCheckpoint = try #require(last.commit.checkpoint)
            let end = try #require(CDCPosition(lastCheckpoint.position))
            #expect(end.within == nil)
            try await #require(last.commit.acknowledgement).acknowledge()
            var confirmed: LSN?
            let deadline = ContinuousClock.now + .seconds(20)
            while ContinuousClock.now < deadline {
                confirmed = try await Self.sql(
                    "SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = '\(slot)'")?
                    .rows.first?.first?.flatMap { LSN($0) }
                if confirmed == end.resume { break }
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(confirmed == end.resume)
            await resumed.close()
            try await ReplicationConnection.withConnection(
                configuration: Self.connection, logger: .init(label: "cdc-test")
            ) {
                try await $0.dropSlot(slot, wait: true)
            }
            _ = try await Self.sql("DROP PUBLICATION \(publication)", "DROP TABLE \(table)")
        }

        @Test
        func aSlotDroppedBehindTheWorkersBackIsAnError() async throws {
            let id = UInt32.random(in: 0..<UInt32.max)
            let table = "cdc_gone_\(id)"
            let publication = "cdc_gone_pub_\(id)"
            _ = try await Self.sql(
                "CREATE TABLE \(table) (id int PRIMARY KEY)", "CREATE PUBLICATION \(publication) FOR TABLE \(table)")
            let extractor = PostgresCDCExtractor(
                .init(connection: Self.connection, publication: publication, slot: "cdc_gone_\(id)"))
            var request = ExtractRequest(follow: true)
            request.checkpoint = Checkpoint("0/16B3748")
            do {
                _ = try await extractor.open(request)
                Issue.record("opened without its slot")
            } catch let error as RunnelError {
                #expect(error.code == .config && "\(error)".contains("is gone"))
            }
            _ = try await Self.sql("DROP PUBLICATION \(publication)", "DROP TABLE \(table)")
        }
    }
#endif
