import Foundation
import Parquet
import RunnelCore
import RunnelFiles
import RunnelTesting
import Testing
@testable import RunnelParquet

/// `--from/--to` on a Parquet cursor column: exactly the rows in `[from, to)`, and the row groups
/// whose statistics lie outside the window are skipped without being read.
@Suite struct ParquetWindowTests {
    /// 100 rows in row groups of 10, `at` one minute apart from 2024-01-01T00:00Z, `n` = row.
    static func file() throws -> String {
        let dir = try CommandRunner.temporaryDirectory()
        var options = ParquetPartOptions()
        options.rowGroupSize = 10
        let base = Timestamp(microseconds: 1_704_067_200_000_000)
        let rows: [[Value]] = (0..<100).map { i in
            [.int(Int64(i)), .timestamp(Timestamp(microseconds: base.microseconds + Int64(i) * 60_000_000))]
        }
        let batch = Batch(schema: Schema(["n", "at"]), rows: rows, origins: rows.indices.map { Origin(source: "t", line: $0) })
        try Data(try ParquetPartEncoder(options).encode(batch)).write(to: URL(fileURLWithPath: dir + "/a.parquet"))
        return dir + "/a.parquet"
    }

    func read(_ path: String, cursor: String, from: String?, to: String?) async throws -> (rows: [Int64], skipped: Int) {
        var c = ParquetExtractor.Configuration(path: path)
        c.cursor = cursor
        let reader = try await ParquetExtractor(c).open(
            ExtractRequest(window: Window(from: from, to: to), batching: .init(maxRecords: 7)))
        var rows: [Int64] = []
        while let (batch, _) = try await reader.nextBatch() {
            rows += batch.records.compactMap { if case .int(let n) = $0.values[0] { n } else { nil } }
        }
        return (rows, (reader as? ParquetBatchReader)?.skippedRowGroups ?? -1)
    }

    @Test func aTimeWindowReadsItsRowsAndSkipsTheRowGroupsOutsideIt() async throws {
        let path = try Self.file()
        // Minutes 25 to 54: rows 25…54, in row groups 2…5; groups 0, 1 and 6…9 are skipped unread.
        let r = try await read(path, cursor: "at", from: "2024-01-01T00:25:00Z", to: "2024-01-01T00:55:00Z")
        #expect(r.rows == Array(25..<55))
        #expect(r.skipped == 6)
    }

    @Test func aNumericWindowOnOneSideOnly() async throws {
        let path = try Self.file()
        let r = try await read(path, cursor: "n", from: "93", to: nil)
        #expect(r.rows == Array(93..<100))
        #expect(r.skipped == 9)
    }

    @Test func aWindowWithoutACursorIsAConfigError() async throws {
        let path = try Self.file()
        let error = await #expect(throws: RunnelError.self) {
            _ = try await ParquetExtractor(.init(path: path)).open(ExtractRequest(window: Window(from: "1", to: "2")))
        }
        #expect(error?.code == .config)
    }
}
