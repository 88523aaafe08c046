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
