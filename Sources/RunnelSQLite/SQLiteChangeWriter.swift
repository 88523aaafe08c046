import RunnelCore

/// The SQLite loader's change path (`ChangeHandling`): upserts, deletes and truncates applied one
/// record at a time, in order, in the batch's transaction.
///
/// Beside the table `t` (with a version field):
/// - `t__tombstones` (the key columns, `runnel_version`, `runnel_deleted_at` in Unix seconds)
///   holds a hard delete's version: an upsert older than the tombstone is not written. Purged
///   after `tombstone_retention`.
/// - `t__truncated` holds the version of the newest truncate: an upsert older than it is not
///   written.
///
/// SQLite has one writer at a time (`BEGIN IMMEDIATE`), so the checks and the writes of one
/// batch see every other loader's committed work: a stream and a snapshot writing the same
/// file cannot interleave inside a batch.
extension SQLiteLoader {
    var tombstoneTable: String { configuration.table + "__tombstones" }
    var truncatedTable: String { configuration.table + "__truncated" }

    /// Creates the side tables the version guard needs and purges old tombstones.
    func prepareChanges(_ c: SQLiteConnection, _ changes: ChangeHandling) throws {
        guard configuration.version != nil else { return }
        let q = SQLiteText.quote
        if changes.deletes == .hard {
            let keys = configuration.key.map(q).joined(separator: ", ")
            try c.execute(
                "CREATE TABLE IF NOT EXISTS \(q(tombstoneTable)) (\(keys), runnel_version, runnel_deleted_at INTEGER, "
                    + "PRIMARY KEY (\(keys)))")
            try purgeTombstones(c, changes)
        }
        try c.execute(
            "CREATE TABLE IF NOT EXISTS \(q(truncatedTable)) (id INTEGER PRIMARY KEY CHECK (id = 1), runnel_version)")
    }

    func purgeTombstones(_ c: SQLiteConnection, _ changes: ChangeHandling) throws {
        let seconds = changes.tombstoneRetention.components.seconds
        _ = try c.query(
            "DELETE FROM \(SQLiteText.quote(tombstoneTable)) WHERE runnel_deleted_at < CAST(strftime('%s', 'now') AS INTEGER) - ?",
            [.int(seconds)])
        lastPurge.withLock { $0 = .now }
    }

    func loadChanges(
        _ batch: Batch, changes: ChangeHandling, columns: [String], commit: CheckpointCommit?,
        refused: [(ordinal: Int, error: RecordError)]
    ) throws -> LoadOutcome {
        let runs = ChangeRuns(batch, handling: changes, refused: refused)
        let positions = columns.map { batch.schema.index(of: $0) }
        let keyPositions = configuration.key.map { batch.schema.index(of: $0) }
        let versionPosition = configuration.version.map { batch.schema.index(of: $0) }
        let purgeDue = configuration.version != nil && changes.deletes == .hard
            && lastPurge.withLock { $0.map { ContinuousClock.now - $0 > .seconds(3_600) } ?? true }
        try database.transaction { c in
            if let commit, try SQLiteCheckpointStore.verify(commit, in: c) == .alreadyStored { return }
            for run in runs.runs {
                let records = runs.records[run.records]
                switch run.operation {
                case .upsert(let unchanged):
                    let s = try c.statement(changeUpsertSQL(columns, unchanged: Set(unchanged), changes: changes))
                    for r in records {
                        try s.bindAndStep(r.values, positions: positions)
                        s.reset()
                    }
                case .delete:
                    let s = try c.statement(deleteSQL(changes))
                    let tombstone =
                        configuration.version != nil && changes.deletes == .hard ? try c.statement(tombstoneSQL()) : nil
                    let bound = keyPositions + (versionPosition.map { [$0] } ?? [])
                    for r in records {
                        try s.bindAndStep(r.values, positions: bound)
                        s.reset()
                        if let tombstone {
                            try tombstone.bindAndStep(r.values, positions: bound)
                            tombstone.reset()
                        }
                    }
                case .truncate:
                    switch changes.truncate {
                    case .ignore: continue
                    case .fail:
                        throw RunnelError.dataContract(
                            "the source truncated the table written to \(target) (load.truncate: fail); "
                                + "set truncate: apply to empty it too, or ignore to keep its rows")
                    case .apply:
                        for r in records {
                            for sql in truncateSQL(changes) {
                                let s = try c.statement(sql)
                                try s.bindAndStep(r.values, positions: versionPosition.map { [$0] } ?? [])
                                s.reset()
                            }
                        }
                    }
                }
            }
            if purgeDue { try purgeTombstones(c, changes) }
            for entry in commit?.entries ?? [] { try SQLiteCheckpointStore.write(entry.checkpoint, pipeline: entry.key, in: c) }
        }
        return LoadOutcome(refused: runs.refused)
    }

    /// The upsert of the change path: parameters `?1…?n` are the columns; a record older than
    /// the key's tombstone or the table's last truncate is not written; `unchanged` columns keep
    /// the row's values, and when there is no row yet they are written NULL and listed in the
    /// pending column, which an older full row fills (see `ChangeHandling.pendingColumn`).
    func changeUpsertSQL(_ columns: [String], unchanged: Set<String>, changes: ChangeHandling) -> String {
        let q = SQLiteText.quote
        let t = q(configuration.table)
        let pending = ChangeHandling.pendingColumn
        let parameter = { (name: String) in "?\(columns.firstIndex(of: name)! + 1)" }
        let values = columns.enumerated().map { i, name in
            name != pending ? "?\(i + 1)" : unchanged.isEmpty ? "NULL" : SQLiteText.literal(ChangeHandling.pendingList(unchanged))
        }
        var sql = "INSERT INTO \(t) (\(columns.map(q).joined(separator: ", "))) SELECT \(values.joined(separator: ", ")) WHERE true"
        if let v = configuration.version {
            let version = SQLiteText.sortable(parameter(v))
            if changes.deletes == .hard {
                let keyMatch = configuration.key.map { "d.\(q($0)) IS \(parameter($0))" }.joined(separator: " AND ")
                sql += " AND NOT EXISTS (SELECT 1 FROM \(q(tombstoneTable)) d WHERE \(keyMatch) AND "
                    + "\(SQLiteText.sortable("d.runnel_version")) > \(version))"
            }
            sql += " AND NOT EXISTS (SELECT 1 FROM \(q(truncatedTable)) w WHERE "
                + "\(SQLiteText.sortable("w.runnel_version")) > \(version))"
        }
        let key = configuration.key.map(q).joined(separator: ", ")
        // Newer (or equal): the record wins. Older: only a full record, only for the pending columns.
        let newer = configuration.version.map(q).map { v in
            "(\(t).\(v) IS NULL OR \(SQLiteText.sortable("excluded.\(v)")) >= \(SQLiteText.sortable("\(t).\(v)")))"
        } ?? "1"
        let listed = { (name: String) in "instr(\(t).\(q(pending)), \(SQLiteText.literal("," + name + ","))) > 0" }
        var sets: [String] = []
        for name in columns where !configuration.key.contains(name) && !unchanged.contains(name) && name != pending {
            let c = q(name)
            let fills = unchanged.isEmpty ? " OR \(listed(name))" : ""
            sets.append("\(c) = CASE WHEN \(newer)\(fills) THEN excluded.\(c) ELSE \(t).\(c) END")
        }
        if unchanged.isEmpty {
            sets.append("\(q(pending)) = NULL")
        } else {
            // What stays unknown: the listed columns this update leaves unchanged.
            let kept = unchanged.sorted().map { "coalesce(CASE WHEN \(listed($0)) THEN \(SQLiteText.literal($0 + ",")) END, '')" }
            sets.append(
                "\(q(pending)) = CASE WHEN \(newer) THEN nullif(',' || \(kept.joined(separator: " || ")), ',') "
                    + "ELSE \(t).\(q(pending)) END")
        }
        let condition = unchanged.isEmpty ? "\(newer) OR \(t).\(q(pending)) IS NOT NULL" : newer
        return sql + " ON CONFLICT (\(key)) DO UPDATE SET \(sets.joined(separator: ", ")) WHERE \(condition)"
    }

    /// ` WHERE t.version IS NULL OR new.version >= t.version`, or nothing without a version.
    private func guardClause(_ new: String) -> String {
        guard let v = configuration.version.map(SQLiteText.quote) else { return "" }
        let t = SQLiteText.quote(configuration.table)
        return " WHERE \(t).\(v) IS NULL OR \(SQLiteText.sortable("\(new).\(v)")) >= \(SQLiteText.sortable("\(t).\(v)"))"
    }

    /// A delete: parameters are the key fields, then the version. A hard delete removes the row
    /// when it is not newer; a soft one marks it (or writes a marked row: its tombstone).
    func deleteSQL(_ changes: ChangeHandling) -> String {
        let q = SQLiteText.quote
        let t = q(configuration.table)
        let keys = configuration.key
        let match = keys.enumerated().map { "\(q($1)) IS ?\($0 + 1)" }.joined(separator: " AND ")
        let versionParameter = "?\(keys.count + 1)"
        switch changes.deletes {
        case .hard:
            guard let v = configuration.version.map(q) else { return "DELETE FROM \(t) WHERE \(match)" }
            return "DELETE FROM \(t) WHERE \(match) AND (\(v) IS NULL OR "
                + "\(SQLiteText.sortable(v)) <= \(SQLiteText.sortable(versionParameter)))"
        case .soft:
            let soft = q(changes.softDeleteColumn)
            var names = keys.map(q)
            var values = keys.indices.map { "?\($0 + 1)" }
            var sets = ["\(soft) = coalesce(\(t).\(soft), excluded.\(soft))"]
            if let v = configuration.version.map(q) {
                names.append(v)
                values.append(versionParameter)
                sets.append("\(v) = excluded.\(v)")
            }
            names.append(soft)
            values.append(Self.now)
            return "INSERT INTO \(t) (\(names.joined(separator: ", "))) VALUES (\(values.joined(separator: ", "))) "
                + "ON CONFLICT (\(keys.map(q).joined(separator: ", "))) DO UPDATE SET \(sets.joined(separator: ", "))"
                + guardClause("excluded")
        }
    }

    /// Keeps a hard delete's version: parameters are the key fields, then the version.
    func tombstoneSQL() -> String {
        let q = SQLiteText.quote
        let d = q(tombstoneTable)
        let keys = configuration.key
        return "INSERT INTO \(d) (\(keys.map(q).joined(separator: ", ")), runnel_version, runnel_deleted_at) VALUES ("
            + (keys.indices.map { "?\($0 + 1)" } + ["?\(keys.count + 1)", "CAST(strftime('%s', 'now') AS INTEGER)"])
            .joined(separator: ", ")
            + ") ON CONFLICT (\(keys.map(q).joined(separator: ", "))) DO UPDATE SET runnel_version = excluded.runnel_version, "
            + "runnel_deleted_at = excluded.runnel_deleted_at WHERE \(d).runnel_version IS NULL OR "
            + "\(SQLiteText.sortable("excluded.runnel_version")) >= \(SQLiteText.sortable("\(d).runnel_version"))"
    }

    /// A truncate's statements; the parameter `?1` is its version. Rows newer than it stay.
    func truncateSQL(_ changes: ChangeHandling) -> [String] {
        let q = SQLiteText.quote
        let t = q(configuration.table)
        let notNewer = configuration.version.map(q).map { v in
            " WHERE \(v) IS NULL OR \(SQLiteText.sortable(v)) <= \(SQLiteText.sortable("?1"))"
        } ?? ""
        var statements: [String]
        switch changes.deletes {
        case .hard:
            statements = ["DELETE FROM \(t)\(notNewer)"]
        case .soft:
            let soft = q(changes.softDeleteColumn)
            let version = configuration.version.map { ", \(q($0)) = ?1" } ?? ""
            statements = ["UPDATE \(t) SET \(soft) = coalesce(\(soft), \(Self.now))\(version)\(notNewer)"]
        }
        guard configuration.version != nil else { return statements }
        if changes.deletes == .hard {
            statements.append(
                "DELETE FROM \(q(tombstoneTable)) WHERE \(SQLiteText.sortable("runnel_version")) <= \(SQLiteText.sortable("?1"))")
        }
        let w = q(truncatedTable)
        statements.append(
            "INSERT INTO \(w) (id, runnel_version) VALUES (1, ?1) ON CONFLICT (id) DO UPDATE SET runnel_version = "
                + "excluded.runnel_version WHERE \(SQLiteText.sortable("excluded.runnel_version")) > "
                + "\(SQLiteText.sortable("\(w).runnel_version"))")
        return statements
    }

    /// The time of a soft delete, as the loader writes timestamps (ISO 8601, UTC).
    static let now = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"
}
