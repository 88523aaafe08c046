import RunnelCore
import Testing

@testable import RunnelHTTPAPI

/// `cursor:` incremental loads and `--from/--to` backfills.
@Suite struct IncrementalTests {
    static func extractor(_ server: TestServer, client: HTTPAPIClient, style: Int = 3) -> HTTPAPIExtractor {
        PaginationTests.extractor(PaginationTests.styles[style], server: server, client: client) {
            $0.cursor = .init(
                field: "updated_at", param: "updated_since", initial: "2000-01-01T00:00:00Z", endParam: "updated_before"
            )
        }
    }

    @Test(arguments: [0, 3])
    func theNextRunAsksOnlyForWhatChangedSinceTheLastCommittedValue(style: Int) async throws {
        let server = try TestServer(["--records", "45"])
        defer { server.stop() }
        try await withClient { client in
            let e = Self.extractor(server, client: client, style: style)
            let first = try await readAll(e)
            #expect(first.ids == ids(45))
            let done = try #require(first.batches.last?.checkpoint)
            #expect(done.position.contains(#""since":"2024-01-01T00:45:00Z""#))
            try server.post("/_update", #"{"ids": [3, 17, 30]}"#)
            // `updated_since` is inclusive on this server: the last record read comes again, once.
            let second = try await readAll(e, checkpoint: done)
            #expect(second.ids == [45, 3, 17, 30])
            let third = try await readAll(e, checkpoint: second.batches.last?.checkpoint)
            #expect(third.ids == [30], "only the newest value is read again")
        }
    }

    @Test func aWindowIsSentAsParamAndEndParam() async throws {
        let server = try TestServer(["--records", "100"])
        defer { server.stop() }
        try await withClient { client in
            let e = Self.extractor(server, client: client)
            let w = try await readAll(e, window: Window(from: "2024-01-01T00:10:00Z", to: "2024-01-01T00:40:00Z"))
            #expect(w.ids == Array(10...39))
        }
    }

    @Test func aWindowWithoutACursorIsAConfigError() async throws {
        let server = try TestServer()
        defer { server.stop() }
        try await withClient { client in
            let e = PaginationTests.extractor(PaginationTests.styles[3], server: server, client: client)
            await #expect(throws: RunnelError.self) { _ = try await readAll(e, window: Window(from: "a", to: nil)) }
        }
    }
}
