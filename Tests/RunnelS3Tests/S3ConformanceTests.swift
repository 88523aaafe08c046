import RunnelCore
import RunnelFiles
@testable import RunnelParquet
import RunnelTesting
import Testing

@testable import RunnelS3

/// The conformance suites every connector runs, against moto.
struct S3ConformanceTests {
    @Test(arguments: PartFileLoader.Format.allCases, [false, true])
    func partObjectsAreIdempotent(_ format: PartFileLoader.Format, gzip: Bool) async throws {
        let client = try await TestS3.freshBucket("conf-\(format.rawValue)")
        var c = S3PartLoader.Configuration(prefix: "out/", format: format)
        c.gzip = gzip
        // The registry gives `format: parquet` RunnelParquet's encoder; here it is set by hand.
        if format == .parquet { c.encoder = ParquetPartEncoder() }
        let loader = S3PartLoader(c, client: client)
        let batch = Batch(
            schema: Schema(["id", "name"]), rows: [[1, "a,b"], [2, "c\"d"]],
            origins: [Origin(source: "s3://in/in.csv", line: 2), Origin(source: "s3://in/in.csv", line: 3)])
        try await LoaderConformance.isIdempotent(loader, batch: batch) {
            var rows: [[Value]] = []
            for o in try await client.list(prefix: "out/") {
                rows.append([.string(o.key), .string(String(decoding: try await client.getSmall(o.key) ?? [], as: UTF8.self))])
            }
            return rows
        }
        let name = "out/part-in.csv-000000000002.\(format.rawValue)" + (gzip ? ".gz" : "")
        #expect(try await client.list(prefix: "out/").map(\.key) == [name])
    }

    /// A restarted Parquet loader reads the newest part's footer by range and keeps its schema:
    /// a field the parts do not have still fails under `freeze`, naming the part it came from.
    @Test func aRestartedParquetLoaderKeepsTheNewestPartsSchema() async throws {
        let client = try await TestS3.freshBucket("conf-parquet-restart")
        func loader() async throws -> S3PartLoader {
            var c = S3PartLoader.Configuration(prefix: "out/", format: .parquet)
            c.encoder = ParquetPartEncoder()
            let loader = S3PartLoader(c, client: client)
            try await loader.prepare(schema: nil)
            return loader
        }
        func batch(_ fields: [String], _ row: [Value], line: Int) -> Batch {
            Batch(schema: Schema(fields), rows: [row], origins: [Origin(source: "s3://in/in.csv", line: line)])
        }
        _ = try await loader().load(batch(["id", "name"], [1, "a"], line: 2), commit: nil)
        do {
            _ = try await loader().load(batch(["id", "name", "country"], [2, "b", "FR"], line: 3), commit: nil)
            Issue.record("a field the parts do not have must fail under freeze after a restart")
        } catch let e as RunnelError {
            #expect(e.code == .dataContract && e.message.contains("'country'") && e.message.contains("out/part-in.csv-000000000002.parquet"))
        }
        #expect(try await client.list(prefix: "out/").map(\.key) == ["out/part-in.csv-000000000002.parquet"])
    }

    @Test func deadLettersKeepTheirContract() async throws {
        let client = try await TestS3.freshBucket("conf-dlq")
        try await DeadLetterQueueConformance.isIdempotent(S3DeadLetterQueue(client: client, prefix: "dl/"))
    }

    /// `format: parquet` reads objects by range (the footer, then each row group's column
    /// chunks) and resumes at the row after the last one committed, across row groups and objects.
    @Test func parquetResumesFromEveryCheckpointAndReadsWhatWasWritten() async throws {
        let client = try await TestS3.freshBucket("conf-parquet")
        var options = ParquetPartOptions()
        options.rowGroupSize = 9
        let encoder = ParquetPartEncoder(options)
        var written: [[Value]] = []
        for (n, key) in ["in/a.parquet", "in/b.parquet"].enumerated() {
            var rows: [[Value]] = []
            for i in 0..<40 {
                let name: Value = i % 7 == 0 ? .null : .string("name \(i) ü")
                rows.append([.int(Int64(n * 100 + i)), name, .double(Double(i) / 4)])
            }
            written += rows
            let batch = Batch(
                schema: Schema(["id", "name", "amount"]), rows: rows, origins: rows.indices.map { Origin(source: "t", line: $0) })
            try await client.put(key, body: try encoder.encode(batch), contentType: "application/vnd.apache.parquet")
        }
        var c = S3Extractor.Configuration(format: .decoded(name: "parquet", ParquetPartDecoder()))
        c.prefix = "in/"
        let extractor = S3Extractor(c, client: client)
        #expect(try await ExtractorConformance.resumesFromEveryCheckpoint(extractor) == 80)
        let reader = try await extractor.open(ExtractRequest(batching: .init(maxRecords: 1000)))
        var read: [[Value]] = []
        while let (batch, _) = try await reader.nextBatch() { read += batch.records.map(\.values) }
        #expect(read == written)
    }

    /// `--from/--to` on a Parquet object's cursor column read exactly the rows in the window,
    /// from objects read by range, skipping the row groups whose statistics lie outside it.
    @Test func parquetWindowOnTheCursorReadsItsRows() async throws {
        let client = try await TestS3.freshBucket("conf-parquet-window")
        var options = ParquetPartOptions()
        options.rowGroupSize = 10
        let encoder = ParquetPartEncoder(options)
        for (n, key) in ["in/a.parquet", "in/b.parquet"].enumerated() {
            let rows: [[Value]] = (0..<50).map { i in [.int(Int64(n * 50 + i))] }
            let batch = Batch(schema: Schema(["n"]), rows: rows, origins: rows.indices.map { Origin(source: "t", line: $0) })
            try await client.put(key, body: try encoder.encode(batch), contentType: "application/vnd.apache.parquet")
        }
        var c = S3Extractor.Configuration(format: .decoded(name: "parquet", ParquetPartDecoder(), cursor: "n"))
        c.prefix = "in/"
        let reader = try await S3Extractor(c, client: client).open(
            ExtractRequest(window: Window(from: "35", to: "62"), batching: .init(maxRecords: 8)))
        var read: [Int64] = []
        while let (batch, _) = try await reader.nextBatch() {
            read += batch.records.compactMap { if case .int(let n) = $0.values[0] { n } else { nil } }
        }
        #expect(read == Array(35..<62))
        #expect((reader as? ParquetBatchReader)?.skippedRowGroups == 6)
    }

    @Test func csvResumesFromEveryCheckpoint() async throws {
        let client = try await TestS3.freshBucket("conf-csv")
        let rows = (0..<120).map { "\($0),\"name, \($0)\"" }.joined(separator: "\r\n")
        try await client.put("a.csv", body: Array("id,name\r\n\(rows)\r\n".utf8), contentType: "text/csv")
        try await client.put("b.csv.gz", body: try Gzip.compress(Array("id,name\n1000,x\n1001,\"y\n".utf8)), contentType: "x")
        var c = S3Extractor.Configuration(format: .csv(CSVExtractor.Configuration(path: "")))
        c.chunkSize = 64 << 10
        #expect(try await ExtractorConformance.resumesFromEveryCheckpoint(S3Extractor(c, client: client)) == 122)
    }
}
