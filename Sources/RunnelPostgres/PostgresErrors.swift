import NIOCore
import NIOPosix
import PostgresNIO
public import RunnelCore

#if canImport(Glibc)
    import Glibc
#endif

/// Turns postgres-nio and SwiftNIO errors into classified `RunnelError`s.
///
/// - transient (retried with backoff, then exit 1): the connection failed or dropped, the server
///   is starting or shutting down, out of resources, a serialization failure or deadlock, a lock timeout;
/// - config (exit 2): authentication failed, the database does not exist, TLS required but not offered,
///   permission denied;
/// - data contract (exit 3): a value the target column cannot hold (SQLSTATE classes 22 and 23),
///   a table or column that is missing;
/// - failure (exit 1, not retried): anything else.
///
/// Messages name the server (`postgres://user@host:port/db`, no password) and the operation.
public enum PostgresErrors {
    public static func classify(_ error: any Error, operation: String, settings: PostgresSettings) -> RunnelError {
        if let e = error as? RunnelError { return e.context.isEmpty ? e.adding(context: "\(operation) (\(settings))") : e }
        if error is CancellationError { return RunnelError(.cancelled, "cancelled") }
        if let t = error as? PostgresTransactionError {
            // The first error that happened is the cause; the rollback error is a consequence.
            if let inner = t.beginError ?? t.closureError ?? t.commitError {
                return classify(inner, operation: operation, settings: settings)
            }
        }
        let place = "\(operation) (\(settings))"
        if let p = error as? PSQLError {
            return classify(p, place: place, settings: settings)
        }
        // The pool's own error type is not public API (`_ConnectionPoolModule`); its only
        // unmapped case is the circuit breaker tripping after a minute of failed connects.
        if "\(type(of: error))".contains("ConnectionPoolError") {
            return RunnelError(.transient, "\(place): connection pool: \(error)", underlying: error)
        }
        if error is IOError || error is ChannelError || error is NIOConnectionError {
            return RunnelError(.transient, "\(place): cannot connect: \(describe(error))", underlying: error)
        }
        return RunnelError(.failure, "\(place): \(error)", underlying: error)
    }

    static func classify(_ p: PSQLError, place: String, settings: PostgresSettings) -> RunnelError {
        switch p.code {
        case .server:
            let state = p.serverInfo?[.sqlState] ?? ""
            var message = p.serverInfo?[.message] ?? "server error"
            if let detail = p.serverInfo?[.detail] { message += " (\(detail))" }
            if let hint = p.serverInfo?[.hint] { message += " hint: \(hint)" }
            message = "\(place): \(message) [SQLSTATE \(state)]"
            return RunnelError(code(sqlState: state), message, underlying: p)
        case .connectionError:
            let cause = p.underlying.map { describe($0) } ?? "connection failed"
            return RunnelError(.transient, "\(place): cannot connect: \(cause)", underlying: p)
        case .serverClosedConnection, .uncleanShutdown, .clientClosedConnection, .poolClosed, .queryCancelled:
            return RunnelError(.transient, "\(place): the connection was closed (\(p.code))", underlying: p)
        case .sslUnsupported:
            return RunnelError(.config, "\(place): the server does not offer TLS but the spec says tls: require", underlying: p)
        case .authMechanismRequiresPassword:
            return RunnelError(.config, "\(place): the server asks for a password and the spec gives none", underlying: p)
        case .unsupportedAuthMechanism, .saslError:
            return RunnelError(.config, "\(place): authentication failed (\(p.code))", underlying: p)
        default:
            return RunnelError(.failure, "\(place): \(p.code)", underlying: p)
        }
    }

    /// A connect failure in words: SwiftNIO's own description is `NIOConnectionError(host: …,
    /// connectionErrors: [SingleConnectionFailure(…)])`, which says "refused" only to those who
    /// know errno 111.
    static func describe(_ error: any Error) -> String {
        if let n = error as? NIOConnectionError {
            if n.connectionErrors.isEmpty, let dns = n.dnsAError ?? n.dnsAAAAError {
                return "cannot resolve host '\(n.host)': \(dns)"
            }
            var reasons: [String] = []
            for failure in n.connectionErrors {
                let reason = describe(failure.error)
                if !reasons.contains(reason) { reasons.append(reason) }
            }
            return reasons.isEmpty ? "no address of '\(n.host)' answered" : reasons.joined(separator: "; ")
        }
        if let io = error as? IOError {
            switch io.errnoCode {
            case ECONNREFUSED: return "connection refused (is the server running and listening on that host and port?)"
            case ETIMEDOUT: return "connection timed out"
            case EHOSTUNREACH, ENETUNREACH: return "host unreachable"
            default: return io.description
            }
        }
        if error is ChannelError, "\(error)".contains("connectTimeout") { return "connection timed out" }
        return "\(error)"
    }

    /// The error class of an SQLSTATE.
    static func code(sqlState s: String) -> RunnelError.Code {
        let cls = String(s.prefix(2))
        switch cls {
        case "08", "53", "58": return .transient  // connection, resources, system
        case "28", "3D": return .config  // authentication, no such database
        case "22", "23": return .dataContract  // data exception, integrity violation
        default: break
        }
        switch s {
        case "40001", "40P01", "55P03", "57P01", "57P02", "57P03", "57014": return .transient
        case "42501": return .config  // permission denied
        case "42P01", "42703", "42804": return .dataContract  // table/column missing, type mismatch
        default: return .failure
        }
    }
}
