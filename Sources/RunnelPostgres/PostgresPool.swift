public import Logging
public import PostgresNIO
import RunnelCore
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
    /// Handed to postgres-nio (its level raised to `warning`, see `init`).
    let logger: Logger
    /// For Runnel's own messages about its work on this pool, at the level the run asked for.
    let messages: Logger
    private let state = Mutex<State>(.idle)
    private let connectionIDs = Atomic<Int>(1)

    private enum State { case idle, running, stopped }

    /// - Parameter logger: for postgres-nio's own messages. Its level is raised to `warning`: the
    ///   pool reports every failed connection attempt at `info`, and the runner already reports
    ///   each failed operation with its classified cause.
    public init(settings: PostgresSettings, logger: Logger = Logger(label: "runnel.postgres")) {
        self.messages = logger
        var logger = logger
        if logger.logLevel < .warning { logger.logLevel = .warning }
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
    ///
    /// The wait is raced, not cancelled: while the pool is failing to connect, a cancelled lease
    /// request is not always answered until a connection appears, so a structured child task
    /// could hold the caller indefinitely. The request is left to finish in a task of its own
    /// (the pool answers it at the latest when it shuts down), and a `Claim` makes sure a
    /// connection granted after the caller gave up runs nothing. A body stuck on a connection that
    /// closed is answered the same way (see below).
    private func pooled<R: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> R) async throws -> R {
        let claim = Claim()
        let timeout = settings.connectTimeout
        let client = self.client
        let outcome = Outcome<R>()
        let timedOut: Bool = try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Bool, any Error>) in
                outcome.set(continuation)
                let lease = Task {
                    do {
                        let r = try await client.withConnection { c -> R? in
                            guard claim.take() else { return nil }
                            // A connection that dies under a COPY can leave postgres-nio's copy
                            // writer waiting forever; the caller is answered when the channel closes.
                            c.closeFuture.whenComplete { _ in
                                outcome.finish(.failure(RunnelError.transient("the connection to the server was lost")))
                            }
                            return try await body(c)
                        }
                        if let r { outcome.finish(.success(r)) }
                    } catch {
                        outcome.finish(.failure(error))
                    }
                }
                Task {
                    try? await Task.sleep(for: timeout)
                    if claim.abandon() {
                        lease.cancel()
                        outcome.timeOut()
                    }
                }
            }
        } onCancel: {
            if claim.abandon() { outcome.finish(.failure(CancellationError())) }
        }
        if timedOut {
            // Find out why: this throws the connection's own error when the server is unreachable.
            let probe = try await connect()
            try? await probe.close()
            throw RunnelError.transient("no pooled connection became free within \(timeout)")
        }
        return try outcome.result()
    }
}

/// Who gets a pooled connection first: the operation (`take`) or its timeout (`abandon`).
private final class Claim: Sendable {
    private let state = Atomic<Int>(0)  // 0 waiting, 1 taken, 2 abandoned
    func take() -> Bool { state.compareExchange(expected: 0, desired: 1, ordering: .acquiringAndReleasing).exchanged }
    func abandon() -> Bool { state.compareExchange(expected: 0, desired: 2, ordering: .acquiringAndReleasing).exchanged }
}

/// The result of a pooled operation, handed to the waiting caller exactly once.
private final class Outcome<R: Sendable>: Sendable {
    private struct State {
        var continuation: CheckedContinuation<Bool, any Error>?
        var result: Result<R, any Error>?
        var resumed = false
    }
    private let state = Mutex(State())

    func set(_ c: CheckedContinuation<Bool, any Error>) {
        let early: Result<R, any Error>? = state.withLock { s in
            if let r = s.result, !s.resumed {
                s.resumed = true
                return r
            }
            s.continuation = c
            return nil
        }
        if let early { Self.resume(c, with: early) }
    }

    func finish(_ r: Result<R, any Error>) {
        let c: CheckedContinuation<Bool, any Error>? = state.withLock { s in
            guard !s.resumed, s.result == nil else { return nil }
            s.result = r
            guard let c = s.continuation else { return nil }
            s.resumed = true
            return c
        }
        if let c { Self.resume(c, with: r) }
    }

    func timeOut() {
        let c: CheckedContinuation<Bool, any Error>? = state.withLock { s in
            guard !s.resumed, let c = s.continuation else { return nil }
            s.resumed = true
            return c
        }
        c?.resume(returning: true)
    }

    func result() throws -> R {
        guard let r = state.withLock({ $0.result }) else { throw CancellationError() }
        return try r.get()
    }

    private static func resume(_ c: CheckedContinuation<Bool, any Error>, with r: Result<R, any Error>) {
        switch r {
        case .success: c.resume(returning: false)
        case .failure(let e): c.resume(throwing: e)
        }
    }
}
