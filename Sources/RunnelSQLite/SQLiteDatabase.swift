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
        /// The page cache; it keeps the key index hot during upserts of large batches. Default
        /// 16 MiB, less when the run's memory window is small.
        public var cacheBytes: Int = 16 << 20
        public init(path: String) { self.path = path }
    }

    private let settings: Mutex<Configuration>
    private let connection = Mutex<SQLiteConnection?>(nil)
    public let path: String

    public init(_ configuration: Configuration) {
        self.settings = Mutex(configuration)
        self.path = configuration.path
    }

    public var configuration: Configuration { settings.withLock { $0 } }

    /// Changes settings before the file is opened (the loader's `synchronous`, whichever
    /// component asked for the database first). Settings do not change an open connection.
    public func configure(_ update: (inout Configuration) -> Void) {
        settings.withLock { update(&$0) }
    }

    /// Runs `body` with the open connection, opening it on first use.
    public func withConnection<R>(_ body: (SQLiteConnection) throws -> R) throws -> R {
        try connection.withLock { conn in
            if conn == nil { conn = try SQLiteConnection(configuration: settings.withLock { $0 }) }
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
