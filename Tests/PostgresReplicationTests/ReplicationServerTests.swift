import Foundation
import PostgresReplication
import RunnelTesting
import Testing

/// The client against the test PostgreSQL (scripts/services/postgres.sh): slots, the stream,
/// decoding of every change kind compared with wal2json, keepalives, and confirmations.
@Suite(.serialized)
struct ReplicationServerTests {
    @Test
    func identifySystemOverSCRAM() async throws {
        try await TestServer.withConnection { connection in
            let system = try await connection.identifySystem()
            #expect(system.database == TestServer.database)
            #expect(system.timeline >= 1 && system.position > .zero && !system.systemID.isEmpty)
            #expect(connection.serverParameters["server_version"] != nil)
            #expect(!connection.isEncrypted)
        }
    }

    @Test
    func wrongPasswordIsAnAuthenticationError() async throws {
        var configuration = TestServer.configuration
        configuration.password = "not-the-password"
        do {
            try await TestServer.withConnection(configuration) { _ in }
            Issue.record("connected with a wrong password")
        } catch let error as ReplicationError {
            #expect(error.code == .authentication && error.sqlState == "28P01")
            #expect(!error.description.contains("not-the-password"))
        }
    }

    @Test
    func permanentSlotIsCreatedAndDropped() async throws {
        let slot = TestServer.unique("perm")
        try await TestServer.withConnection { connection in
            let created = try await connection.createLogicalSlot(slot)
            #expect(created.name == slot && created.snapshotName == nil && created.consistentPoint > .zero)
            let plugin = try await connection.simpleQuery(
                "SELECT plugin, temporary::text FROM pg_replication_slots WHERE slot_name = '\(slot)'")
            #expect(plugin.rows == [["pgoutput", "false"]])
            try await connection.dropSlot(slot)
            #expect(
                try await connection.simpleQuery("SELECT 1 FROM pg_replication_slots WHERE slot_name = '\(slot)'").rows
                    .isEmpty)
            // Dropping it again is a server error with its SQLSTATE, and the connection stays usable.
            await #expect(throws: ReplicationError.self) { try await connection.dropSlot(slot) }
            #expect(try await connection.simpleQuery("SELECT 1").rows == [["1"]])
        }
    }

    /// The exported snapshot holds exactly what committed before the consistent point; what
    /// commits later arrives through the slot with a larger commit LSN.
    @Test
    func temporarySlotExportsASnapshotAtItsConsistentPoint() async throws {
        let table = TestServer.unique("snap")
        let publication = TestServer.unique("pub")
        try await TestServer.sql(
            "CREATE TABLE \(table) (id int PRIMARY KEY)", "INSERT INTO \(table) SELECT generate_series(1, 10)",
            "CREATE PUBLICATION \(publication) FOR TABLE \(table)")
        let slot = TestServer.unique("temp")
        try await TestServer.withCleanup("DROP PUBLICATION \(publication)", "DROP TABLE \(table)") {
            try await TestServer.withConnection { connection in
                let created = try await connection.createLogicalSlot(slot, temporary: true, snapshot: .export)
                let snapshot = try #require(created.snapshotName)
                // A change after the slot's creation, while the snapshot is still exported.
                try await TestServer.sql("INSERT INTO \(table) VALUES (11)")
                let seen = try await TestServer.withConnection { reader in
                    try await reader.simpleQuery("BEGIN ISOLATION LEVEL REPEATABLE READ")
                    try await reader.simpleQuery("SET TRANSACTION SNAPSHOT '\(snapshot)'")
                    let count = try await reader.simpleQuery("SELECT count(*) FROM \(table)").rows.first?.first ?? nil
                    try await reader.simpleQuery("COMMIT")
                    return count
                }
                #expect(seen == "10")
                #expect(
                    try await TestServer.value(
                        "SELECT temporary::text FROM pg_replication_slots WHERE slot_name = '\(slot)'") == "true")

                _ = try await connection.startLogicalReplication(
                    slot: slot, startLSN: .zero, publications: [publication])
                var collected = Collected()
                try await collected.read(connection) { $0.commits >= 1 }
                #expect(collected.changeLines == ["I public.\(table) id=11"])
                let begin = collected.messages.compactMap { if case .begin(let b) = $0 { b } else { nil } }.first
                #expect(try #require(begin).finalLSN > created.consistentPoint)
                try await connection.stopReplication()
            }
        }
        // A temporary slot goes with its connection (when the server's backend has exited).
        #expect(
            try await TestServer.eventually {
                try await TestServer.value("SELECT count(*) FROM pg_replication_slots WHERE slot_name = '\(slot)'") == "0"
            })
    }

    /// Inserts, updates (an unchanged TOASTed column, a key change, REPLICA IDENTITY FULL),
    /// deletes and truncates in three tables, decoded by this client and by wal2json through
    /// pg_recvlogical from a second slot: the same changes in the same order.
    @Test
    func decodesEveryChangeKindLikeWal2json() async throws {
        let a = TestServer.unique("cdc_a")
        let b = TestServer.unique("cdc_b")
        let c = TestServer.unique("cdc_c")
        let publication = TestServer.unique("pub")
        let slot = TestServer.unique("pgo")
        let w2j = TestServer.unique("w2j")
        try await TestServer.sql(
            "CREATE TABLE \(a) (id int PRIMARY KEY, note text, big text)",
            // Stored out of line and uncompressed, so that an update leaving it alone sends 'u'.
            "ALTER TABLE \(a) ALTER COLUMN big SET STORAGE EXTERNAL",
            "CREATE TABLE \(b) (k text PRIMARY KEY, n bigint, flag boolean)",
            "CREATE TABLE \(c) (x int, y text)",
            "ALTER TABLE \(c) REPLICA IDENTITY FULL",
            "CREATE PUBLICATION \(publication) FOR TABLE \(a), \(b), \(c)")
        try await TestServer.withCleanup(
            "SELECT pg_drop_replication_slot('\(w2j)')", "SELECT pg_drop_replication_slot('\(slot)')",
            "DROP PUBLICATION \(publication)", "DROP TABLE \(a), \(b), \(c)"
        ) {
            try await TestServer.sql("SELECT pg_create_logical_replication_slot('\(w2j)', 'wal2json')")
            try await TestServer.withConnection { connection in _ = try await connection.createLogicalSlot(slot) }

            try await TestServer.sql(
                "INSERT INTO \(a) VALUES (1, 'one', repeat('x', 10000)), (2, 'two', NULL)",
                "UPDATE \(a) SET note = 'uno' WHERE id = 1",
                "UPDATE \(a) SET id = 3 WHERE id = 2",
                "DELETE FROM \(a) WHERE id = 3",
                "BEGIN",
                "INSERT INTO \(b) VALUES ('k1', 9007199254740993, true), ('k''2', -5, NULL)",
                "UPDATE \(b) SET n = n + 1 WHERE k = 'k1'",
                "DELETE FROM \(b) WHERE k = 'k''2'",
                "INSERT INTO \(c) VALUES (1, 'é ☃'), (2, NULL)",
                "UPDATE \(c) SET y = 'changed' WHERE x = 1",
                "DELETE FROM \(c) WHERE x = 2",
                "COMMIT",
                "TRUNCATE \(b), \(c)")

            var collected = Collected()
            try await TestServer.withConnection { connection in
                _ = try await connection.startLogicalReplication(
                    slot: slot, startLSN: .zero, publications: [publication])
                // Five autocommit statements on a, one transaction, one truncate.
                try await collected.read(connection) { $0.commits >= 6 }
                try await connection.stopReplication()
            }
            let ours = collected.changeLines
            #expect(
                ours == [
                    "I public.\(a) id=1 note=one big=<10000 chars>",
                    "I public.\(a) id=2 note=two",
                    "U public.\(a) id=1 note=uno big=<unchanged>",
                    "U public.\(a) id=3 note=two",
                    "D public.\(a) id=3",
                    "I public.\(b) k=k1 n=9007199254740993 flag=t",
                    "I public.\(b) k=k'2 n=-5",
                    "U public.\(b) k=k1 n=9007199254740994 flag=t",
                    "D public.\(b) k=k'2",
                    "I public.\(c) x=1 y=é ☃",
                    "I public.\(c) x=2",
                    "U public.\(c) x=1 y=changed",
                    "D public.\(c) x=2",
                    "T public.\(b)",
                    "T public.\(c)",
                ])
            // The key change carries the old key ('K'); the FULL table's update and delete the old row ('O').
            let updates = collected.messages.compactMap { if case .update(let u) = $0 { u } else { nil } }
            #expect(
                updates.map(\.old) == [
                    nil, .key([.text(Array("2".utf8)), .null, .null]), nil,
                    .full([.text(Array("1".utf8)), .text(Array("é ☃".utf8))]),
                ])
            let relationA = try #require(collected.relations.values.first { $0.name == a })
            #expect(relationA.keyColumns == ["id"] && relationA.columns.map(\.typeOID) == [23, 25, 25])
            #expect(collected.relations.values.first { $0.name == c }?.replicaIdentity == UInt8(ascii: "f"))

            // wal2json, through pg_recvlogical, up to the last commit this client saw.
            let end = try #require(collected.lastCommit).endLSN
            let output = try CommandRunner.run(
                TestServer.bin + "/pg_recvlogical",
                [
                    "-h", TestServer.host, "-p", "\(TestServer.port)", "-U", TestServer.user, "-d", TestServer.database,
                    "--slot", w2j, "--start", "--endpos", "\(end)", "--no-loop", "-o", "format-version=2",
                    // wal2json decodes the whole database: only this test's tables (others run beside it).
                    "-o", "add-tables=public.\(a),public.\(b),public.\(c)", "-f", "-",
                ],
                environment: ["PGPASSWORD": TestServer.password])
            #expect(output.exitCode == 0, "\(output.stderr)")
            let theirs = try Self.wal2jsonLines(output.stdout)
            // wal2json leaves unchanged TOAST columns out.
            #expect(theirs == ours.map { $0.replacingOccurrences(of: " big=<unchanged>", with: "") })
        }
    }

    static func wal2jsonLines(_ text: String) throws -> [String] {
        try text.split(separator: "\n").compactMap { line -> String? in
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let action = object["action"] as? String ?? ""
            guard ["I", "U", "D", "T"].contains(action) else { return nil }
            let table = "\(object["schema"] as? String ?? "").\(object["table"] as? String ?? "")"
            if action == "T" { return "T \(table)" }
            let columns = (action == "D" ? object["identity"] : object["columns"]) as? [[String: Any]] ?? []
            var parts = ["\(action) \(table)"]
            for column in columns {
                guard let name = column["name"] as? String, let value = column["value"], !(value is NSNull) else {
                    continue
                }
                let text: String
                if let s = value as? String {
                    text = s
                } else if column["type"] as? String == "boolean", let b = value as? Bool {
                    text = b ? "t" : "f"
                } else {
                    text = "\(value)"
                }
                parts.append("\(name)=\(Collected.shown(text))")
            }
            return parts.joined(separator: " ")
        }
    }

    /// The slot's confirmed position moves only when the client confirms, to exactly what it confirmed.
    @Test
    func confirmedFlushFollowsTheClientOnly() async throws {
        let table = TestServer.unique("conf")
        let publication = TestServer.unique("pub")
        let slot = TestServer.unique("conf")
        try await TestServer.sql(
            "CREATE TABLE \(table) (id int PRIMARY KEY)", "CREATE PUBLICATION \(publication) FOR TABLE \(table)")
        try await TestServer.withCleanup(
            "SELECT pg_drop_replication_slot('\(slot)')", "DROP PUBLICATION \(publication)", "DROP TABLE \(table)"
        ) {
            try await TestServer.withConnection { connection in
                let created = try await connection.createLogicalSlot(slot)
                try await TestServer.sql("INSERT INTO \(table) VALUES (1)", "INSERT INTO \(table) VALUES (2)")
                let feedback = try await connection.startLogicalReplication(
                    slot: slot, startLSN: .zero, publications: [publication])
                var collected = Collected()
                try await collected.read(connection) { $0.commits >= 1 }
                let first = try #require(collected.lastCommit)
                try await collected.read(connection) { $0.commits >= 2 }
                let second = try #require(collected.lastCommit)
                // Received, not confirmed: the slot has not moved.
                #expect(try await TestServer.confirmedFlush(slot) == created.consistentPoint)

                feedback.confirm(first.endLSN)
                #expect(try await TestServer.eventually { try await TestServer.confirmedFlush(slot) == first.endLSN })
                feedback.confirm(second.endLSN)
                #expect(try await TestServer.eventually { try await TestServer.confirmedFlush(slot) == second.endLSN })
                // Backwards is ignored.
                feedback.confirm(first.endLSN)
                #expect(feedback.confirmed == second.endLSN)
                try await connection.stopReplication()
                // A second stream needs a connection of its own.
                await #expect(throws: ReplicationError.self) {
                    try await connection.startLogicalReplication(
                        slot: slot, startLSN: .zero, publications: [publication])
                }
            }
            // Resuming from the slot sends nothing already confirmed; an unconfirmed third does come.
            try await TestServer.sql("INSERT INTO \(table) VALUES (3)")
            try await TestServer.withConnection { connection in
                _ = try await connection.startLogicalReplication(
                    slot: slot, startLSN: .zero, publications: [publication])
                var again = Collected()
                try await again.read(connection) { $0.commits >= 1 }
                #expect(again.changeLines == ["I public.\(table) id=3"])
                try await connection.stopReplication()
            }
        }
    }

    /// With wal_sender_timeout at 2 s the server asks for a reply every second and drops a
    /// client that does not answer: after several requests spanning more than the timeout, the
    /// stream still delivers.
    @Test
    func keepalivesAreAnswered() async throws {
        let table = TestServer.unique("ka")
        let publication = TestServer.unique("pub")
        let slot = TestServer.unique("ka")
        try await TestServer.sql(
            "CREATE TABLE \(table) (id int PRIMARY KEY)", "CREATE PUBLICATION \(publication) FOR TABLE \(table)")
        try await TestServer.withCleanup("DROP PUBLICATION \(publication)", "DROP TABLE \(table)") {
            try await TestServer.withConnection { connection in
                try await connection.simpleQuery("SET wal_sender_timeout = '2s'")
                _ = try await connection.createLogicalSlot(slot, temporary: true)
                _ = try await connection.startLogicalReplication(
                    slot: slot, startLSN: .zero, publications: [publication])
                var collected = Collected()
                try await collected.read(connection) { $0.keepalivesAskingForReply >= 4 }
                try await TestServer.sql("INSERT INTO \(table) VALUES (42)")
                try await collected.read(connection) { $0.commits >= 1 }
                #expect(collected.changeLines == ["I public.\(table) id=42"])
                try await connection.stopReplication()
            }
        }
    }

    @Test
    func startingOnAMissingSlotIsAServerError() async throws {
        try await TestServer.withConnection { connection in
            do {
                _ = try await connection.startLogicalReplication(
                    slot: "runnel_no_such_slot", startLSN: .zero, publications: ["p"])
                Issue.record("started on a missing slot")
            } catch let error as ReplicationError {
                #expect(error.code == .server && error.sqlState == "42704")
            }
            #expect(try await connection.simpleQuery("SELECT 2").rows == [["2"]])
            await #expect(throws: ReplicationError.self) { try await connection.createLogicalSlot("Bad-Name") }
        }
    }
}
