#if Redis
import Foundation
import Testing

@testable import RedisClient
import RunnelTesting

/// `rediss://` against a redis-server of the test's own with a throwaway CA and certificate
/// (made with the openssl command line, which Debian's base image has).
struct TLSTests {
    /// A CA and a server certificate for `localhost` only (NIOSSL also accepts an IP SAN that
    /// matches the connected address, which would hide a wrong server name), in a fresh directory.
    static func makeCertificates() throws -> String {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("runnel-redis-tls-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try TestCertificates.make(in: directory, serverNames: ["DNS:localhost"])
        return directory
    }

    @Test("rediss:// verifies the server against the given CA", .enabled(if: findExecutable("openssl") != nil))
    func tls() async throws {
        let directory = try Self.makeCertificates()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let port = try freeLoopbackPort()

        var configuration = try RedisConfiguration(url: "rediss://localhost:\(port)")
        configuration.tls?.caFile = "\(directory)/ca.pem"
        configuration.connectTimeout = .seconds(2)
        let server = try await RedisServerProcess(
            port: port,
            arguments: [
                "--port", "0", "--tls-port", "\(port)",
                "--tls-cert-file", "\(directory)/server.pem", "--tls-key-file", "\(directory)/server.key",
                "--tls-ca-cert-file", "\(directory)/ca.pem", "--tls-auth-clients", "no",
            ],
            readiness: configuration
        )

        try await RedisConnection.withConnection(configuration: configuration, logger: testLogger) {
            connection async throws in
            #expect(connection.protocolVersion == 3)
            #expect(try await connection.send(["PING"]) == .simpleString("PONG"))
            let payload: [UInt8] = (0..<100_000).map { UInt8(truncatingIfNeeded: $0) }
            #expect(try await connection.send(RedisCommand("ECHO", [.bytes(payload)])) == .bulkString(payload))
        }

        // Without the CA the certificate is not trusted.
        var untrusted = configuration
        untrusted.tls = .init()
        let notTrusted = await expectRedisError {
            _ = try await RedisConnection.connect(configuration: untrusted, logger: testLogger)
        }
        #expect(notTrusted?.code == .connectFailed)

        // A name the certificate does not carry is rejected.
        var wrongName = configuration
        wrongName.tls?.serverName = "redis.example"
        let mismatch = await expectRedisError {
            _ = try await RedisConnection.connect(configuration: wrongName, logger: testLogger)
        }
        #expect(mismatch?.code == .connectFailed)

        try await server.kill()
    }
}

#endif
