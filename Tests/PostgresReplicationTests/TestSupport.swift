import Foundation
import Logging
import PostgresReplication
import RunnelTesting

/// The test server that scripts/services/postgres.sh starts (wal_level=logical, the runnel role
/// with REPLICATION), addressed through its environment variables with loopback defaults.
enum TestServer {
    static let env = ProcessInfo.processInfo.environment
    static let host = env["RUNNEL_TEST_PG_HOST"] ?? "127.0.0.1"
    static let port = Int(env["RUNNEL_TEST_PG_PORT"] ?? "") ?? 5433
    static let user = env["RUNNEL_TEST_PG_USER"] ?? "runnel"
    static let password = env["RUNNEL_TEST_PG_PASSWORD"] ?? "runnel-test-secret"
    static let database = env["RUNNEL_TEST_PG_DATABASE"] ?? "runnel"
    static let bin = env["RUNNEL_TEST_PG_BIN"] ?? "/usr/lib/postgresql/15/bin"

    static var configuration: ReplicationConfiguration {
        ReplicationConfiguration(
            host: host, port: port, user: user, password: password, database: database, tls: .disable,
            applicationName: "runnel-replication-tests")
    }

    static let logger: Logger = {
        var logger = Logger(label: "postgres-replication-tests")
        if env["RUNNEL_TEST_TRACE"] != nil { logger.logLevel = .trace }
        return logger
    }()

    /// A name no other test (or run) uses, valid for slots, publications and tables.
    static func unique(_ prefix: String) -> String {
        "\(prefix)_\(UInt32.random(in: 0..<UInt32.max))"
    }

    /// Runs `body` with a connection of its own: a replication=database connection runs plain SQL too.
    static func withConnection<T>(
        _ configuration: ReplicationConfiguration = TestServer.configuration,
        _ body: (ReplicationConnection) async throws -> T
    ) async throws -> T {
        try await ReplicationConnection.withConnection(configuration: configuration, logger: logger, body)
    }

    /// Runs SQL statements one by one on a fresh connection.
    static func sql(_ statements: String...) async throws {
        try await withConnection { c in for s in statements { try await c.simpleQuery(s) } }
    }

    /// Runs `body`, then the cleanup statements (each on its own, errors ignored), also when
    /// `body` throws: slots left behind would pin WAL on the shared server.
    static func withCleanup(_ statements: String..., body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch {
            await cleanup(statements)
            throw error
        }
        await cleanup(statements)
    }

    private static func cleanup(_ statements: [String]) async {
        for statement in statements { _ = try? await withConnection { try await $0.simpleQuery(statement) } }
    }

    /// The first value of the first row.
    static func value(_ query: String) async throws -> String? {
        try await withConnection { c in try await c.simpleQuery(query).rows.first?.first ?? nil }
    }

    /// The slot's `confirmed_flush_lsn`.
    static func confirmedFlush(_ slot: String) async throws -> LSN? {
        try await value("SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = '\(slot)'").flatMap {
            LSN($0)
        }
    }

    /// Waits until `condition` holds: the server applies a status update after it answered it,
    /// so the test polls the observable state itself, bounded by `timeout`.
    static func eventually(timeout: Duration = .seconds(20), _ condition: () async throws -> Bool) async throws -> Bool
    {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(20))
        }
        return try await condition()
    }
}

/// Reads a replication stream until a condition on what was collected holds.
struct Collected {
    var messages: [PgOutputMessage] = []
    var relations: [UInt32: PgOutputMessage.Relation] = [:]
    var lastCommit: PgOutputMessage.Commit?
    var keepalivesAskingForReply = 0

    /// The row changes as comparable lines: `op schema.table col=value …`, nulls left out, long
    /// values as their length, unchanged TOAST as `<unchanged>`; a truncate is a line per table.
    var changeLines: [String] {
        messages.flatMap { message -> [String] in
            func line(_ op: String, _ oid: UInt32, _ values: [TupleValue]) -> [String] {
                let relation = relations[oid]
                var parts = ["\(op) \(relation?.qualifiedName ?? "?")"]
                for (i, value) in values.enumerated() {
                    let name = relation.map { i < $0.columns.count ? $0.columns[i].name : "?" } ?? "?"
                    switch value {
                    case .null: continue
                    case .unchangedToast: parts.append("\(name)=<unchanged>")
                    case .text, .binary: parts.append("\(name)=\(Self.shown(value.string ?? "<binary>"))")
                    }
                }
                return [parts.joined(separator: " ")]
            }
            switch message {
            case .insert(let m): return line("I", m.relationOID, m.new)
            case .update(let m): return line("U", m.relationOID, m.new)
            case .delete(let m):
                switch m.old {
                case .key(let v), .full(let v): return line("D", m.relationOID, v)
                }
            case .truncate(let m): return m.relationOIDs.map { "T " + (relations[$0]?.qualifiedName ?? "?") }
            default: return []
            }
        }
    }

    static func shown(_ value: String) -> String { value.count > 64 ? "<\(value.count) chars>" : value }

    mutating func read(_ connection: ReplicationConnection, until done: (Collected) -> Bool) async throws {
        while !done(self) {
            guard let event = try await connection.next() else { throw ReplicationError(.closed, "the stream ended") }
            switch event {
            case .change(let message, _):
                if case .relation(let r) = message { relations[r.oid] = r }
                if case .commit(let c) = message { lastCommit = c }
                messages.append(message)
            case .keepalive(let k):
                if k.replyRequested { keepalivesAskingForReply += 1 }
            }
        }
    }

    var commits: Int { messages.filter { if case .commit = $0 { true } else { false } }.count }
}
