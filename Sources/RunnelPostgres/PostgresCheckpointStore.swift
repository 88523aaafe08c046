import PostgresNIO
public import RunnelCore

/// Checkpoints in a PostgreSQL table (default `runnel_checkpoints`), and the run lease.
///
/// When the loader writes to the same database through the same pool, the checkpoint is
/// written in the loader's transaction (the two report the same `transactionDomain`): the data
/// and the position commit together or not at all.
///
/// The lease is a session advisory lock (`pg_try_advisory_lock`) on a connection of its own,
/// held for the whole run: a process that dies loses its connection and the server frees the
/// lock, so a crashed run never blocks the next one for longer than the server takes to notice.
public struct PostgresCheckpointStore: CheckpointStore, RunLease {
    public let pool: PostgresPool
    public let schema: String?
    public let table: String

    public static let defaultTable = "runnel_checkpoints"

    public init(pool: PostgresPool, schema: String? = nil, table: String = defaultTable) {
        self.pool = pool
        self.schema = schema
        self.table = table
    }

    var qualified: String { PostgresSQL.qualified(schema: schema, table: table) }

    public var lease: (any RunLease)? { self }

    public var transactionDomain: TransactionDomain? {
        TransactionDomain(database: pool, checkpointTable: qualified, description: "\(pool.settings)")
    }

    public var target: String { "\(pool.settings) table \(schema.map { "\($0)." } ?? "")\(table)" }

    static func createSQL(_ qualified: String) -> String {
        "CREATE TABLE IF NOT EXISTS \(qualified) (pipeline text PRIMARY KEY, position text NOT NULL, "
            + "updated_at timestamptz NOT NULL DEFAULT now())"
    }

    /// Creates the table once per process (concurrent creators are harmless: see `createTable`).
    func ensureTable(_ c: PostgresConnection) async throws {
        try await PostgresDDL.createOnce(Self.createSQL(qualified), on: c, pool: pool)
    }

    public func load(pipeline: String) async throws -> Checkpoint? {
        try await pool.withConnection("load checkpoint from \(table)") { [self] c in
            try await ensureTable(c)
            let rows = try await pool.rows("SELECT position FROM \(unescaped: qualified) WHERE pipeline = \(pipeline)", on: c)
            guard let row = rows.first else { return nil }
            guard let position = try row.decode(String?.self) else {
                throw RunnelError.dataContract("checkpoint of '\(pipeline)' in \(target) is null")
            }
            return Checkpoint(position)
        }
    }

    public func save(_ checkpoint: Checkpoint, pipeline: String) async throws {
        try await pool.withConnection("save checkpoint to \(table)") { [self] c in
            try await ensureTable(c)
            try await write(checkpoint, pipeline: pipeline, on: c)
        }
    }

    /// Checks the commit's preconditions inside the caller's transaction, locking the rows read
    /// (`FOR UPDATE`) so they cannot move before the transaction ends. A position first written
    /// concurrently meets the primary key on insert and fails that transaction instead.
    func verify(_ commit: CheckpointCommit, on c: PostgresConnection) async throws -> CheckpointCommit.Verdict {
        let keys = commit.guardedKeys
        guard !keys.isEmpty else { return .write }
        let rows = try await pool.rows(
            "SELECT pipeline, position FROM \(unescaped: qualified) WHERE pipeline = ANY(\(keys)) FOR UPDATE", on: c)
        var stored: [String: Checkpoint] = [:]
        for row in rows {
            let (key, position) = try row.decode((String, String?).self)
            if let position { stored[key] = Checkpoint(position) }
        }
        return try commit.verify(stored: stored)
    }

    /// Writes on `c`, inside the caller's transaction when there is one (the loader's).
    func write(_ checkpoint: Checkpoint, pipeline: String, on c: PostgresConnection) async throws {
        let position = checkpoint.position
        _ = try await pool.rows(
            """
            INSERT INTO \(unescaped: qualified) (pipeline, position, updated_at) VALUES (\(pipeline), \(position), now())
            ON CONFLICT (pipeline) DO UPDATE SET position = excluded.position, updated_at = excluded.updated_at
            """, on: c)
    }

    public func reset(pipeline: String) async throws {
        try await pool.withConnection("reset checkpoint in \(table)") { [self] c in
            try await ensureTable(c)
            let parts = CheckpointCommit.key(pipeline: pipeline, part: "")
            _ = try await pool.rows(
                "DELETE FROM \(unescaped: qualified) WHERE pipeline = \(pipeline) OR left(pipeline, length(\(parts))) = \(parts)", on: c)
        }
    }

    // MARK: RunLease

    public func acquire(pipeline: String, scope: String) async throws -> any LeaseHandle {
        let name = "runnel:\(pipeline):\(scope)"
        let settings = pool.settings
        let connection: PostgresConnection
        do {
            connection = try await pool.connect()
        } catch {
            throw PostgresErrors.classify(error, operation: "take the lease of \(pipeline) (\(scope))", settings: settings)
        }
        do {
            // hashtextextended: a 64-bit key from the name; a collision would only make two
            // unrelated runs exclusive, never let two runs of one scope in.
            let rows = try await pool.rows("SELECT pg_try_advisory_lock(hashtextextended(\(name), 0))", on: connection)
            let held = try rows.first?.decode(Bool.self) ?? false
            guard held else {
                try? await connection.close()
                throw RunnelError(
                    .leaseHeld,
                    "another run holds the lease of pipeline '\(pipeline)' (\(scope)) in \(settings); "
                        + "nothing was read or written")
            }
        } catch {
            try? await connection.close()
            throw PostgresErrors.classify(error, operation: "take the lease of \(pipeline) (\(scope))", settings: settings)
        }
        return PostgresLease(connection: connection, name: name, pool: pool)
    }
}

/// A held advisory lock: closing its connection releases it.
struct PostgresLease: LeaseHandle {
    let connection: PostgresConnection
    let name: String
    let pool: PostgresPool

    /// Closing the session releases its advisory locks; no unlock statement is sent, because a
    /// statement on a connection the server already dropped can wait forever.
    func release() async {
        try? await connection.close()
    }
}

/// DDL run once per process per statement.
enum PostgresDDL {
    private static let done = Locked<Set<String>>([])

    /// Runs `CREATE … IF NOT EXISTS` once per process. Two sessions creating the same table at the
    /// same instant can still collide in the catalog (unique_violation on pg_type); the loser's
    /// table exists by then, so that error is ignored.
    static func createOnce(_ sql: String, on c: PostgresConnection, pool: PostgresPool) async throws {
        let key = "\(pool.settings)|\(sql)"
        if done.withLock({ $0.contains(key) }) { return }
        do {
            _ = try await pool.rows(PostgresQuery(unsafeSQL: sql), on: c)
        } catch let e as PSQLError where ["23505", "42P07"].contains(e.serverInfo?[.sqlState] ?? "") {
            // created concurrently by another run
        }
        done.withLock { _ = $0.insert(key) }
    }
}
