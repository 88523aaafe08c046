public import RunnelCore

/// The contract of a keyed loader applying changes (`ChangeHandling`), the same for every store:
/// deletes, truncates and unchanged columns under the version guard, in any arrival order.
///
/// The loader's table is `id`, `note`, `v` with key `id` and version `v`; the records carry
/// `_op` and `_unchanged`. `readTarget` returns `[id, note, v]` of the live rows ordered by id.
public enum ChangeConformance {
    public static let schema = Schema(["id", "note", "v", "_op", "_unchanged"])

    static func batch(_ rows: [[Value]]) -> Batch {
        Batch(schema: schema, rows: rows, origins: rows.indices.map { Origin(source: "changes", line: $0 + 1) })
    }

    /// Loads `batches` in order; a refused record fails the suite (every change here is valid).
    static func load(_ loader: any Loader, _ batches: some Sequence<Batch>) async throws {
        for b in batches {
            let outcome = try await loader.load(b, commit: nil)
            try require(outcome.refused.isEmpty, "a valid change was refused: \(outcome.refused.map(\.error.message))")
        }
    }

    static func change(_ op: String, _ id: Value, _ note: Value = nil, _ v: Int64, unchanged: [String] = []) -> [Value] {
        [id, note, .int(v), .string(op), unchanged.isEmpty ? .null : .array(unchanged.map(Value.string))]
    }

    /// Hard deletes: a delete removes the row and an older insert arriving after it (a snapshot
    /// behind the stream) does not bring it back; a delete and a re-insert in one transaction
    /// (one version) end with the row; unchanged columns keep the target's values; a truncate
    /// removes what is not newer and keeps out what is older; an unknown operation is refused;
    /// and loading every batch again from the start (a replay after a crash) ends the same.
    public static func appliesDeletesTruncatesAndUnchangedColumns(
        _ loader: any Loader, readTarget: () async throws -> [[Value]]
    ) async throws {
        try await loader.prepare(schema: schema)
        let batches: [Batch] = [
            batch([change("insert", 1, "a", 10), change("insert", 2, "b", 10), change("insert", 3, "c", 10)]),
            batch([change("update", 1, "a2", 20), change("delete", 2, nil, 30)]),
            // A snapshot's rows, older than the stream's changes above.
            batch([change("insert", 2, "b-old", 15), change("insert", 1, "a-old", 15)]),
            // One transaction: insert, delete, insert again, all at version 40.
            batch([change("insert", 4, "d", 40), change("delete", 4, nil, 40), change("insert", 4, "d2", 40)]),
            batch([change("insert", 5, "big", 50), change("update", 5, nil, 60, unchanged: ["note"])]),
            batch([change("update", 3, nil, 70, unchanged: ["note"])]),
        ]
        try await load(loader, batches)
        let expected: [[Value]] = [[1, "a2", 20], [3, "c", 70], [4, "d2", 40], [5, "big", 60]]
        var rows = try await readTarget()
        try require(rows == expected, "after deletes and unchanged columns the target holds \(rows), expected \(expected)")

        let bogus = try await loader.load(batch([change("merge", 9, "x", 80)]), commit: nil)
        try require(
            bogus.refused.map(\.error.code) == ["unknown_operation"],
            "an unknown operation gave \(bogus.refused.map(\.error.code)), expected one unknown_operation refusal")

        var tail: [Batch] = [
            batch([[nil, nil, 65, "truncate", nil]]),
            batch([change("insert", 6, "old", 64), change("insert", 7, "new", 66)]),
            // Updates that leave `note` unchanged, of rows the target does not have yet.
            batch([change("update", 8, nil, 90, unchanged: ["note"]), change("update", 9, nil, 95, unchanged: ["note"])]),
        ]
        try await load(loader, tail)
        rows = try await readTarget()
        try require(
            rows == [[3, "c", 70], [7, "new", 66], [8, nil, 90], [9, nil, 95]],
            "updates of missing rows gave \(rows): they are written with the unchanged column empty")
        // The snapshot's older full rows fill the unchanged column and nothing else; a newer
        // write that sets the column first leaves nothing for the snapshot to fill.
        tail += [
            batch([change("update", 9, "newer", 96)]),
            batch([change("snapshot", 8, "from snapshot", 85), change("snapshot", 9, "from snapshot", 85)]),
        ]
        try await load(loader, tail.suffix(2))
        let final: [[Value]] = [[3, "c", 70], [7, "new", 66], [8, "from snapshot", 90], [9, "newer", 96]]
        rows = try await readTarget()
        try require(rows == final, "after a truncate at 65 the target holds \(rows), expected \(final)")

        try await load(loader, batches + tail)
        rows = try await readTarget()
        try require(rows == final, "replaying every batch changed the target to \(rows), expected \(final)")
        try await loader.finish()
    }

    /// Soft deletes: the row stays with its delete marker and the delete's version, so it guards
    /// itself; a newer insert brings it back unmarked. `readDeleted` returns the ids of the rows
    /// whose soft-delete column is set, ordered.
    public static func softDeletesKeepTheRowAsItsOwnTombstone(
        _ loader: any Loader, readTarget: () async throws -> [[Value]], readDeleted: () async throws -> [Int64]
    ) async throws {
        try await loader.prepare(schema: schema)
        try await load(loader, [batch([change("insert", 1, "a", 10), change("insert", 2, "b", 10)])])
        try await load(loader, [batch([change("delete", 2, nil, 20), change("delete", 3, nil, 20)])])
        var deleted = try await readDeleted()
        try require(deleted == [2, 3], "soft deletes marked \(deleted), expected [2, 3]")
        try await load(loader, [batch([change("insert", 2, "b-old", 15), change("insert", 3, "c-old", 5)])])
        let rows = try await readTarget()
        try require(
            rows == [[1, "a", 10], [2, "b", 20], [3, nil, 20]],
            "older inserts after soft deletes gave \(rows): the marked rows must keep the delete's version")
        try await load(loader, [batch([change("insert", 2, "b3", 30)])])
        deleted = try await readDeleted()
        try require(deleted == [3], "a newer insert did not unmark the row: \(deleted)")
        try await load(loader, [batch([[nil, nil, 40, "truncate", nil]])])
        deleted = try await readDeleted()
        try require(deleted == [1, 2, 3], "a soft truncate marked \(deleted)")
        try await loader.finish()
    }

    /// `schema_drift`: a field the table has no column for (a column added to the source) is
    /// added (`evolve`), stops the load (`freeze`: exit 3, nothing written), or parks the records
    /// that carry a value in it (`dead_letter`). `make` returns a loader on its own table for
    /// each policy; `readTarget` returns `[id, note, v]`, and for `evolve` `[id, note, v, email]`.
    public static func followsTheSchemaDriftPolicy(
        _ make: (SchemaDrift) async throws -> any Loader, readTarget: (SchemaDrift) async throws -> [[Value]]
    ) async throws {
        let wider = Schema(schema.fields + ["email"])
        let rows: [[Value]] = [change("insert", 1, "a", 10) + ["a@example.com"], change("insert", 2, "b", 10) + [nil]]
        let drifted = Batch(schema: wider, rows: rows, origins: rows.indices.map { Origin(source: "changes", line: $0 + 1) })
        for policy in SchemaDrift.allCases {
            let loader = try await make(policy)
            try await loader.prepare(schema: schema)
            try await load(loader, [batch([change("insert", 3, "c", 5)])])
            switch policy {
            case .evolve:
                try await load(loader, [drifted])
                let got = try await readTarget(policy)
                let want: [[Value]] = [[1, "a", 10, "a@example.com"], [2, "b", 10, nil], [3, "c", 5, nil]]
                try require(got == want, "schema_drift: evolve gave \(got), expected \(want)")
            case .freeze:
                do {
                    _ = try await loader.load(drifted, commit: nil)
                    throw ConformanceFailure("schema_drift: freeze loaded a record with a new field")
                } catch let error as RunnelError {
                    try require(
                        error.code == .dataContract && error.message.contains("'email'"),
                        "schema_drift: freeze failed with \(error), expected a data-contract error naming 'email'")
                }
                let got = try await readTarget(policy)
                try require(got == [[3, "c", 5]], "schema_drift: freeze wrote \(got)")
            case .deadLetter:
                let outcome = try await loader.load(drifted, commit: nil)
                try require(
                    outcome.refused.map(\.ordinal) == [0] && outcome.refused.map(\.error.code) == ["schema_drift"],
                    "schema_drift: dead_letter refused \(outcome.refused.map { ($0.ordinal, $0.error.code) })")
                let got = try await readTarget(policy)
                try require(got == [[2, "b", 10], [3, "c", 5]], "schema_drift: dead_letter wrote \(got)")
            }
            try await loader.finish()
        }
    }
}
