import RunnelTesting
import Testing
@testable import RunnelCore

/// The JSON Lines writer over columns must write, byte for byte, what the row writer writes for
/// the same records (part files are named and compared by their bytes on replay).
@Suite struct JSONColumnsWriterTests {
    @Test func columnsAndRowsWriteTheSameBytes() {
        var rng = SeededGenerator(seed: 7)
        func next(_ bound: Int) -> Int { rng.below(bound) }
        let texts = ["", "a", "plain text", "quote \" and \\ back", "tab\tnew\nline\u{1}", "é😀", String(repeating: "x", count: 40)]
        func value(_ kind: Int) -> Value {
            if next(5) == 0 { return .null }
            switch kind {
            case 0: return .int(Int64(next(2_000_001)) - 1_000_000)
            case 1: return .double([0.1, -2.5, 1e16, 5e-324, 123.456, 0, -0.0][next(7)])
            case 2: return .bool(next(2) == 0)
            case 3: return .timestamp(Timestamp(microseconds: Int64(next(1 << 30)) * 1_000_003))
            case 4: return .string(texts[next(texts.count)])
            default:
                // Mixed: types vary by row, and nested values.
                return [Value.int(1), .string("s"), .array([1, "x"]), .object(Object(keys: ["k"], values: [.double(1.5)]))][next(4)]
            }
        }
        let fields = ["id", "amount", "ok", "at", "name", "extra", "never"]
        for _ in 0..<50 {
            let n = 1 + next(40)
            let rows = (0..<n).map { _ in (0..<6).map(value) + [.null] }
            let columns = fields.indices.map { i in Column(rows.map { $0[i] }) }
            let selection = (0..<n).filter { _ in next(4) != 0 }
            let data = BatchColumns(columns: columns, selection: selection, physicalCount: n)
            var fromColumns: [UInt8] = []
            JSONColumnsWriter.writeLines(Schema(fields), data, into: &fromColumns)
            var fromRows: [UInt8] = []
            for r in selection {
                JSONText.write(.object(Object(keys: fields, values: rows[r])), into: &fromRows)
                fromRows.append(0x0A)
            }
            #expect(String(decoding: fromColumns, as: UTF8.self) == String(decoding: fromRows, as: UTF8.self))
        }
    }
}
