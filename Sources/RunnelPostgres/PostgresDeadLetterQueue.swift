import PostgresNIO
public import RunnelCore

/// Dead letters in a PostgreSQL table (default `runnel_dead_letters`), one row per
/// (pipeline, source position): a batch replayed after a crash updates its rows instead of
/// adding new ones, as `SQLiteDeadLetterQueue` does.
public struct PostgresDeadLetterQueue: DeadLetterQueue {
    public let pool: PostgresPool
    public let schema: String?
    public let table: String

    public init(pool: PostgresPool, schema: String? = nil, table: String = "runnel_dead_letters") {
        self.pool = pool
        self.schema = schema
        self.table = table
    }

    public var target: String { "\(pool.settings) table \(schema.map { "\($0)." } ?? "")\(table)" }

    private var t: String { PostgresSQL.qualified(schema: schema, table: table) }

    private func ensureTable(_ c: PostgresConnection) async throws {
        let sql = DeadLetterTable.createSQL(table: t, quote: PostgresSQL.quote) { kind in
            switch kind {
            case .text: "text"
            case .integer: "bigint"
            case .json: "jsonb"
            case .timestamp: "timestamptz"
            }
        }
        try await PostgresDDL.createOnce(sql, on: c, pool: pool)
    }

    public func prepare() async throws {
        try await pool.withConnection("create dead letter table \(table)") { [self] c in try await ensureTable(c) }
    }

    public func write(_ letters: [DeadLetter]) async throws {
        guard !letters.isEmpty else { return }
        // One statement for the whole set: arrays unnested server-side. A key that occurs twice in
        // one call keeps its last letter (ON CONFLICT cannot touch a row twice in one statement).
        var last: [String: Int] = [:]
        for (i, l) in letters.enumerated() { last["\(l.pipeline)\u{0}\(l.key)"] = i }
        let unique = letters.indices.filter { last["\(letters[$0].pipeline)\u{0}\(letters[$0].key)"] == $0 }.map { letters[$0] }
        let pipelines = unique.map(\.pipeline)
        let keys = unique.map(\.key)
        let runIDs = unique.map(\.runID)
        let stages = unique.map(\.stage)
        let codes = unique.map(\.errorCode)
        let messages = unique.map(\.message)
        let fields = unique.map(\.field)
        let attempts = unique.map { Int64($0.attempts) }
        let sources = unique.map(\.origin.source)
        let lines = unique.map { $0.origin.line.map(Int64.init) }
        let offsets = unique.map(\.origin.offset)
        let ids = unique.map(\.origin.id)
        let records = unique.map { l in l.record.map { JSONText.encode(.object($0)) } }
        let raws = unique.map(\.raw)
        let times = unique.map { String(decoding: copyTimestamp($0.time), as: UTF8.self) }
        let sql = t
        try await pool.withConnection("write dead letters to \(table)") { [self] c in
            try await ensureTable(c)
            var binds = PostgresBindings(capacity: 15)
            binds.append(pipelines)
            binds.append(keys)
            binds.append(runIDs)
            binds.append(stages)
            binds.append(codes)
            binds.append(messages)
            binds.append(fields.map { $0 ?? "" })
            binds.append(fields.map { $0 == nil })
            binds.append(attempts)
            binds.append(sources)
            binds.append(lines.map { $0 ?? 0 })
            binds.append(lines.map { $0 == nil })
            binds.append(offsets.map { $0 ?? 0 })
            binds.append(offsets.map { $0 == nil })
            binds.append(ids.map { $0 ?? "" })
            binds.append(ids.map { $0 == nil })
            binds.append(records.map { $0 ?? "" })
            binds.append(records.map { $0 == nil })
            binds.append(raws.map { $0 ?? "" })
            binds.append(raws.map { $0 == nil })
            binds.append(times)
            // postgres-nio binds arrays without null elements, so optionals travel as a value
            // array plus an is-null array.
            let q = PostgresQuery(
                unsafeSQL: """
                    INSERT INTO \(sql) AS d (pipeline, key, run_id, stage, error_code, error, field, attempts, source,
                      line, "offset", source_id, record, raw, first_seen, last_seen)
                    SELECT u.p, u.k, u.r, u.s, u.c, u.e, CASE WHEN u.fn THEN NULL ELSE u.f END, u.a, u.src,
                      CASE WHEN u.ln THEN NULL ELSE u.l END, CASE WHEN u.o_n THEN NULL ELSE u.o END,
                      CASE WHEN u.i_n THEN NULL ELSE u.i END, CASE WHEN u.rec_n THEN NULL ELSE u.rec::jsonb END,
                      CASE WHEN u.raw_n THEN NULL ELSE u.raw END, u.t::timestamptz, u.t::timestamptz
                    FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
                      $8::bool[], $9::int8[], $10::text[], $11::int8[], $12::bool[], $13::int8[], $14::bool[],
                      $15::text[], $16::bool[], $17::text[], $18::bool[], $19::text[], $20::bool[], $21::text[])
                      AS u(p, k, r, s, c, e, f, fn, a, src, l, ln, o, o_n, i, i_n, rec, rec_n, raw, raw_n, t)
                    ON CONFLICT (pipeline, key) DO UPDATE SET run_id = excluded.run_id, stage = excluded.stage,
                      error_code = excluded.error_code, error = excluded.error, field = excluded.field,
                      attempts = greatest(d.attempts, excluded.attempts), record = excluded.record,
                      raw = excluded.raw, last_seen = excluded.last_seen
                    """, binds: binds)
            _ = try await pool.rows(q, on: c)
        }
    }

    public func list(pipeline: String, limit: Int?) async throws -> [DeadLetter] {
        let limitValue = Int64(limit ?? Int(Int32.max))
        return try await pool.withConnection("list dead letters in \(table)") { [self] c in
            try await ensureTable(c)
            let rows = try await pool.rows(
                """
                SELECT run_id, stage, error_code, error, field, attempts::int8, source, line, "offset", source_id,
                  record::text, raw, extract(epoch FROM last_seen)::float8
                FROM \(unescaped: t) WHERE pipeline = \(pipeline) ORDER BY first_seen, source, line, key LIMIT \(limitValue)
                """, on: c)
            return try rows.map { row in
                let (runID, stage, code, message, field, attempts, source, line, offset, id, record, raw, seen) =
                    try row.decode(
                        (String, String, String, String, String?, Int64, String, Int64?, Int64?, String?, String?, String?, Double).self)
                func text(_ s: String?) -> Value { s.map(Value.string) ?? .null }
                func int(_ i: Int64?) -> Value { i.map(Value.int) ?? .null }
                let values: [Value] = [
                    .string(runID), .string(stage), .string(code), .string(message), text(field), .int(attempts),
                    .string(source), int(line), int(offset), text(id), text(record), text(raw),
                    .timestamp(Timestamp(microseconds: Int64((seen * 1_000_000).rounded()))),
                ]
                return DeadLetter(pipeline: pipeline, row: values)
            }
        }
    }

    public func remove(pipeline: String, keys: [String]) async throws {
        guard !keys.isEmpty else { return }
        try await pool.withConnection("remove dead letters from \(table)") { [self] c in
            try await ensureTable(c)
            _ = try await pool.rows("DELETE FROM \(unescaped: t) WHERE pipeline = \(pipeline) AND key = ANY(\(keys))", on: c)
        }
    }

    private func copyTimestamp(_ t: Timestamp) -> [UInt8] {
        var w = CopyTextWriter(capacity: 32)
        w.writeTimestamp(t)
        return w.bytes
    }
}
