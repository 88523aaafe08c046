import Foundation
import PostgresReplication
import RunnelTesting
import Testing

/// Each authentication method and TLS mode against a PostgreSQL instance of this suite's own
/// (the shared test server offers only SCRAM without TLS): trust, password, md5 and SCRAM-SHA-256
/// users in pg_hba, and TLS with a certificate from a throwaway CA for db.internal and localhost.
@Suite(.serialized)
final class AuthenticationTests {
    let server: PrivateServer

    init() throws { server = try PrivateServer.start() }
    deinit { server.stop() }

    func configuration(_ user: String, password: String? = "pw-\u{2603}", tls: ReplicationConfiguration.TLS = .disable)
        -> ReplicationConfiguration
    {
        ReplicationConfiguration(
            host: "127.0.0.1", port: server.port, user: user, password: password, database: "postgres",
            tls: tls, connectTimeout: .seconds(5))
    }

    /// Whether the session's backend sees TLS.
    func connect(_ configuration: ReplicationConfiguration) async throws -> (encrypted: Bool, serverSees: String?) {
        try await ReplicationConnection.withConnection(configuration: configuration, logger: TestServer.logger) { c in
            _ = try await c.identifySystem()
            let ssl = try await c.simpleQuery("SELECT ssl::text FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
            return (c.isEncrypted, ssl.rows.first?.first ?? nil)
        }
    }

    func code(_ configuration: ReplicationConfiguration) async -> ReplicationError.Code? {
        do {
            _ = try await connect(configuration)
            return nil
        } catch let e as ReplicationError { return e.code } catch { return nil }
    }

    @Test
    func everyMethodAuthenticates() async throws {
        #expect(try await connect(configuration("trust_user", password: nil)) == (false, "false"))
        #expect(try await connect(configuration("md5_user")) == (false, "false"))
        #expect(try await connect(configuration("scram_user")) == (false, "false"))
        // Cleartext passwords only inside TLS.
        #expect(try await connect(configuration("password_user", tls: .require)) == (true, "true"))
    }

    @Test
    func wrongOrMissingPasswordsAreRefused() async {
        for user in ["md5_user", "scram_user", "password_user"] {
            #expect(await code(configuration(user, password: "nope")) == .authentication)
            #expect(await code(configuration(user, password: nil)) == .authentication)
        }
    }

    @Test
    func tlsModes() async throws {
        let ca = server.directory + "/certs/ca.pem"
        let otherCA = server.directory + "/certs/other-ca.pem"
        #expect(try await connect(configuration("scram_user", tls: .prefer)) == (true, "true"))
        #expect(try await connect(configuration("scram_user", tls: .require)) == (true, "true"))
        #expect(
            try await connect(configuration("scram_user", tls: .verifyFull(caFile: ca, serverName: "db.internal"))) == (
                true, "true"
            ))
        // The wrong CA; a name the certificate does not hold; and the address, which it does not
        // hold either (its names are db.internal and localhost only).
        #expect(
            await code(configuration("scram_user", tls: .verifyFull(caFile: otherCA, serverName: "db.internal")))
                == .tls)
        #expect(
            await code(configuration("scram_user", tls: .verifyFull(caFile: ca, serverName: "elsewhere.example")))
                == .tls)
        #expect(await code(configuration("scram_user", tls: .verifyFull(caFile: ca))) == .tls)
    }

    /// Against the shared server, which has no TLS: prefer falls back, require refuses.
    @Test
    func serverWithoutTLS() async throws {
        var preferred = TestServer.configuration
        preferred.tls = .prefer
        let encrypted = try await TestServer.withConnection(preferred) { $0.isEncrypted }
        #expect(!encrypted)
        var required = TestServer.configuration
        required.tls = .require
        await #expect(throws: ReplicationError.self) { try await TestServer.withConnection(required) { _ in } }
    }
}

/// A PostgreSQL instance of the suite's own on a random port: TLS on (certificates from
/// TestCertificates), users for each authentication method.
final class PrivateServer: Sendable {
    let directory: String
    let port: Int
    let bin: String

    private init(directory: String, port: Int, bin: String) {
        self.directory = directory
        self.port = port
        self.bin = bin
    }

    static func start() throws -> PrivateServer {
        let bin = TestServer.bin
        let dir = "/tmp/runnel-pg-auth-\(UInt32.random(in: 0..<UInt32.max))"
        let port = unusedLoopbackPort()
        try sh("mkdir -p \(dir)/certs && chmod 755 \(dir)")
        // No IP address among the names: NIOSSL accepts a certificate naming the peer's address
        // whatever name was asked for, so the name checks need a certificate without one.
        try TestCertificates.make(in: dir + "/certs", serverNames: ["DNS:db.internal", "DNS:localhost"])
        try sh(
            "chown -R postgres: \(dir) && runuser -u postgres -- \(bin)/initdb -D \(dir)/data -U postgres --auth=trust -E UTF8 --locale=C.UTF-8"
        )
        try sh(
            "cp \(dir)/certs/server.pem \(dir)/certs/server.key \(dir)/data/ && chown postgres: \(dir)/data/server.* && chmod 600 \(dir)/data/server.key"
        )
        let hba = [
            "local all all trust",
            // A logical replication connection (replication=database) matches by its database, as
            // any other connection; the `replication` keyword is for physical replication only.
            "host all trust_user 127.0.0.1/32 trust",
            "host all md5_user 127.0.0.1/32 md5",
            "hostssl all password_user 127.0.0.1/32 password",
            "host all scram_user 127.0.0.1/32 scram-sha-256",
        ].joined(separator: "\n")
        try hba.write(toFile: dir + "/data/pg_hba.conf", atomically: true, encoding: .utf8)
        try sh("chown postgres: \(dir)/data/pg_hba.conf")
        let server = PrivateServer(directory: dir, port: port, bin: bin)
        try sh(
            "runuser -u postgres -- \(bin)/pg_ctl -D \(dir)/data -l \(dir)/log -w -t 30 start "
                + "-o \"-c listen_addresses=127.0.0.1 -c port=\(port) -c unix_socket_directories='\(dir)' -c ssl=on "
                + "-c ssl_cert_file=server.pem -c ssl_key_file=server.key -c wal_level=logical\"")
        let psql =
            "runuser -u postgres -- \(bin)/psql -q -v ON_ERROR_STOP=1 -h \(dir) -p \(port) -U postgres -d postgres"
        try sh(
            "\(psql) -c \"CREATE ROLE trust_user LOGIN REPLICATION\" "
                + "-c \"SET password_encryption = 'md5'\" -c \"CREATE ROLE md5_user LOGIN REPLICATION PASSWORD 'pw-☃'\" "
                + "-c \"SET password_encryption = 'scram-sha-256'\" -c \"CREATE ROLE scram_user LOGIN REPLICATION PASSWORD 'pw-☃'\" "
                + "-c \"CREATE ROLE password_user LOGIN REPLICATION PASSWORD 'pw-☃'\" "
                + "-c \"GRANT pg_read_all_stats TO trust_user, md5_user, scram_user, password_user\"")
        return server
    }

    func stop() {
        try? Self.sh("runuser -u postgres -- \(bin)/pg_ctl -D \(directory)/data -m fast -w -t 30 stop")
        try? Self.sh("rm -rf \(directory)")
    }

    /// `system(3)`, not Foundation's `Process`: `waitUntilExit` does not return after `pg_ctl start`
    /// on Linux (the server it leaves running keeps the pipes open).
    static func sh(_ command: String) throws {
        let status = system(command + " </dev/null >/dev/null 2>&1")
        if status != 0 { throw ReplicationError(.configuration, "command failed (\(status)): \(command)") }
    }
}
