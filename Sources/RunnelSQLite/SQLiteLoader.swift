public import RunnelCore

/// Upserts records into an SQLite table by key, with an optional version guard so that an older
/// replay (a backfill) never overwrites newer data:
///
///     INSERT INTO t (…) VALUES (…) ON CONFLICT (key) DO UPDATE SET …
///     WHERE t.version IS NULL OR excluded.version >= t.version
///
/// Rows are written in order inside one transaction per batch (a columnar batch 32 rows to a
/// statement, which SQLite applies row after row), so duplicate keys inside a batch resolve in
/// order (the guard applies between them too). When the checkpoint store lives in the same
/// database file, the checkpoint is written in that transaction.
public struct SQLiteLoader: Loader {
    public typealias Column = TableTarget.Column
    /// The table, key, version and columns (`type` an SQLite type name, or empty for none).
    public typealias Configuration = TableTarget

    public let configuration: Configuration
    public let database: SQLiteDatabase
    /// Without `columns:`, the SQLite types of the fields the stages declare (`InfersColumnTypes`),
    /// given to the columns of a table this loader creates.
    public var inferredTypes: [String: String] = [:]
    /// The columns written, fixed by `prepare` from the spec or the first batch.
    private let written = Locked<[String]?>(nil)
    /// When tombstones were last purged (see `SQLiteChangeWriter`).
    let lastPurge = Locked<ContinuousClock.Instant?>(nil)

    public init(_ configuration: Configuration, database: SQLiteDatabase) {
        self.configuration = configuration
        self.database = database
    }

    public var target: String { "sqlite \(database.path) table \(configuration.table)" }
    public var key: [String] { configuration.key }

    /// The checkpoint table of this loader's file: with an `SQLiteCheckpointStore` on the same
    /// database, the checkpoint commits with the batch.
    public var transactionDomain: TransactionDomain? { SQLiteCheckpointStore.domain(database) }

    public func prepare(schema: Schema?) async throws {
        let names = try configuration.columnNames(batch: schema)
        var columns = names.map { name in
            configuration.columns?.first { $0.name == name } ?? Column(name: name, type: inferredTypes[name] ?? "")
        }
        let table = configuration.table
        try SQLiteText.checkIdentifier(table, role: "table name")
        for col in columns { try SQLiteText.checkIdentifier(col.name, role: "column (field) name") }
        try database.withConnection { c in
            let info = try c.query("SELECT name FROM pragma_table_info(?)", [.string(table)])
            if info.isEmpty {
                let defs = columns.map { col in
                    col.type.isEmpty ? SQLiteText.quote(col.name) : "\(SQLiteText.quote(col.name)) \(col.type)"
                }
                let pk = configuration.key.map(SQLiteText.quote).joined(separator: ", ")
                try c.execute(
                    "CREATE TABLE IF NOT EXISTS \(SQLiteText.quote(table)) (\(defs.joined(separator: ", ")), PRIMARY KEY (\(pk)))")
            } else {
                var existing = Set(info.compactMap { if case .string(let s) = $0[0] { s } else { nil } })
                if configuration.changes != nil, !existing.contains(ChangeHandling.pendingColumn) {
                    // A table made before this loader applied changes: the column it keeps for them.
                    try c.execute("ALTER TABLE \(SQLiteText.quote(table)) ADD COLUMN \(SQLiteText.quote(ChangeHandling.pendingColumn))")
                    existing.insert(ChangeHandling.pendingColumn)
                }
                if configuration.schemaDrift == .evolve || configuration.schemaDrift == .deadLetter {
                    // Fields the table lacks are the drift policy's, at load (typed from their values).
                    columns.removeAll { !existing.contains($0.name) }
                }
                try checkExisting(c, table: table, existing: existing, columns: columns)
            }
            if let changes = configuration.changes { try prepareChanges(c, changes) }
        }
        written.withLock { $0 = columns.map(\.name) }
    }

    /// A table that exists must hold every column and have a unique index on exactly the key.
    private func checkExisting(_ c: SQLiteConnection, table: String, existing: Set<String>, columns: [Column]) throws {
        let missing = columns.map(\.name).filter { !existing.contains($0) }
        if !missing.isEmpty {
            throw RunnelError.dataContract(
                "table '\(table)' in \(database.path) has no column \(missing.map { "'\($0)'" }.joined(separator: ", ")); "
                    + "it has \(existing.sorted().joined(separator: ", "))")
        }
        let key = Set(configuration.key)
        // An INTEGER PRIMARY KEY is the rowid and has no index entry: read it from table_info.
        let pk = try c.query("SELECT name FROM pragma_table_info(?) WHERE pk > 0", [.string(table)])
        if Set(pk.compactMap { if case .string(let s) = $0[0] { s } else { nil } }) == key { return }
        let indexes = try c.query("SELECT name FROM pragma_index_list(?) WHERE \"unique\" = 1", [.string(table)])
        for row in indexes {
            guard case .string(let name) = row[0] else { continue }
            let cols = try c.query("SELECT name FROM pragma_index_info(?)", [.string(name)])
            if Set(cols.compactMap { if case .string(let s) = $0[0] { s } else { nil } }) == key { return }
        }
        throw RunnelError.dataContract(
            "table '\(table)' in \(database.path) has no PRIMARY KEY or UNIQUE index on (\(configuration.key.joined(separator: ", "))), which upserts need")
    }

    public var readsColumns: Bool { true }

    public func load(_ batch: Batch, commit: CheckpointCommit?) async throws -> LoadOutcome {
        let (columns, driftRefused) = try resolveDrift(batch)
        let positions = columns.map { batch.schema.index(of: $0) }
        if let changes = configuration.changes {
            return try loadChanges(batch, changes: changes, columns: columns, commit: commit, refused: driftRefused)
        }
        guard driftRefused.isEmpty else {
            throw RunnelError.config("load.schema_drift: dead_letter applies to change records (operation, or a postgres_cdc source)")
        }
        try database.transaction { c in
            // BEGIN IMMEDIATE holds the write lock, so the positions read here stay as read.
            if let commit, try SQLiteCheckpointStore.verify(commit, in: c) == .alreadyStored { return }
            if let data = batch.columnar {
                try upsert(data, columns: positions.map { $0.map { data.columns[$0] } }, sql: columns, in: c)
            } else {
                let s = try c.statement(upsertSQL(columns))
                for r in batch.records {
                    try s.bindAndStep(r.values, positions: positions)
                    s.reset()
                }
            }
            for entry in commit?.entries ?? [] { try SQLiteCheckpointStore.write(entry.checkpoint, pipeline: entry.key, in: c) }
        }
        return .stored
    }

    /// The columns to write, after `schema_drift` dealt with the batch's new fields: added to the
    /// table (`evolve`), a stop (`freeze`), or the records that carry them refused (`dead_letter`).
    private func resolveDrift(_ batch: Batch) throws -> (columns: [String], refused: [(ordinal: Int, error: RecordError)]) {
        guard let columns = written.value else { return (batch.schema.fields, []) }
        guard let policy = configuration.schemaDrift else { return (columns, []) }
        let fields = configuration.newFields(batch.schema, records: batch.records, written: columns)
        guard !fields.isEmpty else { return (columns, []) }
        switch policy {
        case .freeze:
            throw configuration.driftError(fields, target: target)
        case .deadLetter:
            return (columns, configuration.driftRefusals(batch.records, schema: batch.schema, fields: fields, target: target))
        case .evolve:
            let records = batch.records
            try database.withConnection { c in
                // A column the table has already (written by another run) is only written from now on.
                let existing = Set(
                    try c.query("SELECT name FROM pragma_table_info(?)", [.string(configuration.table)]).compactMap {
                        if case .string(let s) = $0[0] { s } else { nil }
                    })
                for field in fields where !existing.contains(field) {
                    try SQLiteText.checkIdentifier(field, role: "column (field) name")
                    let type = Self.affinity(TableTarget.portableType(of: batch.schema.index(of: field)!, in: records))
                    try c.execute(
                        "ALTER TABLE \(SQLiteText.quote(configuration.table)) ADD COLUMN \(SQLiteText.quote(field)) \(type)")
                }
            }
            let evolved = columns + fields
            written.withLock { $0 = evolved }
            return (evolved, [])
        }
    }

    /// Upserts the selected rows of a columnar batch, in row order, so that duplicate keys within
    /// the batch apply in order under the guard. Rows go `rowsPerStatement` to a statement
    /// (`VALUES (…), (…), …`), the rest one at a time: SQLite inserts the rows of one statement one
    /// after another, each checked against the table as the rows before it left it, so the result
    /// is the one-row statement's; a statement step costs its cursors' opening and a descent from
    /// the root, which consecutive rows then share (measured by scripts/bench/sqlite_ceiling.c:
    /// 9,000 → 6,100 instructions a row for new keys, 27,400 → 20,500 for a replay).
    private func upsert(_ data: BatchColumns, columns: [RunnelCore.Column?], sql names: [String], in c: SQLiteConnection) throws {
        let selection = data.selection
        let k = Self.rowsPerStatement(columns: columns.count, variableLimit: c.variableLimit)
        try SQLiteColumnBinding.with(columns, tuples: k) { binding in
            var next = 0
            if k > 1, selection.count >= k {
                let s = try c.statement(upsertSQL(names, rows: k))
                binding.bindConstants(s, tuples: k)
                while next + k <= selection.count {
                    for tuple in 0..<k { binding.bind(row: selection[next + tuple], tuple: tuple, to: s) }
                    try s.step()
                    s.resetKeepingBindings()
                    next += k
                }
            }
            guard next < selection.count else { return }
            let s = try c.statement(upsertSQL(names))
            binding.bindConstants(s)
            for row in selection[next...] {
                binding.bind(row: row, to: s)
                try s.step()
                s.resetKeepingBindings()
            }
        }
    }

    /// Rows per upsert statement: 32 (most of the gain: 16 rows saved 32% of the store's
    /// instructions, 64 rows 36%), fewer when the table is so wide that their parameters would
    /// pass SQLite's limit.
    static func rowsPerStatement(columns: Int, variableLimit: Int) -> Int {
        max(1, min(32, variableLimit / max(1, columns)))
    }

    /// The upsert of `rows` rows (`VALUES` repeated) into `columns`.
    func upsertSQL(_ columns: [String], rows: Int = 1) -> String {
        let t = SQLiteText.quote(configuration.table)
        let cols = columns.map(SQLiteText.quote)
        let placeholders = "(" + Array(repeating: "?", count: columns.count).joined(separator: ", ") + ")"
        var sql = "INSERT INTO \(t) (\(cols.joined(separator: ", "))) VALUES "
            + Array(repeating: placeholders, count: rows).joined(separator: ", ") + " "
        let key = configuration.key.map(SQLiteText.quote).joined(separator: ", ")
        let updates = columns.filter { !configuration.key.contains($0) }.map(SQLiteText.quote)
        if updates.isEmpty {
            sql += "ON CONFLICT (\(key)) DO NOTHING"
        } else {
            sql += "ON CONFLICT (\(key)) DO UPDATE SET " + updates.map { "\($0) = excluded.\($0)" }.joined(separator: ", ")
            if let v = configuration.version.map(SQLiteText.quote) {
                sql += " WHERE \(t).\(v) IS NULL OR "
                    + "\(SQLiteText.sortable("excluded.\(v)")) >= \(SQLiteText.sortable("\(t).\(v)"))"
            }
        }
        return sql
    }
}

extension SQLiteLoader: InfersColumnTypes {
    /// A table created from the batch's fields gets the affinities the casts imply (`INTEGER`,
    /// `REAL`, `TEXT`), so that it sorts and compares as the data does; `columns:` in the spec
    /// always wins.
    public func inferringColumnTypes(_ types: [String: PortableType]) -> (loader: any Loader, description: String)? {
        guard configuration.columns == nil, !types.isEmpty else { return nil }
        var typed = self
        typed.inferredTypes = types.mapValues(Self.affinity)
        let shown = types.keys.sorted().map { "\($0) \(Self.affinity(types[$0]!))" }
        return (typed, "columns typed from the stages: \(shown.joined(separator: ", ")); other columns untyped")
    }

    static func affinity(_ t: PortableType) -> String {
        switch t {
        case .int, .bool: "INTEGER"
        case .double: "REAL"
        case .string, .timestamp, .json: "TEXT"
        }
    }
}
