#if Redis
import Testing

@testable import RedisClient

/// Connection setup paths the shared test server does not exercise.
struct HandshakeTests {
    @Test("password-only AUTH against requirepass, on RESP3 and RESP2; none given is NOAUTH")
    func passwordOnly() async throws {
        let port = try freeLoopbackPort()
        let url = "redis://:hunter2@127.0.0.1:\(port)"
        let server = try await RedisServerProcess(
            port: port,
            arguments: ["--requirepass", "hunter2"],
            readiness: try RedisConfiguration(url: url)
        )

        for preferRESP3 in [true, false] {
            var configuration = try RedisConfiguration(url: url)
            configuration.options.preferRESP3 = preferRESP3
            try await RedisConnection.withConnection(configuration: configuration, logger: testLogger) {
                connection async throws in
                #expect(connection.protocolVersion == (preferRESP3 ? 3 : 2))
                #expect(try await connection.send(["ACL", "WHOAMI"]).string == "default")
            }

            var anonymous = configuration
            anonymous.password = nil
            // RESP3: HELLO is refused with NOAUTH. RESP2 has no handshake without credentials,
            // so the first command is what gets NOAUTH, as a server error.
            if preferRESP3 {
                let error = await expectRedisError {
                    _ = try await RedisConnection.connect(configuration: anonymous, logger: testLogger)
                }
                #expect(error?.code == .authentication)
                #expect(error?.serverErrorCode == "NOAUTH")
            } else {
                try await RedisConnection.withConnection(configuration: anonymous, logger: testLogger) { connection in
                    let error = await expectRedisError { try await connection.send(["PING"]) }
                    #expect(error?.serverErrorCode == "NOAUTH")
                }
            }
        }
        try await server.kill()
    }

    @Test("a server without HELLO (Redis < 6) is spoken to in RESP2")
    func fallsBackToRESP2() async throws {
        let server = try ScriptedServer(
            firstReply: Array("-ERR unknown command 'HELLO', with args beginning with: '3' \r\n".utf8),
            secondReply: Array("+PONG\r\n".utf8)
        )
        defer { server.stop() }
        let configuration = RedisConfiguration(host: "127.0.0.1", port: server.port)
        try await RedisConnection.withConnection(configuration: configuration, logger: testLogger) {
            connection async throws in
            #expect(connection.protocolVersion == 2)
            #expect(try await connection.send(["PING"]) == .simpleString("PONG"))
        }
    }
}

#endif
