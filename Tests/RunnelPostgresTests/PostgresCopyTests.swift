#if Postgres
    import Foundation
    import RunnelCore
    @testable import RunnelPostgres
    import RunnelTesting
    import Testing

    /// COPY against the real server: a columnar batch goes in binary when every column has an
    /// encoding for its type, and stores exactly what the same rows store as text; a COPY that
    /// fails late in a large batch falls back instead of hanging.
    @Suite struct PostgresCopyTests {
        static let types: [(String, String)] = [
            ("id", "bigint PRIMARY KEY"), ("i4", "integer"), ("i2", "smallint"), ("f_from_int", "double precision"),
            ("amount", "double precision"), ("ok", "boolean"), ("at", "timestamptz"), ("at_local", "timestamp"),
            ("name", "text"), ("code", "varchar(12)"), ("flag", "char(3)"), ("doc", "json"), ("docb", "jsonb"),
            ("nothing", "numeric"),
        ]

        static func ts(_ micros: Int64) -> Value { .timestamp(Timestamp(microseconds: micros)) }

        /// Every encoding, with the edges of each type: nulls, the integer types' limits, 2^53 + 1
        /// into a double, -0, the first and last instants of years 1 and 9999 and one before 1970,
        /// escapes the text format must escape, multi-byte text, char padding, JSON that `jsonb`
        /// reorders. Loaded once as rows (text) and once as columns (binary), through the COPY
        /// fast path and then the staging merge, and read back as text.
        @Test func aBatchInEveryBinaryEncodingStoresWhatTheTextFormatStores() async throws {
            let fields = Self.types.map(\.0)
            let first: [[Value]] = [
                [1, 2_147_483_647, -32768, 9_007_199_254_740_993, .double(123.45), true, Self.ts(1_700_000_000_123_456), Self.ts(-1),
                 "tab\tnew\nline\\ é\r", "abc", "x", #"{"a": [1, 2]}"#, #"{"b": null, "a": 1}"#, nil],
                [2, -2_147_483_648, 32767, -1, .double(-0.0), false, Self.ts(0), Self.ts(946_684_800_000_000),
                 "", "", "yz", "[]", #"[1, "x"]"#, nil],
                [3, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil],
                [4, 0, 0, 0, .double(1e300), true, Self.ts(253_402_300_799_999_999), Self.ts(-62_135_596_800_000_000),
                 "ünïcødé 😀", "twelve chars", "a b", #""s""#, #""s""#, nil],
            ]
            // Keys 2 and 4 changed, 5 new: the staging merge (its ordinal column goes in binary too).
            let second: [[Value]] = [
                [2, 7, 7, 7, .double(7.25), true, Self.ts(5), Self.ts(5), "changed", "c", "c", "{}", "{}", nil],
                [4, 8, 8, 8, .double(.infinity), false, nil, nil, "also", nil, nil, nil, nil, nil],
                [5, -9, -9, -9, .double(2.5e-7), nil, Self.ts(-62_135_596_800_000_000), Self.ts(1), "new", "n", "n", "1", "2", nil],
            ]
            var stored: [[[Value]]] = []
            for columnar in [false, true] {
                try await withDatabase(columnar ? "binc" : "bint") { db in
                    let definitions = Self.types.map { "\($0.0) \($0.1)" }.joined(separator: ", ")
                    try await db.execute("CREATE TABLE \(db.schema).t (\(definitions))")
                    var c = PostgresLoader.Configuration(table: "t", key: ["id"])
                    c.schema = db.schema
                    c.create = false
                    let loader = PostgresLoader(c, pool: db.pool)
                    try await loader.prepare(schema: Schema(fields))
                    for rows in [first, second] {
                        let b = testBatch(fields, rows, columnar: columnar)
                        #expect((b.columnar != nil) == columnar)
                        try await loader.load(b, commit: nil)
                    }
                    #expect(loader.pathCounts.value == (1, 1))
                    #expect(loader.copyFormats.value == (columnar ? (2, 0) : (0, 2)))
                    let text = fields.map { "\($0)::text" }.joined(separator: ", ")
                    stored.append(try await db.rows("SELECT \(text) FROM \(db.schema).t AS t ORDER BY t.id"))
                }
            }
            #expect(stored[0].count == 5)
            #expect(stored[0] == stored[1])
            #expect(stored[1][2].dropFirst().allSatisfy { $0 == .null } && stored[1][4][8] == "new")
        }

        /// Doubles and integers into `numeric` columns, constrained and not, store in binary what
        /// their COPY text stores: the same decimal, rounded to the column's scale the same way
        /// (half away from zero), exponents, -0, NaN and infinity included, over 3,000 random
        /// doubles of every magnitude.
        @Test func numbersIntoNumericStoreWhatTheirTextStores() async throws {
            var rng = SeededGenerator(seed: 0x5EED_0107)
            var doubles: [Double] = [0, -0.0, 0.1, 0.005, -0.005, 0.015, 2.5e-7, 1e-7, 1e16, 1e20, 123_456_789.125, -99_999_999.995, 1.0 / 3.0]
            for _ in 0..<3_000 {
                let magnitude = Double.random(in: -12...15, using: &rng)
                let v = (Bool.random(using: &rng) ? 1 : -1) * Foundation.pow(10, magnitude) * Double.random(in: 1..<10, using: &rng)
                doubles.append(Bool.random(using: &rng) ? v : (v * 100).rounded() / 100)
            }
            let ints: [Int64] = [0, -1, 1, 9_999, 10_000, 99_990_000, -123_456_789_012, .max, .min] + (0..<500).map { _ in Int64.random(in: .min ... .max, using: &rng) >> Int64.random(in: 0...62, using: &rng) }
            let count = max(doubles.count, ints.count)
            let fields = ["id", "d_any", "d_money", "i_any", "i_scaled"]
            let rows: [[Value]] = (0..<count).map { n in
                let d: Value = n < doubles.count ? .double(doubles[n]) : nil
                let money: Value = n == count - 1 ? .double(.nan) : n < doubles.count && doubles[n].magnitude < 1e11 ? .double(doubles[n]) : nil
                let i: Value = n < ints.count ? .int(ints[n]) : nil
                return [.int(Int64(n)), n == count - 2 ? .double(.infinity) : d, money, i, i]
            }
            var stored: [[[Value]]] = []
            for columnar in [false, true] {
                try await withDatabase(columnar ? "numc" : "numt") { db in
                    try await db.execute(
                        "CREATE TABLE \(db.schema).t (id bigint PRIMARY KEY, d_any numeric, d_money numeric(14,2), i_any numeric, i_scaled numeric(30,4))")
                    var c = PostgresLoader.Configuration(table: "t", key: ["id"])
                    c.schema = db.schema
                    c.create = false
                    let loader = PostgresLoader(c, pool: db.pool)
                    try await loader.prepare(schema: Schema(fields))
                    let b = testBatch(fields, rows, columnar: columnar)
                    try await loader.load(b, commit: nil)
                    #expect(loader.copyFormats.value == (columnar ? (1, 0) : (0, 1)))
                    stored.append(try await db.rows("SELECT \(fields.map { "\($0)::text" }.joined(separator: ", ")) FROM \(db.schema).t AS t ORDER BY t.id"))
                }
            }
            #expect(stored[0].count == rows.count)
            for (text, binary) in zip(stored[0], stored[1]) where text != binary {
                Issue.record("text stored \(text), binary \(binary)")
            }
            #expect(stored[1][3][2] == "0.01" && stored[1][4][2] == "-0.01" && stored[1][1][1] == "0.0", "\(stored[1][0...4])")
        }

        /// A column with no binary encoding for its type, or an integer too big for its column,
        /// sends its batch as text: the server converts (a string into `numeric`, rounded to the
        /// column's scale) or refuses (the value out of range, in its words), as it always did.
        @Test func aBatchWithoutABinaryEncodingGoesAsText() async throws {
            try await withDatabase("bintext") { db in
                try await db.execute("CREATE TABLE \(db.schema).t (id bigint PRIMARY KEY, n numeric(8,2), small integer)")
                var c = PostgresLoader.Configuration(table: "t", key: ["id"])
                c.schema = db.schema
                c.create = false
                let loader = PostgresLoader(c, pool: db.pool)
                let fields = ["id", "n", "small"]
                try await loader.prepare(schema: Schema(fields))
                func batch(_ rows: [[Value]]) -> Batch { testBatch(fields, rows, columnar: true) }
                try await loader.load(batch([[1, "12.345", 1], [2, "-0.5", 2]]), commit: nil)
                #expect(loader.copyFormats.value == (0, 1))
                #expect(try await db.rows("SELECT n::text FROM \(db.schema).t AS t ORDER BY t.id") == [["12.35"], ["-0.50"]])

                await #expect {
                    try await loader.load(batch([[3, nil, .int(1 << 40)]]), commit: nil)
                } throws: { error in
                    String(describing: error).contains("out of range for type integer")
                }
                #expect(try await db.int("SELECT count(*) FROM \(db.schema).t") == 2)

                // A timestamp whose microseconds from 2000 would wrap goes as text, which the server refuses.
                try await db.execute("CREATE TABLE \(db.schema).far (id bigint PRIMARY KEY, at timestamptz)")
                c.table = "far"
                let far = PostgresLoader(c, pool: db.pool)
                try await far.prepare(schema: Schema(["id", "at"]))
                await #expect(throws: (any Error).self) {
                    try await far.load(testBatch(["id", "at"], [[1, Self.ts(.min)]], columnar: true), commit: nil)
                }
                #expect(far.copyFormats.value == (0, 0))
                #expect(try await db.int("SELECT count(*) FROM \(db.schema).far") == 0)
            }
        }

        /// A batch of new keys but one, far into it (row 2,000 of 60,000, 2 MB into 60 MB of COPY
        /// data), fails its COPY on the insert path when the server reaches that row. A trigger
        /// makes the server slower than the client up to there, as a loaded server is, so the
        /// client is waiting for the socket to drain when the error comes. The load must fall
        /// back to the guarded upsert and store every row, as rows (text) and as columns
        /// (binary). (postgres-nio loses a COPY write that waits for the socket when the server's
        /// error arrives: written in chunks, this load hung for good.)
        @Test(.timeLimit(.minutes(2))) func aKeyThatExistsFarIntoALargeBatchFallsBackToTheUpsert() async throws {
            for columnar in [false, true] {
                try await withDatabase(columnar ? "latec" : "later") { db in
                    var c = PostgresLoader.Configuration(table: "t", key: ["id"])
                    c.schema = db.schema
                    c.version = "v"
                    c.columns = [.init(name: "id", type: "bigint"), .init(name: "pad", type: "text"), .init(name: "v", type: "bigint")]
                    let loader = PostgresLoader(c, pool: db.pool)
                    let fields = ["id", "pad", "v"]
                    try await loader.prepare(schema: Schema(fields))
                    try await db.execute(
                        """
                        CREATE FUNCTION \(db.schema).slow() RETURNS trigger LANGUAGE plpgsql AS $$
                        BEGIN IF NEW.id <= 2000 AND NEW.id % 10 = 0 THEN PERFORM pg_sleep(0.005); END IF; RETURN NEW; END $$
                        """)
                    try await db.execute(
                        "CREATE TRIGGER slow BEFORE INSERT ON \(db.schema).t FOR EACH ROW EXECUTE FUNCTION \(db.schema).slow()")
                    let pad = Value.string(String(repeating: "p", count: 1000))
                    func batch(_ ids: ClosedRange<Int>, v: Int64) -> Batch {
                        let rows: [[Value]] = ids.map { [.int(Int64($0)), pad, .int(v)] }
                        return testBatch(fields, rows, columnar: columnar)
                    }
                    try await loader.load(batch(2_000...2_000, v: 1), commit: nil)
                    try await loader.load(batch(1...60_000, v: 2), commit: nil)
                    #expect(loader.pathCounts.value == (1, 1))
                    #expect(try await db.int("SELECT count(*) FROM \(db.schema).t WHERE v = 2") == 60_000)
                }
            }
        }

        /// Which encoding each pairing of a column's kind and a column type gets (no server).
        @Test func theEncodingFollowsTheKindAndTheType() {
            typealias E = CopyBinaryColumns.Encoding
            let cases: [(Column.Kind, String, E?)] = [
                (.int, "bigint", .int8), (.int, "integer", .int4), (.int, "smallint", .int2),
                (.int, "double precision", .float8FromInt), (.int, "numeric", .numericFromInt), (.int, "text", nil),
                (.double, "double precision", .float8), (.double, "numeric", .numericFromDouble), (.double, "real", nil),
                (.double, "bigint", nil), (.string, "numeric", nil),
                (.string, "text", .text), (.string, "character varying", .text), (.string, "jsonb", .jsonb),
                (.string, "date", nil), (.string, "uuid", nil), (.timestamp, "timestamp with time zone", .timestamp),
                (.timestamp, "date", nil), (.bool, "boolean", .bool), (.null, "uuid", .null), (.mixed, "text", nil),
            ]
            for (kind, type, want) in cases {
                #expect(CopyBinaryColumns.encoding(kind, into: type) == want, "\(kind) into \(type)")
            }
        }
    }
#endif
