public import Logging
public import NIOCore
import NIOPosix
import NIOSSL
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A `replication=database` connection to PostgreSQL: replication commands (`IDENTIFY_SYSTEM`,
/// `CREATE_REPLICATION_SLOT`, `DROP_REPLICATION_SLOT`), simple SQL, and one logical replication
/// stream at a time.
///
/// The connection belongs to the task that `withConnection` lends it to: queries and `next()` are
/// called from that task, one at a time. One stream per connection: PostgreSQL ends a second
/// `START_REPLICATION` on the same connection at once, so this client refuses it. `ReplicationFeedback`, returned when the stream starts, is
/// `Sendable`: another task (the one that commits the target) confirms positions through it.
///
/// ```swift
/// try await ReplicationConnection.withConnection(configuration: configuration, logger: logger) { connection in
///     let feedback = try await connection.startLogicalReplication(slot: "runnel", startLSN: .zero, publications: ["pub"])
///     while let event = try await connection.next() {
///         if case .change(.commit(let commit), _) = event { feedback.confirm(commit.endLSN) }
///     }
/// }
/// ```
public final class ReplicationConnection {
    /// `MultiThreadedEventLoopGroup.singleton`.
    public static var defaultEventLoopGroup: any EventLoopGroup { MultiThreadedEventLoopGroup.singleton }

    private let control: StreamControl
    private var inbound: NIOAsyncChannelInboundStream<BackendMessage>.AsyncIterator
    private let logger: Logger
    public let configuration: ReplicationConfiguration
    /// Whether the connection runs over TLS.
    public private(set) var isEncrypted: Bool

    private init(
        control: StreamControl, inbound: NIOAsyncChannelInboundStream<BackendMessage>.AsyncIterator,
        configuration: ReplicationConfiguration, isEncrypted: Bool, logger: Logger
    ) {
        self.control = control
        self.inbound = inbound
        self.configuration = configuration
        self.isEncrypted = isEncrypted
        self.logger = logger
    }

    /// The server's parameters (`server_version`, `integer_datetimes`, …) from startup.
    public var serverParameters: [String: String] { control.machine.withLock { $0.parameters } }

    /// Connects, negotiates TLS, authenticates, lends the connection to `body`, and closes it when
    /// `body` returns or throws.
    ///
    /// Throws `ReplicationError` with code `.connectFailed`, `.tls`, `.authentication` or `.server`.
    public static func withConnection<Result>(
        configuration: ReplicationConfiguration,
        eventLoopGroup: any EventLoopGroup = ReplicationConnection.defaultEventLoopGroup,
        logger: Logger,
        _ body: (ReplicationConnection) async throws -> Result
    ) async throws -> Result {
        var logger = logger
        logger[metadataKey: "postgres.address"] = "\(configuration.address)"
        let sslContext = try makeSSLContext(configuration.tls)
        let negotiatesTLS = configuration.tls.mode != .disable
        let bootstrap = ClientBootstrap(group: eventLoopGroup)
            .connectTimeout(TimeAmount(configuration.connectTimeout))
            .channelOption(.socketOption(.so_keepalive), value: 1)
        let channel: NIOAsyncChannel<BackendMessage, ByteBuffer>
        do {
            channel = try await bootstrap.connect(host: configuration.host, port: configuration.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        ByteToMessageHandler(BackendMessageDecoder(expectsSSLResponse: negotiatesTLS)))
                    return try NIOAsyncChannel<BackendMessage, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        } catch {
            throw ReplicationError(.connectFailed, "could not connect to \(configuration.address): \(error)")
        }

        return try await channel.executeThenClose { inbound, _ in
            var iterator = inbound.makeAsyncIterator()
            let control = StreamControl(
                machine: ReplicationStateMachine(user: configuration.user, password: configuration.password),
                channel: channel.channel)
            var encrypted = false
            if negotiatesTLS, let sslContext {
                control.write(FrontendMessage.sslRequest())
                let answer = try await Self.next(&iterator, during: "the SSL request")
                switch answer.type {
                case UInt8(ascii: "S"):
                    let serverName =
                        configuration.tls.serverName ?? (isIPAddress(configuration.host) ? nil : configuration.host)
                    do {
                        // Made and added on the event loop: the handler is not Sendable.
                        let pipeline = channel.channel.pipeline
                        try await channel.channel.eventLoop.submit {
                            let handler = try NIOSSLClientHandler(context: sslContext, serverHostname: serverName)
                            try pipeline.syncOperations.addHandler(handler, position: .first)
                        }.get()
                    } catch {
                        throw ReplicationError(.tls, "TLS setup failed: \(error)")
                    }
                    encrypted = true
                case UInt8(ascii: "N"):
                    guard configuration.tls.mode == .prefer else {
                        throw ReplicationError(
                            .tls,
                            "sslmode \(configuration.tls.mode.rawValue): the server at \(configuration.address) does not accept TLS"
                        )
                    }
                default:
                    throw ReplicationError(.protocolViolation, "unexpected answer \(answer.type) to the SSL request")
                }
            }
            let connection = ReplicationConnection(
                control: control, inbound: iterator, configuration: configuration,
                isEncrypted: encrypted, logger: logger)
            try await connection.startup()
            logger.debug("postgres replication connection ready", metadata: ["postgres.tls": "\(encrypted)"])
            return try await body(connection)
        }
    }

    // MARK: Commands

    /// Runs one statement with the simple query protocol and returns its rows as text.
    /// A server error is thrown as `.server` and leaves the connection usable.
    @discardableResult
    public func simpleQuery(_ sql: String) async throws -> ReplicationStateMachine.QueryResult {
        try perform { $0.query(sql) }
        while true {
            switch try await receive() {
            case .queryCompleted(let result): return result
            case .queryFailed(let error): throw error
            case .wait, .write: continue
            case let other: throw ReplicationError(.protocolViolation, "unexpected \(other) during a query")
            }
        }
    }

    /// `IDENTIFY_SYSTEM`.
    public func identifySystem() async throws -> SystemIdentification {
        let result = try await simpleQuery("IDENTIFY_SYSTEM")
        guard let systemID = result.first("systemid"), let timeline = result.first("timeline").flatMap({ Int($0) }),
            let position = result.first("xlogpos").flatMap({ LSN($0) })
        else { throw ReplicationError(.protocolViolation, "IDENTIFY_SYSTEM answered \(result.columns)") }
        return SystemIdentification(
            systemID: systemID, timeline: timeline, position: position, database: result.first("dbname"))
    }

    /// `CREATE_REPLICATION_SLOT name [TEMPORARY] LOGICAL pgoutput [(SNAPSHOT 'export')]`.
    ///
    /// A temporary slot lives as long as this connection. With `.export`, the snapshot named in
    /// the result shows exactly the transactions committed before `consistentPoint`; it can be
    /// imported (`SET TRANSACTION SNAPSHOT`) until the next command on this connection.
    public func createLogicalSlot(
        _ name: String, temporary: Bool = false,
        snapshot: SnapshotAction = .nothing
    ) async throws -> CreatedSlot {
        let slot = try Self.slotName(name)
        // Always explicit: without the option PostgreSQL 15 exports a snapshot.
        let result = try await simpleQuery(
            "CREATE_REPLICATION_SLOT \(slot)\(temporary ? " TEMPORARY" : "") LOGICAL pgoutput (SNAPSHOT '\(snapshot.rawValue)')"
        )
        guard let point = result.first("consistent_point").flatMap({ LSN($0) }) else {
            throw ReplicationError(.protocolViolation, "CREATE_REPLICATION_SLOT answered \(result.columns)")
        }
        return CreatedSlot(
            name: result.first("slot_name") ?? name, consistentPoint: point, snapshotName: result.first("snapshot_name")
        )
    }

    /// `DROP_REPLICATION_SLOT name [WAIT]`; `WAIT` waits for a consumer still using it to leave.
    public func dropSlot(_ name: String, wait: Bool = false) async throws {
        try await simpleQuery("DROP_REPLICATION_SLOT \(try Self.slotName(name))\(wait ? " WAIT" : "")")
    }

    /// `START_REPLICATION SLOT name LOGICAL lsn (proto_version '1', publication_names '…')`.
    ///
    /// The server streams the changes of transactions that commit after `startLSN` (or after the
    /// slot's confirmed position when that is later). Read them with `next()`; confirm what is
    /// stored through the returned feedback. Throws `.server` when the slot is missing (42704) or
    /// in use (55006).
    /// - Parameter messages: also stream `pg_logical_emit_message` (PostgreSQL 14 and later).
    public func startLogicalReplication(
        slot: String, startLSN: LSN, publications: [String],
        messages: Bool = false
    ) async throws -> ReplicationFeedback {
        let names = publications.map { "\"" + $0.replacingAll("\"", "\"\"") + "\"" }.joined(separator: ",")
        var options = "proto_version '1', publication_names '\(names.replacingAll("'", "''"))'"
        if messages { options += ", messages 'true'" }
        let command = "START_REPLICATION SLOT \(try Self.slotName(slot)) LOGICAL \(startLSN) (\(options))"
        guard !control.machine.withLock({ $0.hasStreamed }) else {
            throw ReplicationError(
                .configuration,
                "a replication stream ran on this connection already: open a new connection for the next one")
        }
        try perform { $0.startReplication(command, startLSN: startLSN) }
        while true {
            switch try await receive() {
            case .replicationStarted:
                logger.debug(
                    "postgres replication started",
                    metadata: ["postgres.slot": "\(slot)", "postgres.lsn": "\(startLSN)"])
                return ReplicationFeedback(control: control)
            case .queryFailed(let error): throw error
            case .wait, .write: continue
            case let other: throw ReplicationError(.protocolViolation, "unexpected \(other) starting replication")
            }
        }
    }

    /// The next event of the replication stream; nil once the stream has ended (after
    /// `stopReplication`, or when the server ended it). Keepalives that ask for a reply are
    /// answered before they are returned.
    public func next() async throws -> ReplicationEvent? {
        while true {
            // After the server's CopyDone the end of the command is still to be read.
            guard control.machine.withLock({ $0.isStreaming || $0.isStopping }) else { return nil }
            switch try await receive() {
            case .walData(let data):
                do {
                    return .change(try PgOutputDecoder.decode(data.data), wal: data)
                } catch {
                    control.close()
                    throw ReplicationError(.decoding, "\(error)")
                }
            case .keepalive(let keepalive, _):
                return .keepalive(keepalive)
            case .replicationEnded:
                return nil
            case .wait, .write:
                continue
            case let other:
                throw ReplicationError(.protocolViolation, "unexpected \(other) in the replication stream")
            }
        }
    }

    /// Ends the stream and waits until the connection is ready for commands again. Changes the
    /// server sent after the last `next()` are dropped; they are not confirmed, so the next
    /// stream from the same slot sends them again.
    public func stopReplication() async throws {
        guard control.machine.withLock({ $0.isStreaming }) else { return }
        try perform { $0.stopReplication() }
        while true {
            switch try await receive() {
            case .replicationEnded: return
            case .wait, .write, .walData, .keepalive: continue
            case let other: throw ReplicationError(.protocolViolation, "unexpected \(other) ending replication")
            }
        }
    }

    // MARK: Internals

    private func startup() async throws {
        try perform { $0.start(database: configuration.database, applicationName: configuration.applicationName) }
        while true {
            switch try await receive() {
            case .connected: return
            case .wait, .write: continue
            case let other: throw ReplicationError(.protocolViolation, "unexpected \(other) during startup")
            }
        }
    }

    /// Runs a state change; a `.fail` action closes the connection and throws.
    private func perform(_ change: (inout ReplicationStateMachine) -> ReplicationStateMachine.Action) throws {
        if case .fail(let error) = control.perform(change) { throw error }
    }

    private func receive() async throws -> ReplicationStateMachine.Action {
        let message = try await Self.next(&inbound, during: "the exchange")
        logger.trace(
            "postgres message",
            metadata: [
                "postgres.message": "\(Unicode.Scalar(message.type))", "postgres.bytes": "\(message.payload.count)",
            ])
        let action = control.perform { $0.receive(message, now: .now()) }
        if case .fail(let error) = action { throw error }
        return action
    }

    private static func next(
        _ iterator: inout NIOAsyncChannelInboundStream<BackendMessage>.AsyncIterator,
        during what: String
    ) async throws -> BackendMessage {
        let message: BackendMessage?
        do {
            message = try await iterator.next()
        } catch let error as ReplicationError {
            throw error
        } catch let error as NIOSSLError {
            throw ReplicationError(.tls, "TLS failed during \(what): \(error)")
        } catch let error as NIOSSLExtraError {
            throw ReplicationError(.tls, "TLS failed during \(what): \(error)")
        } catch {
            throw ReplicationError(.closed, "the connection failed during \(what): \(error)")
        }
        guard let message else { throw ReplicationError(.closed, "the server closed the connection during \(what)") }
        return message
    }

    /// Slot names are lower-case letters, digits and underscores (PostgreSQL's rule), which also
    /// makes them safe to splice into a replication command.
    static func slotName(_ name: String) throws -> String {
        guard !name.isEmpty, name.utf8.count <= 63,
            name.utf8.allSatisfy({ (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) || $0 == 0x5F })
        else {
            throw ReplicationError(
                .configuration, "slot name '\(name)': use lower-case letters, digits and underscores (at most 63)")
        }
        return name
    }

    private static func makeSSLContext(_ tls: ReplicationConfiguration.TLS) throws -> NIOSSLContext? {
        guard tls.mode != .disable else { return nil }
        var configuration = TLSConfiguration.makeClientConfiguration()
        switch tls.mode {
        case .verifyFull:
            configuration.certificateVerification = .fullVerification
            if let caFile = tls.caFile { configuration.trustRoots = .file(caFile) }
        default:
            // prefer and require encrypt without checking the certificate, as libpq does.
            configuration.certificateVerification = .none
        }
        do {
            return try NIOSSLContext(configuration: configuration)
        } catch {
            throw ReplicationError(.configuration, "TLS setup failed: \(error)")
        }
    }

    private static func isIPAddress(_ host: String) -> Bool {
        host.contains(":") || host.split(separator: ".").count == 4 && host.allSatisfy { $0.isNumber || $0 == "." }
    }
}

/// The answer to `IDENTIFY_SYSTEM`.
public struct SystemIdentification: Hashable, Sendable {
    public var systemID: String
    public var timeline: Int
    /// The current end of WAL (flushed).
    public var position: LSN
    public var database: String?
}

/// What `CREATE_REPLICATION_SLOT` does with the slot's snapshot.
public enum SnapshotAction: String, Sendable, Hashable {
    /// Export it: its name is valid until the next command on this connection.
    case export
    /// Nothing (the slot is only for streaming).
    case nothing
    /// Use it in the current transaction of this connection.
    case use
}

/// The answer to `CREATE_REPLICATION_SLOT`.
public struct CreatedSlot: Hashable, Sendable {
    public var name: String
    /// The LSN from which the slot streams: every transaction that commits after it.
    public var consistentPoint: LSN
    /// The exported snapshot (with `SnapshotAction.export`).
    public var snapshotName: String?
}

/// One event of the replication stream.
public enum ReplicationEvent: Hashable, Sendable {
    /// A pgoutput message with the XLogData that carried it.
    case change(PgOutputMessage, wal: ReplicationStreamMessage.XLogData)
    case keepalive(ReplicationStreamMessage.PrimaryKeepalive)
}

/// Confirms stored positions to the server, from any task.
public struct ReplicationFeedback: Sendable {
    fileprivate let control: StreamControl

    /// Tells the server that everything up to `lsn` is stored: the slot's `confirmed_flush_lsn`
    /// moves there and the server may recycle the WAL before it. Call it only after the target
    /// committed. Positions never move backwards; a call after the stream ended does nothing.
    public func confirm(_ lsn: LSN) {
        _ = control.perform { $0.confirm(lsn, now: .now()) }
    }

    /// The highest position confirmed so far (initially the stream's start).
    public var confirmed: LSN { control.machine.withLock { $0.confirmed } }
    /// The highest WAL position the server reported.
    public var received: LSN { control.machine.withLock { $0.received } }
}

/// The state machine and the channel, shared by the reading task and `ReplicationFeedback`.
final class StreamControl: Sendable {
    let machine: Mutex<ReplicationStateMachine>
    let channel: any Channel

    init(machine: ReplicationStateMachine, channel: any Channel) {
        self.machine = Mutex(machine)
        self.channel = channel
    }

    /// Applies a change and performs its writes. The writes are queued inside the lock on
    /// purpose: `writeAndFlush` from outside the event loop only enqueues (it never calls back
    /// into this type), and queuing in lock order keeps status updates in the order of the
    /// positions they carry, whichever task sent them.
    func perform(_ change: (inout ReplicationStateMachine) -> ReplicationStateMachine.Action)
        -> ReplicationStateMachine.Action
    {
        let action = machine.withLock { machine in
            let action = change(&machine)
            switch action {
            case .write(let bytes): write(bytes)
            case .keepalive(_, let reply?): write(reply)
            default: break
            }
            return action
        }
        if case .fail = action { close() }
        return action
    }

    func write(_ bytes: [UInt8]) {
        channel.writeAndFlush(channel.allocator.buffer(bytes: bytes), promise: nil)
    }

    func close() {
        channel.close(promise: nil)
    }
}

extension PostgresTimestamp {
    /// The wall clock.
    public static func now() -> PostgresTimestamp {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return PostgresTimestamp(microsecondsSince1970: Int64(spec.tv_sec) * 1_000_000 + Int64(spec.tv_nsec) / 1000)
    }
}

extension String {
    fileprivate func replacingAll(_ target: Character, _ replacement: String) -> String {
        var out = ""
        for c in self { if c == target { out += replacement } else { out.append(c) } }
        return out
    }
}
