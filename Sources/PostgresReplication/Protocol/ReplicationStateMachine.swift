/// The replication connection's protocol state: a pure value that takes what the server sent (and
/// what the caller asks for) and returns what to do, so that every path is tested without a server
/// (postgres-nio's ConnectionStateMachine is the model). `ReplicationConnection` does the I/O.
///
/// The connection is sequential: startup, then simple queries one at a time (replication
/// commands are simple queries on a `replication=database` connection), then at most one
/// `START_REPLICATION`, whose CopyBoth stream lasts until the client or the server ends it.
public struct ReplicationStateMachine: Sendable {
    /// The result of a simple query: its last row set and command tag.
    public struct QueryResult: Hashable, Sendable {
        public var columns: [String] = []
        public var rows: [[String?]] = []
        public var commandTag: String = ""

        /// The value of `column` in the first row; nil when absent or null.
        public func first(_ column: String) -> String? {
            guard let index = columns.firstIndex(of: column), let row = rows.first, index < row.count else {
                return nil
            }
            return row[index]
        }
    }

    public enum Action: Hashable, Sendable {
        /// Write these bytes to the server.
        case write([UInt8])
        /// Nothing to do; read the next message.
        case wait
        /// Startup finished: the connection is ready for queries.
        case connected
        /// The query (or replication command) finished.
        case queryCompleted(QueryResult)
        /// The query failed; the connection is ready for the next one.
        case queryFailed(ReplicationError)
        /// `START_REPLICATION` was accepted: CopyBoth mode.
        case replicationStarted
        case walData(ReplicationStreamMessage.XLogData)
        /// A keepalive; `reply` is the status update to write when the server asked for one.
        case keepalive(ReplicationStreamMessage.PrimaryKeepalive, reply: [UInt8]?)
        /// The stream ended (after the client's or the server's CopyDone) and the connection is
        /// ready for queries again.
        case replicationEnded
        /// The connection cannot go on: close it and report the error.
        case fail(ReplicationError)
    }

    enum State: Sendable {
        case initial
        case authenticating(scram: SCRAMSHA256?)
        /// Authentication passed; parameters and BackendKeyData until ReadyForQuery.
        case authenticated
        case ready
        case query(QueryResult, error: ReplicationError?)
        case startingReplication
        case streaming
        /// The client sent CopyDone; the server's CopyDone, CommandComplete and ReadyForQuery follow.
        case stopping(error: ReplicationError?)
        case failed
    }

    public let user: String
    let password: String?
    private var state: State = .initial
    private let nonce: String
    /// Whether START_REPLICATION ran on this connection: PostgreSQL (15) ends a second one on
    /// the same connection at once, so each stream needs a connection of its own.
    public private(set) var hasStreamed = false
    /// The server's ParameterStatus values (server_version, …).
    public private(set) var parameters: [String: String] = [:]
    /// The highest WAL position received in the stream.
    public private(set) var received: LSN = .zero
    /// The position confirmed to the server as flushed: the slot's `confirmed_flush_lsn` follows it.
    public private(set) var confirmed: LSN = .zero

    /// - Parameter scramNonce: the SCRAM client nonce (random by default; fixed in tests).
    public init(user: String, password: String?, scramNonce: String? = nil) {
        self.user = user
        self.password = password
        self.nonce = scramNonce ?? SCRAMSHA256.randomNonce()
    }

    public var isReady: Bool { if case .ready = state { return true } else { return false } }
    public var isStreaming: Bool { if case .streaming = state { return true } else { return false } }
    /// The stream is ending: CopyDone was sent and the server's end of the command is awaited.
    public var isStopping: Bool { if case .stopping = state { return true } else { return false } }

    // MARK: What the caller asks for

    /// The StartupMessage for a `replication=database` connection.
    public mutating func start(database: String, applicationName: String) -> Action {
        guard case .initial = state else { return misuse("start") }
        state = .authenticating(scram: nil)
        return .write(
            FrontendMessage.startup(parameters: [
                ("user", user), ("database", database), ("replication", "database"),
                ("application_name", applicationName), ("client_encoding", "UTF8"),
            ]))
    }

    public mutating func query(_ sql: String) -> Action {
        guard case .ready = state else { return misuse("query") }
        state = .query(QueryResult(), error: nil)
        return .write(FrontendMessage.query(sql))
    }

    /// Sends `START_REPLICATION`; `startLSN` is the first position confirmed in status updates
    /// until the caller confirms a later one.
    public mutating func startReplication(_ command: String, startLSN: LSN) -> Action {
        guard case .ready = state else { return misuse("startReplication") }
        hasStreamed = true
        state = .startingReplication
        received = startLSN
        confirmed = startLSN
        return .write(FrontendMessage.query(command))
    }

    /// Records that everything up to `lsn` is stored and returns the status update that tells the
    /// server (the slot's confirmed position never moves backwards).
    public mutating func confirm(_ lsn: LSN, now: PostgresTimestamp) -> Action {
        guard case .streaming = state else { return .wait }
        confirmed = max(confirmed, lsn)
        return .write(statusUpdate(now: now))
    }

    /// A status update with the current positions, for the periodic one between keepalives.
    public mutating func statusUpdate(now: PostgresTimestamp, replyRequested: Bool = false) -> Action {
        guard case .streaming = state else { return .wait }
        return .write(statusUpdate(now: now, replyRequested: replyRequested))
    }

    /// Ends the stream: CopyDone; the server answers with its own and the command's end.
    public mutating func stopReplication() -> Action {
        guard case .streaming = state else { return .wait }
        state = .stopping(error: nil)
        return .write(FrontendMessage.copyDone())
    }

    private func statusUpdate(now: PostgresTimestamp, replyRequested: Bool = false) -> [UInt8] {
        FrontendMessage.copyData(
            ReplicationStreamMessage.standbyStatusUpdate(
                written: max(received, confirmed), flushed: confirmed, applied: confirmed, clock: now,
                replyRequested: replyRequested))
    }

    private mutating func misuse(_ what: String) -> Action {
        fail(ReplicationError(.protocolViolation, "\(what) is not possible in state \(state)"))
    }

    private mutating func fail(_ error: ReplicationError) -> Action {
        state = .failed
        return .fail(error)
    }

    // MARK: What the server sent

    public mutating func receive(_ message: BackendMessage, now: PostgresTimestamp) -> Action {
        do {
            return try handle(message, now: now)
        } catch {
            return fail(
                ReplicationError(.protocolViolation, "malformed message '\(Unicode.Scalar(message.type))': \(error)"))
        }
    }

    private mutating func handle(_ message: BackendMessage, now: PostgresTimestamp) throws(PgOutputError) -> Action {
        switch message.type {
        case UInt8(ascii: "N"), UInt8(ascii: "A"):
            return .wait  // NoticeResponse, NotificationResponse: nothing to do
        case UInt8(ascii: "S"):
            let (name, value) = try message.withReader { r throws(PgOutputError) in
                (try r.cString("name"), try r.cString("value"))
            }
            parameters[name] = value
            return .wait
        default:
            break
        }

        switch state {
        case .initial, .failed:
            return fail(ReplicationError(.protocolViolation, "unexpected message '\(Unicode.Scalar(message.type))'"))

        case .authenticating(let scram):
            return try authenticate(message, scram: scram)

        case .authenticated:
            switch message.type {
            case UInt8(ascii: "K"): return .wait
            case UInt8(ascii: "Z"):
                state = .ready
                return .connected
            case UInt8(ascii: "E"): return fail(try message.fields().error)
            default: return unexpected(message)
            }

        case .ready:
            if message.type == UInt8(ascii: "E") { return fail(try message.fields().error) }
            return unexpected(message)

        case .query(var result, let error):
            // Moved out of the state first: appending a row to a copy the state still shares would
            // copy every row so far (a page of 5,000 rows was quadratic).
            state = .ready
            switch message.type {
            case UInt8(ascii: "T"):
                result.columns = try message.withReader { r throws(PgOutputError) in
                    let count = Int(try r.int16("field count"))
                    var names: [String] = []
                    for _ in 0..<max(0, count) {
                        names.append(try r.cString("field name"))
                        _ = try r.bytes(18, "field description")
                    }
                    return names
                }
                result.rows = []
                state = .query(result, error: error)
                return .wait
            case UInt8(ascii: "D"):
                let row = try message.withReader { r throws(PgOutputError) in
                    let count = Int(try r.int16("column count"))
                    var values: [String?] = []
                    for _ in 0..<max(0, count) {
                        let length = Int(try r.int32("value length"))
                        values.append(length < 0 ? nil : String(decoding: try r.bytes(length, "value"), as: UTF8.self))
                    }
                    return values
                }
                result.rows.append(row)
                state = .query(result, error: error)
                return .wait
            case UInt8(ascii: "C"):
                result.commandTag = try message.withReader { r throws(PgOutputError) in try r.cString("command tag") }
                state = .query(result, error: error)
                return .wait
            case UInt8(ascii: "E"):
                let serverError = try message.fields().error
                state = .query(result, error: error ?? serverError)
                return .wait
            case UInt8(ascii: "Z"):
                state = .ready
                if let error { return .queryFailed(error) }
                return .queryCompleted(result)
            case UInt8(ascii: "I"):
                state = .query(result, error: error)
                return .wait  // EmptyQueryResponse
            default:
                state = .query(result, error: error)
                return unexpected(message)
            }

        case .startingReplication:
            switch message.type {
            case UInt8(ascii: "W"):
                state = .streaming
                return .replicationStarted
            case UInt8(ascii: "E"):
                // The command failed (no such slot, slot active elsewhere); ReadyForQuery follows.
                state = .query(QueryResult(), error: try message.fields().error)
                return .wait
            default:
                return unexpected(message)
            }

        case .streaming:
            switch message.type {
            case UInt8(ascii: "d"):
                switch try ReplicationStreamMessage.decode(message.payload) {
                case .xLogData(let data):
                    received = max(received, data.start)
                    return .walData(data)
                case .primaryKeepalive(let keepalive):
                    // Nothing pending past walEnd can be lost by saying we received it.
                    received = max(received, keepalive.walEnd)
                    return .keepalive(keepalive, reply: keepalive.replyRequested ? statusUpdate(now: now) : nil)
                }
            case UInt8(ascii: "c"):
                // The server ended the stream (it is shutting down, or the timeline ended).
                state = .stopping(error: nil)
                return .write(FrontendMessage.copyDone())
            case UInt8(ascii: "C"):
                // The command ended without a CopyDone (PostgreSQL 15 does this to a second
                // START_REPLICATION on one connection): ReadyForQuery follows.
                state = .stopping(error: nil)
                return .wait
            case UInt8(ascii: "E"):
                return fail(try message.fields().error)
            default:
                return unexpected(message)
            }

        case .stopping(let error):
            switch message.type {
            case UInt8(ascii: "d"), UInt8(ascii: "c"), UInt8(ascii: "C"):
                return .wait  // data after our CopyDone is not confirmed, so it is sent again next time
            case UInt8(ascii: "E"):
                let serverError = try message.fields().error
                state = .stopping(error: error ?? serverError)
                return .wait
            case UInt8(ascii: "Z"):
                state = .ready
                if let error { return fail(error) }
                return .replicationEnded
            default:
                return unexpected(message)
            }
        }
    }

    private mutating func unexpected(_ message: BackendMessage) -> Action {
        fail(
            ReplicationError(
                .protocolViolation, "unexpected message '\(Unicode.Scalar(message.type))' in state \(state)"))
    }

    private mutating func authenticate(_ message: BackendMessage, scram: SCRAMSHA256?) throws(PgOutputError) -> Action {
        switch message.type {
        case UInt8(ascii: "E"):
            let fields = try message.fields()
            // 28P01 invalid_password, 28000 invalid_authorization_specification (pg_hba refused).
            let code: ReplicationError.Code = fields.sqlState?.hasPrefix("28") == true ? .authentication : .server
            return fail(
                ReplicationError(
                    code, "\(fields.severity): \(fields.message)", sqlState: fields.sqlState, detail: fields.detail))
        case UInt8(ascii: "R"):
            break
        default:
            return unexpected(message)
        }
        return try message.withReader { r throws(PgOutputError) -> Action in
            let request = try r.int32("authentication request")
            switch request {
            case 0:
                state = .authenticated
                return .wait
            case 3:
                guard let password else { return noPassword("cleartext") }
                return .write(FrontendMessage.password(password))
            case 5:
                guard let password else { return noPassword("md5") }
                let salt = try r.bytes(4, "md5 salt")
                return .write(
                    FrontendMessage.password(MD5Password.response(user: user, password: password, salt: salt)))
            case 10:
                var mechanisms: [String] = []
                while true {
                    let name = try r.cString("SASL mechanism")
                    if name.isEmpty { break }
                    mechanisms.append(name)
                }
                guard mechanisms.contains(SCRAMSHA256.mechanism) else {
                    return fail(
                        ReplicationError(
                            .authentication, "the server offers SASL mechanisms \(mechanisms), not SCRAM-SHA-256"))
                }
                guard let password else { return noPassword("SCRAM-SHA-256") }
                let exchange = SCRAMSHA256(password: password, clientNonce: nonce)
                state = .authenticating(scram: exchange)
                return .write(
                    FrontendMessage.saslInitialResponse(mechanism: SCRAMSHA256.mechanism, data: exchange.clientFirst))
            case 11:
                guard var exchange = scram else { return unexpected(message) }
                do throws(ReplicationError) {
                    let final = try exchange.clientFinal(serverFirst: r.rest())
                    state = .authenticating(scram: exchange)
                    return .write(FrontendMessage.saslResponse(final))
                } catch {
                    return fail(error)
                }
            case 12:
                guard let exchange = scram else { return unexpected(message) }
                do throws(ReplicationError) {
                    try exchange.verify(serverFinal: r.rest())
                    return .wait  // AuthenticationOk follows
                } catch {
                    return fail(error)
                }
            default:
                return fail(
                    ReplicationError(
                        .authentication,
                        "the server asks for authentication method \(request), which this client does not support (trust, password, md5, SCRAM-SHA-256)"
                    ))
            }
        }
    }

    private mutating func noPassword(_ method: String) -> Action {
        fail(
            ReplicationError(
                .authentication, "the server asks for \(method) authentication and no password is configured"))
    }
}
