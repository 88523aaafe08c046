public import RunnelCore

extension SpecSection {
    /// `table`, `key`, `version` and `columns: {name: type}` of a table loader (and `schema`
    /// when `schemas` is true). `columnType` maps a type as written to the store's name for it,
    /// or nil when the store has no such type.
    public func tableTarget(schemas: Bool = false, columnType: (String) -> String?) -> TableTarget? {
        let schema = schemas ? string("schema") : nil
        let table = string("table", required: true)
        let key = strings("key", required: true)
        let version = string("version")
        var columns: [TableTarget.Column]?
        if let node = node("columns"), let entries = node.entries {
            columns = entries.compactMap { name, typeNode in
                guard let text = typeNode.string?.trimmingWhitespace() else { return nil }
                guard let type = columnType(text) else {
                    typeNode.problem("'\(text)' is not a column type here; use a portable type (\(PortableType.allCases.map(\.rawValue).joined(separator: ", "))) or one of the store's own")
                    return nil
                }
                return TableTarget.Column(name: name, type: type)
            }
        }
        if let key, key.isEmpty { self.node("key")?.problem("give at least one key field") }
        guard let table, let key, !key.isEmpty else { return nil }
        var target = TableTarget(table: table, key: key)
        target.schema = schema
        target.version = version
        target.columns = columns
        return target
    }
}

extension ComponentRegistry {
    /// The keys `tableTarget` reads, for a table loader's declaration.
    public static func tableTargetKeys(schemas: Bool) -> [ConfigKey] {
        (schemas ? [ConfigKey.string("schema", default: "the search path", "The table's schema.")] : []) + [
            .string("table", required: true, "The target table (created when missing)."),
            .strings("key", required: true, "The key fields: a record replaces the row with the same key."),
            .string("version", "A field that only grows (an update time): an older record never replaces a newer row."),
            .map(
                "columns", of: .string,
                "Column types by field (\(PortableType.allCases.map(\.rawValue).joined(separator: ", ")) or the store's own); others are inferred."),
        ]
    }
}
