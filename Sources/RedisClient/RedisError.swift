
/// An error from the Redis client or from the server.
///
/// `code` says what kind of failure it is; callers compare it to the static members
/// (`error.code == .server`). New codes may be added without breaking callers.
/// `message` never contains a password: messages are built from redacted configuration, and
/// AUTH/HELLO arguments are never formatted.
///
/// ```swift
/// do {
///     try await client.send(["XGROUP", "CREATE", "orders", "billing", "$"])
/// } catch let error as RedisError where error.serverErrorCode == "BUSYGROUP" {
///     // the group exists already
/// }
/// ```
public struct RedisError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The kind of failure. A struct over a private enum so that cases can be added.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: String, Sendable, Hashable {
            case connectFailed
            case connectionClosed
            case protocolError
            case server
            case timeout
            case authentication
            case invalidConfiguration
            case unexpectedReply
            case clientClosed
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The TCP or TLS connection could not be established (refused, unreachable, timed out).
        public static let connectFailed = Code(.connectFailed)
        /// The connection dropped, or was closed, before the reply arrived.
        public static let connectionClosed = Code(.connectionClosed)
        /// The server sent bytes that are not RESP; the connection has been closed.
        public static let protocolError = Code(.protocolError)
        /// The server answered with an error reply; `message` is the server's text.
        public static let server = Code(.server)
        /// No reply within the command timeout; the connection has been closed.
        public static let timeout = Code(.timeout)
        /// The server refused the credentials (WRONGPASS, NOAUTH, NOPERM on AUTH/HELLO).
        public static let authentication = Code(.authentication)
        /// A configuration value (URL, TLS file) is not usable.
        public static let invalidConfiguration = Code(.invalidConfiguration)
        /// The reply has a shape the typed helper did not expect (e.g. a string where an ID should be).
        public static let unexpectedReply = Code(.unexpectedReply)
        /// The `RedisClient` was closed by its owner; it will not reconnect.
        public static let clientClosed = Code(.clientClosed)

        public var description: String { base.rawValue }
    }

    public var code: Code
    /// Human readable detail; for `.server` and `.authentication` the server's own message.
    public var message: String
    /// The command name (never its arguments) the error happened on, when known.
    public var command: String?

    public init(code: Code, message: String, command: String? = nil) {
        self.code = code
        self.message = message
        self.command = command
    }

    /// Whether retrying the same operation later may succeed: connection failures and timeouts,
    /// and the server errors Redis uses for passing states (loading a dataset, failover).
    public var isTransient: Bool {
        switch code {
        case .connectFailed, .connectionClosed, .timeout:
            return true
        case .server:
            return ["LOADING", "BUSY", "TRYAGAIN", "MASTERDOWN", "CLUSTERDOWN"].contains(serverErrorCode ?? "")
        default:
            return false
        }
    }

    /// The error code word a server error reply starts with (`NOGROUP`, `BUSYGROUP`, `WRONGTYPE`,
    /// `ERR`), or `nil` when this is not a server error.
    public var serverErrorCode: String? {
        guard code == .server || code == .authentication else { return nil }
        let word = message.prefix { $0 != " " }
        return word.isEmpty || word.contains(where: \.isLowercase) ? nil : String(word)
    }

    /// A low-cardinality label for metrics: `redis_<code>`, plus the server error word for
    /// `.server` (`redis_server_NOGROUP`).
    public var shortDescription: String {
        if code == .server, let word = serverErrorCode { return "redis_server_\(word)" }
        return "redis_\(code)"
    }

    public var description: String {
        if let command { return "Redis \(code) error on \(command): \(message)" }
        return "Redis \(code) error: \(message)"
    }

    /// The same error with the command name attached (context added when rethrowing).
    func on(_ command: String) -> RedisError {
        var copy = self
        if copy.command == nil { copy.command = command }
        return copy
    }
}
