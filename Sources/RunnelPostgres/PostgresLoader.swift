import PostgresNIO
public import RunnelCore

/// Upserts records into a PostgreSQL table by key, effectively once:
///
///     BEGIN
///     COPY runnel_stage_… FROM STDIN                -- the batch, binary format (`CopyBinaryColumns`)
///     INSERT INTO t (…) SELECT DISTINCT ON (key) … FROM runnel_stage_…
///       ORDER BY key, version DESC NULLS LAST, ordinal DESC   -- the newest row per key
///     ON CONFLICT (key) DO UPDATE SET …
///       WHERE t.version IS NULL OR excluded.version >= t.version
///     INSERT INTO runnel_checkpoints … ON CONFLICT …  -- when the store shares the pool
///     COMMIT
///
/// The guard is the SQLite loader's (`>=`): replaying the same version rewrites the same values
/// (idempotent), an older version (a backfill behind the stream) changes nothing. Within one batch
/// the newest version of a key wins, and among equal versions the last one read, as applying the
/// rows in order would give; `DISTINCT ON` also keeps the statement from touching a row twice
/// (which `ON CONFLICT DO UPDATE` refuses).
///
/// The staging table is a session temporary table (`ON COMMIT DELETE ROWS`) with the target's
/// column types, created once per pooled connection. A batch whose columns all have a binary
/// encoding for their column's type is sent in COPY's binary format; any other batch as text,
/// which the server parses with each column's input function.
///
/// The insert fast path. Most batches of a first load or a backfill into new ranges hold only
/// keys the table does not have yet, and for those the upsert is a plain insert: the batch is
/// COPied straight into the table under a savepoint (measured in psql on 200,000 rows: COPY into
/// the table 0.68 s, COPY into staging plus the guarded merge 1.41 s, one `INSERT … SELECT FROM
/// unnest(typed arrays) ON CONFLICT` 1.25 s). A key that exists makes the COPY fail with a unique
/// violation; the savepoint is rolled back and the batch goes through the upsert above, as do
/// the next `upsertBatchesAfterConflict` batches (a replay or an update stream would otherwise
/// pay for a failed COPY each time). The outcome is the upsert's in every case: a key that is new
/// has no row for the version guard to protect, and the checkpoint is in the same transaction.
public struct PostgresLoader: Loader {
    public typealias Column = TableTarget.Column

    /// The table (`schema`, `table`, `key`, `version`, `columns` with PostgreSQL types; nil
    /// columns: the batch's fields, and the table must exist) and how to treat it.
    @dynamicMemberLookup
    public struct Configuration: Sendable {
        public var target: TableTarget
        /// Create the table when it does not exist (default true). False: a missing table is a
        /// data-contract error.
        public var create: Bool = true
        /// The checkpoint table written in the load's transaction, when the pipeline's
        /// checkpoint store is a `PostgresCheckpointStore` on this pool with the same table.
        public var checkpointSchema: String?
        public var checkpointTable: String = PostgresCheckpointStore.defaultTable

        public init(table: String, key: [String]) { self.target = TableTarget(table: table, key: key) }
        public init(_ target: TableTarget) { self.target = target }

        public subscript<T>(dynamicMember path: WritableKeyPath<TableTarget, T>) -> T {
            get { target[keyPath: path] }
            set { target[keyPath: path] = newValue }
        }
    }

    public let configuration: Configuration
    public let pool: PostgresPool
    private let prepared = Locked<Prepared?>(nil)
    /// The checkpoint store the runner commits through this loader (see `writesCheckpoint(to:)`).
    private let checkpointStoreBox = Locked<PostgresCheckpointStore?>(nil)
    /// Batches still to load by upsert since the last failed insert fast path.
    private let upsertBatchesLeft = Locked(0)
    static let upsertBatchesAfterConflict = 16
    /// How many batches went in by the fast path and by the upsert (the tests read it).
    let pathCounts = Locked<(inserted: Int, upserted: Int)>((0, 0))
    /// How many batches were COPied in the binary and in the text format (the tests read it).
    let copyFormats = Locked<(binary: Int, text: Int)>((0, 0))

    /// What `prepare` fixed: the columns written and the statements that write them.
    struct Prepared: Sendable {
        var columns: [String]
        /// The table's column types, by name (`format_type`).
        var types: [String: String]
        var createStaging: String
        var staging: String
        var stagingColumns: [String]
        var merge: String
        /// The same merge without `DISTINCT ON … ORDER BY`, for batches whose keys are all distinct
        /// (the common case): it saves the sort of every batch.
        var mergeDistinct: String
        var keyPositions: [Int]
    }

    public init(_ configuration: Configuration, pool: PostgresPool) {
        self.configuration = configuration
        self.pool = pool
    }

    public var target: String { "\(pool.settings) table \(displayName)" }
    public var key: [String] { configuration.key }

    var displayName: String { (configuration.schema.map { "\($0)." } ?? "") + configuration.table }
    var qualified: String { PostgresSQL.qualified(schema: configuration.schema, table: configuration.table) }

    /// The store whose table this loader writes checkpoints to in its transaction.
    var checkpoints: PostgresCheckpointStore {
        PostgresCheckpointStore(pool: pool, schema: configuration.checkpointSchema, table: configuration.checkpointTable)
    }

    /// Equal to a `PostgresCheckpointStore`'s on the same pool and table: the checkpoint then
    /// commits in the load's transaction.
    public var transactionDomain: TransactionDomain? { checkpoints.transactionDomain }

    // MARK: prepare

    public func prepare(schema: Schema?) async throws {
        let c = configuration
        let specColumns = c.columns
        let columns = try c.target.columnNames(batch: schema)
        guard !columns.isEmpty else { throw RunnelError.config("load: no columns to write to \(displayName)") }
        for name in [c.table] + (c.schema.map { [$0] } ?? []) { try PostgresSQL.checkIdentifier(name, role: "table or schema name") }
        for name in columns { try PostgresSQL.checkIdentifier(name, role: "column (field) name") }
        let qualified = self.qualified
        let displayName = self.displayName
        let settings = pool.settings
        let pool = self.pool
        let drift = c.schemaDrift
        let (written, types) = try await pool.withConnection("prepare table \(displayName)") { conn -> ([String], [String: String]) in
            var columns = columns
            // The spec's types, as the server spells them (an unknown type is a spec error).
            var canonical: [String: String] = [:]
            for col in specColumns ?? [] {
                let rows = try await pool.rows("SELECT to_regtype(\(col.type))::text", on: conn)
                guard let name = try rows.first?.decode(String?.self) else {
                    throw RunnelError.config("load.columns.\(col.name): '\(col.type)' is not a PostgreSQL type known to \(settings)")
                }
                canonical[col.name] = name
            }
            let existing = try await Self.tableColumns(qualified, on: conn, pool: pool)
            if existing.isEmpty {
                guard c.create else {
                    throw RunnelError.dataContract("table \(displayName) does not exist in \(settings) (create: false)")
                }
                guard let specColumns else {
                    throw RunnelError.dataContract(
                        "table \(displayName) does not exist in \(settings) and the spec gives no 'columns' to create it with")
                }
                var defs = specColumns.map { "\(PostgresSQL.quote($0.name)) \($0.type)" }
                if let changes = c.changes {
                    if changes.deletes == .soft, !specColumns.contains(where: { $0.name == changes.softDeleteColumn }) {
                        defs.append("\(PostgresSQL.quote(changes.softDeleteColumn)) timestamptz")
                    }
                    defs.append("\(PostgresSQL.quote(ChangeHandling.pendingColumn)) text")
                }
                let pk = c.key.map(PostgresSQL.quote).joined(separator: ", ")
                let ddl = "CREATE TABLE IF NOT EXISTS \(qualified) (\(defs.joined(separator: ", ")), PRIMARY KEY (\(pk)))"
                do {
                    _ = try await pool.rows(PostgresQuery(unsafeSQL: ddl), on: conn)
                } catch let e as PSQLError where ["23505", "42P07"].contains(e.serverInfo?[.sqlState] ?? "") {
                    // another run created it at the same instant
                }
            } else {
                var existing = existing
                if c.changes != nil, !existing.contains(where: { $0.0 == ChangeHandling.pendingColumn }) {
                    // A table made before this loader applied changes: the column it keeps for them.
                    _ = try await pool.rows(
                        PostgresQuery(
                            unsafeSQL: "ALTER TABLE \(qualified) ADD COLUMN IF NOT EXISTS \(PostgresSQL.quote(ChangeHandling.pendingColumn)) text"),
                        on: conn)
                    existing.append((ChangeHandling.pendingColumn, "text"))
                }
                if drift == .evolve || drift == .deadLetter {
                    // Fields the table lacks are the drift policy's, at load (typed from their values).
                    columns.removeAll { name in !existing.contains { $0.0 == name } }
                }
                try Self.check(existing: existing, columns: columns, canonical: canonical, table: displayName, settings: settings)
                try await Self.checkUniqueKey(qualified, key: c.key, on: conn, pool: pool, table: displayName, settings: settings)
            }
            if let changes = c.changes { try await prepareChanges(changes, on: conn) }
            let types = try await Self.tableColumns(qualified, on: conn, pool: pool)
            return (columns, Dictionary(types, uniquingKeysWith: { a, _ in a }))
        }
        prepared.withLock { $0 = makeStatements(written, types: types) }
    }

    /// `schema_drift: evolve`: adds `fields` to the table, typed from their first values, and
    /// prepares the statements that write them.
    func addColumns(_ fields: [String], batch: Batch, to p: Prepared) async throws -> Prepared {
        let records = batch.records
        let qualified = self.qualified
        let pool = self.pool
        for name in fields { try PostgresSQL.checkIdentifier(name, role: "column (field) name") }
        var types = p.types
        let definitions = fields.map { field in
            let type = Self.columnType(TableTarget.portableType(of: batch.schema.index(of: field)!, in: records))
            types[field] = type
            return "ADD COLUMN IF NOT EXISTS \(PostgresSQL.quote(field)) \(type)"
        }
        try await pool.withConnection("add columns to \(displayName)") { conn in
            _ = try await pool.rows(
                PostgresQuery(unsafeSQL: "ALTER TABLE \(qualified) \(definitions.joined(separator: ", "))"), on: conn)
        }
        let evolved = makeStatements(p.columns + fields, types: types)
        self.prepared.withLock { $0 = evolved }
        return evolved
    }

    /// True when the incoming row differs from the stored one in some written column. A row that
    /// is already stored as it is (a replay, a backfill run again) is then not rewritten: no new
    /// row version, index entries or WAL for it, and no update for a trigger or a logical
    /// replication subscriber to see. The outcome is the same table. Types whose equality can
    /// call different values equal (numeric `1.0` and `1.00`, citext, json without one) and
    /// types not listed are compared as their text. (Floats compare -0 equal to 0, so a stored 0
    /// stays when -0 arrives.)
    static func changed(_ columns: [String], types: [String: String]) -> String {
        let exact: Set = [
            "smallint", "integer", "bigint", "real", "double precision", "text", "character varying", "boolean",
            "timestamp with time zone", "timestamp without time zone", "timestamptz", "date", "jsonb", "uuid", "bytea",
        ]
        let q = PostgresSQL.quote
        func side(_ table: String) -> String {
            "ROW(" + columns.map { exact.contains(types[$0] ?? "") ? "\(table).\(q($0))" : "\(table).\(q($0))::text" }.joined(separator: ", ") + ")"
        }
        return "\(side("t")) IS DISTINCT FROM \(side("excluded"))"
    }

    /// A portable type as PostgreSQL names it.
    static func columnType(_ t: PortableType) -> String {
        switch t {
        case .int: "bigint"
        case .double: "double precision"
        case .string: "text"
        case .timestamp: "timestamptz"
        case .bool: "boolean"
        case .json: "jsonb"
        }
    }

    /// The table's columns and their types (`format_type` without modifiers), empty when the table does not exist.
    static func tableColumns(_ qualified: String, on c: PostgresConnection, pool: PostgresPool) async throws -> [(String, String)] {
        let rows = try await pool.rows(
            """
            SELECT a.attname::text, format_type(a.atttypid, NULL) FROM pg_attribute a
            WHERE a.attrelid = to_regclass(\(qualified)) AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum
            """, on: c)
        return try rows.map { try $0.decode((String, String).self) }
    }

    /// Every column the spec writes must exist with a compatible type.
    static func check(
        existing: [(String, String)], columns: [String], canonical: [String: String], table: String, settings: PostgresSettings
    ) throws {
        let types = Dictionary(existing, uniquingKeysWith: { a, _ in a })
        let missing = columns.filter { types[$0] == nil }
        if !missing.isEmpty {
            throw RunnelError.dataContract(
                "table \(table) in \(settings) has no column \(missing.map { "'\($0)'" }.joined(separator: ", ")); "
                    + "it has \(existing.map(\.0).joined(separator: ", ")). Nothing was written.")
        }
        for col in columns {
            guard let want = canonical[col], let have = types[col] else { continue }
            if !compatible(spec: want, existing: have) {
                throw RunnelError.dataContract(
                    "column '\(col)' of table \(table) in \(settings) is \(have), which cannot hold the spec's \(want). "
                        + "Nothing was written.")
            }
        }
    }

    /// Type families a value can move within without loss of meaning.
    static func compatible(spec: String, existing: String) -> Bool {
        if spec == existing { return true }
        let integers: Set = ["smallint", "integer", "bigint"]
        let numbers: Set = ["real", "double precision", "numeric"]
        let texts: Set = ["text", "character varying", "character", "name", "citext"]
        let times: Set = ["timestamp with time zone", "timestamp without time zone", "date"]
        let jsons: Set = ["json", "jsonb"]
        if integers.contains(spec) { return integers.contains(existing) || numbers.contains(existing) }
        for family in [numbers, texts, times, jsons] where family.contains(spec) { return family.contains(existing) }
        return false
    }

    /// `ON CONFLICT (key)` needs a unique index on exactly the key columns.
    static func checkUniqueKey(
        _ qualified: String, key: [String], on c: PostgresConnection, pool: PostgresPool, table: String, settings: PostgresSettings
    ) async throws {
        let rows = try await pool.rows(
            """
            SELECT array_agg(a.attname::text ORDER BY a.attname) FROM pg_index i
            JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
            WHERE i.indrelid = to_regclass(\(qualified)) AND i.indisunique AND i.indpred IS NULL
            GROUP BY i.indexrelid
            """, on: c)
        let want = key.sorted()
        for row in rows where try row.decode([String].self) == want { return }
        throw RunnelError.dataContract(
            "table \(table) in \(settings) has no PRIMARY KEY or UNIQUE index on (\(key.joined(separator: ", "))), "
                + "which upserts need. Nothing was written.")
    }

    /// The statements that write `columns` (`types`: the table's column types, by name).
    func makeStatements(_ columns: [String], types: [String: String]) -> Prepared {
        let c = configuration
        let q = PostgresSQL.quote
        // Named after the target and the column list, so two loaders never share a staging table.
        let staging = "runnel_stage_" + PostgresSQL.hash(qualified + "|" + columns.joined(separator: "|"))
        let stagingColumns = ["runnel_ord"] + columns.indices.map { "c\($0)" }
        let selectList = columns.enumerated().map { "\(q($1)) AS c\($0)" }.joined(separator: ", ")
        let createStaging =
            "CREATE TEMP TABLE IF NOT EXISTS \(staging) ON COMMIT DELETE ROWS AS "
            + "SELECT 0::bigint AS runnel_ord, \(selectList) FROM \(qualified) WITH NO DATA"
        let stageOf = Dictionary(uniqueKeysWithValues: columns.enumerated().map { ($1, "c\($0)") })
        let keyStage = c.key.map { stageOf[$0]! }
        var order = keyStage
        if let v = c.version { order.append("\(stageOf[v]!) DESC NULLS LAST") }
        order.append("runnel_ord DESC")
        let insert = "INSERT INTO \(qualified) AS t (\(columns.map(q).joined(separator: ", "))) "
        let values = columns.indices.map { "c\($0)" }.joined(separator: ", ")
        var merge =
            insert + "SELECT DISTINCT ON (\(keyStage.joined(separator: ", "))) \(values) "
            + "FROM \(staging) ORDER BY \(order.joined(separator: ", ")) "
        var mergeDistinct = insert + "SELECT \(values) FROM \(staging) "
        let updates = columns.filter { !c.key.contains($0) }.map(q)
        let conflict = c.key.map(q).joined(separator: ", ")
        var conflictClause: String
        if updates.isEmpty {
            conflictClause = "ON CONFLICT (\(conflict)) DO NOTHING"
        } else {
            conflictClause = "ON CONFLICT (\(conflict)) DO UPDATE SET " + updates.map { "\($0) = excluded.\($0)" }.joined(separator: ", ")
            var guards: [String] = []
            if let v = c.version.map(q) { guards.append("(t.\(v) IS NULL OR excluded.\(v) >= t.\(v))") }
            guards.append(Self.changed(columns.filter { !c.key.contains($0) }, types: types))
            conflictClause += " WHERE " + guards.joined(separator: " AND ")
        }
        merge += conflictClause
        mergeDistinct += conflictClause
        return Prepared(
            columns: columns, types: types, createStaging: createStaging, staging: staging, stagingColumns: stagingColumns, merge: merge,
            mergeDistinct: mergeDistinct, keyPositions: c.key.compactMap { columns.firstIndex(of: $0) })
    }

    // MARK: load

    /// Batches come as columns: the COPY text is written from them. Change records and schema
    /// drift work on rows (they are converted here, once).
    public var readsColumns: Bool { true }

    public func load(_ batch: Batch, commit: CheckpointCommit?) async throws -> LoadOutcome {
        var rows = batch
        if configuration.changes != nil || configuration.schemaDrift != nil { rows.makeRows() }
        let batch = rows
        guard var prepared = prepared.value else {
            throw RunnelError.failure("load into \(displayName) before prepare")
        }
        var driftRefused: [(ordinal: Int, error: RecordError)] = []
        if let policy = configuration.schemaDrift {
            let fields = configuration.target.newFields(batch.schema, records: batch.records, written: prepared.columns)
            if !fields.isEmpty {
                switch policy {
                case .freeze: throw configuration.target.driftError(fields, target: target)
                case .deadLetter:
                    driftRefused = configuration.target.driftRefusals(
                        batch.records, schema: batch.schema, fields: fields, target: target)
                case .evolve: prepared = try await addColumns(fields, batch: batch, to: prepared)
                }
            }
        }
        let p = prepared
        if let changes = configuration.changes {
            return try await loadChanges(batch, changes: changes, prepared: p, commit: commit, refused: driftRefused)
        }
        guard driftRefused.isEmpty else {
            throw RunnelError.config("load.schema_drift: dead_letter applies to change records (operation, or a postgres_cdc source)")
        }
        let distinct = Self.keysAreDistinct(batch, columns: p.columns, keyPositions: p.keyPositions)
        // A batch with a key twice needs the merge's DISTINCT ON; after a conflict, a while of upserts.
        let tryInsert = distinct && upsertBatchesLeft.withLock { left in
            if left == 0 { return true }
            left -= 1
            return false
        }
        let qualified = self.qualified
        let shown = displayName
        let pool = self.pool
        let checkpoints = commit.map { _ in self.checkpoints }
        let logger = pool.logger
        let hasRows = batch.recordCount > 0
        try await pool.withConnection("load into \(displayName)") { conn in
            // Outside the transaction: a concurrent CREATE must not abort the load's transaction.
            if let checkpoints { try await checkpoints.ensureTable(conn) }
            // nil: an earlier attempt of this load committed already (see `CheckpointCommit.verify`).
            let outcome = try await conn.withTransaction(logger: logger) { conn -> (inserted: Bool, format: PostgresConnection.CopyFormat?)? in
                var inserted = false
                var format: PostgresConnection.CopyFormat?
                // Locks the guarded positions first, so a concurrent worker waits behind this load.
                if let commit, let checkpoints, try await checkpoints.verify(commit, on: conn) == .alreadyStored {
                    return nil
                }
                if hasRows, tryInsert {
                    format = try await Self.insertDirectly(batch, p, into: qualified, on: conn, pool: pool)
                    inserted = format != nil
                }
                if hasRows, !inserted {
                    _ = try await pool.rows(PostgresQuery(unsafeSQL: p.createStaging), on: conn)
                    format = try await Self.copy(
                        batch, p, into: PostgresSQL.quote(p.staging), ordinal: true, on: conn, logger: logger, messages: pool.messages)
                    _ = try await pool.rows(PostgresQuery(unsafeSQL: distinct ? p.mergeDistinct : p.merge), on: conn)
                }
                if let commit, let checkpoints {
                    for entry in commit.entries { try await checkpoints.write(entry.checkpoint, pipeline: entry.key, on: conn) }
                }
                return (inserted, format)
            }
            guard hasRows, let (inserted, format) = outcome else { return }
            if tryInsert, !inserted {
                upsertBatchesLeft.withLock { $0 = Self.upsertBatchesAfterConflict }
                pool.messages.debug(
                    "a key of the batch exists: upserting the next batches",
                    metadata: ["runnel.table": "\(shown)", "runnel.batches": "\(Self.upsertBatchesAfterConflict)"])
            }
            pathCounts.withLock { if inserted { $0.inserted += 1 } else { $0.upserted += 1 } }
            copyFormats.withLock { if format == .binary { $0.binary += 1 } else { $0.text += 1 } }
        }
        return .stored
    }

    /// COPYs the batch straight into the table under a savepoint: the format it went in, or nil
    /// (and nothing written) when a key already exists.
    static func insertDirectly(
        _ batch: Batch, _ p: Prepared, into qualified: String, on conn: PostgresConnection, pool: PostgresPool
    ) async throws -> PostgresConnection.CopyFormat? {
        _ = try await pool.rows("SAVEPOINT runnel_insert", on: conn)
        do {
            let format = try await copy(batch, p, into: qualified, ordinal: false, on: conn, logger: pool.logger, messages: pool.messages)
            _ = try await pool.rows("RELEASE SAVEPOINT runnel_insert", on: conn)
            return format
        } catch let e as PSQLError where e.serverInfo?[.sqlState] == "23505" {
            // unique_violation: some key is in the table already.
            _ = try await pool.rows("ROLLBACK TO SAVEPOINT runnel_insert", on: conn)
            return nil
        }
    }

    /// The batch as COPY text (with `ordinal`, the record's ordinal in the batch first, for the
    /// staging table; then the columns in order), handed to `send` in chunks of about 256 KiB.
    static func writeCopyText(
        _ batch: Batch, columns: [String], ordinal: Bool = true, chunk: Int = 1 << 18, send: ([UInt8]) async throws -> Void
    ) async throws {
        if let data = batch.columnar {
            let positions = columns.map { batch.schema.index(of: $0) }
            try await CopyTextColumns.write(data, positions: positions, ordinal: ordinal, chunk: chunk, send: send)
            return
        }
        try await writeCopyText(batch.records, schema: batch.schema, columns: columns, ordinal: ordinal, chunk: chunk, send: send)
    }

    /// `records` (of a batch with `schema`) as COPY text, as above; the ordinal is the position in `records`.
    static func writeCopyText(
        _ records: [Record], schema: Schema, columns: [String], ordinal: Bool = true, chunk: Int = 1 << 18,
        send: ([UInt8]) async throws -> Void
    ) async throws {
        let positions = columns.map { schema.index(of: $0) }
        var w = CopyTextWriter(capacity: chunk + (1 << 12))
        for (n, r) in records.enumerated() {
            if ordinal { w.writeInt(Int64(n)) }
            for (i, p) in positions.enumerated() {
                if ordinal || i > 0 { w.fieldSeparator() }
                if let p, p < r.values.count { w.write(r.values[p]) } else { w.write(.null) }
            }
            w.endRow()
            if w.bytes.count >= chunk {
                try await send(w.bytes)
                w.removeAll()
            }
        }
        if !w.bytes.isEmpty { try await send(w.bytes) }
    }

    /// True when no key occurs twice in the batch, so the merge needs no `DISTINCT ON`.
    static func keysAreDistinct(_ batch: Batch, columns: [String], keyPositions: [Int]) -> Bool {
        let positions = keyPositions.map { batch.schema.index(of: columns[$0]) }
        if let data = batch.columnar { return keysAreDistinct(data, positions: positions) }
        var seen = Set<[Value]>(minimumCapacity: batch.records.count)
        if positions.count == 1, let p = positions[0] {
            var single = Set<Value>(minimumCapacity: batch.records.count)
            for r in batch.records where !single.insert(p < r.values.count ? r.values[p] : .null).inserted { return false }
            return true
        }
        for r in batch.records {
            let key = positions.map { p in p.flatMap { $0 < r.values.count ? r.values[$0] : nil } ?? .null }
            if !seen.insert(key).inserted { return false }
        }
        return true
    }

    /// The same over a columnar batch's key columns: an integer key by its values, a text key by
    /// its bytes, other keys by value.
    static func keysAreDistinct(_ data: BatchColumns, positions: [Int?]) -> Bool {
        let columns = positions.map { $0.map { data.columns[$0] } }
        if columns.count == 1, let key = columns[0], !key.hasNulls {
            switch key.kind {
            case .int:
                var seen = Set<Int64>(minimumCapacity: data.selection.count)
                for row in data.selection where !seen.insert(key.fixed[row]).inserted { return false }
                return true
            case .string:
                var seen = Set<ArraySlice<UInt8>>(minimumCapacity: data.selection.count)
                for row in data.selection where !seen.insert(key.bytes[key.offsets[row]..<key.offsets[row + 1]]).inserted {
                    return false
                }
                return true
            default: break
            }
        }
        var seen = Set<[Value]>(minimumCapacity: data.selection.count)
        for row in data.selection where !seen.insert(columns.map { $0?.value(row) ?? .null }).inserted { return false }
        return true
    }
}
