import Foundation
import RunnelCore
import RunnelTesting
import Testing
@testable import RunnelFiles

private func write(_ dir: String, _ name: String, _ text: String) -> String {
    let path = dir + "/" + name
    FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
    return path
}

private func readAll(_ e: any Extractor, batch: Int = 1000) async throws -> [Batch] {
    let reader = try await e.open(ExtractRequest(batching: .init(maxRecords: batch)))
    var out: [Batch] = []
    while let b = try await reader.nextBatch()?.batch { out.append(b) }
    return out
}

@Suite struct CSVExtractorTests {
    @Test func readsRFC4180WithBOMQuotesAndCRLF() async throws {
        let dir = try CommandRunner.temporaryDirectory()
        let path = write(dir, "a.csv", "\u{FEFF}id,name,note\r\n1,\"Smith, J\",\"say \"\"hi\"\"\"\r\n2,Bo,\"two\nlines\"\r\n")
        let batches = try await readAll(CSVExtractor(.init(path: path)))
        let b = try #require(batches.first)
        #expect(b.schema.fields == ["id", "name", "note"])
        #expect(b.records.map(\.values) == [["1", "Smith, J", "say \"hi\""], ["2", "Bo", "two\nlines"]])
        #expect(b.sources.map(\.origin.line) == [2, 3])
    }

    @Test func malformedRowsBecomeRejectionsNamingFileAndLineAndTheRestIsRead() async throws {
        let dir = try CommandRunner.temporaryDirectory()
        var text = "id,name\n1,a\n2,\"broken\n3,c\n4,d,extra\n"
        text += "5,e\n"
        let path = write(dir, "m.csv", text)
        var bytes = Array(try String(contentsOfFile: path, encoding: .utf8).utf8)
        bytes += [0x36, 0x2C, 0xFF, 0xFE, 0x0A, 0x37, 0x2C, 0x67]  // "6,<invalid UTF-8>\n7,g" (no final newline)
        FileManager.default.createFile(atPath: path, contents: Data(bytes))
        let b = try #require(try await readAll(CSVExtractor(.init(path: path))).first)
        #expect(b.records.map { $0.values[0] } == ["1", "3", "5", "7"])
        let rejected = b.rejections.map { (b.sources[$0.ordinal].origin.line!, $0.error.code) }
        #expect(rejected.map(\.0) == [3, 5, 7])
        #expect(rejected.map(\.1) == ["malformed_row", "column_count", "malformed_row"])
        #expect(b.sources[b.rejections[0].ordinal].raw == "2,\"broken")
        #expect(b.rejections[1].error.message.contains("expected 2 fields (id, name), found 3"))
    }

    @Test func resumesFromEveryCheckpointAcrossFilesAndGzip() async throws {
        let dir = try CommandRunner.temporaryDirectory()
        var a = "id,v\n"
        for i in 0..<40 { a += "\(i),\"v\(i)\"\n" }
        a += "bad,\"x\n"
        _ = write(dir, "part-1.csv", a)
        var b = "id,v\n"
        for i in 40..<75 { b += "\(i),w\(i)\n" }
        _ = write(dir, "part-2.csv", b)
        let gz = Process()
        gz.executableURL = URL(fileURLWithPath: "/bin/gzip")
        gz.arguments = [dir + "/part-2.csv"]
        try gz.run()
        gz.waitUntilExit()
        let extractor = CSVExtractor(.init(path: dir + "/part-*"))
        let n = try await ExtractorConformance.resumesFromEveryCheckpoint(extractor)
        #expect(n == 76)
    }

    @Test func aOneMegabyteFieldIsRead() async throws {
        let dir = try CommandRunner.temporaryDirectory()
        let big = String(repeating: "x", count: 1 << 20)
        let path = write(dir, "big.csv", "id,blob\n1,\(big)\n2,\"\(big)\"\n")
        let b = try #require(try await readAll(CSVExtractor(.init(path: path))).first)
        #expect(b.records.count == 2)
        #expect(b.records[1].values[1] == .string(big))
    }

    @Test func anEmptyFileReadsNothingAndAMissingFileIsAConfigError() async throws {
        let dir = try CommandRunner.temporaryDirectory()
        let empty = write(dir, "empty.csv", "")
        #expect(try await readAll(CSVExtractor(.init(path: empty))).flatMap(\.records).isEmpty)
        await #expect {
            _ = try await CSVExtractor(.init(path: dir + "/missing.csv")).open(ExtractRequest())
        } throws: { ($0 as? RunnelError)?.code == .config }
    }

    @Test func aWindowNeedsACursorAndFiltersHalfOpen() async throws {
        let dir = try CommandRunner.temporaryDirectory()
        let path = write(dir, "w.csv", "id,day\n1,2024-01-01\n2,2024-01-02\n3,2024-01-03\n")
        await #expect(throws: RunnelError.self) {
            _ = try await CSVExtractor(.init(path: path)).open(ExtractRequest(window: Window(from: "2024-01-02", to: nil)))
        }
        var c = CSVExtractor.Configuration(path: path)
        c.cursor = "day"
        let reader = try await CSVExtractor(c).open(ExtractRequest(window: Window(from: "2024-01-02", to: "2024-01-03")))
        let b = try #require(try await reader.nextBatch()?.batch)
        #expect(b.records.map { $0.values[0] } == ["2"])
    }
}

@Suite struct JSONLinesExtractorTests {
    @Test func readsObjectsWithTheirTypesAndRejectsBadLines() async throws {
        let dir = try CommandRunner.temporaryDirectory()
        let path = write(dir, "e.jsonl", "{\"id\":1,\"n\":1.5}\n\n{\"id\":2,\"tags\":[\"a\"]}\nnot json\n[1]\n{\"id\":3}")
        let b = try #require(try await readAll(JSONLinesExtractor(.init(path: path))).first)
        #expect(b.schema.fields == ["id", "n", "tags"])
        #expect(b.records.map(\.values) == [[1, 1.5, .null], [2, .null, .array(["a"])], [3, .null, .null]])
        #expect(b.rejections.map { b.sources[$0.ordinal].origin.line } == [4, 5])
        #expect(b.sources[b.rejections[0].ordinal].raw == "not json")
    }

    @Test func aRecordLargerThanTheMemoryAllowsIsADeadLetterAndTheRestIsRead() async throws {
        // 2 MiB lines against a 64 KiB record limit, one without a line end at the end of the file:
        // each becomes one record_too_large rejection; the lines around them are read, and the
        // positions after them are exact (the next line's number and offset).
        let dir = try CommandRunner.temporaryDirectory()
        let huge = "{\"id\":9,\"blob\":\"" + String(repeating: "x", count: 2 << 20) + "\"}"
        let path = write(dir, "h.jsonl", "{\"id\":1}\n\(huge)\n{\"id\":2}\n\(huge)")
        var request = ExtractRequest(batching: .init(maxRecords: 100, maxBytes: 64 << 20))
        request.maxRecordBytes = 64 << 10
        let reader = try await JSONLinesExtractor(.init(path: path)).open(request)
        var batches: [Batch] = []
        while let b = try await reader.nextBatch()?.batch { batches.append(b) }
        let records = batches.flatMap(\.records).map(\.values)
        #expect(records == [[1], [2]])
        let rejected = batches.flatMap { b in b.rejections.map { (b.sources[$0.ordinal], $0.error) } }
        #expect(rejected.map(\.1.code) == ["record_too_large", "record_too_large"])
        #expect(rejected.map(\.0.origin.line) == [2, 4])
        #expect(rejected.allSatisfy { $0.0.raw?.utf8.count ?? 0 <= 1024 && $0.0.raw?.hasPrefix("{\"id\":9") == true })
        #expect(rejected[0].1.message.contains("more than the 65536"), "\(rejected[0].1.message)")
        let second = batches.flatMap { b in b.records.map { b.sources[$0.ordinal].origin } }[1]
        #expect(second.line == 3 && second.offset == Int64(9 + huge.utf8.count + 1))
    }

    @Test func resumesFromEveryCheckpoint() async throws {
        let dir = try CommandRunner.temporaryDirectory()
        let lines = (0..<50).map { "{\"id\":\($0),\"s\":\"é\($0)\"}" }.joined(separator: "\n")
        _ = write(dir, "r.jsonl", lines + "\n{oops\n")
        #expect(try await ExtractorConformance.resumesFromEveryCheckpoint(JSONLinesExtractor(.init(path: dir + "/r.jsonl"))) == 51)
    }
}

@Suite struct FileLoaderAndStateTests {
    // `parquet` parts need RunnelParquet's encoder: see Tests/RunnelParquetTests.
    @Test(arguments: PartFileLoader.Format.allCases.filter { $0 != .parquet })
    func partFilesAreIdempotent(_ format: PartFileLoader.Format) async throws {
        let dir = try CommandRunner.temporaryDirectory()
        let loader = PartFileLoader(.init(directory: dir + "/out", format: format))
        let batch = Batch(
            schema: Schema(["id", "name"]), rows: [[1, "a,b"], [2, "c\"d"]],
            origins: [Origin(source: "in.csv", line: 2), Origin(source: "in.csv", line: 3)])
        try await LoaderConformance.isIdempotent(loader, batch: batch) {
            let files = try FileManager.default.contentsOfDirectory(atPath: dir + "/out").sorted()
            return try files.map { [.string($0), .string(try String(contentsOfFile: dir + "/out/" + $0, encoding: .utf8))] }
        }
        let files = try FileManager.default.contentsOfDirectory(atPath: dir + "/out")
        #expect(files == ["part-in.csv-000000000002.\(format.rawValue)"])
    }

    @Test func fileCheckpointsAndDeadLettersKeepTheirContracts() async throws {
        let dir = try CommandRunner.temporaryDirectory()
        try await CheckpointStoreConformance.roundTrips(FileCheckpointStore(directory: dir))
        try await DeadLetterQueueConformance.isIdempotent(FileDeadLetterQueue(directory: dir))
    }
}
