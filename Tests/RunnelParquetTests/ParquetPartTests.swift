import Foundation
import Parquet
import RunnelCore
import RunnelFiles
import RunnelTesting
import Testing
@testable import RunnelParquet

@Suite struct ParquetPartTests {
    @Test func partFilesAreIdempotent() async throws {
        let dir = try CommandRunner.temporaryDirectory()
        var c = PartFileLoader.Configuration(directory: dir + "/out", format: .parquet)
        c.encoder = ParquetPartEncoder()
        let loader = PartFileLoader(c)
        let batch = Batch(
            schema: Schema(["id", "name"]), rows: [[1, "a,b"], [2, "c\"d"]],
            origins: [Origin(source: "in.csv", line: 2), Origin(source: "in.csv", line: 3)])
        try await LoaderConformance.isIdempotent(loader, batch: batch) {
            let files = try FileManager.default.contentsOfDirectory(atPath: dir + "/out").sorted()
            // Bytes as (lossy) text: Parquet parts are binary.
            return try files.map { [.string($0), .string(String(decoding: try Data(contentsOf: URL(fileURLWithPath: dir + "/out/" + $0)), as: UTF8.self))] }
        }
        let files = try FileManager.default.contentsOfDirectory(atPath: dir + "/out")
        #expect(files == ["part-in.csv-000000000002.parquet"])
    }

    /// Without an encoder (a loader made by hand, not through the registry) parquet parts fail clearly.
    @Test func aParquetLoaderWithoutEncoderFails() async throws {
        let dir = try CommandRunner.temporaryDirectory()
        let loader = PartFileLoader(.init(directory: dir, format: .parquet))
        let batch = Batch(schema: Schema(["id"]), rows: [[1]], origins: [Origin(source: "in.csv", line: 2)])
        await #expect(throws: RunnelError.self) { try await loader.load(batch, commit: nil) }
    }

    /// A `parquet` part holds the batch's values with the schema of the first batch; later batches
    /// keep it (ints widen into doubles) and a value that does not fit fails the batch.
    @Test func partsCarryTypedColumns() async throws {
        let dir = try CommandRunner.temporaryDirectory()
        var options = ParquetPartOptions()
        options.compression = .snappy
        options.rowGroupSize = 2
        var c = PartFileLoader.Configuration(directory: dir, format: .parquet)
        c.encoder = ParquetPartEncoder(options)
        let loader = PartFileLoader(c)
        let ts = Timestamp(microseconds: 1_704_067_200_123_456)
        let batch = Batch(
            schema: Schema(["id", "amount", "name", "ok", "at", "tags"]),
            rows: [
                [1, .double(1.5), "é", .bool(true), .timestamp(ts), .array([1, "x"])],
                [2, 3, .null, .bool(false), .null, .object(Object(keys: ["k"], values: [.null]))],
                [3, .null, "", .null, .timestamp(ts), .null],
            ],
            origins: (2...4).map { Origin(source: "in.jsonl", line: $0) })
        try await loader.load(batch, commit: nil)
        let path = dir + "/part-in.jsonl-000000000002.parquet"
        let reader = try await ParquetReader.open(ParquetFileSource(path: path))
        #expect(reader.schema.map(\.kind) == [.int64, .double, .string, .boolean, .timestampMicros, .json])
        #expect(reader.rowGroupCount == 2 && reader.rowCount == 3)
        let g0 = try await reader.readRowGroup(0)
        let g1 = try await reader.readRowGroup(1)
        #expect(g0[0].values == .int64([1, 2]) && g1[0].values == .int64([3]))
        #expect(g0[1].values == .double([1.5, 3]) && g1[1].validity == [false])
        guard case .byteArrays(let names) = g0[2].values, case .byteArrays(let tags) = g0[5].values else {
            Issue.record("text columns expected")
            return
        }
        #expect(names.string(at: 0) == "é" && g0[2].validity == [true, false])
        #expect(tags.string(at: 0) == "[1,\"x\"]" && tags.string(at: 1) == "{\"k\":null}")
        #expect(g0[4].values == .int64([ts.microseconds, 0]) && g0[4].validity == [true, false])

        let later = Batch(schema: Schema(["id", "amount", "name", "ok", "at", "tags"]), rows: [[4, "oops", "n", .bool(true), .null, .null]],
            origins: [Origin(source: "in.jsonl", line: 9)])
        await #expect(throws: RunnelError.self) { try await loader.load(later, commit: nil) }
    }

    /// Parts written by the loader read back through the `parquet` extractor to the same values,
    /// across files and row groups, and a read resumes from every batch's checkpoint.
    @Test func extractorReadsPartsAndResumes() async throws {
        let dir = try CommandRunner.temporaryDirectory()
        var options = ParquetPartOptions()
        options.rowGroupSize = 3
        var c = PartFileLoader.Configuration(directory: dir, format: .parquet)
        c.encoder = ParquetPartEncoder(options)
        let loader = PartFileLoader(c)
        let schema = Schema(["id", "name", "at", "doc"])
        let ts = Timestamp(microseconds: 1_704_067_200_000_001)
        var all: [[Value]] = []
        for (file, range) in [(2, 0..<10), (20, 10..<15)] {
            let rows: [[Value]] = range.map { i in
                [.int(Int64(i)), i % 4 == 0 ? .null : .string("n\(i)"), .timestamp(ts), .object(Object(keys: ["i"], values: [.int(Int64(i))]))]
            }
            all += rows
            let batch = Batch(schema: schema, rows: rows, origins: range.map { Origin(source: "in.jsonl", line: file + $0 - range.lowerBound) })
            try await loader.load(batch, commit: nil)
        }
        let extractor = ParquetExtractor(.init(path: dir + "/*.parquet"))
        let read = try await ExtractorConformance.readAll(extractor, from: nil, batching: .init(maxRecords: 4))
        #expect(read.batches.flatMap(\.records) == all)
        #expect(try await ExtractorConformance.resumesFromEveryCheckpoint(extractor, batching: .init(maxRecords: 4)) == 15)
    }
}
