#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The error every Runnel component throws, classified so the runner knows whether to retry and
/// the binaries know which exit code to use.
///
/// `Code` is a struct over a private enum so that new codes do not break callers' `switch`es.
public struct RunnelError: Error, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case config, dataContract, transient, leaseHeld, failure, cancelled, fenced
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// A broken spec, a bad flag, an unknown component: not retried, exit 2.
        public static let config = Code(.config)
        /// Data that breaks the pipeline's contract (a table that doesn't match, too many invalid
        /// records): not retried, exit 3.
        public static let dataContract = Code(.dataContract)
        /// A server unreachable, a connection dropped, a lock timed out: retried with backoff, exit 1.
        public static let transient = Code(.transient)
        /// Another run holds the pipeline's lease: exit 4, without touching data.
        public static let leaseHeld = Code(.leaseHeld)
        /// Anything else that stops a run and that a later retry can get past (an I/O error, a full
        /// disk): not retried in-process, exit 1. Errors a retry cannot fix are `config` or
        /// `dataContract`: damaged input, an unreadable checkpoint, a path that does not exist.
        public static let failure = Code(.failure)
        /// The run was stopped from outside before it finished.
        public static let cancelled = Code(.cancelled)
        /// Another worker committed past this run's position (a Kafka partition taken over while
        /// a batch of it was in flight): the load was rolled back, not retried in-process, exit 1,
        /// and the restarted worker reads from the stored positions.
        public static let fenced = Code(.fenced)

        /// A label-safe name for metrics and JSON summaries.
        public var description: String { base.rawValue }

        /// The process exit code documented in the README.
        public var exitCode: Int32 {
            switch base {
            case .config: 2
            case .dataContract: 3
            case .leaseHeld: 4
            case .transient, .failure, .cancelled, .fenced: 1
            }
        }
    }

    public var code: Code
    public var message: String
    /// Where it happened, outermost first: `load sqlite orders`, `orders.csv:41`.
    public var context: [String]
    public var underlying: (any Error)?

    public init(_ code: Code, _ message: String, context: [String] = [], underlying: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.context = context
        self.underlying = underlying
    }

    public static func config(_ message: String) -> RunnelError { RunnelError(.config, message) }
    public static func dataContract(_ message: String) -> RunnelError { RunnelError(.dataContract, message) }
    public static func transient(_ message: String, underlying: (any Error)? = nil) -> RunnelError {
        RunnelError(.transient, message, underlying: underlying)
    }
    public static func failure(_ message: String, underlying: (any Error)? = nil) -> RunnelError {
        RunnelError(.failure, message, underlying: underlying)
    }

    public var isTransient: Bool { code == .transient }

    /// A copy with `place` added as the outermost context.
    public func adding(context place: String) -> RunnelError {
        var copy = self
        copy.context.insert(place, at: 0)
        return copy
    }

    public var description: String {
        context.isEmpty ? message : context.joined(separator: ": ") + ": " + message
    }

    /// Wraps any error as a `RunnelError`: Runnel errors pass through, cancellation stays
    /// cancellation, errors that say they are transient stay transient, the rest are failures.
    public static func classify(_ error: any Error) -> RunnelError {
        if let e = error as? RunnelError { return e }
        if error is CancellationError { return RunnelError(.cancelled, "cancelled") }
        if let t = error as? any TransientClassifiable, t.isTransient {
            return RunnelError(.transient, String(describing: error), underlying: error)
        }
        return RunnelError(.failure, String(describing: error), underlying: error)
    }
}

/// Errors of client libraries (a Redis or PostgreSQL connection) that know whether retrying helps.
public protocol TransientClassifiable: Error {
    var isTransient: Bool { get }
}

extension RunnelError {
    /// An operating-system error on `path`, classified by `errno` so that exit 1 keeps meaning
    /// "a retry can succeed": a path that does not exist, is not allowed, or is the wrong kind of
    /// file stays so until someone fixes the spec or the volume (config, exit 2); anything else
    /// (EIO, ENOSPC, EMFILE, EINTR…) may pass (failure, exit 1).
    public static func io(_ message: String, errno code: Int32) -> RunnelError {
        let text = "\(message): \(String(cString: strerror(code)))"
        switch code {
        case ENOENT, EACCES, EPERM, EISDIR, ENOTDIR, ELOOP, ENAMETOOLONG, EROFS, EEXIST:
            return RunnelError(.config, text)
        default:
            return RunnelError(.failure, text)
        }
    }
}
