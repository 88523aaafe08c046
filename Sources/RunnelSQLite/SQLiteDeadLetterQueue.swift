public import RunnelCore

/// Dead letters in an SQLite table (default `runnel_dead_letters`), one row per
/// (pipeline, source position): a replayed batch updates its rows instead of adding new ones.
public struct SQLiteDeadLetterQueue: DeadLetterQueue {
    public let database: SQLiteDatabase
    public let table: String

    public init(database: SQLiteDatabase, table: String = "runnel_dead_letters") {
        self.database = database
        self.table = table
    }

    public var target: String { "sqlite \(database.path) table \(table)" }

    private var t: String { SQLiteText.quote(table) }

    private func ensureTable(_ c: SQLiteConnection) throws {
        try c.execute(
            """
            CREATE TABLE IF NOT EXISTS \(t) (
              pipeline TEXT NOT NULL, key TEXT NOT NULL, run_id TEXT NOT NULL, stage TEXT NOT NULL,
              error_code TEXT NOT NULL, error TEXT NOT NULL, field TEXT, attempts INTEGER NOT NULL,
              source TEXT NOT NULL, line INTEGER, "offset" INTEGER, source_id TEXT,
              record TEXT, raw TEXT, first_seen TEXT NOT NULL, last_seen TEXT NOT NULL,
              PRIMARY KEY (pipeline, key))
            """)
    }

    public func prepare() async throws {
        try database.transaction { c in try ensureTable(c) }
    }

    public func write(_ letters: [DeadLetter]) async throws {
        guard !letters.isEmpty else { return }
        try database.transaction { c in
            try ensureTable(c)
            let s = try c.statement(
                """
                INSERT INTO \(t) (pipeline, key, run_id, stage, error_code, error, field, attempts, source, line,
                  "offset", source_id, record, raw, first_seen, last_seen)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (pipeline, key) DO UPDATE SET run_id = excluded.run_id, stage = excluded.stage,
                  error_code = excluded.error_code, error = excluded.error, field = excluded.field,
                  attempts = max(attempts, excluded.attempts), record = excluded.record, raw = excluded.raw,
                  last_seen = excluded.last_seen
                """)
            for l in letters {
                let values: [Value] = [
                    .string(l.pipeline), .string(l.key), .string(l.runID), .string(l.stage), .string(l.errorCode),
                    .string(l.message), l.field.map(Value.string) ?? .null, .int(Int64(l.attempts)),
                    .string(l.origin.source), l.origin.line.map { .int(Int64($0)) } ?? .null,
                    l.origin.offset.map(Value.int) ?? .null, l.origin.id.map(Value.string) ?? .null,
                    l.record.map { .string(JSONText.encode(.object($0))) } ?? .null, l.raw.map(Value.string) ?? .null,
                    .timestamp(l.time), .timestamp(l.time),
                ]
                for (i, v) in values.enumerated() { s.bind(v, at: Int32(i + 1)) }
                try s.step()
                s.reset()
            }
        }
    }

    public func list(pipeline: String, limit: Int?) async throws -> [DeadLetter] {
        try database.withConnection { c in
            try ensureTable(c)
            let rows = try c.query(
                """
                SELECT run_id, stage, error_code, error, field, attempts, source, line, "offset", source_id, record, raw, last_seen
                FROM \(t) WHERE pipeline = ? ORDER BY \(SQLiteText.sortable("first_seen")), source, line, key LIMIT ?
                """, [.string(pipeline), .int(Int64(limit ?? -1))])
            return rows.map { r in
                func s(_ i: Int) -> String? { if case .string(let v) = r[i] { v } else { nil } }
                func n(_ i: Int) -> Int64? { if case .int(let v) = r[i] { v } else { nil } }
                var record: Object?
                if let text = s(10), case .object(let o)? = try? JSONText.parse(text) { record = o }
                return DeadLetter(
                    pipeline: pipeline, runID: s(0) ?? "", stage: s(1) ?? "", errorCode: s(2) ?? "", message: s(3) ?? "",
                    field: s(4), attempts: Int(n(5) ?? 1),
                    origin: Origin(source: s(6) ?? "", line: n(7).map(Int.init), offset: n(8), id: s(9)),
                    record: record, raw: s(11), time: s(12).flatMap { TimestampFormat.iso8601.parse($0) } ?? .now)
            }
        }
    }

    public func remove(pipeline: String, keys: [String]) async throws {
        guard !keys.isEmpty else { return }
        try database.transaction { c in
            try ensureTable(c)
            let s = try c.statement("DELETE FROM \(t) WHERE pipeline = ? AND key = ?")
            for k in keys {
                s.bind(.string(pipeline), at: 1)
                s.bind(.string(k), at: 2)
                try s.step()
                s.reset()
            }
        }
    }
}
