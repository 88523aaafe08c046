import RunnelCore
import Testing

@testable import RunnelHTTPAPI

/// Each pagination style against the real test server: every record once, in order, and a read
/// resumed from any page's checkpoint yields exactly the rest.
@Suite struct PaginationTests {
    struct Style: Sendable, CustomTestStringConvertible {
        var name: String
        var path: String
        var records: String
        var pagination: Pagination
        var query: [(name: String, value: String)]
        var testDescription: String { name }
    }

    static let styles: [Style] = [
        Style(
            name: "next_url", path: "/next_url/items", records: "data", pagination: .nextURL(field: "links.next"),
            query: [("limit", "10")]),
        Style(name: "link", path: "/link/items", records: "", pagination: .link, query: [("per_page", "10")]),
        Style(
            name: "cursor", path: "/cursor/items", records: "items",
            pagination: .cursor(field: "meta.next_cursor", param: "cursor"),
            query: [("limit", "10")]),
        Style(name: "offset", path: "/offset/items", records: "data", pagination: .offset(limit: 10), query: []),
        Style(
            name: "page", path: "/page/items", records: "data", pagination: .page(sizeParam: "per_page", size: 10),
            query: []),
    ]

    static func extractor(
        _ style: Style, server: TestServer, client: HTTPAPIClient,
        _ edit: (inout HTTPAPIExtractor.Configuration) -> Void = { _ in }
    )
        -> HTTPAPIExtractor
    {
        var endpoint = HTTPEndpoint(url: server.base + style.path)
        endpoint.query = style.query
        endpoint.retry.baseDelay = .milliseconds(20)
        var c = HTTPAPIExtractor.Configuration(endpoint: endpoint)
        c.records = style.records
        c.pagination = style.pagination
        edit(&c)
        return HTTPAPIExtractor(c, client: client)
    }

    @Test(arguments: styles)
    func readsEveryRecordOnceAndResumesFromEveryPage(_ style: Style) async throws {
        let server = try TestServer(["--records", "95"])
        defer { server.stop() }
        try await withClient { client in
            let e = Self.extractor(style, server: server, client: client)
            let all = try await readAll(e)
            #expect(all.ids == ids(95))
            #expect(all.rejections.isEmpty)
            // 10 pages of records; styles that only stop on an empty page ask for an eleventh.
            #expect(all.batches.filter { !$0.records.isEmpty }.count == 10)
            // Resuming from any page's checkpoint yields exactly the rest. (The last checkpoint
            // completes the listing; from there a new listing starts, checked below.)
            var consumed = 0
            for b in all.batches.dropLast() {
                consumed += b.records.count
                let rest = try await readAll(e, checkpoint: b.checkpoint)
                #expect(rest.ids == Array(all.ids.dropFirst(consumed)), "from \(b.checkpoint?.position ?? "nil")")
            }
            // The listing's last checkpoint says it is complete: the next run starts a new listing.
            let again = try await readAll(e, checkpoint: all.batches.last?.checkpoint)
            #expect(again.ids == ids(95), "a completed listing starts over (no cursor configured)")
        }
    }

    @Test func maxPagesStopsAndTheNextRunGoesOn() async throws {
        let server = try TestServer(["--records", "95"])
        defer { server.stop() }
        try await withClient { client in
            let e = Self.extractor(Self.styles[0], server: server, client: client) { $0.maxPages = 3 }
            let first = try await readAll(e)
            #expect(first.ids == Array(1...30))
            let second = try await readAll(e, checkpoint: first.batches.last?.checkpoint)
            #expect(second.ids == Array(31...60))
        }
    }

    @Test func concurrentOffsetPagesArriveInOrder() async throws {
        let server = try TestServer(["--records", "237"])
        defer { server.stop() }
        try await withClient { client in
            let e = Self.extractor(Self.styles[3], server: server, client: client) { $0.concurrency = 4 }
            let all = try await readAll(e)
            #expect(all.ids == ids(237))
        }
    }

    @Test func anObjectResponseIsOneRecord() async throws {
        let server = try TestServer()
        defer { server.stop() }
        try await withClient { client in
            let e = HTTPAPIExtractor(.init(endpoint: HTTPEndpoint(url: server.base + "/object")), client: client)
            let all = try await readAll(e)
            #expect(all.ids == [1])
        }
    }

    @Test func limitStopsInsideAPageAndTheNextRunReadsThatPageAgain() async throws {
        let server = try TestServer(["--records", "50"])
        defer { server.stop() }
        try await withClient { client in
            let e = Self.extractor(Self.styles[3], server: server, client: client)
            let first = try await readAll(e, limit: 15)
            #expect(first.ids == Array(1...15))
            let rest = try await readAll(e, checkpoint: first.batches.last?.checkpoint)
            #expect(rest.ids == Array(11...50), "the page cut by --limit is read whole next time")
        }
    }

    @Test func sequentialStylesRefuseConcurrency() async throws {
        let server = try TestServer()
        defer { server.stop() }
        try await withClient { client in
            let e = Self.extractor(Self.styles[0], server: server, client: client) { $0.concurrency = 2 }
            await #expect(throws: RunnelError.self) { _ = try await readAll(e) }
        }
    }
}

@Suite struct HelperTests {
    @Test func linkHeaderFindsNextAmongSeveral() {
        #expect(
            LinkHeader.next([#"<https://a/x?page=1>; rel="first", <https://a/x?page=3&q=a,b>; rel="next last""#])
                == "https://a/x?page=3&q=a,b")
        #expect(LinkHeader.next([#"<https://a/x?page=1>; rel="prev""#]) == nil)
    }

    @Test func retryAfterReadsSecondsAndAllThreeDateForms() {
        let now = Timestamp(seconds: 784_111_777 - 10)  // ten seconds before Sun, 06 Nov 1994 08:49:37 GMT
        #expect(RetryAfter.delay("120", now: now) == .seconds(120))
        for form in ["Sun, 06 Nov 1994 08:49:37 GMT", "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994"] {
            #expect(RetryAfter.delay(form, now: now) == .seconds(10), "\(form)")
        }
        #expect(RetryAfter.delay("soon", now: now) == nil)
    }

    @Test func redactorMasksSecretsInURLsAndText() {
        let r = Redactor(secrets: ["s3cr3t"], secretParameters: ["my_key"])
        #expect(r.url("https://u:pw@h/p?my_key=abc&page=2&token=t") == "https://u:***@h/p?my_key=***&page=2&token=***")
        #expect(r.text("Bearer s3cr3t failed") == "Bearer *** failed")
    }
}
