#if Redis
import Foundation
import Testing

@testable import RedisClient

/// `RedisConnection` against the real server started by scripts/test (RUNNEL_TEST_REDIS_URL).
struct ConnectionTests {
    @Test("SET and GET round-trip every byte value", arguments: [true, false])
    func binarySafe(preferRESP3: Bool) async throws {
        let key = uniqueKey("binary")
        let payload = (0...255).map { UInt8($0) } + Array("\r\n$-1\r\n*2\r\n".utf8) + [0, 0]
        try await withTestConnection(preferRESP3: preferRESP3) { connection in
            #expect(connection.protocolVersion == (preferRESP3 ? 3 : 2))
            #expect(
                try await connection.send(RedisCommand("SET", [.string(key), .bytes(payload)])) == .simpleString("OK"))
            #expect(try await connection.send(["GET", .string(key)]) == .bulkString(payload))
            #expect(try await connection.send(["GET", .string(uniqueKey("missing"))]) == .null)
            try await connection.del([key])
        }
    }

    @Test("10,000 pipelined commands come back in order")
    func pipelineOrder() async throws {
        let key = uniqueKey("counter")
        try await withTestConnection { connection in
            let commands = (0..<10_000).map { _ in RedisCommand("INCR", [.string(key)]) }
            let replies = try await connection.pipeline(commands)
            #expect(replies.count == 10_000)
            #expect(replies == (1...10_000).map { RESPValue.integer(Int64($0)) })
            try await connection.del([key])
        }
    }

    @Test("concurrent callers on one connection each get their own replies")
    func concurrentCallers() async throws {
        try await withTestConnection { connection in
            try await withThrowingTaskGroup(of: Bool.self) { group in
                for caller in 0..<8 {
                    group.addTask {
                        let commands = (0..<500).map { RedisCommand("ECHO", [.string("\(caller)-\($0)")]) }
                        let replies = try await connection.pipeline(commands)
                        let single = try await connection.send(["ECHO", .string("single-\(caller)")])
                        return replies == (0..<500).map { .bulkString(Array("\(caller)-\($0)".utf8)) }
                            && single == .bulkString(Array("single-\(caller)".utf8))
                    }
                }
                for try await matched in group { #expect(matched) }
            }
        }
    }

    @Test("AUTH as the ACL user succeeds on RESP3 (HELLO) and RESP2 (AUTH)", arguments: [true, false])
    func authenticates(preferRESP3: Bool) async throws {
        var configuration = try testConfiguration(preferRESP3: preferRESP3)
        configuration.username = "runnel"
        configuration.password = "secret"
        configuration.options.clientName = "runnel-auth-test"
        try await RedisConnection.withConnection(configuration: configuration, logger: testLogger) {
            connection async throws in
            #expect(try await connection.send(["ACL", "WHOAMI"]).string == "runnel")
            #expect(try await connection.send(["CLIENT", "GETNAME"]).string == "runnel-auth-test")
        }
    }

    @Test("a wrong password is an authentication error that does not mention the password", arguments: [true, false])
    func wrongPassword(preferRESP3: Bool) async throws {
        var configuration = try testConfiguration(preferRESP3: preferRESP3)
        configuration.username = "runnel"
        configuration.password = "not-the-secret-7f3a"
        let error = await expectRedisError {
            _ = try await RedisConnection.connect(configuration: configuration, logger: testLogger)
        }
        #expect(error?.code == .authentication)
        #expect(error?.isTransient == false)
        #expect(error?.serverErrorCode == "WRONGPASS")
        #expect(!"\(String(describing: error))".contains("not-the-secret-7f3a"))
        #expect(!"\(configuration)".contains("not-the-secret-7f3a"))
    }

    @Test("server errors surface with the server's message")
    func serverErrors() async throws {
        let key = uniqueKey("errors")
        try await withTestConnection { connection in
            let noGroup = await expectRedisError {
                _ = try await connection.xreadgroup(group: "nope", consumer: "c", key: key)
            }
            #expect(noGroup?.code == .server)
            #expect(noGroup?.serverErrorCode == "NOGROUP")
            #expect(noGroup?.message.hasPrefix("NOGROUP") == true)
            #expect(noGroup?.command == "XREADGROUP")

            try await connection.send(["SET", .string(key), "text"])
            let wrongType = await expectRedisError { _ = try await connection.xlen(key) }
            #expect(wrongType?.serverErrorCode == "WRONGTYPE")

            // In a pipeline the error stays in place and the other replies are intact.
            let replies = try await connection.pipeline([
                ["ECHO", "before"], ["XLEN", .string(key)], ["ECHO", "after"],
            ])
            #expect(replies[0] == .bulkString(Array("before".utf8)))
            #expect(replies[1].errorMessage?.hasPrefix("WRONGTYPE") == true)
            #expect(replies[2] == .bulkString(Array("after".utf8)))

            // The connection is still usable after error replies.
            #expect(try await connection.send(["PING"]) == .simpleString("PONG"))
            try await connection.del([key])
        }
    }

    @Test("the URL's database is selected")
    func selectsDatabase() async throws {
        let key = uniqueKey("db")
        var configuration = try testConfiguration()
        configuration.database = 3
        try await RedisConnection.withConnection(configuration: configuration, logger: testLogger) { connection in
            try await connection.send(["SET", .string(key), "in-db-3"])
        }
        try await withTestConnection { connection in
            #expect(try await connection.send(["GET", .string(key)]) == .null)
            try await connection.send(["SELECT", 3])
            #expect(try await connection.send(["GET", .string(key)]).string == "in-db-3")
            try await connection.del([key])
        }
    }

    @Test("a reply later than the command timeout fails with .timeout and closes the connection")
    func commandTimeout() async throws {
        var configuration = try testConfiguration()
        configuration.commandTimeout = .milliseconds(200)
        let connection = try await RedisConnection.connect(configuration: configuration, logger: testLogger)
        let started = ContinuousClock.now
        // BLPOP with timeout 0 blocks until a push that never comes.
        let error = await expectRedisError { try await connection.send(["BLPOP", .string(uniqueKey("never")), 0]) }
        #expect(error?.code == .timeout)
        #expect(error?.isTransient == true)
        #expect(ContinuousClock.now - started < .seconds(5))
        try await eventually("the timed-out connection to close") { !connection.isConnected }
        await connection.close()
    }

    @Test("a cancelled blocking read returns promptly")
    func cancellation() async throws {
        let key = uniqueKey("cancel")
        let name = "cancel-\(UInt32.random(in: 0...UInt32.max))"
        var configuration = try testConfiguration()
        configuration.options.clientName = name
        try await RedisConnection.withConnection(configuration: configuration, logger: testLogger) { connection in
            try await connection.xgroupCreate(key, group: "g")
            let started = ContinuousClock.now
            let read = Task {
                try await connection.xreadgroup(group: "g", consumer: "c", key: key, blockMilliseconds: 30_000)
            }
            // Cancel once the server is holding the read (CLIENT LIST flags it "b", blocked).
            try await eventually("the read to block on the server") {
                let clients = try await withTestConnection { try await $0.send(["CLIENT", "LIST"]) }.string ?? ""
                return clients.split(separator: "\n").contains {
                    $0.contains("name=\(name) ") && $0.contains("flags=b ")
                }
            }
            read.cancel()
            await #expect(throws: CancellationError.self) { try await read.value }
            #expect(ContinuousClock.now - started < .seconds(10))
        }
        try await withTestConnection { try await $0.del([key]) }
    }

    @Test("a peer that does not speak RESP gives a protocol error and a closed connection")
    func protocolErrorFromPeer() async throws {
        let server = try ScriptedServer(
            firstReply: Array("+OK\r\n".utf8),  // accepted as the HELLO reply
            secondReply: Array("HTTP/1.1 400 Bad Request\r\n\r\n".utf8)
        )
        defer { server.stop() }
        let configuration = RedisConfiguration(host: "127.0.0.1", port: server.port)
        let connection = try await RedisConnection.connect(configuration: configuration, logger: testLogger)
        let error = await expectRedisError { try await connection.send(["PING"]) }
        #expect(error?.code == .protocolError)
        #expect(error?.message.contains("unexpected type byte 0x48 'H'") == true)
        try await eventually("the connection to close") { !connection.isConnected }
        // Later commands fail fast instead of waiting for a reply that cannot come.
        let later = await expectRedisError { try await connection.send(["PING"]) }
        #expect(later?.code == .protocolError || later?.code == .connectionClosed)
        await connection.close()
    }

    @Test("connecting to a closed port is a transient connect failure")
    func connectRefused() async throws {
        let port = try freeLoopbackPort()
        let error = await expectRedisError {
            _ = try await RedisConnection.connect(
                configuration: RedisConfiguration(host: "127.0.0.1", port: port),
                logger: testLogger
            )
        }
        #expect(error?.code == .connectFailed)
        #expect(error?.isTransient == true)
    }
}

#endif
