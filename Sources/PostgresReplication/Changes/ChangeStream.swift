public import Logging
import Synchronization

/// Decoded changes from a logical slot, read by a background task (`run()`) into a bounded
/// buffer and taken with `next(timeout:)`: the shape a batch reader needs (a linger deadline, an
/// empty answer when idle so the runner notices a stop). Confirmations (`confirm`) go to the
/// server from any task, after the target committed.
///
/// While the buffer is full the reading task waits, and so does the server's keepalive; keep the
/// time between `next` calls (a load) under the server's `wal_sender_timeout` (60 s by default).
public final class ChangeStream: Sendable {
    public enum Event: Hashable, Sendable {
        case change(Change)
        /// A transaction ended; the stream can resume at `end`.
        case commit(commitLSN: LSN, end: LSN)
        /// A table's description arrived; `previous` is what was known before (nil the first time).
        case relation(PgOutputMessage.Relation, previous: PgOutputMessage.Relation?)
        /// The server is idle up to `walEnd` and no transaction is open: a reader with nothing
        /// pending may confirm it, so an idle publication does not pin WAL.
        case idle(walEnd: LSN)
    }

    public struct Configuration: Sendable {
        public var connection: ReplicationConfiguration
        public var slot: String
        public var publications: [String]
        /// Where to start: nil streams from the slot's confirmed position.
        public var position: CDCPosition?
        /// Events buffered ahead of the reader. Default 4,096.
        public var capacity: Int = 4_096
        /// Also stream `pg_logical_emit_message` (heartbeats). Default false.
        public var messages = false

        public init(connection: ReplicationConfiguration, slot: String, publications: [String], position: CDCPosition?)
        {
            self.connection = connection
            self.slot = slot
            self.publications = publications
            self.position = position
        }
    }

    private struct State: ~Copyable {
        var events: [Event] = []
        var head = 0
        var failure: (any Error)?
        var finished = false
        var waiter: (id: UInt64, continuation: CheckedContinuation<Void, Never>)?
        var nextWaiter: UInt64 = 0
        var spaceWaiter: CheckedContinuation<Void, Never>?
        var feedback: ReplicationFeedback?
        /// A confirmation asked for before the stream started.
        var pendingConfirm: LSN?

        var count: Int { events.count - head }
    }

    public let configuration: Configuration
    private let logger: Logger
    private let state = Mutex(State())
    private let walEnd = Atomic<UInt64>(0)

    /// The end of the server's WAL as its last message said (XLogData and keepalives carry it):
    /// with the confirmed position, how much WAL the slot holds back.
    public var serverWALEnd: LSN { LSN(rawValue: walEnd.load(ordering: .relaxed)) }

    public init(_ configuration: Configuration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    /// Connects, starts replication and reads until cancelled, the server ends the stream, or an
    /// error (which `next` then throws).
    public func run() async {
        do {
            try await ReplicationConnection.withConnection(configuration: configuration.connection, logger: logger) {
                connection in
                let start = configuration.position?.resume ?? .zero
                let feedback = try await connection.startLogicalReplication(
                    slot: configuration.slot, startLSN: start, publications: configuration.publications,
                    messages: configuration.messages)
                let pending = state.withLock { s -> LSN? in
                    s.feedback = feedback
                    defer { s.pendingConfirm = nil }
                    return s.pendingConfirm
                }
                if let pending { feedback.confirm(pending) }
                var assembler = ChangeAssembler(resumingFrom: configuration.position)
                var inTransaction = false
                while let event = try await connection.next() {
                    try Task.checkCancellation()
                    switch event {
                    case .keepalive(let keepalive):
                        walEnd.max(keepalive.walEnd.rawValue, ordering: .relaxed)
                        if !inTransaction { try await push(.idle(walEnd: keepalive.walEnd)) }
                    case .change(let message, let wal):
                        walEnd.max(wal.walEnd.rawValue, ordering: .relaxed)
                        if case .begin = message { inTransaction = true }
                        for output in try assembler.apply(message) {
                            switch output {
                            case .change(let change): try await push(.change(change))
                            case .commit(let commitLSN, let end, _):
                                inTransaction = false
                                try await push(.commit(commitLSN: commitLSN, end: end))
                            case .relation(let relation, let previous):
                                try await push(.relation(relation, previous: previous))
                            case .message, .nothing: break
                            }
                        }
                    }
                }
                throw ReplicationError(.closed, "the server ended the replication stream")
            }
        } catch {
            finish(error)
        }
    }

    /// The next event, or nil when none arrived within `timeout`. Throws what ended `run()`.
    public func next(timeout: Duration) async throws -> Event? {
        if let event = try take() { return event }
        let id = state.withLock { s -> UInt64 in
            s.nextWaiter += 1
            return s.nextWaiter
        }
        let timer = Task { [self] in
            try? await Task.sleep(for: timeout)
            wake(id)
        }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let now = state.withLock { s -> Bool in
                if s.count > 0 || s.failure != nil || s.finished { return true }
                s.waiter = (id, continuation)
                return false
            }
            if now { continuation.resume() }
        }
        timer.cancel()
        return try take()
    }

    /// Confirms to the server that everything up to `lsn` is stored (call after the target's commit).
    public func confirm(_ lsn: LSN) {
        let feedback = state.withLock { s -> ReplicationFeedback? in
            if s.feedback == nil { s.pendingConfirm = max(s.pendingConfirm ?? .zero, lsn) }
            return s.feedback
        }
        feedback?.confirm(lsn)
    }

    /// The position confirmed to the server so far.
    public var confirmed: LSN? { state.withLock { $0.feedback?.confirmed } }

    /// Ends the stream: the reading task stops at its next event (cancel its task to stop it at once).
    public func close() {
        finish(CancellationError())
    }

    /// Waits until `lsn` was confirmed (the acknowledgement of the last batch handed out, which
    /// the runner sends after the reader is closed), at most `timeout` or until the task is
    /// cancelled, then closes. Unconfirmed changes are sent again by the next stream.
    public func close(afterConfirming lsn: LSN, timeout: Duration) async {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline, !Task.isCancelled {
            let done = state.withLock { s -> Bool in
                s.failure != nil || (s.feedback.map { $0.confirmed >= lsn } ?? true)
            }
            if done { break }
            try? await Task.sleep(for: .milliseconds(5))
        }
        close()
    }

    private func take() throws -> Event? {
        let (event, space, failure) = state.withLock { s -> (Event?, CheckedContinuation<Void, Never>?, (any Error)?) in
            guard s.count > 0 else { return (nil, nil, s.failure) }
            let event = s.events[s.head]
            s.head += 1
            if s.head > 1_024, s.head * 2 > s.events.count {
                s.events.removeFirst(s.head)
                s.head = 0
            }
            let space = s.spaceWaiter
            s.spaceWaiter = nil
            return (event, space, nil)
        }
        space?.resume()
        if let failure { throw failure }
        return event
    }

    private func push(_ event: Event) async throws {
        while true {
            let (accepted, waiter, closed) = state.withLock { s -> (Bool, CheckedContinuation<Void, Never>?, Bool) in
                if s.finished { return (false, nil, true) }
                guard s.count < configuration.capacity else { return (false, nil, false) }
                s.events.append(event)
                let waiter = s.waiter?.continuation
                s.waiter = nil
                return (true, waiter, false)
            }
            waiter?.resume()
            if closed { throw CancellationError() }
            if accepted { return }
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let now = state.withLock { s -> Bool in
                    if s.count < configuration.capacity || s.finished { return true }
                    s.spaceWaiter = continuation
                    return false
                }
                if now { continuation.resume() }
            }
        }
    }

    private func wake(_ id: UInt64) {
        let waiter = state.withLock { s -> CheckedContinuation<Void, Never>? in
            guard let w = s.waiter, w.id == id else { return nil }
            s.waiter = nil
            return w.continuation
        }
        waiter?.resume()
    }

    private func finish(_ error: any Error) {
        let (waiter, space) = state.withLock {
            s -> (CheckedContinuation<Void, Never>?, CheckedContinuation<Void, Never>?) in
            if !s.finished {
                s.finished = true
                s.failure = error
            }
            s.feedback = nil
            defer {
                s.waiter = nil
                s.spaceWaiter = nil
            }
            return (s.waiter?.continuation, s.spaceWaiter)
        }
        waiter?.resume()
        space?.resume()
    }
}
