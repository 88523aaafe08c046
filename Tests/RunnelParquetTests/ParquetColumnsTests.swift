import Parquet
import RunnelCore
import Testing
@testable import RunnelParquet

/// A columnar batch becomes Parquet column chunks without rows; the file must be byte for byte
/// the one the row adapter writes for the same records, so a replay after an upgrade rewrites a
/// part with the same bytes.
@Suite struct ParquetColumnsTests {
    static func batch(rows n: Int) -> Batch {
        let columns: [Column] = [
            Column((0..<n).map { .int(Int64($0)) }),
            Column((0..<n).map { $0 % 5 == 0 ? .null : .double(Double($0) / 3) }),
            Column((0..<n).map { $0 % 7 == 0 ? .null : .string($0 % 2 == 0 ? "é \($0)" : "") }),
            Column((0..<n).map { .bool($0 % 3 == 0) }),
            Column((0..<n).map { .timestamp(Timestamp(microseconds: Int64($0) * 1_000_003)) }),
            Column((0..<n).map { $0 % 2 == 0 ? .int(Int64($0)) : .double(0.5) }),  // mixed int/double
            Column((0..<n).map { $0 % 4 == 0 ? .object(Object(keys: ["k"], values: [.int(Int64($0))])) : .null }),  // nested
            Column(nulls: n),
        ]
        let origins = (0..<n).map { Origin(source: "in.jsonl", line: $0 + 1) }
        return Batch(schema: Schema(["id", "d", "s", "b", "ts", "num", "obj", "none"]), columns: columns, origins: origins)
    }

    @Test(arguments: [false, true])
    func filesFromColumnsEqualFilesFromRows(filtered: Bool) throws {
        var byColumns = Self.batch(rows: 1_000)
        if filtered {
            // A selection with holes: rejected rows must not reach the file.
            byColumns.reject(rows: stride(from: 3, to: 1_000, by: 11).map { ($0, RecordError(code: "x", message: "x")) }, stage: "test")
        }
        #expect(byColumns.columnar != nil)
        var byRows = byColumns
        byRows.makeRows()
        var options = ParquetPartOptions()
        options.rowGroupSize = 300  // several row groups, the last one short
        let fromColumns = try ParquetPartEncoder(options).encode(byColumns)
        let fromRows = try ParquetPartEncoder(options).encode(byRows)
        #expect(fromColumns == fromRows)
        #expect(fromColumns.count > 1_000)
    }
}
