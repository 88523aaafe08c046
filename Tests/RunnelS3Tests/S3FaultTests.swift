import Foundation
import RunnelCore
import RunnelFiles
import RunnelTesting
import Testing

@testable import RunnelS3

/// Through a proxy that answers every fourth request with 503 SlowDown and cuts every fourth
/// GET's body in half: the reads and writes are retried per request, and the result is exact.
struct S3FaultTests {
    @Test func slowDownAndCutBodiesAreRetriedWithoutLosingBytes() async throws {
        let direct = try await TestS3.freshBucket("faults")
        let body = S3PipelineTests.jsonl(0..<20_000)
        try await direct.put("in/a.jsonl", body: body, contentType: "x")

        let upstream = try #require(URLComponents(string: TestS3.endpoint)?.port)
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("flaky_proxy.py").path
        let proxy = try CommandRunner.start("/usr/bin/env", ["python3", script, String(upstream)])
        defer { proxy.kill(SIGKILL) }
        let firstLine = proxy.stdoutPipe.fileHandleForReading.availableData
        let port = try #require(Int(String(decoding: firstLine, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)))

        var c = S3Client.Configuration(bucket: direct.configuration.bucket)
        c.endpoint = "http://127.0.0.1:\(port)"
        c.retry = .exponentialJitter(maxAttempts: 6, baseDelay: .milliseconds(5), maxDelay: .milliseconds(50))
        let flaky = try S3Client(c, credentials: TestS3.credentials)

        var e = S3Extractor.Configuration(format: .jsonl(JSONLinesExtractor.Configuration(path: "")))
        e.chunkSize = 64 << 10
        let read = try await ExtractorConformance.readAll(S3Extractor(e, client: flaky), from: nil, batching: .init(maxRecords: 5000))
        #expect(read.batches.flatMap(\.records).map { $0[0] } == (0..<20_000).map { Value.int(Int64($0)) })

        let loader = S3PartLoader(.init(prefix: "out/", format: .jsonl), client: flaky)
        let batch = Batch(schema: Schema(["id"]), rows: (0..<100).map { [.int(Int64($0))] }, origins: (0..<100).map { Origin(source: "x", line: $0 + 1) })
        for _ in 0..<4 { try await loader.load(batch, commit: nil) }
        #expect(try await direct.list(prefix: "out/").count == 1)

        // SIGKILL: the test process blocks SIGTERM, and a child inherits the blocked mask.
        proxy.kill(SIGKILL)
        _ = proxy.wait()
        let faults = String(decoding: proxy.stderrPipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let lines = faults.split(separator: "\n")
        #expect(lines.filter { $0 == "slowdown" }.count >= 3, "the proxy must actually inject 503s")
        #expect(lines.filter { $0 == "cut" }.count >= 3, "the proxy must actually cut bodies")
    }
}
