import Foundation
import RunnelCore
import RunnelFiles
import RunnelTesting
import Testing

@testable import RunnelS3

/// The extractor, the part loader and the dead letter queue against moto.
struct S3PipelineTests {
    static func jsonl(_ range: Range<Int>) -> [UInt8] {
        Array(range.map { "{\"id\":\($0),\"name\":\"n\($0)\"}\n" }.joined().utf8)
    }

    static func extractor(_ client: S3Client, _ format: S3Extractor.Format, prefix: String = "", glob: String? = nil, chunk: Int = 64 << 10)
        -> S3Extractor
    {
        var c = S3Extractor.Configuration(format: format)
        c.prefix = prefix
        c.glob = glob
        c.chunkSize = chunk
        return S3Extractor(c, client: client)
    }

    static var jsonlFormat: S3Extractor.Format { .jsonl(JSONLinesExtractor.Configuration(path: "")) }

    @Test func readsObjectsInKeyOrderAcrossChunks() async throws {
        let client = try await TestS3.freshBucket("read")
        try await client.put("in/b.jsonl", body: Self.jsonl(5000..<10000), contentType: "x")
        try await client.put("in/a.jsonl", body: Self.jsonl(0..<5000), contentType: "x")
        try await client.put("skip/c.jsonl", body: Self.jsonl(0..<3), contentType: "x")
        // 64 KiB chunks: a 190 KB object takes several ranged GETs, with lines split across them.
        let read = try await ExtractorConformance.readAll(
            Self.extractor(client, Self.jsonlFormat, prefix: "in/"), from: nil, batching: .init(maxRecords: 1000))
        let ids = read.batches.flatMap(\.records).map { $0[0] }
        #expect(ids == (0..<10000).map { Value.int(Int64($0)) })
    }

    @Test func resumesMidObjectFromEveryCheckpoint() async throws {
        let client = try await TestS3.freshBucket("resume")
        try await client.put("a.jsonl", body: Self.jsonl(0..<300), contentType: "x")
        try await client.put("b.jsonl.gz", body: try Gzip.compress(Self.jsonl(300..<700)), contentType: "x")
        // Content-Encoding alone marks this one as gzip.
        try await client.put("c.data", body: try Gzip.compress(Self.jsonl(700..<800)), contentType: "x", contentEncoding: "gzip")
        let n = try await ExtractorConformance.resumesFromEveryCheckpoint(
            Self.extractor(client, Self.jsonlFormat), batching: .init(maxRecords: 37))
        #expect(n == 800)
    }

    @Test func csvObjectsUseTheFileParserWithItsDeadLetters() async throws {
        let client = try await TestS3.freshBucket("csv")
        let text = "id,name\n1,a\n2,\"b, quoted\"\n3,\"unterminated\n4,d\n"
        try await client.put("x.csv", body: Array(text.utf8), contentType: "text/csv")
        let extractor = Self.extractor(client, .csv(CSVExtractor.Configuration(path: "")))
        let reader = try await extractor.open(ExtractRequest(batching: .init(maxRecords: 100)))
        let batch = try #require(try await reader.nextBatch()?.batch)
        // As for local files, the stray quote costs its line only.
        #expect(batch.records.map { $0.values[1] } == [.string("a"), .string("b, quoted"), .string("d")])
        let rejected = try #require(batch.rejections.first)
        #expect(batch.sources[rejected.ordinal].origin.source == "s3://\(client.configuration.bucket)/x.csv")
        #expect(batch.sources[rejected.ordinal].origin.line == 4)
    }

    @Test func globAndKeyWindowSelectObjects() async throws {
        let client = try await TestS3.freshBucket("glob")
        for day in ["2024-01-30", "2024-01-31", "2024-02-01"] {
            try await client.put("logs/\(day)/part.jsonl", body: Self.jsonl(0..<2), contentType: "x")
            try await client.put("logs/\(day)/part.csv", body: Array("id\n1\n".utf8), contentType: "x")
        }
        let e = Self.extractor(client, Self.jsonlFormat, glob: "logs/*/*.jsonl")
        let all = try await ExtractorConformance.readAll(e, from: nil, batching: .init())
        #expect(all.count == 6)
        let reader = try await e.open(ExtractRequest(window: Window(from: "logs/2024-01-31", to: "logs/2024-02")))
        var sources: Set<String> = []
        while let b = try await reader.nextBatch()?.batch { for s in b.sources { sources.insert(s.origin.source) } }
        #expect(sources == ["s3://\(client.configuration.bucket)/logs/2024-01-31/part.jsonl"])
    }

    @Test func lastModifiedWindow() async throws {
        let client = try await TestS3.freshBucket("modified")
        try await client.put("a.jsonl", body: Self.jsonl(0..<3), contentType: "x")
        var c = S3Extractor.Configuration(format: Self.jsonlFormat)
        c.window = .lastModified
        let e = S3Extractor(c, client: client)
        let future = try await e.open(ExtractRequest(window: Window(from: "2999-01-01T00:00:00Z", to: nil)))
        #expect(try await future.nextBatch() == nil)
        let past = try await e.open(ExtractRequest(window: Window(from: "2000-01-01T00:00:00Z", to: "2999-01-01T00:00:00Z")))
        #expect(try await past.nextBatch()?.batch.records.count == 3)
    }

    @Test func aNewRunListsOnlyKeysAfterTheLastFinishedOne() async throws {
        let client = try await TestS3.freshBucket("incremental")
        try await client.put("k1.jsonl", body: Self.jsonl(0..<10), contentType: "x")
        let store = MemoryCheckpointStore()
        let loader = MemoryLoader(key: ["id"])
        let pipeline = Pipeline(name: "inc", extractor: Self.extractor(client, Self.jsonlFormat), loader: loader, checkpoints: store)
        #expect(await PipelineRunner(pipeline: pipeline).run().loaded == 10)
        let checkpoint = try #require(try await store.load(pipeline: "inc"))
        #expect(checkpoint.position.contains("\"done_through\":\"s3://\(client.configuration.bucket)/k1.jsonl\""))
        try await client.put("k2.jsonl", body: Self.jsonl(10..<15), contentType: "x")
        let second = await PipelineRunner(pipeline: pipeline).run()
        #expect(second.read == 5)
        #expect(loader.rows.count == 15)
    }

    @Test func partLoaderWritesIdempotentPartsAndMultipartForLargeOnes() async throws {
        let source = try await TestS3.freshBucket("src")
        try await source.put("orders.jsonl", body: Self.jsonl(0..<60_000), contentType: "x")
        let target = try await TestS3.freshBucket("dst")
        var c = S3PartLoader.Configuration(prefix: "out", format: .jsonl)
        c.partSize = 5 << 20
        let loader = S3PartLoader(c, client: target)
        let pipeline = Pipeline(
            name: "parts", extractor: Self.extractor(source, Self.jsonlFormat), loader: loader,
            batching: .init(maxRecords: 200_000, maxBytes: 64 << 20))
        let first = await PipelineRunner(pipeline: pipeline).run()
        #expect(first.exitCode == 0)
        // One batch, larger than a part: a multipart upload, completed, none left open.
        let parts = try await target.list(prefix: "out/")
        #expect(parts.map(\.key) == ["out/part-orders.jsonl-000000000001.jsonl"])
        #expect(try await target.listMultipartUploads(prefix: "").isEmpty)
        let body = try #require(try await target.getSmall(parts[0].key))
        #expect(body == Self.jsonl(0..<60_000).map { $0 })  // same bytes as the source: same fields, same order
        // A replay writes the same object again, not a second one.
        _ = await PipelineRunner(pipeline: pipeline).run()
        #expect(try await target.list(prefix: "out/").map(\.key) == parts.map(\.key))
    }

    @Test func gzipPartsAndAbandonedUploadsAreAborted() async throws {
        let source = try await TestS3.freshBucket("gzsrc")
        try await source.put("o.jsonl", body: Self.jsonl(0..<100), contentType: "x")
        let target = try await TestS3.freshBucket("gzdst")
        let stale = try await target.createMultipartUpload("out/part-stale.jsonl.gz", contentType: "x")
        var c = S3PartLoader.Configuration(prefix: "out/", format: .jsonl)
        c.gzip = true
        c.abandonedUploadAge = .zero
        let pipeline = Pipeline(
            name: "gz", extractor: Self.extractor(source, Self.jsonlFormat), loader: S3PartLoader(c, client: target),
            batching: .init(maxRecords: 40))
        #expect(await PipelineRunner(pipeline: pipeline).run().loaded == 100)
        #expect(try await target.listMultipartUploads(prefix: "out/").map(\.uploadID).contains(stale) == false)
        let keys = try await target.list(prefix: "out/").map(\.key)
        #expect(keys.count == 3 && keys.allSatisfy { $0.hasSuffix(".jsonl.gz") })
        // The parts read back through the extractor: the same 100 records.
        let back = try await ExtractorConformance.readAll(
            Self.extractor(target, Self.jsonlFormat, prefix: "out/"), from: nil, batching: .init())
        #expect(Set(back.batches.flatMap(\.records).map { $0[0] }).count == 100)
    }

    @Test func deadLettersGoToTheBucketOnceEach() async throws {
        let client = try await TestS3.freshBucket("dlq")
        try await client.put("in.jsonl", body: Array("{\"id\":1}\nnot json\n{\"id\":2}\n[1]\n".utf8), contentType: "x")
        let queue = S3DeadLetterQueue(client: client, prefix: "dead")
        let pipeline = Pipeline(
            name: "dl", extractor: Self.extractor(client, Self.jsonlFormat, prefix: "in"), loader: MemoryLoader(key: ["id"]),
            deadLetters: queue)
        #expect(await PipelineRunner(pipeline: pipeline).run().deadLettered == 2)
        _ = await PipelineRunner(pipeline: pipeline).run()
        let letters = try await queue.list(pipeline: "dl", limit: nil)
        #expect(letters.map(\.origin.line) == [2, 4])
        #expect(letters.first?.raw == "not json")
        #expect(try await client.list(prefix: "dead/").map(\.key) == ["dead/dl.dead-letters.jsonl"])
    }

    @Test func aTruncatedGzipObjectIsAnError() async throws {
        let client = try await TestS3.freshBucket("trunc")
        let gz = try Gzip.compress(Self.jsonl(0..<5000))
        try await client.put("t.jsonl.gz", body: Array(gz.prefix(gz.count / 2)), contentType: "x")
        let reader = try await Self.extractor(client, Self.jsonlFormat).open(ExtractRequest())
        await #expect(throws: RunnelError.self) { while try await reader.nextBatch()?.batch != nil {} }
    }
}
