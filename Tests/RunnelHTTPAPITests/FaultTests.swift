import Foundation
import RunnelCore
import RunnelTesting
import Testing

@testable import RunnelHTTPAPI

/// Faults the server injects: rate limiting, cut connections, malformed pages, refused requests.
@Suite struct FaultTests {
    @Test func retriesAfterTooManyRequestsHonouringRetryAfter() async throws {
        // Every 3rd request answers 429, alternately with `Retry-After: 1` and an HTTP-date 2 s ahead.
        let server = try TestServer(["--records", "60", "--rate-limit-every", "3"])
        defer { server.stop() }
        try await withClient { client in
            let e = PaginationTests.extractor(PaginationTests.styles[3], server: server, client: client)
            let read = try await readAll(e)
            #expect(read.ids == ids(60))
        }
        guard case .array(let log) = try server.control("/_log") else {
            Issue.record("no log")
            return
        }
        var waits: [Double] = []
        for (i, entry) in log.enumerated() {
            guard case .object(let o) = entry, o["status"] == .int(429), i + 1 < log.count,
                case .object(let retry) = log[i + 1], let t0 = o["time"]?.numeric, let t1 = retry["time"]?.numeric
            else { continue }
            waits.append(t1 - t0)
        }
        #expect(waits.count >= 2, "the schedule produced both kinds of Retry-After")
        // Seconds: exactly 1 s. HTTP-date: second resolution, so at least 1 s of the 2 remain.
        #expect(waits.allSatisfy { $0 >= 0.95 }, "retried before Retry-After: \(waits)")
    }

    @Test func everyRetryIsLoggedWithItsReasonAndNoSecret() throws {
        let server = try TestServer(["--records", "200", "--token", "s3cr3t-t0ken", "--rate-limit-every", "3"])
        defer { server.stop() }
        let dir = try httpSpec(server)
        let run = try CommandRunner.run(
            batchBinary, ["run", dir + "/pipeline.yaml", "--no-progress"], environment: ["API_TOKEN": "s3cr3t-t0ken"])
        #expect(run.exitCode == 0, "\(run.stderr)")
        guard case .array(let log) = try server.control("/_log") else {
            Issue.record("no log")
            return
        }
        let refused = log.filter { if case .object(let o) = $0 { o["status"] == .int(429) } else { false } }.count
        let retries = run.stderr.split(separator: "\n").filter { $0.contains("request failed; retrying") }
        #expect(refused >= 2, "the schedule refused requests")
        #expect(retries.count == refused, "\(run.stderr)")
        #expect(retries.allSatisfy { $0.contains("http_429") && $0.contains("/offset/items") })
        #expect(!(run.stdout + run.stderr).contains("s3cr3t-t0ken"))
    }

    @Test func connectionsDroppedMidBodyAreRetried() async throws {
        let server = try TestServer(["--records", "80", "--drop-every", "4"])
        defer { server.stop() }
        try await withClient { client in
            for style in PaginationTests.styles {
                let e = PaginationTests.extractor(style, server: server, client: client)
                let read = try await readAll(e)
                #expect(read.ids == ids(80), "\(style.name)")
            }
        }
    }

    @Test(arguments: [PaginationTests.styles[1], PaginationTests.styles[3], PaginationTests.styles[4]])
    func aMalformedPageIsRejectedWithItsBodyAndTheRestIsRead(_ style: PaginationTests.Style) async throws {
        let server = try TestServer(["--records", "50", "--malformed-page", "2"])
        defer { server.stop() }
        try await withClient { client in
            let e = PaginationTests.extractor(style, server: server, client: client)
            let all = try await readAll(e)
            #expect(all.ids == Array(1...20) + Array(31...50))
            #expect(all.rejections.count == 1)
            #expect(all.rejections.first?.code == "malformed_page")
            #expect(all.rejections.first?.raw == #"{"data": [{"id": 1,,, broken"#)
        }
    }

    @Test func aRecordsPathThatIsMissingRejectsThePage() async throws {
        let server = try TestServer(["--records", "5"])
        defer { server.stop() }
        try await withClient { client in
            let e = PaginationTests.extractor(PaginationTests.styles[0], server: server, client: client) {
                $0.records = "results"
            }
            let all = try await readAll(e)
            #expect(all.ids.isEmpty)
            #expect(all.rejections.map(\.code) == ["malformed_page"])
            #expect(all.rejections.first?.message.contains("'results'") == true)
            // The listing cannot go on without the body: the checkpoint stays at that page.
            #expect(all.batches.last?.checkpoint == Checkpoint("{}"))
        }
    }

    @Test func aClientErrorIsAConfigErrorNamingTheURLWithoutTheKey() async throws {
        let secret = "k3y-\(UInt32.random(in: 0..<UInt32.max))"
        let server = try TestServer(["--token", "the-right-one"])
        defer { server.stop() }
        try await withClient { client in
            var endpoint = HTTPEndpoint(url: server.base + "/offset/items")
            endpoint.auth = .apiKey(query: "api_key", value: secret)
            var c = HTTPAPIExtractor.Configuration(endpoint: endpoint)
            c.records = "data"
            c.pagination = .offset(limit: 10)
            let e = HTTPAPIExtractor(c, client: client)
            do {
                _ = try await readAll(e)
                Issue.record("a 401 must fail the read")
            } catch let error as RunnelError {
                #expect(error.code == .config)
                #expect(error.code.exitCode == 2)
                #expect(error.message.contains("HTTP 401"))
                #expect(error.message.contains("api_key=***"))
                #expect(error.message.contains("bad credentials"), "the first bytes of the body")
                #expect(!error.description.contains(secret))
            }
        }
    }

    @Test func anUnreachableServerFailsAfterItsRetries() async throws {
        try await withClient { client in
            var endpoint = HTTPEndpoint(url: "http://127.0.0.1:9/items")
            endpoint.retry.maxAttempts = 2
            endpoint.retry.baseDelay = .milliseconds(10)
            let e = HTTPAPIExtractor(.init(endpoint: endpoint), client: client)
            do {
                _ = try await readAll(e)
                Issue.record("an unreachable server must fail the read")
            } catch let error as RunnelError {
                #expect(error.code.exitCode == 1)
                #expect(error.message.contains("gave up after 2 attempts"))
            }
        }
    }
}
