public import Logging
public import NIOCore
import NIOPosix
import NIOSSL
import Synchronization

/// One connection to a Redis server, with pipelining.
///
/// Commands from any number of tasks may be in flight at once: they are written in call order
/// and Redis answers in that order. A blocking command (`XREADGROUP … BLOCK`) holds back every
/// command queued behind it, so give blocking reads a connection of their own.
///
/// **Server errors.** An error reply is a `RESPValue.error` in the data model. `send(_:)` throws it
/// as a `RedisError` with code `.server` and the server's message (`NOGROUP …`, `BUSYGROUP …`),
/// because a caller of one command wants a failure to be a failure. `pipeline(_:)` returns error
/// replies in place, as `.error` values, because one failing command must not hide the
/// replies of the others; it throws only when the connection fails. Both rules hold for every
/// API in this module that wraps them.
///
/// ```swift
/// try await RedisConnection.withConnection(configuration: configuration, logger: logger) { connection in
///     try await connection.send(["SET", "greeting", "hello"])
///     let replies = try await connection.pipeline([["INCR", "a"], ["INCR", "b"]])
/// }
/// ```
public final class RedisConnection: Sendable {
    /// `MultiThreadedEventLoopGroup.singleton`.
    public static var defaultEventLoopGroup: any EventLoopGroup { MultiThreadedEventLoopGroup.singleton }

    /// Process-unique number, for log metadata (`redis.connection_id`).
    public let id: Int
    /// 3 when the server accepted `HELLO 3`, otherwise 2.
    public let protocolVersion: Int

    private let channel: any Channel
    private let commandTimeout: Duration?
    private let logger: Logger

    private static let nextID = Atomic<Int>(0)

    private init(channel: any Channel, id: Int, protocolVersion: Int, commandTimeout: Duration?, logger: Logger) {
        self.channel = channel
        self.id = id
        self.protocolVersion = protocolVersion
        self.commandTimeout = commandTimeout
        self.logger = logger
    }

    /// Connects, authenticates and selects the database, lends the connection to `body`, and
    /// closes it when `body` returns or throws.
    @discardableResult
    public static func withConnection<Result>(
        configuration: RedisConfiguration,
        eventLoopGroup: any EventLoopGroup = RedisConnection.defaultEventLoopGroup,
        logger: Logger,
        _ body: (RedisConnection) async throws -> Result
    ) async throws -> Result {
        let connection = try await connect(configuration: configuration, eventLoopGroup: eventLoopGroup, logger: logger)
        do {
            let result = try await body(connection)
            await connection.close()
            return result
        } catch {
            await connection.close()
            throw error
        }
    }

    /// Connects, negotiates the protocol (`HELLO 3`, else RESP2), authenticates and selects the
    /// database. The caller owns the connection and must `close()` it; prefer `withConnection`.
    ///
    /// Throws `RedisError` with code `.connectFailed` (unreachable, refused, TLS failure, timeout),
    /// `.authentication` (credentials refused) or `.server` (e.g. SELECT of a missing database).
    public static func connect(
        configuration: RedisConfiguration,
        eventLoopGroup: any EventLoopGroup = RedisConnection.defaultEventLoopGroup,
        logger: Logger
    ) async throws -> RedisConnection {
        let id = nextID.add(1, ordering: .relaxed).newValue
        var logger = logger
        logger[metadataKey: "redis.connection_id"] = "\(id)"
        logger[metadataKey: "redis.address"] = "\(configuration.address)"

        let sslContext = try makeSSLContext(configuration)
        let serverName = configuration.tls.flatMap {
            $0.serverName ?? (isIPAddress(configuration.host) ? nil : configuration.host)
        }
        let bootstrap = ClientBootstrap(group: eventLoopGroup)
            .connectTimeout(TimeAmount(configuration.connectTimeout))
            .channelOption(.socketOption(.so_keepalive), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    if let sslContext {
                        try pipeline.addHandler(NIOSSLClientHandler(context: sslContext, serverHostname: serverName))
                    }
                    try pipeline.addHandler(ByteToMessageHandler(RESPDecoder()))
                    try pipeline.addHandler(RedisCommandHandler())
                }
            }

        let channel: any Channel
        do {
            channel = try await bootstrap.connect(host: configuration.host, port: configuration.port).get()
        } catch {
            throw RedisError(
                code: .connectFailed,
                message: "could not connect to \(configuration.address): \(String(describing: error))"
            )
        }

        do {
            let version = try await handshake(channel: channel, configuration: configuration)
            logger.debug("redis connection ready", metadata: ["redis.protocol": "\(version)"])
            return RedisConnection(
                channel: channel,
                id: id,
                protocolVersion: version,
                commandTimeout: configuration.commandTimeout,
                logger: logger
            )
        } catch var error as RedisError {
            try? await channel.close()
            // A TLS handshake failure or a drop during HELLO/AUTH is a failed connect to the caller.
            if error.code == .connectionClosed || error.code == .protocolError || error.code == .timeout {
                error = RedisError(
                    code: .connectFailed,
                    message: "connection to \(configuration.address) failed during setup: \(error.message)"
                )
            }
            throw error
        } catch {
            try? await channel.close()
            throw error
        }
    }

    /// Whether the connection is still open. A connection that dropped stays dropped; make a
    /// new one (`RedisClient` does this for you).
    public var isConnected: Bool { channel.isActive }

    /// Sends one command and returns its reply.
    ///
    /// An error reply is thrown as `RedisError` with code `.server`. Connection failures throw
    /// `.connectionClosed`, `.timeout` or `.protocolError`; a cancelled caller gets
    /// `CancellationError` (the reply, when it comes, is read and dropped so later commands
    /// still get theirs).
    @discardableResult
    public func send(_ command: RedisCommand) async throws -> RESPValue {
        try Self.throwingServerError(try await execute([command])[0].value(), of: command)
    }

    /// Sends one command and returns its reply undecoded, for replies read in place
    /// (`StreamEntries`). An error reply is thrown as with `send(_:)`.
    public func sendFrame(_ command: RedisCommand) async throws -> RESPFrame {
        let frame = try await execute([command])[0]
        if frame.isError { _ = try Self.throwingServerError(try frame.value(), of: command) }
        return frame
    }

    /// Writes all `commands` with one flush and returns their replies in the same order.
    /// Error replies stay in place as `.error` values; this throws only if the connection fails,
    /// in which case it is not known which of the commands ran.
    public func pipeline(_ commands: [RedisCommand]) async throws -> [RESPValue] {
        guard !commands.isEmpty else { return [] }
        return try await execute(commands).map { try $0.value() }
    }

    private static func throwingServerError(_ reply: RESPValue, of command: RedisCommand) throws -> RESPValue {
        if case .error(let message) = reply {
            throw RedisError(code: .server, message: message, command: command.name)
        }
        return reply
    }

    /// Closes the connection. Commands still waiting fail with `.connectionClosed`.
    public func close() async {
        logger.debug("redis connection closing")
        try? await channel.close()
    }

    /// Completes when the connection closes for any reason (used by `RedisClient` to notice drops).
    func onClose(_ callback: @escaping @Sendable () -> Void) {
        channel.closeFuture.whenComplete { _ in callback() }
    }

    // MARK: - Internals

    private func execute(_ commands: [RedisCommand]) async throws -> [RESPFrame] {
        // A task that is already cancelled never touches the connection.
        try Task.checkCancellation()
        let blocking = commands.reduce(Duration.zero) { max($0, $1.serverBlockingTime) }
        do {
            return try await Self.execute(commands, on: channel, timeout: commandTimeout.map { $0 + blocking })
        } catch let error as RedisError {
            // Context is built only on failure: the success path stays free of string work.
            throw error.on(commands.count == 1 ? commands[0].name : "pipeline of \(commands.count) commands")
        }
    }

    /// Encodes `commands`, writes them, and waits for their replies.
    private static func execute(
        _ commands: [RedisCommand],
        on channel: any Channel,
        timeout: Duration?
    ) async throws -> [RESPFrame] {
        var bytes = channel.allocator.buffer(capacity: 64 * commands.count)
        for command in commands {
            RESPEncoder.encode(command, into: &bytes)
        }
        let promise = channel.eventLoop.makePromise(of: [RESPFrame].self)
        let request = RedisRequest(bytes: bytes, replyCount: commands.count, promise: promise)

        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                // Everything that touches the event loop happens in this one hop. Writing,
                // scheduling the timer and registering callbacks from outside the loop would
                // each be a separate wake-up of the loop thread, which dominated pipelining cost.
                channel.eventLoop.execute {
                    let timer = timeout.map { timeout in
                        channel.eventLoop.scheduleTask(in: TimeAmount(timeout)) {
                            // The late reply would still arrive in order, but a server (or network)
                            // that slow is better treated as gone: fail and close, RedisClient reconnects.
                            promise.fail(RedisError(code: .timeout, message: "no reply within \(timeout)"))
                            channel.close(promise: nil)
                        }
                    }
                    promise.futureResult.whenComplete { result in
                        timer?.cancel()
                        continuation.resume(with: result)
                    }
                    // A write to a closed channel never reaches the handler; fail the reply
                    // promise here. (A promise completes once; NIO ignores later completions.)
                    let written = channel.eventLoop.makePromise(of: Void.self)
                    written.futureResult.whenFailure { error in
                        promise.fail(
                            RedisError(code: .connectionClosed, message: "could not send: \(String(describing: error))")
                        )
                    }
                    channel.writeAndFlush(request, promise: written)
                }
            }
        } onCancel: {
            promise.fail(CancellationError())
        }
    }

    /// `HELLO 3 [AUTH user pass] [SETNAME name]`, falling back to `AUTH`/`CLIENT SETNAME` on
    /// RESP2-only servers, then `SELECT`. Returns the protocol version in use.
    private static func handshake(channel: any Channel, configuration: RedisConfiguration) async throws -> Int {
        let timeout = configuration.commandTimeout
        func run(_ command: RedisCommand) async throws -> RESPValue {
            do {
                return try await execute([command], on: channel, timeout: timeout)[0].value()
            } catch let error as RedisError {
                throw error.on(command.name)
            }
        }
        func authenticationError(_ message: String, _ command: String) -> RedisError {
            RedisError(code: .authentication, message: message, command: command)
        }

        var version = 2
        var needsLegacySetup = true
        if configuration.options.preferRESP3 {
            var arguments: [RedisArgument] = ["3"]
            if let password = configuration.password {
                arguments += ["AUTH", .string(configuration.username ?? "default"), .string(password)]
            }
            if let name = configuration.options.clientName {
                arguments += ["SETNAME", .string(name)]
            }
            switch try await run(RedisCommand("HELLO", arguments)) {
            case .error(let message) where message.hasPrefix("NOPROTO") || message.hasPrefix("ERR unknown command"):
                break  // Redis < 6: RESP2 and the old AUTH below.
            case .error(let message) where configuration.password != nil || message.hasPrefix("NOAUTH"):
                throw authenticationError(message, "HELLO")
            case .error(let message):
                throw RedisError(code: .server, message: message, command: "HELLO")
            default:
                version = 3
                needsLegacySetup = false
            }
        }

        if needsLegacySetup {
            if let password = configuration.password {
                let arguments: [RedisArgument] =
                    configuration.username.map { [.string($0), .string(password)] } ?? [.string(password)]
                if case .error(let message) = try await run(RedisCommand("AUTH", arguments)) {
                    throw authenticationError(message, "AUTH")
                }
            }
            if let name = configuration.options.clientName,
                case .error(let message) = try await run(RedisCommand("CLIENT", ["SETNAME", .string(name)]))
            {
                throw RedisError(code: .server, message: message, command: "CLIENT SETNAME")
            }
        }

        if configuration.database != 0,
            case .error(let message) = try await run(RedisCommand("SELECT", [.integer(configuration.database)]))
        {
            throw RedisError(code: .server, message: message, command: "SELECT")
        }
        return version
    }

    private static func makeSSLContext(_ configuration: RedisConfiguration) throws -> NIOSSLContext? {
        guard let tls = configuration.tls else { return nil }
        var tlsConfiguration = TLSConfiguration.makeClientConfiguration()
        if let caFile = tls.caFile {
            tlsConfiguration.trustRoots = .file(caFile)
        }
        do {
            return try NIOSSLContext(configuration: tlsConfiguration)
        } catch {
            throw RedisError(code: .invalidConfiguration, message: "TLS setup failed: \(String(describing: error))")
        }
    }

    private static func isIPAddress(_ host: String) -> Bool {
        host.contains(":") || host.split(separator: ".").count == 4 && host.allSatisfy { $0.isNumber || $0 == "." }
    }
}
