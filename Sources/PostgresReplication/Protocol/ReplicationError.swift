/// An error of the replication client. `code` is opaque so that new cases don't break callers;
/// `shortDescription` is safe as a metric label and never holds a secret.
public struct ReplicationError: Error, Hashable, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case connectFailed = "connect_failed"
            case tls, authentication, server
            case protocolViolation = "protocol"
            case closed
            case decoding, configuration
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }
        /// The server was unreachable, refused the connection, or the connect timed out.
        public static let connectFailed = Code(.connectFailed)
        /// TLS was required and the server refused it, or the handshake or verification failed.
        public static let tls = Code(.tls)
        /// The server refused the credentials, or asked for a method this client does not offer.
        public static let authentication = Code(.authentication)
        /// An ErrorResponse: `sqlState` and `message` say what.
        public static let server = Code(.server)
        /// The server sent something the protocol does not allow at this point.
        public static let protocolViolation = Code(.protocolViolation)
        /// The connection closed.
        public static let closed = Code(.closed)
        /// A replication stream message could not be decoded.
        public static let decoding = Code(.decoding)
        /// The configuration cannot work (verify-full without a host name, …).
        public static let configuration = Code(.configuration)
        public var description: String { base.rawValue }
    }

    public var code: Code
    public var message: String
    /// The server's SQLSTATE for `.server` errors (`42704` undefined object, `42710` duplicate).
    public var sqlState: String?
    /// The server's DETAIL field, when it sent one.
    public var detail: String?

    public init(_ code: Code, _ message: String, sqlState: String? = nil, detail: String? = nil) {
        self.code = code
        self.message = message
        self.sqlState = sqlState
        self.detail = detail
    }

    public var shortDescription: String { code.description }

    public var description: String {
        var text = "postgres replication \(code): \(message)"
        if let sqlState { text += " (SQLSTATE \(sqlState))" }
        if let detail { text += "; \(detail)" }
        return text
    }
}
