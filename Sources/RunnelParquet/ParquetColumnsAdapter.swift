public import Parquet
public import RunnelCore

// The columnar batch → Parquet columns path of `format: parquet` part files: a typed column of
// the batch becomes a column chunk's values by one gather over the selection (or none, when
// every row is selected), with no `Value` per row. Only a mixed column (rows of several types,
// nested values) goes through values, by `ParquetBatchAdapter.column`, so the schema rules and
// the errors are the row adapter's.

extension ParquetBatchAdapter {
    /// The rows `rows` (physical) of `column` as the values of `field`'s chunk.
    static func column(_ field: ParquetField, _ column: Column, rows: ArraySlice<Int>, all: Bool) throws -> ParquetColumn {
        let n = rows.count
        let validity: [Bool] =
            column.validity.isEmpty ? [Bool](repeating: true, count: n) : (all ? column.validity : rows.map { column.validity[$0] })
        switch (field.kind, column.kind) {
        case (.int64, .int), (.timestampMicros, .timestamp):
            return ParquetColumn(values: .int64(all ? column.fixed : rows.map { column.fixed[$0] }), validity: validity)
        case (.double, .double):
            let fixed = column.fixed
            return ParquetColumn(values: .double(rows.map { Double(bitPattern: UInt64(bitPattern: fixed[$0])) }), validity: validity)
        case (.double, .int):
            return ParquetColumn(values: .double(rows.map { Double(column.fixed[$0]) }), validity: validity)
        case (.boolean, .bool):
            return ParquetColumn(values: .boolean(rows.map { column.fixed[$0] != 0 }), validity: validity)
        case (.string, .string):
            if all { return ParquetColumn(values: .byteArrays(ByteArrays(bytes: column.bytes, offsets: column.offsets)), validity: validity) }
            var out = ByteArrays()
            out.reserveCapacity(values: n, bytes: column.bytes.count)
            column.bytes.withUnsafeBufferPointer { bytes in
                for r in rows { out.append(UnsafeBufferPointer(rebasing: bytes[column.offsets[r]..<column.offsets[r + 1]])) }
            }
            return ParquetColumn(values: .byteArrays(out), validity: validity)
        case (_, .null):
            return try Self.column(field, [Value](repeating: .null, count: n))
        default:
            return try Self.column(field, rows.map { column.value($0) })
        }
    }

    /// Encodes a columnar batch: each row group's columns straight from the batch's columns.
    static func encodeColumns(_ batch: Batch, _ c: BatchColumns, fields: [ParquetField], options: ParquetPartOptions) throws -> [UInt8] {
        let positions = positions(of: fields, in: batch.schema)
        var configuration = ParquetWriter<ParquetByteSink>.Configuration(compression: options.compression)
        configuration.createdBy = "Runnel"
        var writer = try ParquetWriter(schema: fields, sink: ParquetByteSink(), configuration: configuration)
        let rows = c.selection
        let whole = rows.count == c.physicalCount && rows.count <= max(1, options.rowGroupSize)
        var start = 0
        while start < rows.count {
            let end = min(rows.count, start + max(1, options.rowGroupSize))
            var columns: [ParquetColumn] = []
            for (field, position) in zip(fields, positions) {
                let chunk = rows[start..<end]
                columns.append(
                    position >= 0
                        ? try column(field, c.columns[position], rows: chunk, all: whole)
                        : try column(field, [Value](repeating: .null, count: chunk.count)))
            }
            try writer.writeRowGroup(columns)
            start = end
        }
        return try writer.close().bytes
    }
}
