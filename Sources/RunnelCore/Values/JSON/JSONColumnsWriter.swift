/// JSON Lines from a columnar batch: one object per selected row, each key written once per
/// batch (escaped and quoted in advance) and each value straight from its column. Byte for
/// byte what `JSONText.write` gives for the same records, so a part file's bytes do not depend
/// on the batch's layout (replays rewrite identical files).
public enum JSONColumnsWriter {
    private static let nullText: [UInt8] = Array("null".utf8)

    public static func writeLines(_ schema: Schema, _ data: BatchColumns, into out: inout [UInt8]) {
        let keys: [[UInt8]] = schema.fields.indices.map { i in
            var k: [UInt8] = i == 0 ? [UInt8(ascii: "{")] : [UInt8(ascii: ",")]
            JSONWriter.writeString(schema.fields[i], into: &k)
            k.append(UInt8(ascii: ":"))
            return k
        }
        let width = min(keys.count, data.columns.count)
        // Columns and keys are borrowed, not copied, per value: copying a Column retains its
        // buffers, which per row and field cost more than writing the value.
        data.columns.withUnsafeBufferPointer { columns in
            keys.withUnsafeBufferPointer { keys in
                withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 48) { scratch in
                    for row in data.selection {
                        if width == 0 { out.append(UInt8(ascii: "{")) }
                        for k in 0..<width {
                            keys[k].withUnsafeBufferPointer { out.append(contentsOf: $0) }
                            write(columns[k], row, scratch, into: &out)
                        }
                        out.append(UInt8(ascii: "}"))
                        out.append(0x0A)
                    }
                }
            }
        }
    }

    @inline(__always)
    static func write(_ c: Column, _ row: Int, _ scratch: UnsafeMutableBufferPointer<UInt8>, into out: inout [UInt8]) {
        if c.kind == .mixed { return JSONWriter.write(c.values[row], into: &out) }
        if c.isNull(row) { return out.append(contentsOf: nullText) }
        switch c.kind {
        case .int: JSONWriter.writeInteger(c.int(row), into: &out)
        case .bool: JSONWriter.write(.bool(c.bool(row)), into: &out)
        case .double: JSONWriter.write(.double(c.double(row)), into: &out)
        case .timestamp:
            let n = c.timestamp(row).writeISO8601(into: scratch)
            out.append(UInt8(ascii: "\""))
            out.append(contentsOf: UnsafeBufferPointer(rebasing: scratch[0..<n]))
            out.append(UInt8(ascii: "\""))
        case .string:
            out.append(UInt8(ascii: "\""))
            c.withBytes(row) { JSONWriter.writeEscaped($0, into: &out) }
            out.append(UInt8(ascii: "\""))
        case .null, .mixed: break
        }
    }
}
