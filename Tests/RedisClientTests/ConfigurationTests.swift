#if Redis
import RunnelTesting
import Testing

@testable import RedisClient

/// URL parsing, redaction, backoff and IDs: no server needed.
struct ConfigurationTests {
    struct URLCase: Sendable, CustomTestStringConvertible {
        var url: String
        var host: String
        var port: Int
        var username: String?
        var password: String?
        var database: Int
        var tls: Bool
        var testDescription: String { url }
    }

    @Test(
        "redis:// and rediss:// URLs",
        arguments: [
            URLCase(url: "redis://localhost", host: "localhost", port: 6379, database: 0, tls: false),
            URLCase(url: "redis://127.0.0.1:6390", host: "127.0.0.1", port: 6390, database: 0, tls: false),
            URLCase(url: "redis://:pw@h:1/2", host: "h", port: 1, password: "pw", database: 2, tls: false),
            URLCase(
                url: "redis://runnel:secret@h/15", host: "h", port: 6379, username: "runnel", password: "secret",
                database: 15, tls: false),
            URLCase(url: "redis://runnel@h", host: "h", port: 6379, username: "runnel", database: 0, tls: false),
            URLCase(
                url: "rediss://u:p%40ss%3Aw@redis.internal:6380/", host: "redis.internal", port: 6380, username: "u",
                password: "p@ss:w", database: 0, tls: true),
            URLCase(url: "REDIS://[::1]:7000/3", host: "::1", port: 7000, database: 3, tls: false),
        ]
    )
    func parsesURLs(expected: URLCase) throws {
        let configuration = try RedisConfiguration(url: expected.url)
        #expect(configuration.host == expected.host)
        #expect(configuration.port == expected.port)
        #expect(configuration.username == expected.username)
        #expect(configuration.password == expected.password)
        #expect(configuration.database == expected.database)
        #expect((configuration.tls != nil) == expected.tls)
    }

    @Test(
        "bad URLs are rejected without quoting them",
        arguments: [
            "http://u:hunter2@h", "redis://u:hunter2@", "redis://u:hunter2@h:port", "redis://u:hunter2@h:70000",
            "redis://u:hunter2@h/db", "redis://u:hunter2@h?db=1", "redis://u:hunter2%zz@h", "u:hunter2@h",
        ]
    )
    func rejectsBadURLs(url: String) {
        #expect {
            _ = try RedisConfiguration(url: url)
        } throws: { error in
            guard let error = error as? RedisError else { return false }
            return error.code == .invalidConfiguration && !"\(error)".contains("hunter2")
        }
    }

    @Test("description masks the password")
    func redactsPassword() throws {
        let configuration = try RedisConfiguration(url: "rediss://runnel:hunter2@redis.internal:6380/4")
        #expect(configuration.description == "rediss://runnel:***@redis.internal:6380/4")
        #expect(!"\(configuration)".contains("hunter2"))
        let passwordOnly = try RedisConfiguration(url: "redis://:hunter2@[::1]")
        #expect(passwordOnly.description == "redis://:***@[::1]:6379")
    }

    @Test("backoff: immediate first retry, then exponential with jitter up to the cap")
    func backoff() {
        let backoff = RedisConfiguration.Backoff.exponentialJitter(base: .milliseconds(100), cap: .seconds(2))
        #expect(backoff.delay(afterFailures: 0) == .zero)
        #expect(backoff.delay(afterFailures: 1, random: 1) == .milliseconds(100))
        #expect(backoff.delay(afterFailures: 1, random: 0) == .milliseconds(50))
        #expect(backoff.delay(afterFailures: 4, random: 1) == .milliseconds(800))
        #expect(backoff.delay(afterFailures: 10, random: 1) == .seconds(2))
        #expect(backoff.delay(afterFailures: 1000, random: 0) == .seconds(1))
        for failures in 1...20 {
            let delay = backoff.delay(afterFailures: failures)
            #expect(delay >= .milliseconds(50) && delay <= .seconds(2))
        }
    }

    @Test("stream IDs parse, print and order like Redis")
    func streamIDs() {
        #expect(StreamID("1700000000000-3") == StreamID(milliseconds: 1_700_000_000_000, sequence: 3))
        #expect(StreamID("5") == StreamID(milliseconds: 5, sequence: 0))
        #expect(StreamID("18446744073709551615-18446744073709551615") == .max)
        for bad in ["", "-", "1-", "-1", "a-1", "1-b", "1-2-3", "18446744073709551616-0"] {
            #expect(StreamID(bad) == nil, "\(bad)")
        }
        #expect(StreamID(milliseconds: 12, sequence: 4).description == "12-4")
        #expect(StreamID.zero.description == "0-0")
        #expect(StreamID.max.description == "18446744073709551615-18446744073709551615")
        var rng = SeededGenerator(seed: 3)
        for _ in 0..<1_000 {
            let id = StreamID(milliseconds: rng.next() >> (rng.next() % 64), sequence: rng.next() >> (rng.next() % 64))
            #expect(id.description == "\(id.milliseconds)-\(id.sequence)" && StreamID(id.description) == id)
        }
        #expect(StreamID("1-9")! < StreamID("2-0")!)
        #expect(StreamID("2-1")! > StreamID("2-0")!)
        #expect(StreamID("10-0")! > StreamID("9-99")!)  // numeric, not lexicographic
    }

    @Test("errors: transient codes, server error words, metric labels")
    func errors() {
        #expect(RedisError(code: .connectionClosed, message: "x").isTransient)
        #expect(RedisError(code: .connectFailed, message: "x").isTransient)
        #expect(RedisError(code: .timeout, message: "x").isTransient)
        #expect(!RedisError(code: .authentication, message: "WRONGPASS x").isTransient)
        #expect(RedisError(code: .server, message: "LOADING Redis is loading").isTransient)
        let noGroup = RedisError(
            code: .server, message: "NOGROUP No such key 'k' or consumer group 'g'", command: "XREADGROUP")
        #expect(!noGroup.isTransient)
        #expect(noGroup.serverErrorCode == "NOGROUP")
        #expect(noGroup.shortDescription == "redis_server_NOGROUP")
        #expect(RedisError(code: .timeout, message: "x").shortDescription == "redis_timeout")
        #expect("\(noGroup)".contains("XREADGROUP"))
        #expect(RedisCommand("AUTH", ["runnel", "hunter2"]).description == "AUTH (2 arguments)")
    }
}

#endif

