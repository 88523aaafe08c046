/// JSON Lines from a columnar batch: one object per selected row, each key written once per
/// batch (escaped and quoted in advance) and each value straight from its column. Byte for
/// byte what `JSONText.write` gives for the same records, so a part file's bytes do not depend
/// on the batch's layout (replays rewrite identical files).
public enum JSONColumnsWriter {
    private static let nullText: StaticString = "null"

    public static func writeLines(_ schema: Schema, _ data: BatchColumns, into bytes: inout [UInt8]) {
        // Written into a sink (an append is a capacity check and a copy), handed over once.
        // As large as the room the caller reserved (a part file reserves the batch's input size),
        // so that it rarely grows.
        var out = ByteSink(capacity: max(data.selection.count * 64, bytes.capacity - bytes.count))
        defer { out.write(to: &bytes) }
        // Every key's `,"key":` (`{"key":` for the first) back to back, and where each starts.
        var keyBytes: [UInt8] = []
        var keyStarts: [Int] = [0]
        for (i, name) in schema.fields.enumerated() {
            keyBytes.append(i == 0 ? UInt8(ascii: "{") : UInt8(ascii: ","))
            JSONWriter.writeString(name, into: &keyBytes)
            keyBytes.append(UInt8(ascii: ":"))
            keyStarts.append(keyBytes.count)
        }
        let width = min(schema.fields.count, data.columns.count)
        // Columns are read through plain views over their buffers and keys through pointers: a
        // Column or a key array copied per value retains its buffers, which costs more than
        // writing the value.
        let mixed = data.columns
        ColumnViews.borrowing(data.columns.map { $0 }) { columns in
            keyBytes.withUnsafeBufferPointer { keyBytes in
                keyStarts.withUnsafeBufferPointer { keyStarts in
                    withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 48) { scratch in
                        for row in data.selection {
                            if width == 0 { out.append(UInt8(ascii: "{")) }
                            for k in 0..<width {
                                out.append(bytes: UnsafeBufferPointer(rebasing: keyBytes[keyStarts[k]..<keyStarts[k + 1]]))
                                write(columns[k], mixed, k, row, scratch, into: &out)
                            }
                            out.append(UInt8(ascii: "}"))
                            out.append(0x0A)
                        }
                    }
                }
            }
        }
    }

    @inline(__always)
    static func write(
        _ c: ColumnViews.View, _ columns: [Column], _ k: Int, _ row: Int, _ scratch: UnsafeMutableBufferPointer<UInt8>,
        into out: inout ByteSink
    ) {
        if c.kind == .mixed { return JSONWriter.write(columns[k].values[row], into: &out) }
        if c.isNull(row) { return out.append(bytes: UnsafeBufferPointer(start: nullText.utf8Start, count: nullText.utf8CodeUnitCount)) }
        switch c.kind {
        case .int: JSONWriter.writeInteger(c.int(row), into: &out)
        case .bool: JSONWriter.write(.bool(c.bool(row)), into: &out)
        case .double: JSONWriter.writeDouble(c.double(row), into: &out)
        case .timestamp:
            let n = c.timestamp(row).writeISO8601(into: scratch)
            out.append(UInt8(ascii: "\""))
            out.append(bytes: UnsafeBufferPointer(rebasing: scratch[0..<n]))
            out.append(UInt8(ascii: "\""))
        case .string:
            out.append(UInt8(ascii: "\""))
            JSONWriter.writeEscaped(c.text(row), into: &out)
            out.append(UInt8(ascii: "\""))
        case .null, .mixed: break
        }
    }
}
