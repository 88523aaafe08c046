/// How a keyed loader applies records that describe changes (change data capture) rather than
/// rows: each record names its operation in a field, deletes remove rows, a truncate empties the
/// table, and an update may leave columns as they are.
///
/// All of it stays under the version guard, so that a stream and backfills (a CDC snapshot)
/// writing the same table in any order end with the newest state:
/// - a delete removes the row only when the row is not newer, and leaves a *tombstone* (the key
///   and the delete's version) so that an older insert arriving later does not bring the row
///   back;
/// - a truncate removes the rows not newer than it and leaves a *watermark*: a record older than
///   the truncate is not written;
/// - an update's unchanged columns (PostgreSQL's TOASTed values the change does not carry) keep
///   the target's values.
public struct ChangeHandling: Sendable, Hashable {
    public enum Deletes: String, Sendable, Hashable, CaseIterable {
        /// The row is removed; its tombstone lives in a side table until `tombstoneRetention`.
        case hard
        /// The row stays, with `softDeleteColumn` set to when the delete was applied and the
        /// delete's version: the row is its own tombstone.
        case soft
    }

    public enum Truncate: String, Sendable, Hashable, CaseIterable {
        case apply, ignore, fail
    }

    /// The field naming each record's operation (`insert`, `update`, `delete`, `truncate`, or
    /// Debezium's letters `c`, `u`, `r`, `d`, `t`). It is not written to the target.
    public var operationField = "_op"
    /// The field listing the columns an update leaves unchanged (an array of names). Not written.
    public var unchangedField = "_unchanged"
    public var deletes: Deletes = .hard
    /// The column a soft delete sets (a timestamp; NULL for a live row).
    public var softDeleteColumn = "_deleted_at"
    public var truncate: Truncate = .apply
    /// Tombstones older than this are purged. A backfill that writes rows older than a delete
    /// must finish within it (a delete purged earlier can no longer stop the row coming back).
    public var tombstoneRetention: Duration = .seconds(7 * 86_400)

    public init() {}

    /// The field naming the key columns of each record's table (an array of names), for routed
    /// targets without a `key`. Not written.
    public var keyField = "_key"

    /// The fields of the records that steer the load and are not columns of the target.
    public var controlFields: Set<String> { [operationField, unchangedField, keyField] }

    /// A column of the target naming the columns of a row whose values are not known yet
    /// (`,big,notes,`; NULL for a complete row).
    ///
    /// An update that leaves a TOASTed column unchanged does not carry its value. When the row is
    /// not in the target yet (the snapshot has not reached it), the update is written with those
    /// columns NULL and listed here; an older full row for the key (the snapshot's) then fills
    /// exactly the listed columns, although the guard keeps the rest of the row. That is right
    /// because the row was missing: no change to the key since the stream's start reached the
    /// target before this update, so the listed columns still hold the values they had when the
    /// stream started, which is what any snapshot taken since holds. A newer write that sets a
    /// listed column removes it from the list.
    public static let pendingColumn = "_runnel_pending"

    /// The pending list of `columns`: `,a,b,`.
    public static func pendingList(_ columns: some Collection<String>) -> String {
        "," + columns.sorted().joined(separator: ",") + ","
    }
}

/// One record's operation, as a keyed loader applies it.
public enum ChangeOperation: Hashable, Sendable {
    /// An insert or update: `unchanged` lists the columns to leave as the target has them.
    case upsert(unchanged: [String])
    case delete
    case truncate

    /// Reads the operation of `record`; an unknown or missing operation is an error for the
    /// record (a dead letter with code `unknown_operation`).
    public static func of(
        _ record: Record, operation: Int?, unchanged: Int?, handling: ChangeHandling
    ) throws(RecordError) -> ChangeOperation {
        let text: String?
        if let operation, operation < record.values.count, case .string(let s) = record.values[operation] {
            text = s
        } else {
            text = nil
        }
        switch text?.lowercased() {
        case "insert", "update", "c", "u", "r", "create", "read", "snapshot":
            var columns: [String] = []
            if let unchanged, unchanged < record.values.count, case .array(let names) = record.values[unchanged] {
                for case .string(let name) in names { columns.append(name) }
            }
            return .upsert(unchanged: columns)
        case "delete", "d":
            return .delete
        case "truncate", "t":
            return .truncate
        default:
            throw RecordError(
                code: "unknown_operation",
                message: "field '\(handling.operationField)' is \(text.map { "'\($0)'" } ?? "missing"); "
                    + "expected insert, update, delete or truncate",
                field: handling.operationField)
        }
    }
}

/// A batch of changes cut into runs of consecutive records with the same operation (and, for
/// upserts, the same unchanged columns): each run can be applied as one set-based statement
/// while the runs apply in order, so an insert, its delete and its re-insert in one batch end as
/// applying them one by one would.
public struct ChangeRuns: Sendable {
    public struct Run: Sendable, Hashable {
        public var operation: ChangeOperation
        /// Positions in `records` (the batch's row view), in order.
        public var records: Range<Int>
    }

    public var runs: [Run] = []
    /// Records whose operation could not be read: the loader refuses them.
    public var refused: [(ordinal: Int, error: RecordError)] = []
    /// The records that are applied, in batch order (the refused ones left out).
    public var records: [Record] = []

    /// `refused`: records refused already (by `schema_drift: dead_letter`), left out and kept
    /// in `refused`.
    public init(_ batch: Batch, handling: ChangeHandling, refused alreadyRefused: [(ordinal: Int, error: RecordError)] = []) {
        let operation = batch.schema.index(of: handling.operationField)
        let unchanged = batch.schema.index(of: handling.unchangedField)
        refused = alreadyRefused
        let skip = Set(alreadyRefused.map(\.ordinal))
        for record in batch.records where !skip.contains(record.ordinal) {
            let op: ChangeOperation
            do {
                op = try ChangeOperation.of(record, operation: operation, unchanged: unchanged, handling: handling)
            } catch {
                refused.append((record.ordinal, error))
                continue
            }
            let index = records.count
            records.append(record)
            if let last = runs.indices.last, runs[last].operation == op {
                runs[last].records = runs[last].records.lowerBound..<(index + 1)
            } else {
                runs.append(Run(operation: op, records: index..<(index + 1)))
            }
        }
    }

    public var hasDeletesOrTruncates: Bool {
        runs.contains { $0.operation == .delete || $0.operation == .truncate }
    }
}
