public import RunnelCore

#if canImport(Glibc)
    import Glibc
#endif

/// Checkpoints in a table of an SQLite database (default `runnel_checkpoints`).
public struct SQLiteCheckpointStore: CheckpointStore {
    public static let table = "runnel_checkpoints"
    public let database: SQLiteDatabase

    public init(database: SQLiteDatabase) { self.database = database }

    public var transactionDomain: TransactionDomain? { Self.domain(database) }

    static func domain(_ database: SQLiteDatabase) -> TransactionDomain {
        TransactionDomain(database: database, checkpointTable: table, description: "sqlite \(database.path)")
    }

    /// An `flock` on a lock file beside the database (`orders.db.<pipeline>.<scope>.<hash>.lock`),
    /// held for the run, rather than a lease row with an expiry: the kernel frees it the instant
    /// its holder dies, so a SIGKILLed run is taken over at once, with no renewal task and no
    /// clocks to trust; and any two runs that can share an SQLite file share its folder (SQLite
    /// needs working file locks there itself). Not a lock on the database file: SQLite's own
    /// POSIX locks on it would be dropped whenever another descriptor of the file closed.
    public var lease: (any RunLease)? {
        let path = database.path
        let slash = path.lastIndex(of: "/")
        let directory = slash.map { String(path[..<$0]) } ?? "."
        let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
        return FileLease(directory: directory.isEmpty ? "/" : directory, prefix: name + ".")
    }

    static func ensureTable(_ c: SQLiteConnection) throws {
        try c.execute(
            "CREATE TABLE IF NOT EXISTS \(table) (pipeline TEXT PRIMARY KEY, position TEXT NOT NULL, updated_at TEXT NOT NULL)")
    }

    public func load(pipeline: String) async throws -> Checkpoint? {
        // No file yet means no run has committed: do not create one just to look (a dry run writes nothing).
        guard access(database.path, F_OK) == 0 else { return nil }
        return try database.withConnection { c in
            try Self.ensureTable(c)
            let rows = try c.query("SELECT position FROM \(Self.table) WHERE pipeline = ?", [.string(pipeline)])
            guard let row = rows.first else { return nil }
            guard case .string(let position) = row[0] else {
                throw RunnelError.dataContract("checkpoint of '\(pipeline)' in \(database.path) is unreadable")
            }
            return Checkpoint(position)
        }
    }

    public func save(_ checkpoint: Checkpoint, pipeline: String) async throws {
        try database.transaction { c in try Self.write(checkpoint, pipeline: pipeline, in: c) }
    }

    /// Checks the commit's preconditions inside the caller's write transaction.
    static func verify(_ commit: CheckpointCommit, in c: SQLiteConnection) throws -> CheckpointCommit.Verdict {
        let keys = commit.guardedKeys
        guard !keys.isEmpty else { return .write }
        try ensureTable(c)
        var stored: [String: Checkpoint] = [:]
        for key in keys {
            if case .string(let position)? = try c.query("SELECT position FROM \(table) WHERE pipeline = ?", [.string(key)]).first?[0] {
                stored[key] = Checkpoint(position)
            }
        }
        return try commit.verify(stored: stored)
    }

    /// Writes inside the caller's transaction (the loader's, for exactly-once loads).
    static func write(_ checkpoint: Checkpoint, pipeline: String, in c: SQLiteConnection) throws {
        try ensureTable(c)
        let s = try c.statement(
            "INSERT INTO \(table) (pipeline, position, updated_at) VALUES (?, ?, ?) "
                + "ON CONFLICT (pipeline) DO UPDATE SET position = excluded.position, updated_at = excluded.updated_at")
        s.bind(.string(pipeline), at: 1)
        s.bind(.string(checkpoint.position), at: 2)
        s.bind(.timestamp(.now), at: 3)
        try s.step()
        s.reset()
    }

    public func reset(pipeline: String) async throws {
        try database.transaction { c in
            try Self.ensureTable(c)
            // substr, not LIKE: '_' in a pipeline name is not a wildcard.
            let s = try c.statement("DELETE FROM \(Self.table) WHERE pipeline = ?1 OR substr(pipeline, 1, length(?2)) = ?2")
            s.bind(.string(pipeline), at: 1)
            s.bind(.string(CheckpointCommit.key(pipeline: pipeline, part: "")), at: 2)
            try s.step()
            s.reset()
        }
    }
}
