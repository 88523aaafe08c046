public import RunnelCore

extension SpecSection {
    /// `table`, `key`, `version` and `columns: {name: type}` of a table loader (and `schema`
    /// when `schemas` is true). `columnType` maps a type as written to the store's name for it,
    /// or nil when the store has no such type.
    public func tableTarget(schemas: Bool = false, columnType: (String) -> String?) -> TableTarget? {
        let schema = schemas ? string("schema") : nil
        let table = string("table", required: true)
        // A routed table ("{table}") may take each source table's own key.
        let routed = table.map(RoutingLoader.routes) ?? false
        let key = strings("key", required: !routed) ?? (routed ? [] : nil)
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
        if let key, key.isEmpty, has("key") { self.node("key")?.problem("give at least one key field") }
        guard let table, let key, !key.isEmpty || (routed && !has("key")) else { return nil }
        var target = TableTarget(table: table, key: key)
        target.schema = schema
        target.version = version
        target.columns = columns
        return target
    }

    /// `operation`, `deletes`, `soft_delete_column`, `truncate` and `tombstone_retention`: how
    /// change records are applied. Nil when none is given and `byDefault` is false (a source that
    /// is not change data capture: every record is an upsert).
    public func changeHandling(byDefault: Bool) -> ChangeHandling? {
        let keys = ["operation", "deletes", "soft_delete_column", "truncate", "tombstone_retention"]
        guard byDefault || keys.contains(where: has) else { return nil }
        var changes = ChangeHandling()
        if let field = string("operation") { changes.operationField = field }
        if let deletes = choice("deletes", ChangeHandling.Deletes.allCases.map(\.rawValue)) {
            changes.deletes = ChangeHandling.Deletes(rawValue: deletes) ?? .hard
        }
        if let column = string("soft_delete_column") { changes.softDeleteColumn = column }
        if let truncate = choice("truncate", ChangeHandling.Truncate.allCases.map(\.rawValue)) {
            changes.truncate = ChangeHandling.Truncate(rawValue: truncate) ?? .apply
        }
        if let retention = duration("tombstone_retention") { changes.tombstoneRetention = retention }
        return changes
    }
}

extension ComponentContext {
    /// A table loader's target with its change handling: on when the spec gives any of its keys,
    /// or when the source is change data capture (`postgres_cdc`).
    public func tableTarget(schemas: Bool = false, columnType: (String) -> String?) -> TableTarget? {
        let cdc = peer("extract")?.type == "postgres_cdc"
        let changes = section.changeHandling(byDefault: cdc)
        let drift = section.choice("schema_drift", SchemaDrift.allCases.map(\.rawValue)).flatMap(SchemaDrift.init(rawValue:))
        if drift == .deadLetter, changes == nil {
            section.node("schema_drift")?.problem(
                "dead_letter applies to change records (give 'operation', or read from postgres_cdc); use evolve or freeze")
        }
        guard var target = section.tableTarget(schemas: schemas, columnType: columnType) else { return nil }
        target.changes = changes
        // A CDC source's schema changes flow to the target unless the spec says otherwise.
        target.schemaDrift = drift ?? (cdc ? .evolve : nil)
        return target
    }
}

extension ComponentRegistry {
    /// The keys `tableTarget` reads, for a table loader's declaration.
    public static func tableTargetKeys(schemas: Bool) -> [ConfigKey] {
        (schemas ? [ConfigKey.string("schema", default: "the search path", "The table's schema.")] : []) + [
            .string(
                "table", required: true,
                "The target table (created when missing); {table} and {schema} route each record to the table named from its source table (_table)."),
            .strings(
                "key", required: true,
                "The key fields: a record replaces the row with the same key. With a routed table, default: each source table's key (_key)."),
            .string("version", "A field that only grows (an update time): an older record never replaces a newer row."),
            .map(
                "columns", of: .string,
                "Column types by field (\(PortableType.allCases.map(\.rawValue).joined(separator: ", ")) or the store's own); others are inferred."),
            .string(
                "operation", default: "_op with postgres_cdc, else none",
                "The field naming each record's operation (insert, update, delete, truncate; or c, u, r, d, t): records are changes."),
            .choice(
                "deletes", ChangeHandling.Deletes.allCases.map(\.rawValue), default: "hard",
                "hard: a delete removes the row (a tombstone keeps its version); soft: the row stays with soft_delete_column set."),
            .string("soft_delete_column", default: "_deleted_at", "The column a soft delete sets to the time of the delete."),
            .choice(
                "truncate", ChangeHandling.Truncate.allCases.map(\.rawValue), default: "apply",
                "What a truncate of the source does: apply (remove the rows not newer than it), ignore, or fail (exit 3)."),
            .choice(
                "schema_drift", SchemaDrift.allCases.map(\.rawValue), default: "evolve with postgres_cdc, else none",
                "A field with no column in the table: evolve (add the column), freeze (exit 3), dead_letter (park those change records); none leaves new fields out."),
            .duration(
                "tombstone_retention", default: "168h",
                "How long a hard delete's tombstone is kept: a backfill older than a delete must finish within it."),
        ]
    }
}
