public import Parquet
public import RunnelCore

// What a Parquet part loader does when a batch does not fit the file schema it keeps (the newest
// part's when the loader starts, so that it outlives a restart; else its first batch's):
// `load.schema_drift`, as on the keyed loaders.
//
// A batch fits when each of its fields that holds a value somewhere is a column of the schema and
// each value fits its column: a bool a BOOLEAN, an int an INT64, an int or a double a DOUBLE, a
// timestamp a TIMESTAMP, anything a STRING (as its text) or JSON column. A schema column the
// batch lacks is written as nulls, and a field null throughout is not drift (another source's,
// or a key absent from a whole batch of JSON).
//
// - `freeze` (default): the batch fails with a data-contract error naming the field (exit 3).
// - `evolve`: the schema widens — new fields become columns (typed from the batch), a column
//   whose values do not fit becomes DOUBLE (ints and doubles) or STRING — and this part and the
//   next ones are written with it. Each part is one file with its own footer, so no file is
//   rewritten; readers that merge schemas by name (DuckDB's `union_by_name`, pyarrow datasets,
//   Spark's `mergeSchema`) see one table.
// - `dead_letter`: the records that carry a value in a new field, or a value its column cannot
//   hold, are refused (dead letters with code `schema_drift`); the rest are written. The part is
//   named from the batch's first record as read, refused or not, so a replay rewrites it.

/// The kinds a batch's fields hold over its selection: nil for a field null throughout.
struct BatchKinds {
    let kinds: [ColumnKind?]

    init(_ batch: Batch) {
        if let c = batch.columnar {
            kinds = c.columns.indices.map { i in
                let column = c.columns[i]
                guard c.selection.contains(where: { !column.isNull($0) }) else { return nil }
                switch column.kind {
                case .int: return .int64
                case .double: return .double
                case .bool: return .boolean
                case .timestamp: return .timestampMicros
                case .string: return .string
                case .null, .mixed: return Self.merged(c.selection.lazy.map { column.value($0) })
                }
            }
        } else {
            let records = batch.records
            kinds = batch.schema.fields.indices.map { i in Self.merged(records.lazy.map { i < $0.values.count ? $0.values[i] : .null }) }
        }
    }

    static func kind(of v: Value) -> ColumnKind? {
        switch v {
        case .null: nil
        case .bool: .boolean
        case .int: .int64
        case .double: .double
        case .string: .string
        case .timestamp: .timestampMicros
        case .array, .object: .json
        }
    }

    /// One kind for values of several: ints and doubles make DOUBLE, other mixes STRING.
    static func merged(_ values: some Sequence<Value>) -> ColumnKind? {
        var kind: ColumnKind?
        for v in values {
            guard let k = self.kind(of: v) else { continue }
            if let seen = kind, seen != k { kind = widened(seen, k) } else { kind = k }
        }
        return kind
    }

    static func widened(_ a: ColumnKind, _ b: ColumnKind) -> ColumnKind {
        if a == b { return a }
        if (a == .int64 && b == .double) || (a == .double && b == .int64) { return .double }
        return .string
    }

    /// Whether every value of kind `batch` fits a column of kind `column`.
    static func fits(_ batch: ColumnKind, into column: ColumnKind) -> Bool {
        batch == column || column == .string || column == .json || (column == .double && batch == .int64)
    }

    static func fits(_ v: Value, into column: ColumnKind) -> Bool {
        guard let k = kind(of: v) else { return true }
        return fits(k, into: column)
    }
}

extension ParquetPartEncoder {
    /// The schema this batch is written with, under the drift policy (`freeze` throws for a batch
    /// that does not fit; `evolve` widens the loader's schema; `dead_letter` expects `refuse` to
    /// have taken the misfits out).
    func fields(for batch: Batch) throws -> [ParquetField] {
        let kinds = BatchKinds(batch)
        return try schema.current.withLock { memo -> [ParquetField] in
            guard let (reference, source) = memo.map({ ($0.fields, $0.source) }) else {
                // The first batch chooses, with the stages' declared types where its values fit
                // them; a field null throughout and not declared is a string column.
                let declared = options.declared
                let fields = zip(batch.schema.fields, kinds.kinds).map { name, kind in
                    if let d = declared[name], kind.map({ BatchKinds.fits($0, into: d) }) ?? true {
                        return ParquetField(name: name, kind: d)
                    }
                    return ParquetField(name: name, kind: kind ?? .string)
                }
                memo = .init(fields: fields, source: "the first batch")
                return fields
            }
            var fields = reference
            for (name, kind) in zip(batch.schema.fields, kinds.kinds) {
                guard let kind else { continue }
                guard let i = fields.firstIndex(where: { $0.name == name }) else {
                    switch options.schemaDrift {
                    case .evolve: fields.append(ParquetField(name: name, kind: kind))
                    case .freeze, .deadLetter:
                        throw RunnelError.dataContract(
                            "parquet: field '\(name)' is not in the file schema (from \(source): \(reference.map(\.name))); "
                                + "set load.schema_drift to evolve or dead_letter to accept new fields")
                    }
                    continue
                }
                guard !BatchKinds.fits(kind, into: fields[i].kind) else { continue }
                switch options.schemaDrift {
                case .evolve: fields[i].kind = BatchKinds.widened(fields[i].kind, kind)
                case .freeze, .deadLetter:
                    throw RunnelError.dataContract(
                        "parquet: column '\(name)' is \(fields[i].kind) (from \(source)), the batch has \(kind) values; "
                            + "set load.schema_drift to evolve or dead_letter")
                }
            }
            memo?.fields = fields
            return fields
        }
    }

    public var resumesFromNewestPart: Bool { true }

    public func declaring(_ types: [String: PortableType]) -> (encoder: any PartEncoder, description: String)? {
        var options = options
        for (name, type) in types {
            options.declared[name] =
                switch type {
                case .int: .int64
                case .double: .double
                case .bool: .boolean
                case .string: .string
                case .timestamp: .timestampMicros
                case .json: .json
                }
        }
        let shown = options.declared.keys.sorted().map { "\($0) \(options.declared[$0]!)" }
        return (ParquetPartEncoder(options), "Parquet columns typed from the stages: \(shown.joined(separator: ", ")); other columns from the data")
    }

    /// Keeps the newest part's columns as the file schema (every column optional, as this encoder
    /// writes them), unless a batch already chose one. A part that cannot be read is an error
    /// naming it: choosing a schema without it could freeze one the earlier run did not.
    public func resume(from newestPart: any RandomAccessObject) async throws {
        let fields: [ParquetField]
        do {
            fields = try await ParquetReader.open(ObjectParquetSource(object: newestPart)).schema
        } catch let e as ParquetError {
            throw RunnelError.dataContract(
                "parquet: cannot read the file schema of the newest part '\(newestPart.name)' (\(e)); "
                    + "the loader keeps the schema of the parts it wrote before: repair or move that file")
        }
        schema.current.withLock { memo in
            guard memo == nil else { return }
            memo = .init(fields: fields.map { ParquetField(name: $0.name, kind: $0.kind) }, source: "the newest part, \(newestPart.name)")
        }
    }

    /// Takes out of `batch` the records the `dead_letter` policy refuses, with their reasons.
    public func refuse(_ batch: inout Batch) throws -> [(ordinal: Int, error: RecordError)] {
        guard options.schemaDrift == .deadLetter, let reference = schema.current.withLock({ $0?.fields }) else { return [] }
        let kinds = BatchKinds(batch)
        var reasons: [Int: RecordError] = [:]
        let ordinals = batch.ordinals
        let columns = batch.columnar?.columns
        let records = columns == nil ? batch.records : []
        func value(_ position: Int, _ k: Int) -> Value {
            if let columns { return columns[position].value(ordinals[k]) }
            return position < records[k].values.count ? records[k].values[position] : .null
        }
        for (position, (name, kind)) in zip(batch.schema.fields, kinds.kinds).enumerated() {
            guard let kind else { continue }
            let column = reference.first { $0.name == name }
            if let column, BatchKinds.fits(kind, into: column.kind) { continue }
            for k in ordinals.indices where reasons[ordinals[k]] == nil {
                let v = value(position, k)
                guard v != .null else { continue }
                if let column {
                    guard !BatchKinds.fits(v, into: column.kind) else { continue }
                    reasons[ordinals[k]] = RecordError(
                        code: "schema_drift",
                        message: "parquet: column '\(name)' is \(column.kind) in the file schema, the record has the \(v.typeName) \(v.text)",
                        field: name)
                } else {
                    reasons[ordinals[k]] = RecordError(
                        code: "schema_drift", message: "parquet: field '\(name)' is not in the file schema (\(reference.map(\.name)))",
                        field: name)
                }
            }
        }
        guard !reasons.isEmpty else { return [] }
        let refused = reasons.keys.sorted().map { (ordinal: $0, error: reasons[$0]!) }
        if batch.columnar != nil {
            batch.withColumns { $0.selection.removeAll { reasons[$0] != nil } }
        } else {
            batch.records.removeAll { reasons[$0.ordinal] != nil }
        }
        return refused
    }
}
