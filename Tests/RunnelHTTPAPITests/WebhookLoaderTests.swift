import RunnelCore
import Testing

@testable import RunnelHTTPAPI

/// The webhook loader against the test server's receiver, alone and under the runner.
@Suite struct WebhookLoaderTests {
    static func rows(_ n: Int) -> [[Value]] { (1...n).map { [.int(Int64($0)), .string("r\($0)")] } }

    func loader(_ server: TestServer, client: HTTPAPIClient, format: HTTPWebhookLoader.Format = .jsonArray)
        -> HTTPWebhookLoader
    {
        var endpoint = HTTPEndpoint(url: server.base + "/webhook", method: "POST")
        endpoint.retry.baseDelay = .milliseconds(10)
        var c = HTTPWebhookLoader.Configuration(endpoint: endpoint, pipeline: "hooks")
        c.format = format
        return HTTPWebhookLoader(c, client: client)
    }

    static func received(_ server: TestServer) throws -> [(key: String, records: [Value], type: String)] {
        guard case .array(let posts) = try server.control("/_received") else { return [] }
        return posts.compactMap { p in
            guard case .object(let o) = p, case .string(let key)? = o["key"], case .array(let records)? = o["records"],
                case .string(let type)? = o["content_type"]
            else { return nil }
            return (key, records, type)
        }
    }

    @Test(arguments: [HTTPWebhookLoader.Format.jsonArray, .ndjson])
    func postsEachBatchWithAStableIdempotencyKey(format: HTTPWebhookLoader.Format) async throws {
        let server = try TestServer()
        defer { server.stop() }
        try await withClient { client in
            let l = loader(server, client: client, format: format)
            let origins = (1...3).map { Origin(source: "in.jsonl", line: $0) }
            let batch = Batch(schema: Schema(["id", "name"]), rows: Array(Self.rows(3)), origins: origins)
            _ = try await l.load(batch, commit: nil)
            _ = try await l.load(batch, commit: nil)
            // The same positions with other records (a listing polled again at the same URL).
            let other = Batch(schema: Schema(["id", "name"]), rows: Array(Self.rows(4).dropFirst()), origins: origins)
            _ = try await l.load(other, commit: nil)
            let posts = try Self.received(server)
            #expect(posts.count == 3)
            #expect(posts[0].key == posts[1].key, "the same batch again carries the same key")
            #expect(posts[0].key != posts[2].key)
            #expect(posts[0].records.count == 3)
            #expect(posts[0].records.first == .object(Object(keys: ["id", "name"], values: [.int(1), .string("r1")])))
            #expect(posts[0].type == (format == .ndjson ? "application/x-ndjson" : "application/json"))
        }
    }

    @Test func refusedBatchesGoToTheDeadLetterQueueAndTheRunGoesOn() async throws {
        let server = try TestServer(["--webhook-reject-every", "2"])
        defer { server.stop() }
        try await withClient { client in
            let dlq = MemoryDeadLetterQueue()
            let store = MemoryCheckpointStore()
            let pipeline = Pipeline(
                name: "hooks", extractor: MemoryExtractor(fields: ["id", "name"], rows: Self.rows(40)),
                loader: loader(server, client: client), checkpoints: store, deadLetters: dlq,
                batching: .init(maxRecords: 10))
            let summary = await PipelineRunner(pipeline: pipeline).run()
            #expect(summary.exitCode == 0)
            #expect(summary.read == 40)
            #expect(summary.loaded == 20)
            #expect(summary.deadLettered == 20)
            let letters = try await dlq.list(pipeline: "hooks", limit: nil)
            #expect(letters.count == 20)
            #expect(letters.allSatisfy { $0.stage == "load" && $0.errorCode == "http_422" })
            #expect(
                letters.first?.message.contains("amount must be positive") == true, "the response is in the envelope")
            let posted = try Self.received(server).flatMap(\.records).count
            #expect(posted == 20)
            #expect(try await store.load(pipeline: "hooks") != nil, "the position moved past the refused batches")
        }
    }
}
