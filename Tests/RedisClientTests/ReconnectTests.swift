#if Redis
import Testing

@testable import RedisClient

/// `RedisClient` against a redis-server of the test's own that it kills and restarts.
struct ReconnectTests {
    func clientConfiguration(port: Int) -> RedisConfiguration {
        var configuration = RedisConfiguration(host: "127.0.0.1", port: port)
        configuration.connectTimeout = .seconds(1)
        configuration.commandTimeout = .seconds(10)
        configuration.reconnect = .exponentialJitter(base: .milliseconds(20), cap: .milliseconds(200))
        return configuration
    }

    @Test("the client reconnects after the server is killed and restarted")
    func reconnects() async throws {
        let port = try freeLoopbackPort()
        var server = try await RedisServerProcess(port: port)
        let client = RedisClient(configuration: clientConfiguration(port: port), logger: testLogger)

        #expect(!client.isConnected)  // lazy: nothing happens before the first command
        try await client.send(["SET", "k", "before"])
        #expect(client.isConnected)

        // A blocking read is in flight when the server dies: it fails with a transient error.
        let blocked = Task {
            try await client.send(RedisCommand("BLPOP", ["never", 0], serverBlockingTime: .seconds(60)))
        }
        try await eventually("BLPOP to block") {
            try await RedisConnection.withConnection(configuration: clientConfiguration(port: port), logger: testLogger)
            {
                try await $0.send(["INFO", "clients"]).string?.contains("blocked_clients:1") == true
            }
        }
        try await server.kill()

        let inFlight = await expectRedisError { _ = try await blocked.value }
        #expect(inFlight?.code == .connectionClosed)
        #expect(inFlight?.isTransient == true)
        try await eventually("the client to notice the drop") { !client.isConnected }

        // While the server is down, commands fail with transient connect errors (after back-off).
        let down = await expectRedisError { try await client.send(["PING"]) }
        #expect(down?.code == .connectFailed)
        #expect(down?.isTransient == true)

        server = try await RedisServerProcess(port: port)
        try await eventually("a command to succeed after the restart") {
            try await client.send(["PING"]) == .simpleString("PONG")
        }
        #expect(client.isConnected)
        // The restarted server is empty (no persistence): this is a new connection to it.
        #expect(try await client.send(["GET", "k"]) == .null)
        try await client.send(["SET", "k", "after"])
        #expect(try await client.send(["GET", "k"]).string == "after")

        await client.close()
        #expect(!client.isConnected)
        let closed = await expectRedisError { try await client.send(["PING"]) }
        #expect(closed?.code == .clientClosed)
        #expect(closed?.isTransient == false)
        try await server.kill()
    }

    @Test("concurrent commands during an outage share reconnect attempts and all recover")
    func concurrentRecovery() async throws {
        let port = try freeLoopbackPort()
        var server = try await RedisServerProcess(port: port)
        let client = RedisClient(configuration: clientConfiguration(port: port), logger: testLogger)
        try await client.send(["PING"])
        try await server.kill()
        try await eventually("the client to notice the drop") { !client.isConnected }

        // Failures while down are transient connect failures, never hangs.
        try await withThrowingTaskGroup(of: RedisError?.self) { group in
            for _ in 0..<10 {
                group.addTask { await expectRedisError { try await client.send(["PING"]) } }
            }
            for try await error in group {
                #expect(error?.code == .connectFailed)
            }
        }

        server = try await RedisServerProcess(port: port)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<10 {
                group.addTask {
                    try await eventually("command \(index) to succeed") {
                        try await client.send(["INCR", "recovered"]).int != nil
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(try await client.send(["GET", "recovered"]).int == 10)
        await client.close()
        try await server.kill()
    }
}

#endif
