/// A keyed table a loader upserts into — the shape the SQL loaders share: where it is, the key
/// every write goes by, the version that guards against older replays, and the columns.
public struct TableTarget: Sendable, Hashable {
    public struct Column: Sendable, Hashable {
        public var name: String
        /// The store's type name (`INTEGER`, `bigint`, `numeric(12,2)`, …); empty for none.
        public var type: String
        public init(name: String, type: String) {
            self.name = name
            self.type = type
        }
    }

    /// A schema (namespace) for stores that have them; nil for the default.
    public var schema: String?
    public var table: String
    public var key: [String]
    /// Newer-or-equal wins: a row is replaced only when this field is not older.
    public var version: String?
    /// The table's columns in order. Nil: the batch's fields.
    public var columns: [Column]?
    /// Records are changes (insert, update, delete, truncate) rather than rows: see
    /// `ChangeHandling`. Nil: every record is an upsert.
    public var changes: ChangeHandling?
    /// A field with no column in the table: nil writes the columns fixed at prepare and leaves
    /// new fields out (the behaviour before `schema_drift`).
    public var schemaDrift: SchemaDrift?

    public init(table: String, key: [String]) {
        self.table = table
        self.key = key
    }

    /// The column names written: the configured ones, or else the batch's fields. Throws a
    /// config error when the key or version is not among them.
    public func columnNames(batch schema: Schema?) throws -> [String] {
        var names = columns?.map(\.name) ?? schema?.fields ?? []
        if let changes {
            // The operation and the unchanged columns steer the load; a soft delete's column is
            // the loader's, even though no record carries it.
            names.removeAll { changes.controlFields.contains($0) }
            if changes.deletes == .soft, !names.contains(changes.softDeleteColumn) { names.append(changes.softDeleteColumn) }
            if !names.contains(ChangeHandling.pendingColumn) { names.append(ChangeHandling.pendingColumn) }
        }
        for k in key + [version].compactMap({ $0 }) where !names.contains(k) {
            throw RunnelError.config("load: key or version field '\(k)' is not among the columns (\(names.joined(separator: ", ")))")
        }
        return names
    }
}

/// The portable type names a spec may give a column (`int`, `double`, `string`, `timestamp`,
/// `bool`, `json`) with their spellings; each SQL dialect maps them to its own names.
public enum PortableType: String, Sendable, CaseIterable {
    case int, double, string, timestamp, bool, json

    public init?(name: String) {
        switch name.lowercased() {
        case "int", "integer", "long": self = .int
        case "double", "float", "number": self = .double
        case "string": self = .string
        case "timestamp", "datetime": self = .timestamp
        case "bool", "boolean": self = .bool
        case "json", "object", "array": self = .json
        default: return nil
        }
    }
}

/// What a keyed loader does with a field the target table has no column for — a column added to
/// a CDC source, a new field in JSON input (`load.schema_drift`).
public enum SchemaDrift: String, Sendable, Hashable, CaseIterable {
    /// Add the column to the table (typed from the first value) and write it.
    case evolve
    /// Stop the run with exit 3 naming the table and the field.
    case freeze
    /// Park the records that carry a value in the field as dead letters (code `schema_drift`);
    /// the others load. For change records (a record is one event, parked whole).
    case deadLetter = "dead_letter"
}

extension TableTarget {
    /// The fields of `schema` that are not among the `written` columns, do not steer the load,
    /// and hold a value in some record: columns the source has and the target does not. (A
    /// field that is null throughout is a field of the union schema other records brought: of
    /// another table, or of other batches.)
    public func newFields(_ schema: Schema, records: [Record], written: [String]) -> [String] {
        let known = Set(written).union(changes?.controlFields ?? [])
        return schema.fields.enumerated().filter { i, name in
            !known.contains(name) && records.contains { i < $0.values.count && $0.values[i] != .null }
        }.map(\.element)
    }

    /// The run-stopping error of `schema_drift: freeze`.
    public func driftError(_ fields: [String], target: String) -> RunnelError {
        RunnelError.dataContract(
            "\(target) has no column \(fields.map { "'\($0)'" }.joined(separator: ", ")) for the records' new "
                + "field\(fields.count == 1 ? "" : "s") (schema_drift: freeze); add the column, or set schema_drift: "
                + "evolve to add it, or dead_letter to park those records")
    }

    /// For `schema_drift: dead_letter`: the records carrying a value in one of `fields`.
    public func driftRefusals(_ records: [Record], schema: Schema, fields: [String], target: String)
        -> [(ordinal: Int, error: RecordError)]
    {
        let positions = fields.compactMap { f in schema.index(of: f).map { (f, $0) } }
        var refused: [(ordinal: Int, error: RecordError)] = []
        for r in records {
            guard let (field, _) = positions.first(where: { $0.1 < r.values.count && r.values[$0.1] != .null }) else { continue }
            refused.append(
                (r.ordinal,
                 RecordError(
                    code: "schema_drift", message: "field '\(field)' is not a column of \(target) (schema_drift: dead_letter)",
                    field: field)))
        }
        return refused
    }

    /// The portable type of a new column, from the first non-null value of `field` (string when
    /// every value is null).
    public static func portableType(of field: Int, in records: [Record]) -> PortableType {
        for r in records where field < r.values.count {
            switch r.values[field] {
            case .null: continue
            case .int: return .int
            case .double: return .double
            case .bool: return .bool
            case .string: return .string
            case .timestamp: return .timestamp
            case .array, .object: return .json
            }
        }
        return .string
    }
}
