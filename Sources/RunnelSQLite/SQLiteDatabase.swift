import CSQLite
public import RunnelCore
import Synchronization

/// One SQLite database file, opened lazily and shared by every component that names the same
/// path — so that a loader, its checkpoint store and its dead letter table can write in one
/// transaction.
///
/// Calls are serialized by a mutex and run synchronously: SQLite work is short (one batch per
/// call) and a dedicated thread would add more latency than it saves on two cores.
public final class SQLiteDatabase: Sendable {
    public struct Configuration: Sendable, Hashable {
        public var path: String
        /// `FULL` (default) makes every commit durable against power loss; `NORMAL` is faster in WAL
        /// mode and still safe against a process crash.
        public var synchronous: String = "FULL"
        /// How long a writer waits for another process's lock before the error is reported as transient.
        public var busyTimeoutMilliseconds: Int = 10_000
        public init(path: String) { self.path = path }
    }

    public let configuration: Configuration
    private let connection = Mutex<SQLiteConnection?>(nil)

    public init(_ configuration: Configuration) { self.configuration = configuration }

    public var path: String { configuration.path }

    /// Runs `body` with the open connection, opening it on first use.
    public func withConnection<R>(_ body: (SQLiteConnection) throws -> R) throws -> R {
        try connection.withLock { conn in
            if conn == nil { conn = try SQLiteConnection(configuration: configuration) }
            return try body(conn!)
        }
    }

    /// Runs `body` inside `BEGIN IMMEDIATE … COMMIT`, rolling back if it throws.
    public func transaction<R>(_ body: (SQLiteConnection) throws -> R) throws -> R {
        try withConnection { c in
            try c.execute("BEGIN IMMEDIATE")
            do {
                let r = try body(c)
                try c.execute("COMMIT")
                return r
            } catch {
                try? c.execute("ROLLBACK")
                throw error
            }
        }
    }
}

/// Holds the databases of one pipeline by path, so components naming the same file share it.
public final class SQLiteDatabases: Sendable {
    private let open = Mutex<[String: SQLiteDatabase]>([:])
    public init() {}

    public func database(_ configuration: SQLiteDatabase.Configuration) -> SQLiteDatabase {
        open.withLock { dbs in
            if let db = dbs[configuration.path] { return db }
            let db = SQLiteDatabase(configuration)
            dbs[configuration.path] = db
            return db
        }
    }
}
