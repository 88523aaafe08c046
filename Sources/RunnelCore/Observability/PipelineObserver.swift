/// Hooks the runner calls as a run goes: progress lines, logs and metrics are observers.
///
/// Called from the runner's task; implementations must be quick and must not throw.
public protocol PipelineObserver: Sendable {
    func runStarted(_ run: RunInfo)
    /// A batch was stored and its position committed.
    func batchCommitted(_ event: BatchEvent)
    /// A transient failure is about to be retried after `delay`.
    func retrying(_ run: RunInfo, operation: String, attempt: Int, error: RunnelError, delay: Duration)
    /// At the end of a batch run: records superseded by a later record of the run that their
    /// own batches counted as loaded (their key's first record had been spilled to disk).
    func supersededAtEnd(_ run: RunInfo, count: Int)
    func runFinished(_ run: RunInfo, summary: RunSummary)
    /// A batch could not be stored or committed; the run stops with `error`.
    func batchFailed(_ event: BatchFailure)
    /// The input bytes of the batches read but not yet committed changed: a batch entered
    /// flight (read and handed to the committer) or left it (committed, or dropped by a failure).
    func inflightChanged(_ run: RunInfo, bytes: Int)
}

extension PipelineObserver {
    public func runStarted(_ run: RunInfo) {}
    public func batchCommitted(_ event: BatchEvent) {}
    public func retrying(_ run: RunInfo, operation: String, attempt: Int, error: RunnelError, delay: Duration) {}
    public func supersededAtEnd(_ run: RunInfo, count: Int) {}
    public func runFinished(_ run: RunInfo, summary: RunSummary) {}
    public func batchFailed(_ event: BatchFailure) {}
    public func inflightChanged(_ run: RunInfo, bytes: Int) {}
}

public struct RunInfo: Sendable, Hashable {
    public var pipeline: String
    public var runID: String
    public var mode: RunOptions.Mode
    public var dryRun: Bool
    /// The container's memory limit (nil: none) and the run's in-flight window, in bytes.
    public var memoryLimit: Int? = nil
    public var memoryWindow: Int = MemoryWindow.unboundedDefault
    /// The run's span context when tracing is on: batch spans link to it.
    public var trace: TraceContext? = nil
}

/// One committed batch.
public struct BatchEvent: Sendable {
    public var run: RunInfo
    /// 1-based batch number within the run.
    public var sequence: Int
    public var read: Int
    public var loaded: Int
    public var filtered: Int
    /// Records whose key a later (or, with first_wins, an earlier) record of the run also had.
    public var superseded: Int = 0
    /// Rejections by stage (`extract`, `transform:cast`, `validate`).
    public var rejectedByStage: [String: Int]
    public var deadLettered: Int
    public var dropped: Int
    /// From the batch's arrival at the runner to its commit.
    public var duration: Duration
    public var committedAt: Timestamp
    public var checkpoint: Checkpoint?
    public var progress: InputProgress?
    /// Running totals for the run so far.
    public var totals: RunSummary
    /// When each loaded record entered the source, where the source knows (stream entry ids).
    public var sourceTimes: [Timestamp]
    /// Input bytes of the batches read but not yet committed while this batch was committed
    /// (its own included).
    public var inflightBytes: Int = 0
    /// Dead-lettered records by their rejection code (`RecordError.code`).
    public var deadLetteredByCode: [String: Int] = [:]
    /// The batch's trace (context, links, timed steps); empty when tracing is off.
    public var trace = BatchTrace()
}

/// A batch the run stopped on: its store, dead letter write or commit failed.
public struct BatchFailure: Sendable {
    public var run: RunInfo
    /// 1-based number the batch would have had.
    public var sequence: Int
    public var read: Int
    public var error: RunnelError
    public var trace: BatchTrace
}

/// Sends every event to several observers.
public struct ObserverGroup: PipelineObserver {
    public var observers: [any PipelineObserver]
    public init(_ observers: [any PipelineObserver]) { self.observers = observers }
    public func runStarted(_ run: RunInfo) { for o in observers { o.runStarted(run) } }
    public func batchCommitted(_ event: BatchEvent) { for o in observers { o.batchCommitted(event) } }
    public func supersededAtEnd(_ run: RunInfo, count: Int) { for o in observers { o.supersededAtEnd(run, count: count) } }
    public func retrying(_ run: RunInfo, operation: String, attempt: Int, error: RunnelError, delay: Duration) {
        for o in observers { o.retrying(run, operation: operation, attempt: attempt, error: error, delay: delay) }
    }
    public func runFinished(_ run: RunInfo, summary: RunSummary) {
        for o in observers { o.runFinished(run, summary: summary) }
    }
    public func batchFailed(_ event: BatchFailure) { for o in observers { o.batchFailed(event) } }
    public func inflightChanged(_ run: RunInfo, bytes: Int) { for o in observers { o.inflightChanged(run, bytes: bytes) } }
}
