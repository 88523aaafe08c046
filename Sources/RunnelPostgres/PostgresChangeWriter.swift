import PostgresNIO
import RunnelCore

/// The PostgreSQL loader's change path (`ChangeHandling`). The batch is COPied into the staging
/// table once; then each run of consecutive records with the same operation (`ChangeRuns`) is
/// one set-based statement over its slice of the staging table, the runs in order:
///
/// - upsert: the merge of the plain path, minus rows older than their key's tombstone or the
///   table's last truncate, and minus the update's unchanged columns;
/// - hard delete: the tombstone (`t__tombstones`: key, `runnel_version`, `runnel_deleted_at`)
///   is written first, then the rows not newer than the delete are removed;
/// - soft delete: the row is upserted with its version and `soft_delete_column` set;
/// - truncate: the rows not newer than it are removed (or marked), and its version becomes the
///   table's watermark (`t__truncated`).
///
/// Two loaders can write one table at once (the stream and the shards of a snapshot). Under READ
/// COMMITTED an upsert's "no newer tombstone" check and a concurrent delete could each miss the
/// other's uncommitted write and a deleted row would come back. So every change batch first
/// locks the watermark table: SHARE for upserts only (they run side by side), SHARE ROW
/// EXCLUSIVE for a batch with a delete or truncate (it waits for the upserts in flight and
/// they wait for it). A lock taken first, one per transaction, cannot deadlock; the statements
/// after it see what the other transaction committed.
extension PostgresLoader {
    /// The side tables' names: beside the target, hashed when the name would pass 63 bytes.
    func sideTable(_ suffix: String) -> String {
        let name = configuration.table + "__" + suffix
        let bare = name.utf8.count <= 63 ? name : "runnel_\(suffix)_" + PostgresSQL.hash(configuration.table)
        return PostgresSQL.qualified(schema: configuration.schema, table: bare)
    }

    var tombstones: String { sideTable("tombstones") }
    var watermark: String { sideTable("truncated") }

    /// Creates the side tables (typed as the key and version columns) and purges old tombstones.
    func prepareChanges(_ changes: ChangeHandling, on conn: PostgresConnection) async throws {
        guard let version = configuration.version else { return }
        let q = PostgresSQL.quote
        let keys = configuration.key.map(q).joined(separator: ", ")
        var tables = [(watermark, "SELECT true AS runnel_only, \(q(version)) AS runnel_version", "runnel_only")]
        if changes.deletes == .hard {
            tables.append((tombstones, "SELECT \(keys), \(q(version)) AS runnel_version, now() AS runnel_deleted_at", keys))
        }
        for (name, select, primaryKey) in tables {
            let ddl = """
                DO $runnel$ BEGIN IF to_regclass(\(PostgresSQL.literal(name))) IS NULL THEN
                CREATE TABLE \(name) AS \(select) FROM \(qualified) WITH NO DATA;
                ALTER TABLE \(name) ADD PRIMARY KEY (\(primaryKey));
                END IF; END $runnel$
                """
            do {
                _ = try await pool.rows(PostgresQuery(unsafeSQL: ddl), on: conn)
            } catch let e as PSQLError where ["23505", "42P07", "42P16"].contains(e.serverInfo?[.sqlState] ?? "") {
                // another run created it at the same instant
            }
        }
        if changes.deletes == .hard {
            let seconds = changes.tombstoneRetention.components.seconds
            _ = try await pool.rows(
                PostgresQuery(
                    unsafeSQL: "DELETE FROM \(tombstones) WHERE runnel_deleted_at < now() - interval '\(seconds) seconds'"),
                on: conn)
        }
    }

    /// Loads a batch of changes in one transaction (see the type's comment).
    func loadChanges(
        _ batch: Batch, changes: ChangeHandling, prepared p: Prepared, commit: CheckpointCommit?,
        refused: [(ordinal: Int, error: RecordError)]
    ) async throws -> LoadOutcome {
        let runs = ChangeRuns(batch, handling: changes, refused: refused)
        if case .fail = changes.truncate, runs.runs.contains(where: { $0.operation == .truncate }) {
            throw RunnelError.dataContract(
                "the source truncated the table written to \(target) (load.truncate: fail); "
                    + "set truncate: apply to empty it too, or ignore to keep its rows")
        }
        let statements = runs.runs.flatMap { changeStatements($0, changes: changes, p) }
        let lock =
            configuration.version == nil
            ? nil : "LOCK TABLE \(watermark) IN \(runs.hasDeletesOrTruncates ? "SHARE ROW EXCLUSIVE" : "SHARE") MODE"
        let records = runs.records
        let schema = batch.schema
        let pool = self.pool
        let logger = pool.logger
        let checkpoints = commit.map { _ in self.checkpoints }
        try await pool.withConnection("load changes into \(displayName)") { conn in
            if let checkpoints { try await checkpoints.ensureTable(conn) }
            try await conn.withTransaction(logger: logger) { conn in
                if let commit, let checkpoints, try await checkpoints.verify(commit, on: conn) == .alreadyStored { return }
                if let lock { _ = try await pool.rows(PostgresQuery(unsafeSQL: lock), on: conn) }
                if !records.isEmpty {
                    _ = try await pool.rows(PostgresQuery(unsafeSQL: p.createStaging), on: conn)
                    try await conn.copy(into: PostgresSQL.quote(p.staging), columns: p.stagingColumns, format: .text, logger: logger) { send in
                        try await Self.writeCopyText(records, schema: schema, columns: p.columns, send: send)
                    }
                }
                for sql in statements { _ = try await pool.rows(PostgresQuery(unsafeSQL: sql), on: conn) }
                if let commit, let checkpoints {
                    for entry in commit.entries { try await checkpoints.write(entry.checkpoint, pipeline: entry.key, on: conn) }
                }
            }
        }
        return LoadOutcome(refused: runs.refused)
    }

    /// The statements of one run, over the staging rows `runnel_ord` in its range.
    func changeStatements(_ run: ChangeRuns.Run, changes: ChangeHandling, _ p: Prepared) -> [String] {
        let q = PostgresSQL.quote
        let c = configuration
        let stage = Dictionary(uniqueKeysWithValues: p.columns.enumerated().map { ($1, "s.c\($0)") })
        let slice = "s.runnel_ord BETWEEN \(run.records.lowerBound) AND \(run.records.upperBound - 1)"
        let keyStage = c.key.map { stage[$0]! }
        let versionStage = c.version.map { stage[$0]! }
        // The newest record per key in the run; among equal versions the last one read.
        let newest =
            "ORDER BY \(keyStage.joined(separator: ", "))"
            + (versionStage.map { ", \($0) DESC NULLS LAST" } ?? "") + ", s.runnel_ord DESC"
        let distinct = "DISTINCT ON (\(keyStage.joined(separator: ", ")))"
        let conflict = c.key.map(q).joined(separator: ", ")
        let guardClause = c.version.map(q).map { v in " WHERE t.\(v) IS NULL OR excluded.\(v) >= t.\(v)" } ?? ""
        switch run.operation {
        case .upsert(let unchanged):
            var conditions = [slice]
            if let versionStage {
                if changes.deletes == .hard {
                    let match = c.key.map { "d.\(q($0)) = \(stage[$0]!)" }.joined(separator: " AND ")
                    conditions.append(
                        "NOT EXISTS (SELECT 1 FROM \(tombstones) d WHERE \(match) AND d.runnel_version > \(versionStage))")
                }
                conditions.append("NOT EXISTS (SELECT 1 FROM \(watermark) w WHERE w.runnel_version > \(versionStage))")
            }
            let pending = ChangeHandling.pendingColumn
            // Newer (or equal): the record wins. Older: only a full record, only for the pending
            // columns (see `ChangeHandling.pendingColumn`).
            let newer = c.version.map(q).map { v in "(t.\(v) IS NULL OR excluded.\(v) >= t.\(v))" } ?? "true"
            let listed = { (name: String) in "strpos(t.\(q(pending)), \(PostgresSQL.literal("," + name + ","))) > 0" }
            var sets: [String] = []
            for name in p.columns where !c.key.contains(name) && !unchanged.contains(name) && name != pending {
                let fills = unchanged.isEmpty ? " OR \(listed(name))" : ""
                sets.append("\(q(name)) = CASE WHEN \(newer)\(fills) THEN excluded.\(q(name)) ELSE t.\(q(name)) END")
            }
            if unchanged.isEmpty {
                sets.append("\(q(pending)) = NULL")
            } else {
                let kept = unchanged.sorted().map {
                    "coalesce(CASE WHEN \(listed($0)) THEN \(PostgresSQL.literal($0 + ",")) END, '')"
                }
                sets.append(
                    "\(q(pending)) = CASE WHEN \(newer) THEN nullif(',' || \(kept.joined(separator: " || ")), ',') "
                        + "ELSE t.\(q(pending)) END")
            }
            let condition = unchanged.isEmpty ? "\(newer) OR t.\(q(pending)) IS NOT NULL" : newer
            let selected = p.columns.map { name in
                name != pending
                    ? stage[name]!
                    : unchanged.isEmpty ? "NULL::text" : PostgresSQL.literal(ChangeHandling.pendingList(unchanged)) + "::text"
            }
            return [
                "INSERT INTO \(qualified) AS t (\(p.columns.map(q).joined(separator: ", "))) SELECT \(distinct) "
                    + selected.joined(separator: ", ")
                    + " FROM \(p.staging) s WHERE \(conditions.joined(separator: " AND ")) \(newest) "
                    + "ON CONFLICT (\(conflict)) DO UPDATE SET \(sets.joined(separator: ", ")) WHERE \(condition)"
            ]
        case .delete:
            let match = c.key.map { "t.\(q($0)) = \(stage[$0]!)" }.joined(separator: " AND ")
            switch changes.deletes {
            case .hard:
                guard let version = c.version.map(q), let versionStage else {
                    return ["DELETE FROM \(qualified) t USING \(p.staging) s WHERE \(slice) AND \(match)"]
                }
                return [
                    "INSERT INTO \(tombstones) AS d (\(conflict), runnel_version, runnel_deleted_at) SELECT \(distinct) "
                        + keyStage.joined(separator: ", ") + ", \(versionStage), now() FROM \(p.staging) s WHERE \(slice) "
                        + "\(newest) ON CONFLICT (\(conflict)) DO UPDATE SET runnel_version = excluded.runnel_version, "
                        + "runnel_deleted_at = excluded.runnel_deleted_at "
                        + "WHERE d.runnel_version IS NULL OR excluded.runnel_version >= d.runnel_version",
                    "DELETE FROM \(qualified) t USING \(p.staging) s WHERE \(slice) AND \(match) "
                        + "AND (t.\(version) IS NULL OR t.\(version) <= \(versionStage))",
                ]
            case .soft:
                let soft = q(changes.softDeleteColumn)
                var names = c.key.map(q)
                var values = keyStage
                var sets = ["\(soft) = coalesce(t.\(soft), excluded.\(soft))"]
                if let version = c.version.map(q), let versionStage {
                    names.append(version)
                    values.append(versionStage)
                    sets.append("\(version) = excluded.\(version)")
                }
                return [
                    "INSERT INTO \(qualified) AS t (\((names + [soft]).joined(separator: ", "))) SELECT \(distinct) "
                        + (values + ["now()"]).joined(separator: ", ") + " FROM \(p.staging) s WHERE \(slice) \(newest) "
                        + "ON CONFLICT (\(conflict)) DO UPDATE SET \(sets.joined(separator: ", "))\(guardClause)"
                ]
            }
        case .truncate:
            guard changes.truncate == .apply else { return [] }
            // The run's newest truncate covers the others.
            let version = c.version.map(q)
            let truncateVersion = versionStage.map { v in
                "(SELECT max(\(v)) FROM \(p.staging) s WHERE \(slice))"
            }
            let notNewer = version.flatMap { v in truncateVersion.map { " WHERE t.\(v) IS NULL OR t.\(v) <= \($0)" } } ?? ""
            var statements: [String]
            switch changes.deletes {
            case .hard:
                statements = ["DELETE FROM \(qualified) t\(notNewer)"]
            case .soft:
                let soft = q(changes.softDeleteColumn)
                let setVersion = version.flatMap { v in truncateVersion.map { ", \(v) = \($0)" } } ?? ""
                statements = ["UPDATE \(qualified) t SET \(soft) = coalesce(t.\(soft), now())\(setVersion)\(notNewer)"]
            }
            guard let truncateVersion else { return statements }
            if changes.deletes == .hard {
                statements.append("DELETE FROM \(tombstones) WHERE runnel_version <= \(truncateVersion)")
            }
            statements.append(
                "INSERT INTO \(watermark) AS w (runnel_only, runnel_version) SELECT true, \(truncateVersion) "
                    + "ON CONFLICT (runnel_only) DO UPDATE SET runnel_version = excluded.runnel_version "
                    + "WHERE w.runnel_version IS NULL OR excluded.runnel_version > w.runnel_version")
            return statements
        }
    }
}
