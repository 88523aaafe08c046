public import Parquet
public import RunnelCore

// The row batch → Parquet columns adapter of `format: parquet` part files (a columnar batch takes
// `ParquetColumnsAdapter.swift`'s direct path).
//
// The schema is the newest existing part's (so a restarted run keeps the schema of the run before
// it), else it comes from the data of the first batch a loader sees (bool → BOOLEAN, int → INT64,
// double → DOUBLE, int and double mixed → DOUBLE, string → STRING, timestamp → TIMESTAMP(MICROS,
// UTC), arrays and objects → JSON text); a column with only nulls there is a string column.
// Every column is optional. Later batches keep that schema (ints widen into double columns, any
// value goes into a string column as its text); one that does not fit follows the drift policy
// (`ParquetSchemaDrift.swift`).

/// Parquet options of a part-file loader.
public struct ParquetPartOptions: Sendable {
    /// Default zstd.
    public var compression: ParquetCompression = .zstd
    /// Rows per row group; a batch larger than this becomes several row groups. Default 122,880
    /// (DuckDB's); the batch bounds memory either way.
    public var rowGroupSize: Int = 122_880
    /// A batch that does not fit the schema of the first: `freeze` (default), `evolve`, `dead_letter`.
    public var schemaDrift: SchemaDrift = .freeze
    /// Column types the stages declare (casts): they type the schema the first batch chooses,
    /// where that batch's values fit them (a field null throughout the batch, above all).
    public var declared: [String: ColumnKind] = [:]

    public init() {}
}

/// The `format: parquet` encoder of the part-file loaders (files and S3): one per loader, so the
/// schema taken from the newest part, or chosen from its first batch, holds for all its parts.
public struct ParquetPartEncoder: PartEncoder {
    public let options: ParquetPartOptions
    let schema = ParquetSchemaMemo()

    public init(_ options: ParquetPartOptions = ParquetPartOptions()) { self.options = options }

    public func encode(_ batch: Batch) throws -> [UInt8] {
        let fields = try fields(for: batch)
        if let columns = batch.columnar {
            return try ParquetBatchAdapter.encodeColumns(batch, columns, fields: fields, options: options)
        }
        return try ParquetBatchAdapter.encode(batch, fields: fields, options: options)
    }
}

/// The file schema, shared by the copies of a loader: nil until the newest part or the first
/// batch gives one.
final class ParquetSchemaMemo: Sendable {
    struct FileSchema {
        var fields: [ParquetField]
        /// Where it came from, for messages: "the first batch", "the newest part, …".
        var source: String
    }

    let current = Locked<FileSchema?>(nil)
}

enum ParquetBatchAdapter {
    static func encode(_ batch: Batch, fields: [ParquetField], options: ParquetPartOptions) throws -> [UInt8] {
        let positions = positions(of: fields, in: batch.schema)
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
                columns.append(try column(field, rows.map { position >= 0 && position < $0.values.count ? $0.values[position] : .null }))
            }
            try writer.writeRowGroup(columns)
            start = end
        }
        return try writer.close().bytes
    }

    /// Where each field of the file schema is in the batch; -1 for one the batch lacks (nulls).
    static func positions(of fields: [ParquetField], in schema: Schema) -> [Int] {
        fields.map { schema.index(of: $0.name) ?? -1 }
    }

    static func column(_ field: ParquetField, _ values: [Value]) throws -> ParquetColumn {
        var validity = [Bool](repeating: true, count: values.count)
        func mismatch(_ v: Value) -> RunnelError {
            .dataContract(
                "parquet: column '\(field.name)' is \(field.kind) in the file schema, a record has the \(v.typeName) \(v.text)"
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
