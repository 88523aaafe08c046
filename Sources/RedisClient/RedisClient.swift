public import Logging
public import NIOCore
import Synchronization

/// Something that runs Redis commands: a `RedisConnection` or a reconnecting `RedisClient`.
/// The typed helpers (streams, keys) are written once against this protocol.
public protocol RedisCommandSender: Sendable {
    /// One command; an error reply throws `RedisError` with code `.server`.
    @discardableResult
    func send(_ command: RedisCommand) async throws -> RESPValue
    /// Many commands in one write; replies in order, error replies in place as `.error` values.
    func pipeline(_ commands: [RedisCommand]) async throws -> [RESPValue]
    /// One command whose reply is read in place (`StreamEntries`); an error reply throws.
    func sendFrame(_ command: RedisCommand) async throws -> RESPFrame
}

extension RedisConnection: RedisCommandSender {}

/// A Redis client that keeps one connection and replaces it when it drops.
///
/// It connects on first use. When the connection drops, the command in flight fails with a
/// transient `RedisError` (`.connectionClosed`); the next command reconnects. Reconnect attempts
/// after a failure are spaced by `configuration.reconnect` (exponential backoff with jitter):
/// a command issued during the back-off waits for the next attempt and gets its result
/// (`.connectFailed` if it fails). Commands arriving while an attempt runs share it.
///
/// Nothing runs in the background, so there is no `run()` to call; `close()` ends it.
/// Blocking reads (`XREADGROUP … BLOCK`) hold back every command behind them on the shared
/// connection: give them a client of their own.
///
/// ```swift
/// try await RedisClient.withClient(configuration: RedisConfiguration(url: url), logger: logger) { client in
///     let id = try await client.xadd("orders", fields: [("payload", Array(json.utf8))])
/// }
/// ```
public final class RedisClient: RedisCommandSender {
    public let configuration: RedisConfiguration
    private let eventLoopGroup: any EventLoopGroup
    private let logger: Logger
    private let state: Mutex<State>

    private enum State {
        /// No connection. The next command connects, waiting until `nextAttempt` first.
        case disconnected(failures: Int, nextAttempt: ContinuousClock.Instant)
        /// One command (the leader) is connecting; others wait for its outcome.
        case connecting(failures: Int, waiters: [CheckedContinuation<RedisConnection, any Error>])
        case connected(RedisConnection)
        case closed
    }

    /// Does not connect: the first command does. (No task is started here.)
    public init(
        configuration: RedisConfiguration,
        eventLoopGroup: any EventLoopGroup = RedisConnection.defaultEventLoopGroup,
        logger: Logger
    ) {
        self.configuration = configuration
        self.eventLoopGroup = eventLoopGroup
        var logger = logger
        logger[metadataKey: "redis.address"] = "\(configuration.address)"
        self.logger = logger
        self.state = Mutex(.disconnected(failures: 0, nextAttempt: .now))
    }

    /// Lends a client to `body` and closes it when `body` returns or throws.
    @discardableResult
    public static func withClient<Result>(
        configuration: RedisConfiguration,
        eventLoopGroup: any EventLoopGroup = RedisConnection.defaultEventLoopGroup,
        logger: Logger,
        _ body: (RedisClient) async throws -> Result
    ) async throws -> Result {
        let client = RedisClient(configuration: configuration, eventLoopGroup: eventLoopGroup, logger: logger)
        do {
            let result = try await body(client)
            await client.close()
            return result
        } catch {
            await client.close()
            throw error
        }
    }

    /// Whether a connection is currently open (for readiness probes). `false` before first use.
    public var isConnected: Bool {
        state.withLock { state in
            if case .connected(let connection) = state { return connection.isConnected }
            return false
        }
    }

    @discardableResult
    public func send(_ command: RedisCommand) async throws -> RESPValue {
        try await connection().send(command)
    }

    public func pipeline(_ commands: [RedisCommand]) async throws -> [RESPValue] {
        try await connection().pipeline(commands)
    }

    public func sendFrame(_ command: RedisCommand) async throws -> RESPFrame {
        try await connection().sendFrame(command)
    }

    /// Closes the connection. Commands waiting for a reply fail with `.connectionClosed`, later
    /// ones with `.clientClosed`.
    public func close() async {
        let (connection, waiters) = state.withLock {
            state -> (RedisConnection?, [CheckedContinuation<RedisConnection, any Error>]) in
            defer { state = .closed }
            switch state {
            case .connected(let connection): return (connection, [])
            case .connecting(_, let waiters): return (nil, waiters)
            case .disconnected, .closed: return (nil, [])
            }
        }
        for waiter in waiters { waiter.resume(throwing: Self.closedError) }
        await connection?.close()
    }

    // MARK: - Connection management

    private static let closedError = RedisError(code: .clientClosed, message: "the client has been closed")

    /// Raised inside `connection()` when an attempt finished between deciding to wait and
    /// registering as a waiter: look at the state again.
    private struct StateChanged: Error {}

    private enum Step {
        case use(RedisConnection)
        case connect(failures: Int, notBefore: ContinuousClock.Instant)
        case wait
        case fail(RedisError)
    }

    private func connection() async throws -> RedisConnection {
        while true {
            let step = state.withLock { state -> Step in
                switch state {
                case .connected(let connection) where connection.isConnected:
                    return .use(connection)
                case .connected:
                    // Dropped, and the close callback has not run yet: reconnect right away.
                    state = .connecting(failures: 0, waiters: [])
                    return .connect(failures: 0, notBefore: .now)
                case .disconnected(let failures, let nextAttempt):
                    state = .connecting(failures: failures, waiters: [])
                    return .connect(failures: failures, notBefore: nextAttempt)
                case .connecting:
                    return .wait
                case .closed:
                    return .fail(Self.closedError)
                }
            }
            switch step {
            case .use(let connection):
                return connection
            case .connect(let failures, let notBefore):
                return try await connect(failures: failures, notBefore: notBefore)
            case .fail(let error):
                throw error
            case .wait:
                do {
                    return try await withCheckedThrowingContinuation { continuation in
                        let registered = state.withLock { state in
                            guard case .connecting(let failures, var waiters) = state else { return false }
                            waiters.append(continuation)
                            state = .connecting(failures: failures, waiters: waiters)
                            return true
                        }
                        if !registered { continuation.resume(throwing: StateChanged()) }
                    }
                } catch is StateChanged {
                    continue
                }
            }
        }
    }

    /// The leader's reconnect attempt: back off, connect, publish the outcome to the waiters.
    private func connect(failures: Int, notBefore: ContinuousClock.Instant) async throws -> RedisConnection {
        do {
            try await Task.sleep(until: notBefore, clock: .continuous)
        } catch {
            // Cancelled during the back-off: leave the schedule as it was for the next caller.
            let waiters = finishAttempt(.disconnected(failures: failures, nextAttempt: notBefore))
            let abandoned = RedisError(code: .connectFailed, message: "the reconnect attempt was cancelled")
            for waiter in waiters { waiter.resume(throwing: abandoned) }
            throw error
        }

        let connection: RedisConnection
        do {
            connection = try await RedisConnection.connect(
                configuration: configuration,
                eventLoopGroup: eventLoopGroup,
                logger: logger
            )
        } catch is CancellationError {
            // The leader's task was cancelled mid-connect: not a failure of the server, so the
            // next caller tries again at once.
            let waiters = finishAttempt(.disconnected(failures: failures, nextAttempt: .now))
            let abandoned = RedisError(code: .connectFailed, message: "the reconnect attempt was cancelled")
            for waiter in waiters { waiter.resume(throwing: abandoned) }
            throw CancellationError()
        } catch {
            let redisError =
                error as? RedisError ?? RedisError(code: .connectFailed, message: String(describing: error))
            let delay = configuration.reconnect.delay(afterFailures: failures + 1)
            let waiters = finishAttempt(.disconnected(failures: failures + 1, nextAttempt: .now + delay))
            logger.warning(
                "redis connect failed",
                metadata: [
                    "redis.error": "\(redisError)",
                    "redis.failures": "\(failures + 1)",
                    "redis.next_attempt_in": "\(delay)",
                ]
            )
            for waiter in waiters { waiter.resume(throwing: redisError) }
            throw redisError
        }

        connection.onClose { [weak self] in self?.connectionDidClose(connection) }
        let published = state.withLock { state -> [CheckedContinuation<RedisConnection, any Error>]? in
            guard case .connecting(_, let waiters) = state else { return nil }  // closed meanwhile
            state = .connected(connection)
            return waiters
        }
        guard let waiters = published else {
            await connection.close()
            throw Self.closedError
        }
        logger.info("redis connected", metadata: ["redis.connection_id": "\(connection.id)"])
        for waiter in waiters { waiter.resume(returning: connection) }
        return connection
    }

    /// Leaves the `.connecting` state for `next` (unless closed meanwhile) and returns the waiters.
    private func finishAttempt(_ next: State) -> [CheckedContinuation<RedisConnection, any Error>] {
        state.withLock { state in
            guard case .connecting(_, let waiters) = state else { return [] }
            state = next
            return waiters
        }
    }

    private func connectionDidClose(_ connection: RedisConnection) {
        let wasCurrent = state.withLock { state in
            guard case .connected(let current) = state, current === connection else { return false }
            state = .disconnected(failures: 0, nextAttempt: .now)
            return true
        }
        if wasCurrent {
            logger.warning("redis connection lost", metadata: ["redis.connection_id": "\(connection.id)"])
        }
    }
}
