#if Postgres
    import Foundation
    import RunnelCore
    @testable import RunnelPostgres
    import RunnelTesting
    import Testing

    /// The extractor tells the user which index its keyset pages need, from the planner's own plan.
    @Suite struct PageOrderCheckTests {
        @Test(arguments: [
            // No index: the Limit takes the top of a sort of the whole scan.
            (#"[{"Plan": {"Node Type": "Limit", "Plans": [{"Node Type": "Sort", "Plans": [{"Node Type": "Seq Scan"}]}]}}]"#, true),
            // Parallel: the sort sits below a Gather Merge.
            (#"[{"Plan": {"Node Type": "Limit", "Plans": [{"Node Type": "Gather Merge", "Plans": [{"Node Type": "Sort", "Plans": [{"Node Type": "Parallel Seq Scan"}]}]}]}}]"#, true),
            // Served by the index.
            (#"[{"Plan": {"Node Type": "Limit", "Plans": [{"Node Type": "Index Scan"}]}}]"#, false),
            // A prefix of the order comes from an index: only ties are sorted.
            (#"[{"Plan": {"Node Type": "Limit", "Plans": [{"Node Type": "Incremental Sort", "Plans": [{"Node Type": "Index Scan"}]}]}}]"#, false),
            // Not a plan at all: nothing is claimed.
            ("not json", false),
        ])
        func readsThePlan(json: String, sorts: Bool) {
            #expect(PageOrderCheck.sortsWholeInput(planJSON: json) == sorts)
        }

        @Test func namesIdentifiersAsTheyWouldBeTyped() {
            #expect(PageOrderCheck.readable("updated_at") == "updated_at")
            #expect(PageOrderCheck.readable("UpdatedAt") == "\"UpdatedAt\"")
            #expect(PageOrderCheck.readable("order id") == "\"order id\"")
            #expect(PageOrderCheck.readable("2nd") == "\"2nd\"")
        }

        /// The real server and binary: a source without an index on (cursor, key) gets a warning
        /// naming the index; once it exists, the same run says nothing about it and reads the same rows.
        @Test func warnsUntilAnIndexServesThePageOrder() async throws {
            let db = try await TestDatabase.make("pageidx")
            defer { Task { await db.drop() } }
            try await db.makeOrders("src", count: 20_000, tie: 5)
            try await db.execute("ANALYZE \(db.schema).src")
            let r = try Runner()
            let spec = try r.write("idx.yaml", ordersSpec(pipeline: "idx-\(db.schema)", schema: db.schema, pageSize: 500))

            let unindexed = try r.run(spec)
            #expect(unindexed.exitCode == 0, "\(unindexed.stdout)\(unindexed.stderr)")
            #expect(
                unindexed.stderr.contains("no index serves the page order")
                    && unindexed.stderr.contains("CREATE INDEX ON \(db.schema).src (updated_at, id)"),
                "\(unindexed.stderr)")
            #expect(try await db.difference("src", "dst") == 0)

            try await db.execute("CREATE INDEX ON \(db.schema).src (updated_at, id)")
            try await db.execute("ANALYZE \(db.schema).src")
            _ = try CommandRunner.run(Runner.binary, ["checkpoint", "reset", spec], environment: r.environment)
            let indexed = try r.run(spec)
            #expect(indexed.exitCode == 0, "\(indexed.stdout)\(indexed.stderr)")
            #expect(!indexed.stderr.contains("no index serves the page order"), "\(indexed.stderr)")
            #expect(try await db.difference("src", "dst") == 0)
        }
    }
#endif
