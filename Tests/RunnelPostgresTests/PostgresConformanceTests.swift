#if Postgres
    import RunnelCore
    @testable import RunnelPostgres
    import RunnelTesting
    import Testing

    /// The RunnelTesting conformance suites against the real server, with the pool running as the
    /// runtime runs it.
    @Suite struct PostgresConformanceTests {
        @Test func checkpointStoreRoundTrips() async throws {
            try await withDatabase("cp") { db in
                try await CheckpointStoreConformance.roundTrips(PostgresCheckpointStore(pool: db.pool, schema: db.schema))
            }
        }

        @Test func deadLetterQueueIsIdempotent() async throws {
            try await withDatabase("dlq") { db in
                let queue = PostgresDeadLetterQueue(pool: db.pool, schema: db.schema)
                try await DeadLetterQueueConformance.isIdempotent(queue)
                #expect(try await db.int("SELECT count(*) FROM \(db.schema).runnel_dead_letters") == 0)
            }
        }

        @Test func loaderIsIdempotentAndKeepsNewestVersion() async throws {
            try await withDatabase("load") { db in
                var c = PostgresLoader.Configuration(table: "t", key: ["id"])
                c.schema = db.schema
                c.version = "v"
                c.columns = [.init(name: "id", type: "bigint"), .init(name: "name", type: "text"), .init(name: "v", type: "bigint"),
                             .init(name: "at", type: "timestamptz"), .init(name: "doc", type: "jsonb")]
                let loader = PostgresLoader(c, pool: db.pool)
                let schema = Schema(["id", "name", "v", "at", "doc"])
                let tricky = "tab\tnew\nline\rback\\slash \"q\" 'a' ünï"
                let doc = Value.object(Object(keys: ["k"], values: [.array([1, "x\ty", nil])]))
                let rows: [[Value]] = [
                    [1, .string(tricky), 1, .timestamp(Timestamp(microseconds: 1_700_000_000_123_456)), doc],
                    [2, nil, 5, nil, nil],
                    // key 2 again in the same batch: the newest version wins, the statement does not fail
                    [2, "older", 3, nil, nil],
                ]
                let batch = Batch(schema: schema, rows: rows, origins: rows.indices.map { Origin(source: "mem", line: $0 + 1) })
                try await LoaderConformance.isIdempotent(loader, batch: batch) {
                    try await db.rows("SELECT id, name, v, at, doc FROM \(db.schema).t ORDER BY id")
                }
                let stored = try await db.rows("SELECT id, name, v, at, doc FROM \(db.schema).t ORDER BY id")
                #expect(stored == [
                    [1, .string(tricky), 1, .timestamp(Timestamp(microseconds: 1_700_000_000_123_456)), doc],
                    [2, nil, 5, nil, nil],
                ])
                // An older version replayed (a backfill behind the stream) changes nothing.
                let old = Batch(schema: schema, rows: [[1, "old", 0, nil, nil]], origins: [Origin(source: "mem", line: 1)])
                try await loader.load(old, commit: nil)
                #expect(try await db.rows("SELECT name FROM \(db.schema).t WHERE id = 1") == [[.string(tricky)]])
            }
        }

        @Test func aBatchReadFromAPositionAnotherWorkerMovedIsFencedOff() async throws {
            try await withDatabase("fence") { db in
                var c = PostgresLoader.Configuration(table: "t", key: ["id"])
                c.schema = db.schema
                c.columns = [.init(name: "id", type: "bigint"), .init(name: "name", type: "text")]
                let loader = PostgresLoader(c, pool: db.pool)
                let rows: [[Value]] = [[1, "a"], [2, "b"]]
                let batch = Batch(schema: Schema(["id", "name"]), rows: rows, origins: rows.indices.map { Origin(source: "mem", line: $0 + 1) })
                try await LoaderConformance.fencesMovedPositions(
                    loader, store: PostgresCheckpointStore(pool: db.pool), batch: batch, pipeline: "fence-\(db.schema)"
                ) {
                    try await db.rows("SELECT id, name FROM \(db.schema).t ORDER BY id")
                }
            }
        }

        @Test func newKeysGoInByCopyAndAnExistingKeyFallsBackToTheGuardedUpsert() async throws {
            try await withDatabase("fast") { db in
                var c = PostgresLoader.Configuration(table: "t", key: ["id"])
                c.schema = db.schema
                c.version = "v"
                c.columns = [.init(name: "id", type: "bigint"), .init(name: "name", type: "text"), .init(name: "v", type: "bigint")]
                // The checkpoint table without a schema: it must land where the search_path says,
                // not in the target's schema, which the fast path's COPY names.
                let loader = PostgresLoader(c, pool: db.pool)
                let store = PostgresCheckpointStore(pool: db.pool)
                let pipeline = "fast-\(db.schema)"
                func batch(_ ids: [Int], v: (Int) -> Int) -> Batch {
                    let rows: [[Value]] = ids.map { [.int(Int64($0)), .string("n\($0)"), .int(Int64(v($0)))] }
                    return Batch(schema: Schema(["id", "name", "v"]), rows: rows, origins: rows.indices.map { Origin(source: "mem", line: $0 + 1) })
                }
                try await loader.prepare(schema: nil)
                let commit = CheckpointCommit(entries: [.init(key: pipeline, checkpoint: Checkpoint("a"))])
                try await loader.load(batch(Array(1...100)) { _ in 1 }, commit: commit)
                #expect(loader.pathCounts.value == (1, 0))
                #expect(try await store.load(pipeline: pipeline) == Checkpoint("a"))
                #expect(try await db.int("SELECT count(*) FROM \(db.schema).t") == 100)

                // Half the keys exist; id 60 comes with an older version, which the guard refuses.
                try await loader.load(batch(Array(50...150)) { $0 == 60 ? 0 : 2 }, commit: nil)
                #expect(loader.pathCounts.value == (1, 1))
                #expect(try await db.int("SELECT count(*) FROM \(db.schema).t") == 150)
                #expect(try await db.int("SELECT v FROM \(db.schema).t WHERE id = 60") == 1)
                #expect(try await db.int("SELECT count(*) FROM \(db.schema).t WHERE v = 2") == 100)
                // Right after a conflict the next batches upsert, even with new keys only.
                try await loader.load(batch(Array(200...210)) { _ in 1 }, commit: nil)
                #expect(loader.pathCounts.value == (1, 2))
                #expect(try await db.int("SELECT count(*) FROM \(db.schema).t") == 161)
                try await store.reset(pipeline: pipeline)
            }
        }

        /// The same records as columns and as rows store the same table, through the COPY fast
        /// path and through the staging merge (a second load of changed rows).
        @Test func aColumnarBatchStoresWhatItsRowsStore() async throws {
            let fields = ["id", "name", "amount", "at", "ok", "mixed", "absent"]
            let first: [[Value]] = [
                [1, "tab\tnew\nline\\ é", .double(123.45), .timestamp(Timestamp(microseconds: 1_700_000_000_123_456)), true, 1, nil],
                [2, nil, .double(-0.001), nil, false, "two", nil],
                [3, "", .double(1.0 / 3.0), .timestamp(Timestamp(seconds: 0)), nil, .array([1, "x"]), nil],
                [4, "big", .double(1e300), .timestamp(Timestamp(microseconds: -1)), true, nil, nil],
            ]
            // Changed amounts and names for keys 2 and 3, key 4 as it is, key 5 new: the merge path.
            let second: [[Value]] = [
                [2, "changed", .double(7.25), nil, false, "two", nil], [3, "", .double(2.5e-7), nil, nil, .array([1, "x"]), nil],
                first[3], [5, "new", .double(-0.0), nil, true, 5, nil],
            ]
            var stored: [[[Value]]] = []
            for columnar in [false, true] {
                try await withDatabase(columnar ? "colc" : "colr") { db in
                    var c = PostgresLoader.Configuration(table: "t", key: ["id"])
                    c.schema = db.schema
                    c.columns = [.init(name: "id", type: "bigint"), .init(name: "name", type: "text"),
                                 .init(name: "amount", type: "double precision"), .init(name: "at", type: "timestamptz"),
                                 .init(name: "ok", type: "boolean"), .init(name: "mixed", type: "text"), .init(name: "absent", type: "text")]
                    let loader = PostgresLoader(c, pool: db.pool)
                    try await loader.prepare(schema: Schema(fields))
                    for rows in [first, second] {
                        let b = testBatch(fields, rows, columnar: columnar)
                        #expect((b.columnar != nil) == columnar)
                        try await loader.load(b, commit: nil)
                    }
                    #expect(loader.pathCounts.value == (1, 1))
                    stored.append(try await db.rows("SELECT id, name, amount, at, ok, mixed, absent FROM \(db.schema).t ORDER BY id"))
                }
            }
            #expect(stored[0] == stored[1])
            #expect(stored[1].count == 5 && stored[1][1][2] == .double(7.25) && stored[1][2][2] == .double(2.5e-7))
        }

        /// A replay of rows the table already holds as they are rewrites none of them (their
        /// `xmin`, the transaction that wrote the row version, stays); a changed row is updated,
        /// also where only its text differs under an equality that calls it equal (numeric scale).
        @Test func aReplayOfUnchangedRowsRewritesNothing() async throws {
            try await withDatabase("replay") { db in
                var c = PostgresLoader.Configuration(table: "t", key: ["id"])
                c.schema = db.schema
                c.version = "v"
                c.columns = [.init(name: "id", type: "bigint"), .init(name: "name", type: "text"),
                             .init(name: "price", type: "numeric"), .init(name: "v", type: "bigint")]
                let loader = PostgresLoader(c, pool: db.pool)
                try await loader.prepare(schema: nil)
                func batch(_ rows: [[Value]]) -> Batch {
                    Batch(schema: Schema(["id", "name", "price", "v"]), rows: rows, origins: rows.indices.map { Origin(source: "mem", line: $0 + 1) })
                }
                let rows: [[Value]] = (1...20).map { [.int(Int64($0)), .string("n\($0)"), .string("1.0"), 1] }
                try await loader.load(batch(rows), commit: nil)
                func versions() async throws -> [[Value]] {
                    try await db.rows("SELECT id, xmin::text FROM \(db.schema).t ORDER BY id")
                }
                let before = try await versions()
                try await loader.load(batch(rows), commit: nil)
                #expect(loader.pathCounts.value == (1, 1))
                #expect(try await versions() == before)
                // Key 3 renamed, key 4 with a price equal as a number but written differently.
                var changed = rows
                changed[2][1] = "renamed"
                changed[3][2] = "1.00"
                try await loader.load(batch(changed), commit: nil)
                let after = try await versions()
                #expect(zip(before, after).filter { $0 != $1 }.map { $0.0[0] } == [3, 4])
                #expect(try await db.rows("SELECT name, price::text FROM \(db.schema).t WHERE id IN (3, 4) ORDER BY id")
                    == [["renamed", "1.0"], ["n4", "1.00"]])
            }
        }

        @Test func extractorResumesFromEveryCheckpoint() async throws {
            try await withDatabase("ext") { db in
                try await db.makeOrders("src", count: 90, tie: 8)
                var c = PostgresExtractor.Configuration(table: "src", cursor: "updated_at", key: ["id"])
                c.schema = db.schema
                let extractor = PostgresExtractor(c, pool: db.pool)
                let n = try await ExtractorConformance.resumesFromEveryCheckpoint(extractor, batching: .init(maxRecords: 7))
                #expect(n == 90)
                // A query source with a two-column key reads the same rows.
                let q = PostgresExtractor(
                    .init(query: "SELECT id, id % 3 AS part, updated_at FROM \(db.schema).src", cursor: "updated_at", key: ["id", "part"]),
                    pool: db.pool)
                #expect(try await ExtractorConformance.resumesFromEveryCheckpoint(q, batching: .init(maxRecords: 11)) == 90)
            }
        }

        @Test func shardsPartitionAWindow() async throws {
            try await withDatabase("shard") { db in
                try await db.makeOrders("src", count: 500, tie: 13)
                var c = PostgresExtractor.Configuration(table: "src", cursor: "updated_at", key: ["id"])
                c.schema = db.schema
                let extractor = PostgresExtractor(c, pool: db.pool)
                let window = Window(from: "2024-01-01T00:00:05Z", to: "2024-01-01 00:00:30+00")
                func ids(_ shard: Shard?) async throws -> [Int64] {
                    let reader = try await extractor.open(ExtractRequest(window: window, batching: .init(maxRecords: 9), shard: shard))
                    var out: [Int64] = []
                    while let b = try await reader.nextBatch()?.batch {
                        for r in b.records { if case .int(let i) = r.values[0] { out.append(i) } }
                    }
                    return out
                }
                let all = try await ids(nil)
                let expected = try await db.rows(
                    "SELECT id FROM \(db.schema).src WHERE updated_at >= '2024-01-01T00:00:05Z' AND updated_at < '2024-01-01 00:00:30+00' ORDER BY updated_at, id"
                ).compactMap { if case .int(let i) = $0[0] { i } else { nil } }
                #expect(all == expected)
                var union: [Int64] = []
                for i in 0..<3 {
                    let part = try await ids(Shard(index: i, count: 3))
                    #expect(!part.isEmpty)
                    union += part
                }
                #expect(union.sorted() == all.sorted())
                #expect(Set(union).count == union.count)
            }
        }

        @Test func settingsNeverShowThePassword() {
            let s = PostgresSettings(host: "db", port: 5432, database: "shop", user: "etl", password: "hunter2-secret")
            #expect(!s.description.contains("hunter2"))
            #expect(!"\(s)".contains("hunter2"))
            let loader = PostgresLoader(.init(table: "t", key: ["id"]), pool: PostgresPool(settings: s))
            #expect(!loader.target.contains("hunter2"))
        }

        @Test func copyTextEscapes() {
            var w = CopyTextWriter()
            for (i, v) in ([nil, true, -42, 1.5, "a\tb\\c\nd\re", .timestamp(Timestamp(microseconds: -1))] as [Value]).enumerated() {
                if i > 0 { w.fieldSeparator() }
                w.write(v)
            }
            w.endRow()
            #expect(String(decoding: w.bytes, as: UTF8.self) == "\\N\tt\t-42\t1.5\ta\\tb\\\\c\\nd\\re\t1969-12-31 23:59:59.999999+00\n")
        }
    }
#endif

#if Postgres
    import RunnelCore
    @testable import RunnelPostgres
    import RunnelTesting
    import Testing

    /// `ChangeConformance` against the real server: deletes, truncates and unchanged columns.
    @Suite struct PostgresChangeTests {
        func loader(_ db: TestDatabase, deletes: ChangeHandling.Deletes) -> PostgresLoader {
            var c = PostgresLoader.Configuration(table: "t", key: ["id"])
            c.schema = db.schema
            c.version = "v"
            c.columns = [.init(name: "id", type: "bigint"), .init(name: "note", type: "text"), .init(name: "v", type: "bigint")]
            var changes = ChangeHandling()
            changes.deletes = deletes
            c.changes = changes
            return PostgresLoader(c, pool: db.pool)
        }

        @Test func deletesTruncatesAndUnchangedColumnsFollowTheGuard() async throws {
            try await withDatabase("changes") { db in
                try await ChangeConformance.appliesDeletesTruncatesAndUnchangedColumns(loader(db, deletes: .hard)) {
                    try await db.rows("SELECT id, note, v FROM \(db.schema).t ORDER BY id")
                }
                #expect(try await db.int("SELECT count(*) FROM \(db.schema).t__tombstones") == 0)
                #expect(try await db.int("SELECT count(*) FROM \(db.schema).t WHERE _runnel_pending IS NOT NULL") == 0)
                #expect(try await db.int("SELECT runnel_version FROM \(db.schema).t__truncated") == 65)
            }
        }

        @Test func aNewFieldFollowsTheSchemaDriftPolicy() async throws {
            try await withDatabase("drift") { db in
                try await ChangeConformance.followsTheSchemaDriftPolicy { policy in
                    var c = PostgresLoader.Configuration(table: "t_\(policy.rawValue)", key: ["id"])
                    c.schema = db.schema
                    c.version = "v"
                    c.columns = [.init(name: "id", type: "bigint"), .init(name: "note", type: "text"), .init(name: "v", type: "bigint")]
                    c.changes = ChangeHandling()
                    c.schemaDrift = policy
                    return PostgresLoader(c, pool: db.pool)
                } readTarget: { policy in
                    let email = policy == .evolve ? ", email" : ""
                    return try await db.rows("SELECT id, note, v\(email) FROM \(db.schema).t_\(policy.rawValue) ORDER BY id")
                }
            }
        }

        @Test func softDeletesKeepTheRow() async throws {
            try await withDatabase("softchanges") { db in
                try await ChangeConformance.softDeletesKeepTheRowAsItsOwnTombstone(
                    loader(db, deletes: .soft),
                    readTarget: { try await db.rows("SELECT id, note, v FROM \(db.schema).t ORDER BY id") },
                    readDeleted: {
                        try await db.rows("SELECT id FROM \(db.schema).t WHERE _deleted_at IS NOT NULL ORDER BY id").compactMap {
                            if case .int(let i) = $0[0] { i } else { nil }
                        }
                    })
            }
        }
    }
#endif
