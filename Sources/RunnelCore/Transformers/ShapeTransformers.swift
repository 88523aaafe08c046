/// Renames fields: `{old: new}`.
public struct RenameTransformer: Transformer {
    public let renames: [(from: String, to: String)]
    public var name: String { "rename" }
    public var readsColumns: Bool { true }
    public init(_ renames: [(from: String, to: String)]) { self.renames = renames }

    public func apply(to batch: inout Batch) throws {
        if batch.records.isEmpty, !batch.closedSchema {
            // Nothing to rename; the names are added as null below only when records need them.
        } else {
            _ = try batch.positions(of: renames.map(\.from), stage: name)
        }
        var fields = batch.schema.fields
        for (from, to) in renames {
            guard let i = batch.schema.index(of: from) else { continue }
            fields[i] = to
        }
        batch.schema = Schema(fields)
    }
}

/// Keeps only the named fields, in the order given.
public struct SelectTransformer: Transformer {
    public let fields: [String]
    public var name: String { "select" }
    public var readsColumns: Bool { true }
    public init(fields: [String]) { self.fields = fields }

    public func apply(to batch: inout Batch) throws {
        guard batch.recordCount > 0 else {
            batch.schema = Schema(fields)
            return
        }
        let positions = try batch.positions(of: fields, stage: name)
        batch.remap(to: Schema(fields), mapping: positions)
    }
}

/// Removes the named fields.
public struct DropTransformer: Transformer {
    public let fields: [String]
    public var name: String { "drop" }
    public var readsColumns: Bool { true }
    public init(fields: [String]) { self.fields = fields }

    public func apply(to batch: inout Batch) throws {
        let dropped = Set(fields)
        let keep = batch.schema.fields.indices.filter { !dropped.contains(batch.schema.fields[$0]) }
        batch.remap(to: Schema(keep.map { batch.schema.fields[$0] }), mapping: keep)
    }
}

/// Sets fields to constants: always (`set`) or only where null or missing (`default`).
public struct SetTransformer: Transformer {
    public let values: [(field: String, value: Value)]
    public let onlyIfNull: Bool
    public var name: String { onlyIfNull ? "default" : "set" }

    public init(_ values: [(field: String, value: Value)], onlyIfNull: Bool) {
        self.values = values
        self.onlyIfNull = onlyIfNull
    }

    public func apply(to batch: inout Batch) throws {
        let missing = values.map(\.field).filter { !batch.schema.contains($0) }
        if !missing.isEmpty {
            let old = batch.schema.count
            batch.remap(to: Schema(batch.schema.fields + missing), mapping: Array(0..<old) + missing.map { _ in nil })
        }
        let targets = values.map { (batch.schema.index(of: $0.field)!, $0.value) }
        let onlyIfNull = onlyIfNull
        for i in batch.records.indices {
            for (p, v) in targets where !onlyIfNull || batch.records[i].values[p].isNull {
                batch.records[i].values[p] = v
            }
        }
    }
}
