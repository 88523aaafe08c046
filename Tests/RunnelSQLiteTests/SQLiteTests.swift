import Foundation
import RunnelCore
import RunnelTesting
import Testing
@testable import RunnelSQLite

private func database() throws -> SQLiteDatabase {
    SQLiteDatabase(.init(path: try CommandRunner.temporaryDirectory() + "/t.db"))
}

private func rows(_ db: SQLiteDatabase, _ sql: String) throws -> [[Value]] {
    try db.withConnection { try $0.query(sql) }
}

private func batch(_ rows: [[Value]]) -> Batch {
    Batch(schema: Schema(["id", "v", "version"]), rows: rows, origins: rows.indices.map { Origin(source: "t", line: $0 + 1) })
}

@Suite struct SQLiteTests {
    @Test func loaderIsIdempotent() async throws {
        let db = try database()
        let loader = SQLiteLoader(SQLiteLoader.Configuration(table: "t", key: ["id"]), database: db)
        try await LoaderConformance.isIdempotent(loader, batch: batch([[1, "a", 1], [2, "b", 1]])) {
            try rows(db, "SELECT id, v, version FROM t ORDER BY id")
        }
    }

    @Test func aBatchReadFromAPositionAnotherWorkerMovedIsFencedOff() async throws {
        let db = try database()
        let loader = SQLiteLoader(SQLiteLoader.Configuration(table: "t", key: ["id"]), database: db)
        try await LoaderConformance.fencesMovedPositions(
            loader, store: SQLiteCheckpointStore(database: db), batch: batch([[1, "a", 1], [2, "b", 1]])
        ) {
            (try? rows(db, "SELECT id, v, version FROM t ORDER BY id")) ?? []
        }
    }

    @Test func anOlderReplayNeverOverwritesNewerDataAndDuplicateKeysResolveInOrder() async throws {
        let db = try database()
        var c = SQLiteLoader.Configuration(table: "t", key: ["id"])
        c.version = "version"
        let loader = SQLiteLoader(c, database: db)
        try await loader.prepare(schema: Schema(["id", "v", "version"]))
        try await loader.load(batch([[1, "new", 5], [2, "b", 1], [2, "b2", 2], [2, "stale", 1]]), commit: nil)
        try await loader.load(batch([[1, "old replay", 3], [3, "c", 1]]), commit: nil)
        #expect(try rows(db, "SELECT id, v, version FROM t ORDER BY id") == [[1, "new", 5], [2, "b2", 2], [3, "c", 1]])
    }

    /// The rule on a tie, the same in every loader and document: `excluded.version >= target.version`,
    /// so a write of the same version replaces the row (a replay writes the same values again; of
    /// two different writes with one version, the later one wins).
    @Test func onEqualVersionsTheLaterWriteWins() async throws {
        let db = try database()
        var c = SQLiteLoader.Configuration(table: "t", key: ["id"])
        c.version = "version"
        let loader = SQLiteLoader(c, database: db)
        try await loader.prepare(schema: Schema(["id", "v", "version"]))
        try await loader.load(batch([[1, "first", 7]]), commit: nil)
        try await loader.load(batch([[1, "second", 7]]), commit: nil)
        #expect(try rows(db, "SELECT v, version FROM t") == [["second", 7]])
        try await loader.load(batch([[1, "older", 6]]), commit: nil)
        #expect(try rows(db, "SELECT v FROM t") == [["second"]])
    }

    /// Infinity was bound as NULL without a rejection.
    @Test func anInfiniteDoubleIsNotStoredAsNull() async throws {
        let db = try database()
        let loader = SQLiteLoader(SQLiteLoader.Configuration(table: "t", key: ["id"]), database: db)
        try await loader.prepare(schema: Schema(["id", "v", "version"]))
        try await loader.load(batch([[1, .double(.infinity), 1]]), commit: nil)
        #expect(try rows(db, "SELECT v IS NULL, v > 1e308 FROM t") == [[0, 1]])
    }

    @Test func timestampVersionsCompareAsTime() async throws {
        let db = try database()
        var c = SQLiteLoader.Configuration(table: "t", key: ["id"])
        c.version = "version"
        let loader = SQLiteLoader(c, database: db)
        try await loader.prepare(schema: Schema(["id", "v", "version"]))
        let later = Value.timestamp(Timestamp(microseconds: 1_700_000_000_500_000))
        let earlier = Value.timestamp(Timestamp(microseconds: 1_700_000_000_000_000))
        try await loader.load(batch([[1, "later", later]]), commit: nil)
        try await loader.load(batch([[1, "earlier", earlier]]), commit: nil)
        #expect(try rows(db, "SELECT v FROM t") == [["later"]])
    }

    @Test func timestampsAreStoredInTheirShortestFormAndStillCompareAsTime() async throws {
        let db = try database()
        var c = SQLiteLoader.Configuration(table: "t", key: ["id"])
        c.version = "version"
        let loader = SQLiteLoader(c, database: db)
        try await loader.prepare(schema: Schema(["id", "v", "version"]))
        let whole = Timestamp(microseconds: 1_357_034_400_000_000)
        let quarter = Timestamp(microseconds: 1_357_034_400_250_000)
        try await loader.load(batch([[1, .timestamp(whole), .timestamp(whole)], [2, .timestamp(quarter), 1]]), commit: nil)
        #expect(try rows(db, "SELECT v FROM t ORDER BY id") == [["2013-01-01T10:00:00Z"], ["2013-01-01T10:00:00.25Z"]])
        // A row an older version wrote with six fraction digits, and newer and older replays of it.
        try db.withConnection { try $0.execute("UPDATE t SET version = '2013-01-01T10:00:00.500000Z' WHERE id = 1") }
        try await loader.load(batch([[1, "older", .timestamp(quarter)]]), commit: nil)
        #expect(try rows(db, "SELECT v FROM t WHERE id = 1") == [["2013-01-01T10:00:00Z"]])
        try await loader.load(batch([[1, "newer", .timestamp(Timestamp(microseconds: 1_357_034_401_000_000))]]), commit: nil)
        #expect(try rows(db, "SELECT v, version FROM t WHERE id = 1") == [["newer", "2013-01-01T10:00:01Z"]])
        // Integer versions are compared as numbers, as before.
        try await loader.load(batch([[2, "v2", 2], [2, "v10", 10], [2, "v9", 9]]), commit: nil)
        #expect(try rows(db, "SELECT v FROM t WHERE id = 2") == [["v10"]])
    }

    /// A columnar batch stores what the same rows store: two timestamp columns each keep their
    /// own value (bound text is read when the statement steps), nulls, text, numbers, mixed.
    @Test func aColumnarBatchStoresWhatItsRowsStore() async throws {
        let fields = ["id", "a", "b", "name", "x", "mixed"]
        let input: [[Value]] = [
            [1, .timestamp(Timestamp(seconds: 1_700_000_000)), .timestamp(Timestamp(microseconds: 1_700_000_123_250_000)), "é", .double(1.5), 1],
            [2, .null, .timestamp(Timestamp(seconds: 0)), .null, .null, "two"],
            [3, .timestamp(Timestamp(microseconds: -1)), .null, "", .double(-0.25), .array([1, 2])],
        ]
        var stored: [[[Value]]] = []
        for columnar in [false, true] {
            let db = try database()
            let loader = SQLiteLoader(SQLiteLoader.Configuration(table: "t", key: ["id"]), database: db)
            let origins = input.indices.map { Origin(source: "t", line: $0 + 1) }
            let b = columnar
                ? Batch(schema: Schema(fields), columns: fields.indices.map { i in Column(input.map { $0[i] }) }, origins: origins)
                : Batch(schema: Schema(fields), rows: input, origins: origins)
            try await loader.prepare(schema: Schema(fields))
            try await loader.load(b, commit: nil)
            stored.append(try rows(db, "SELECT id, a, b, name, x, mixed FROM t ORDER BY id"))
        }
        #expect(stored[0] == stored[1])
        #expect(stored[1].first?[1] == "2023-11-14T22:13:20Z" && stored[1].first?[2] == "2023-11-14T22:15:23.25Z")
    }

    /// Columnar batches go 32 rows to an upsert statement. The rows of one statement must apply
    /// one after another as one-row statements do: duplicate keys inside a statement and across
    /// statements resolve in order under the guard (newer, older, equal and null versions), rows
    /// left out of the selection are not written, a column null throughout binds null in every
    /// row, each row keeps its own timestamps, and the rows past the last full statement are
    /// written too. Compared with the row path over random batches.
    @Test func multiRowStatementsStoreWhatOneRowStatementsStore() async throws {
        let fields = ["id", "v", "version", "at", "blank", "mixed"]
        var random = SystemRandomNumberGenerator()
        for round in 0..<6 {
            let count = [31, 32, 33, 100, 257, 1_000][round]
            let input: [[Value]] = (0..<count).map { i in
                let version: Value = Int.random(in: 0..<10, using: &random) == 0 ? .null : .int(Int64.random(in: 1...5, using: &random))
                let at: Value = .timestamp(Timestamp(microseconds: 1_700_000_000_000_000 + Int64(i) * 250_000))
                let mixed: Value = i % 3 == 0 ? .int(Int64(i)) : i % 3 == 1 ? .string("m\(i)") : .null
                return [.int(Int64.random(in: 1...12, using: &random)), .string("row \(i)"), version, at, .null, mixed]
            }
            let dropped = Set((0..<count).filter { _ in Int.random(in: 0..<7, using: &random) == 0 })
            var stored: [[[Value]]] = []
            for columnar in [false, true] {
                let db = try database()
                var c = SQLiteLoader.Configuration(table: "t", key: ["id"])
                c.version = "version"
                let loader = SQLiteLoader(c, database: db)
                try await loader.prepare(schema: Schema(fields))
                // A row stored before the batch, for the guard to meet.
                let before: [[Value]] = [[.int(1), "before", .int(3), .null, .null, .null]]
                _ = try await loader.load(Batch(schema: Schema(fields), rows: before, origins: [Origin(source: "t", line: 0)]), commit: nil)
                let origins = input.indices.map { Origin(source: "t", line: $0 + 1) }
                var b: Batch
                if columnar {
                    b = Batch(schema: Schema(fields), columns: fields.indices.map { i in Column(input.map { $0[i] }) }, origins: origins)
                    b.reject(rows: dropped.sorted().map { ($0, RecordError(code: "test", message: "left out", field: "id")) }, stage: "test")
                } else {
                    b = Batch(schema: Schema(fields), rows: input.indices.filter { !dropped.contains($0) }.map { input[$0] },
                              origins: input.indices.filter { !dropped.contains($0) }.map { origins[$0] })
                }
                try await loader.load(b, commit: nil)
                stored.append(try rows(db, "SELECT id, v, version, at, blank, mixed FROM t ORDER BY id"))
            }
            #expect(stored[0] == stored[1], "\(count) rows")
            #expect(stored[1].count > 1)
        }
        #expect(SQLiteLoader.rowsPerStatement(columns: 6, variableLimit: 32_766) == 32)
        #expect(SQLiteLoader.rowsPerStatement(columns: 100, variableLimit: 999) == 9)
        #expect(SQLiteLoader.rowsPerStatement(columns: 2_000, variableLimit: 999) == 1)
    }

    @Test func anyIdentifierReachesSQLiteQuotedAndANulIsAContractError() async throws {
        // Seeded random names made of quotes, brackets, spaces, control characters, SQL words and
        // non-ASCII: each must come back from the table's schema exactly as it went in.
        var rng = SeededGenerator(seed: 11)
        let pieces = ["\"", "'", "`", "[", "]", " ", "\t", "\n", "\r", "\u{1}", "\u{7F}", ";", "--", "/*", "?", ":a", "$1",
            "select", "DROP TABLE t", "é", "名", "😀", "\\", ".", ",", "(", ")"]
        for round in 0..<60 {
            let db = try database()
            var names: [String] = []
            while names.count < 3 {
                let name = (0..<Int(rng.next() % 5 + 1)).map { _ in pieces[Int(rng.next() % UInt64(pieces.count))] }.joined()
                if !names.contains(name) { names.append(name) }
            }
            let table = "t \"\(round)\" \(names[0])"
            let loader = SQLiteLoader(SQLiteLoader.Configuration(table: table, key: [names[0]]), database: db)
            try await loader.prepare(schema: Schema(names))
            try await loader.load(
                Batch(schema: Schema(names), rows: [["k", "v1", "v2"]], origins: [Origin(source: "t", line: 1)]), commit: nil)
            #expect(try rows(db, "SELECT name FROM pragma_table_info('\(table.replacingOccurrences(of: "'", with: "''"))')") == names.map { [.string($0)] })
        }
        let db = try database()
        let loader = SQLiteLoader(SQLiteLoader.Configuration(table: "t", key: ["id"]), database: db)
        await #expect {
            try await loader.prepare(schema: Schema(["id", "na\u{0}me"]))
        } throws: { e in
            (e as? RunnelError)?.code == .dataContract && (e as! RunnelError).message.contains("NUL")
        }
    }

    @Test func aCleanLoadLeavesAnEmptyDeadLetterTable() async throws {
        let db = try database()
        let pipeline = Pipeline(
            name: "clean", extractor: MemoryExtractor(fields: ["id", "v", "version"], rows: [[1, "a", 1], [2, "b", 1]]),
            loader: SQLiteLoader(SQLiteLoader.Configuration(table: "t", key: ["id"]), database: db),
            deadLetters: SQLiteDeadLetterQueue(database: db))
        let summary = await PipelineRunner(pipeline: pipeline).run()
        #expect(summary.exitCode == 0 && summary.loaded == 2)
        #expect(try rows(db, "SELECT count(*) FROM runnel_dead_letters") == [[0]])
    }

    @Test func checkpointIsWrittenInTheLoadTransaction() async throws {
        let db = try database()
        let store = SQLiteCheckpointStore(database: db)
        let loader = SQLiteLoader(SQLiteLoader.Configuration(table: "t", key: ["id"]), database: db)
        #expect(Pipeline(name: "p", extractor: MemoryExtractor(fields: [], rows: []), loader: loader, checkpoints: store).checkpointsInLoad)
        let other = SQLiteCheckpointStore(database: try database())
        #expect(!Pipeline(name: "p", extractor: MemoryExtractor(fields: [], rows: []), loader: loader, checkpoints: other).checkpointsInLoad)
        try await loader.prepare(schema: Schema(["id", "v", "version"]))
        try await loader.load(batch([[1, "a", 1]]), commit: CheckpointCommit(pipeline: "p", checkpoint: Checkpoint("42")))
        #expect(try await store.load(pipeline: "p") == Checkpoint("42"))
        // A failing load rolls the checkpoint back with the data: [1, …] twice in a row is fine,
        // but a NULL key violates the primary key of an INTEGER-less table? Use a constraint instead.
        try db.withConnection { try $0.execute("CREATE TRIGGER no_bad BEFORE INSERT ON t WHEN NEW.v = 'bad' BEGIN SELECT RAISE(ABORT, 'bad row'); END") }
        await #expect(throws: RunnelError.self) {
            try await loader.load(batch([[2, "ok", 1], [3, "bad", 1]]), commit: CheckpointCommit(pipeline: "p", checkpoint: Checkpoint("43")))
        }
        #expect(try await store.load(pipeline: "p") == Checkpoint("42"))
        #expect(try rows(db, "SELECT count(*) FROM t") == [[1]])
    }

    @Test func storesKeepTheirContracts() async throws {
        let db = try database()
        try await CheckpointStoreConformance.roundTrips(SQLiteCheckpointStore(database: db))
        try await DeadLetterQueueConformance.isIdempotent(SQLiteDeadLetterQueue(database: db))
    }

    @Test func anExistingTableThatDoesNotMatchIsAContractError() async throws {
        let db = try database()
        try db.withConnection { try $0.execute("CREATE TABLE t (id INTEGER, other TEXT)") }
        let loader = SQLiteLoader(SQLiteLoader.Configuration(table: "t", key: ["id"]), database: db)
        await #expect {
            try await loader.prepare(schema: Schema(["id", "v"]))
        } throws: { e in
            (e as? RunnelError)?.code == .dataContract && (e as! RunnelError).message.contains("no column 'v'")
        }
        try db.withConnection { try $0.execute("ALTER TABLE t ADD COLUMN v TEXT") }
        await #expect {
            try await loader.prepare(schema: Schema(["id", "v"]))
        } throws: { e in (e as? RunnelError)?.message.contains("PRIMARY KEY or UNIQUE") == true }
    }

    @Test func anUnreadableDatabaseIsAnErrorNotAFreshStart() async throws {
        let dir = try CommandRunner.temporaryDirectory()
        let path = dir + "/garbage.db"
        try "this is not a database, but it is long enough to have a header".write(toFile: path, atomically: true, encoding: .utf8)
        let store = SQLiteCheckpointStore(database: SQLiteDatabase(.init(path: path)))
        await #expect(throws: RunnelError.self) { _ = try await store.load(pipeline: "p") }
    }
}

@Suite struct SQLiteChangeTests {
    func loader(_ db: SQLiteDatabase, deletes: ChangeHandling.Deletes) -> SQLiteLoader {
        var c = SQLiteLoader.Configuration(table: "t", key: ["id"])
        c.version = "v"
        var changes = ChangeHandling()
        changes.deletes = deletes
        c.changes = changes
        return SQLiteLoader(c, database: db)
    }

    @Test func deletesTruncatesAndUnchangedColumnsFollowTheGuard() async throws {
        let db = try database()
        try await ChangeConformance.appliesDeletesTruncatesAndUnchangedColumns(loader(db, deletes: .hard)) {
            try rows(db, "SELECT id, note, v FROM t ORDER BY id")
        }
        // The control fields are not columns; the truncate at 65 dropped the tombstones it covers
        // (key 2's, at 30) and left its watermark.
        #expect(
            try rows(db, "SELECT name FROM pragma_table_info('t') ORDER BY cid") == [["id"], ["note"], ["v"], ["_runnel_pending"]])
        #expect(try rows(db, "SELECT count(*) FROM t WHERE _runnel_pending IS NOT NULL") == [[0]])
        #expect(try rows(db, "SELECT count(*) FROM t__tombstones") == [[0]])
        #expect(try rows(db, "SELECT runnel_version FROM t__truncated") == [[65]])
    }

    @Test func softDeletesKeepTheRow() async throws {
        let db = try database()
        try await ChangeConformance.softDeletesKeepTheRowAsItsOwnTombstone(
            loader(db, deletes: .soft),
            readTarget: { try rows(db, "SELECT id, note, v FROM t ORDER BY id") },
            readDeleted: {
                try rows(db, "SELECT id FROM t WHERE _deleted_at IS NOT NULL ORDER BY id").compactMap {
                    if case .int(let i) = $0[0] { i } else { nil }
                }
            })
    }

    @Test func aNewFieldFollowsTheSchemaDriftPolicy() async throws {
        let db = try database()
        try await ChangeConformance.followsTheSchemaDriftPolicy { policy in
            var c = SQLiteLoader.Configuration(table: "t_\(policy.rawValue)", key: ["id"])
            c.version = "v"
            c.changes = ChangeHandling()
            c.schemaDrift = policy
            return SQLiteLoader(c, database: db)
        } readTarget: { policy in
            let email = policy == .evolve ? ", email" : ""
            return try rows(db, "SELECT id, note, v\(email) FROM t_\(policy.rawValue) ORDER BY id")
        }
    }

    @Test func aTruncateFailsTheRunWhenTheSpecSaysSo() async throws {
        let db = try database()
        var c = SQLiteLoader.Configuration(table: "t", key: ["id"])
        c.version = "v"
        var changes = ChangeHandling()
        changes.truncate = .fail
        c.changes = changes
        let loader = SQLiteLoader(c, database: db)
        try await loader.prepare(schema: ChangeConformance.schema)
        let values: [[Value]] = [[1, "a", 1, "insert", nil], [nil, nil, 2, "truncate", nil]]
        let b = Batch(schema: ChangeConformance.schema, rows: values, origins: values.indices.map { Origin(source: "c", line: $0) })
        let error = await #expect(throws: RunnelError.self) { try await loader.load(b, commit: nil) }
        #expect(error?.code == .dataContract)
        #expect(error?.message.contains("truncate") == true)
        // Nothing of the batch was written.
        #expect(try rows(db, "SELECT count(*) FROM t") == [[0]])
    }
}
