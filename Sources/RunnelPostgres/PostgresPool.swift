#if Postgres
    public import Logging
    public import PostgresNIO
    public import RunnelCore
    import Synchronization

    /// One pooled `PostgresClient` per distinct connection, shared by every component of a pipeline
    /// that names the same database: that is what lets the loader write the checkpoint in its own
    /// transaction.
    ///
    /// The pool runs as a background service (`run()`). Operations requested while it is not
    /// running — `checkpoint show`, `dead-letter list`, unit tests — use a connection of their own,
    /// closed afterwards, so nothing hangs waiting for a pool nobody runs.
    ///
    /// Every error leaving this type is a classified `RunnelError` naming the server and the
    /// operation (never the password).
    public final class PostgresPool: Sendable {
        public let settings: PostgresSettings
        let client: PostgresClient
        let logger: Logger
        private let state = Mutex<State>(.idle)
        private let connectionIDs = Atomic<Int>(1)

        private enum State { case idle, running, stopped }

        public init(settings: PostgresSettings, logger: Logger = Logger(label: "runnel.postgres")) {
            self.settings = settings
            self.logger = logger
            self.client = PostgresClient(configuration: settings.clientConfiguration, backgroundLogger: logger)
        }

        /// Runs the connection pool until the task is cancelled. Call once.
        public func run() async {
            state.withLock { $0 = .running }
            await client.run()
            state.withLock { $0 = .stopped }
        }

        private var isRunning: Bool { state.withLock { $0 == .running } }

        /// Lends a connection for `body`. `operation` names what is done, for errors.
        public func withConnection<R: Sendable>(
            _ operation: String, _ body: @escaping @Sendable (PostgresConnection) async throws -> R
        ) async throws -> R {
            do {
                if isRunning { return try await pooled(body) }
                return try await dedicated(body)
            } catch {
                throw PostgresErrors.classify(error, operation: operation, settings: settings)
            }
        }

        /// Runs `body` inside `BEGIN … COMMIT` on one connection, rolling back if it throws.
        public func withTransaction<R: Sendable>(
            _ operation: String, _ body: @escaping @Sendable (PostgresConnection) async throws -> R
        ) async throws -> R {
            let logger = self.logger
            return try await withConnection(operation) { c in
                try await c.withTransaction(logger: logger) { c in try await body(c) }
            }
        }

        /// Runs a statement and collects its rows (small results: catalog reads, checkpoints).
        public func rows(_ query: PostgresQuery, on connection: PostgresConnection) async throws -> [PostgresRow] {
            try await connection.query(query, logger: logger).collect()
        }

        /// Opens a connection outside the pool, for the lease (which must live as long as the run)
        /// and for use while the pool is not running.
        func connect() async throws -> PostgresConnection {
            let id = connectionIDs.wrappingAdd(1, ordering: .relaxed).oldValue
            return try await PostgresConnection.connect(
                configuration: try settings.connectionConfiguration(), id: id, logger: logger)
        }

        private func dedicated<R: Sendable>(_ body: @Sendable (PostgresConnection) async throws -> R) async throws -> R {
            let c = try await connect()
            do {
                let r = try await body(c)
                try? await c.close()
                return r
            } catch {
                try? await c.close()
                throw error
            }
        }

        /// A pooled connection. The pool retries a server it cannot reach for up to a minute
        /// before failing requests; a run should rather fail fast and let its retry policy (and then
        /// the Job) decide. So the wait for a connection is bounded by `connectTimeout`, after
        /// which one direct connection attempt reports the real cause (refused, bad password, …).
        private func pooled<R: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> R) async throws -> R {
            let granted = Flag()
            let timeout = settings.connectTimeout
            let client = self.client
            do {
                return try await withThrowingTaskGroup(of: R?.self) { group in
                    group.addTask {
                        try await client.withConnection { c in
                            granted.set()
                            return try await body(c)
                        }
                    }
                    group.addTask {
                        try await Task.sleep(for: timeout)
                        if granted.isSet { return nil }
                        throw PoolWaitTimeout()
                    }
                    while let r = try await group.next() {
                        if let r {
                            group.cancelAll()
                            return r
                        }
                    }
                    throw CancellationError()
                }
            } catch is PoolWaitTimeout {
                // Find out why: this throws the connection's own error when the server is unreachable.
                let probe = try await connect()
                try? await probe.close()
                throw RunnelError.transient("no pooled connection became free within \(timeout)")
            }
        }
    }

    private struct PoolWaitTimeout: Error {}

    /// A one-way flag shared between the tasks of one pooled operation.
    private final class Flag: Sendable {
        private let value = Atomic<Bool>(false)
        func set() { value.store(true, ordering: .releasing) }
        var isSet: Bool { value.load(ordering: .acquiring) }
    }
#endif
