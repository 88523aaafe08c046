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
            DeadLetterTable.createSQL(table: t, quote: SQLiteText.quote) { kind in
                switch kind {
                case .text, .json, .timestamp: "TEXT"
                case .integer: "INTEGER"
                }
            })
    }

    public func prepare() async throws {
        try database.transaction { c in try ensureTable(c) }
    }

    public func write(_ letters: [DeadLetter]) async throws {
        guard !letters.isEmpty else { return }
        let columns = DeadLetterTable.columns.map(\.name)
        let placeholders = Array(repeating: "?", count: columns.count).joined(separator: ", ")
        try database.transaction { c in
            try ensureTable(c)
            let s = try c.statement(
                """
                INSERT INTO \(t) (\(DeadLetterTable.names(columns, quote: SQLiteText.quote))) VALUES (\(placeholders))
                ON CONFLICT (pipeline, key) DO UPDATE SET run_id = excluded.run_id, stage = excluded.stage,
                  error_code = excluded.error_code, error = excluded.error, field = excluded.field,
                  attempts = max(attempts, excluded.attempts), record = excluded.record, raw = excluded.raw,
                  last_seen = excluded.last_seen
                """)
            for l in letters {
                for (i, v) in l.row.enumerated() { s.bind(v, at: Int32(i + 1)) }
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
                SELECT \(DeadLetterTable.names(DeadLetterTable.readColumns, quote: SQLiteText.quote))
                FROM \(t) WHERE pipeline = ? ORDER BY \(SQLiteText.sortable("first_seen")), source, line, key LIMIT ?
                """, [.string(pipeline), .int(Int64(limit ?? -1))])
            return rows.map { DeadLetter(pipeline: pipeline, row: $0) }
        }
    }

    public func counts(pipeline: String) async throws -> [(code: String, count: Int)] {
        try database.withConnection { c in
            try ensureTable(c)
            let rows = try c.query(
                "SELECT error_code, count(*) FROM \(t) WHERE pipeline = ? GROUP BY error_code ORDER BY count(*) DESC, error_code",
                [.string(pipeline)])
            return rows.map { (code: $0[0].text, count: Int($0[1].text) ?? 0) }
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
