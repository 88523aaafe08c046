import RunnelCore

/// COPY text straight from a columnar batch: each value is read from its column's plain buffers
/// (`ColumnViews`) and written by kind, with no row of `Value`s built for it. The text is the
/// row path's (`CopyTextWriter.write(_: Value)`), value for value, so the server stores the same.
enum CopyTextColumns {
    /// The selected rows of `data` (with `ordinal`, the row's place in the selection first),
    /// `positions[i]` the batch column written as the i-th COPY column (nil: null throughout),
    /// handed to `send` in chunks of about `chunk` bytes.
    static func write(
        _ data: BatchColumns, positions: [Int?], ordinal: Bool, chunk: Int, send: ([UInt8]) async throws -> Void
    ) async throws {
        let views = ColumnViews(positions.map { $0.map { data.columns[$0] } })
        var w = CopyTextWriter(capacity: chunk + (1 << 12))
        for (n, row) in data.selection.enumerated() {
            if ordinal { w.writeInt(Int64(n)) }
            views.withViews { v in
                for i in 0..<v.count {
                    if ordinal || i > 0 { w.fieldSeparator() }
                    w.write(v[i], row: row, mixed: v[i].kind == .mixed ? views.columns[i] : nil)
                }
            }
            w.endRow()
            if w.bytes.count >= chunk {
                try await send(w.bytes)
                w.removeAll()
            }
        }
        if !w.bytes.isEmpty { try await send(w.bytes) }
    }
}

extension CopyTextWriter {
    /// Physical row `row` of a column view (`mixed`: the column, whose rows are values).
    @inline(__always)
    mutating func write(_ view: ColumnViews.View, row: Int, mixed: Column?) {
        if let mixed {
            write(mixed.value(row))
            return
        }
        if view.isNull(row) {
            write(.null)
            return
        }
        switch view.kind {
        case .int: writeInt(view.int(row))
        case .bool: write(.bool(view.bool(row)))
        case .double: writeDouble(view.double(row))
        case .timestamp: writeTimestamp(view.timestamp(row))
        case .string: writeEscaped(view.text(row))
        case .null, .mixed: write(.null)
        }
    }
}
