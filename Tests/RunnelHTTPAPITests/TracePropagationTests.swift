import RunnelCore
import Synchronization
import Testing

@testable import RunnelHTTPAPI

/// Keeps the committed batches' events.
final class CommittedBatches: PipelineObserver, Sendable {
    let events = Mutex<[BatchEvent]>([])
    func batchCommitted(_ event: BatchEvent) { events.withLock { $0.append(event) } }
}

/// HTTP API → webhook with tracing on, against the test server.
@Suite struct TracePropagationTests {
    @Test func aSourceResponsesTraceparentIsLinkedAndTheWebhookGetsTheBatchContext() async throws {
        let upstream = TraceContext.newSpan()
        let server = try TestServer(["--records", "30", "--traceparent", upstream.traceparent])
        defer { server.stop() }
        try await withClient { client in
            let style = try #require(PaginationTests.styles.first { $0.name == "page" })
            var endpoint = HTTPEndpoint(url: server.base + "/webhook", method: "POST")
            endpoint.retry.baseDelay = .milliseconds(10)
            let batches = CommittedBatches()
            var options = RunOptions(mode: .batch)
            options.traceSampleRatio = 1
            let pipeline = Pipeline(
                name: "traced-hooks", extractor: PaginationTests.extractor(style, server: server, client: client),
                loader: HTTPWebhookLoader(.init(endpoint: endpoint, pipeline: "traced-hooks"), client: client),
                batching: .init(maxRecords: 10))
            let summary = await PipelineRunner(pipeline: pipeline, options: options, observer: batches).run()
            #expect(summary.exitCode == 0 && summary.loaded == 30, "\(summary.error ?? "")")

            let events = batches.events.withLock { $0 }
            // A page per batch (the last, empty page ends the listing: nothing to post for it).
            let loaded = events.filter { $0.loaded > 0 }
            #expect(loaded.count == 3)
            #expect(events.allSatisfy { $0.trace.links == [upstream] }, "each page's traceparent is a link of its batch")
            let contexts = loaded.compactMap { $0.trace.context?.traceparent }
            guard case .array(let posts) = try server.control("/_received") else {
                Issue.record("no posts")
                return
            }
            let sent = posts.compactMap { p -> String? in
                guard case .object(let o) = p, case .string(let t)? = o["traceparent"] else { return nil }
                return t
            }
            #expect(sent == contexts, "each POST carries its batch's context")
        }
    }
}
