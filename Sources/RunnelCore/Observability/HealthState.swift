import Synchronization

/// What `/livez` and `/readyz` answer, derived from progress rather than from a TCP connection.
///
/// Fed by `HealthObserver` (commits, retries) and by `BacklogPoller` (the source's backlog and
/// whether asking for it works); draining comes from the run's `RunControl`.
///
/// - Ready: the source answered its last backlog poll, the loader's last operation did not need
///   a retry, and the worker is not draining.
/// - Live: not stuck — stuck means input waits (this consumer's pending entries or the group's
///   lag) and nothing was committed for `stallTimeout` since the input started waiting.
public final class HealthState: Sendable {
    public struct Check: Sendable, Hashable {
        public var ok: Bool
        /// Why not, one reason per line; `ok` otherwise.
        public var detail: String
    }

    struct State {
        var started: ContinuousClock.Instant
        var lastCommit: ContinuousClock.Instant?
        var lastCommitWall: Timestamp?
        /// nil until the first poll: not ready before the source has answered once.
        var sourceReachable: Bool?
        var sourceError: String?
        var loaderReachable = true
        var loaderError: String?
        var backlog: SourceBacklog?
        /// When the backlog last went from nothing waiting to something waiting.
        var waitingSince: ContinuousClock.Instant?
        var finished = false
    }

    public let stallTimeout: Duration
    public let control: RunControl
    /// True when the extractor cannot report a backlog: readiness then rests on commits and retries only.
    public let sourceReportsBacklog: Bool
    private let state: Mutex<State>

    public init(stallTimeout: Duration, control: RunControl, sourceReportsBacklog: Bool) {
        self.stallTimeout = stallTimeout
        self.control = control
        self.sourceReportsBacklog = sourceReportsBacklog
        self.state = Mutex(State(started: .now, sourceReachable: sourceReportsBacklog ? nil : true))
    }

    // MARK: - Inputs

    public func committed(at wall: Timestamp) {
        state.withLock {
            $0.lastCommit = .now
            $0.lastCommitWall = wall
            // A commit proves both ends work.
            $0.loaderReachable = true
            $0.loaderError = nil
            if !sourceReportsBacklog { $0.sourceReachable = true }
        }
    }

    public func retrying(operation: String, error: RunnelError) {
        let isLoad = ["load", "prepare load", "finish load", "write dead letters", "save checkpoint"].contains(operation)
        state.withLock {
            if isLoad {
                $0.loaderReachable = false
                $0.loaderError = "\(operation): \(error.description)"
            } else {
                $0.sourceReachable = false
                $0.sourceError = "\(operation): \(error.description)"
            }
        }
    }

    public func backlogPolled(_ backlog: SourceBacklog) {
        let now = ContinuousClock.now
        state.withLock {
            if backlog.waiting > 0 {
                if ($0.backlog?.waiting ?? 0) == 0 || $0.waitingSince == nil { $0.waitingSince = now }
            } else {
                $0.waitingSince = nil
            }
            $0.backlog = backlog
            $0.sourceReachable = true
            $0.sourceError = nil
        }
    }

    public func backlogFailed(_ error: any Error) {
        state.withLock {
            $0.sourceReachable = false
            $0.sourceError = "\(RunnelError.classify(error).description)"
        }
    }

    public func runFinished() { state.withLock { $0.finished = true } }

    // MARK: - Outputs

    public var backlog: SourceBacklog? { state.withLock { $0.backlog } }

    public func readiness() -> Check {
        let s = state.withLock { $0 }
        var reasons: [String] = []
        if control.isStopRequested || s.finished { reasons.append("draining: the worker is stopping") }
        switch s.sourceReachable {
        case nil: reasons.append("source: not reached yet")
        case false?: reasons.append("source unreachable: \(s.sourceError ?? "no answer")")
        case true?: break
        }
        if !s.loaderReachable { reasons.append("loader unreachable: \(s.loaderError ?? "retrying")") }
        return Check(ok: reasons.isEmpty, detail: reasons.isEmpty ? "ok" : reasons.joined(separator: "\n"))
    }

    public func liveness(now: ContinuousClock.Instant = .now) -> Check {
        let s = state.withLock { $0 }
        guard let backlog = s.backlog, backlog.waiting > 0, let since = s.waitingSince else {
            return Check(ok: true, detail: "ok")
        }
        let progress = max(since, s.lastCommit ?? s.started, s.started)
        let quiet = now - progress
        guard quiet > stallTimeout else { return Check(ok: true, detail: "ok") }
        return Check(
            ok: false,
            detail: "stuck: \(backlog.waiting) entries waiting (own pending \(backlog.ownPending), lag \(backlog.lag.map(String.init) ?? "unknown")) "
                + "and nothing committed for \(Int(quiet.seconds)) s (stall_timeout \(Int(stallTimeout.seconds)) s)")
    }
}

/// Feeds a `HealthState` from the runner's events.
public struct HealthObserver: PipelineObserver {
    public let health: HealthState
    public init(health: HealthState) { self.health = health }

    public func batchCommitted(_ event: BatchEvent) { health.committed(at: event.committedAt) }
    public func retrying(_ run: RunInfo, operation: String, attempt: Int, error: RunnelError, delay: Duration) {
        health.retrying(operation: operation, error: error)
    }
    public func runFinished(_ run: RunInfo, summary: RunSummary) { health.runFinished() }
}
