public import Parquet
public import RunnelCore

// The row batch → Parquet columns adapter of `format: parquet` part files (a columnar batch takes
// `ParquetColumnsAdapter.swift`'s direct path).
//
// The schema comes from the data of the first batch a loader sees (bool → BOOLEAN, int → INT64,
// double → DOUBLE, int and double mixed → DOUBLE, string → STRING, timestamp → TIMESTAMP(MICROS,
// UTC), arrays and objects → JSON text); a column with only nulls there is a string column.
// Every column is optional. Later batches keep that schema: ints widen into double columns, any
// value goes into a string column as its text, and a field the schema lacks or a value that does
// not fit (text into an int64 column) fails the batch with a data-contract error naming it.

/// Parquet options of a part-file loader.
public struct ParquetPartOptions: Sendable {
    /// Default zstd.
    public var compression: ParquetCompression = .zstd
    /// Rows per row group; a batch larger than this becomes several row groups. Default 122,880
    /// (DuckDB's); the batch bounds memory either way.
    public var rowGroupSize: Int = 122_880

    public init() {}
}

/// The `format: parquet` encoder of the part-file loaders (files and S3): one per loader, so the
/// schema chosen from its first batch holds for all its parts.
public struct ParquetPartEncoder: PartEncoder {
    public let options: ParquetPartOptions
    private let schema = ParquetSchemaMemo()

    public init(_ options: ParquetPartOptions = ParquetPartOptions()) { self.options = options }

    public func encode(_ batch: Batch) throws -> [UInt8] {
        if let columns = batch.columnar {
            return try ParquetBatchAdapter.encodeColumns(batch, columns, memo: schema, options: options)
        }
        return try ParquetBatchAdapter.encode(batch, memo: schema, options: options)
    }
}

/// The schema chosen from the first batch, shared by the copies of a loader.
final class ParquetSchemaMemo: Sendable {
    let fields = Locked<[ParquetField]?>(nil)
}

enum ParquetBatchAdapter {
    static func infer(_ batch: Batch) -> [ParquetField] {
        batch.schema.fields.enumerated().map { i, name in
            var kind: ColumnKind?
            for r in batch.records {
                let k: ColumnKind
                switch r.values[i] {
                case .null: continue
                case .bool: k = .boolean
                case .int: k = .int64
                case .double: k = .double
                case .string: k = .string
                case .timestamp: k = .timestampMicros
                case .array, .object: k = .json
                }
                if let seen = kind, seen != k {
                    kind = (seen == .int64 && k == .double) || (seen == .double && k == .int64) ? .double : .string
                } else {
                    kind = k
                }
            }
            return ParquetField(name: name, kind: kind ?? .string)
        }
    }

    static func encode(_ batch: Batch, memo: ParquetSchemaMemo, options: ParquetPartOptions) throws -> [UInt8] {
        let fields = memo.fields.withLock { fields in
            if fields == nil { fields = infer(batch) }
            return fields!
        }
        let positions = try positions(of: fields, in: batch.schema)
        var configuration = ParquetWriter<ParquetByteSink>.Configuration(compression: options.compression)
        configuration.createdBy = "Runnel"
        var writer = try ParquetWriter(schema: fields, sink: ParquetByteSink(), configuration: configuration)
        var start = 0
        let records = batch.records
        while start < records.count {
            let end = min(records.count, start + max(1, options.rowGroupSize))
            let rows = records[start..<end]
            var columns: [ParquetColumn] = []
            for (field, position) in zip(fields, positions) {
                columns.append(try column(field, rows.map { $0.values[position] }))
            }
            try writer.writeRowGroup(columns)
            start = end
        }
        return try writer.close().bytes
    }

    /// Where each field of the file schema is in the batch; a field missing on either side is a
    /// data-contract error naming it.
    static func positions(of fields: [ParquetField], in schema: Schema) throws -> [Int] {
        var positions: [Int] = []
        for f in fields {
            guard let p = schema.index(of: f.name) else {
                throw RunnelError.dataContract(
                    "parquet: the batch has no field '\(f.name)' of the file schema (from the first batch)")
            }
            positions.append(p)
        }
        for name in schema.fields where !fields.contains(where: { $0.name == name }) {
            throw RunnelError.dataContract(
                "parquet: field '\(name)' is not in the file schema (from the first batch: \(fields.map(\.name)))")
        }
        return positions
    }

    static func column(_ field: ParquetField, _ values: [Value]) throws -> ParquetColumn {
        var validity = [Bool](repeating: true, count: values.count)
        func mismatch(_ v: Value) -> RunnelError {
            .dataContract(
                "parquet: column '\(field.name)' is \(field.kind) (from the first batch), a record has the \(v.typeName) \(v.text)"
            )
        }
        switch field.kind {
        case .boolean:
            var out = [Bool](repeating: false, count: values.count)
            for (i, v) in values.enumerated() {
                switch v {
                case .null: validity[i] = false
                case .bool(let b): out[i] = b
                default: throw mismatch(v)
                }
            }
            return ParquetColumn(values: .boolean(out), validity: validity)
        case .int64, .timestampMicros:
            var out = [Int64](repeating: 0, count: values.count)
            for (i, v) in values.enumerated() {
                switch (v, field.kind) {
                case (.null, _): validity[i] = false
                case (.int(let n), .int64): out[i] = n
                case (.timestamp(let t), .timestampMicros): out[i] = t.microseconds
                default: throw mismatch(v)
                }
            }
            return ParquetColumn(values: .int64(out), validity: validity)
        case .double:
            var out = [Double](repeating: 0, count: values.count)
            for (i, v) in values.enumerated() {
                switch v {
                case .null: validity[i] = false
                case .double(let d): out[i] = d
                case .int(let n): out[i] = Double(n)
                default: throw mismatch(v)
                }
            }
            return ParquetColumn(values: .double(out), validity: validity)
        default:  // string: the value's text (JSON for containers); json: JSON text
            var out = ByteArrays()
            let json = field.kind == .json
            for (i, v) in values.enumerated() {
                if case .null = v {
                    validity[i] = false
                    out.append("")
                } else {
                    out.append(json ? JSONText.encode(v) : v.text)
                }
            }
            return ParquetColumn(values: .byteArrays(out), validity: validity)
        }
    }
}
