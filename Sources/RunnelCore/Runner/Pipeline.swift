/// One pipeline, assembled from its stages: Extractor → Transformers → Validators → Loader,
/// with the checkpoint store and dead letter queue it commits to.
public struct Pipeline: Sendable {
    public var name: String
    public var extractor: any Extractor
    public var transformers: [any Transformer]
    public var validators: [any Validator]
    public var loader: any Loader
    /// Nil when the pipeline does not resume (every run reads everything; loads stay idempotent).
    public var checkpoints: (any CheckpointStore)?
    /// Nil when rejected records are dropped or fail the run.
    public var deadLetters: (any DeadLetterQueue)?
    public var invalidRecords: InvalidRecordPolicy
    public var batching: BatchingPolicy
    public var retry: RetryPolicy
    /// Taken before the run reads its checkpoint; nil when concurrent runs are harmless.
    public var lease: (any RunLease)?
    /// Which record wins when records of one run share the loader's key. Default `lastWins`.
    public var keyPolicy: KeyPolicy
    /// What the run may hold in flight; sizes batches, the largest record and the key memory.
    public var memory: MemoryWindow

    public init(
        name: String,
        extractor: any Extractor,
        transformers: [any Transformer] = [],
        validators: [any Validator] = [],
        loader: any Loader,
        checkpoints: (any CheckpointStore)? = nil,
        deadLetters: (any DeadLetterQueue)? = nil,
        invalidRecords: InvalidRecordPolicy = .init(),
        batching: BatchingPolicy = .init(),
        retry: RetryPolicy = .exponentialJitter(),
        lease: (any RunLease)? = nil,
        keyPolicy: KeyPolicy = .lastWins,
        memory: MemoryWindow = MemoryWindow()
    ) {
        self.name = name
        self.extractor = extractor
        self.transformers = transformers
        self.validators = validators
        self.loader = loader
        self.checkpoints = checkpoints
        self.deadLetters = deadLetters
        self.invalidRecords = invalidRecords
        self.batching = batching
        self.retry = retry
        self.lease = lease
        self.keyPolicy = keyPolicy
        self.memory = memory
    }

    /// True when the loader writes the checkpoint in the load's transaction (the two share a
    /// database and table): a crash can neither lose nor re-apply a batch. Resolved from what the
    /// types declare, once, when the pipeline is assembled.
    public var checkpointsInLoad: Bool {
        guard let domain = loader.transactionDomain, let store = checkpoints?.transactionDomain else { return false }
        return domain == store
    }
}

/// How one run of a pipeline goes.
public struct RunOptions: Sendable {
    public enum Mode: String, Sendable, Codable {
        /// Ends when the input is exhausted.
        case batch
        /// Waits for new input until asked to stop.
        case streaming
    }

    public var mode: Mode
    /// A backfill window: the run reads `[from, to)` and neither reads nor moves the incremental checkpoint.
    public var window: Window?
    public var shard: Shard?
    /// Read the source's consistent snapshot instead of its changes (`--snapshot`, a
    /// `SnapshotSource`): the run keeps its own checkpoint per shard, apart from the stream's.
    public var snapshot = false
    public var limit: Int?
    /// Runs everything but the load and the commit.
    public var dryRun: Bool
    public var runID: String
    /// The memory a batch run holds its keys' hashes in before it spills them to TMPDIR
    /// (`KeyTracker`); for tests that spill on purpose.
    public var keyMemoryBudget = 4 << 20
    /// Trace each batch, sampling this share of them (1: all); nil: no tracing, no batch
    /// context is made and no step is timed. Set by the binaries from the `OTEL_*` variables.
    public var traceSampleRatio: Double?

    public init(
        mode: Mode = .batch, window: Window? = nil, shard: Shard? = nil, limit: Int? = nil, dryRun: Bool = false,
        runID: String = RunOptions.makeRunID()
    ) {
        self.mode = mode
        self.window = window
        self.shard = shard
        self.limit = limit
        self.dryRun = dryRun
        self.runID = runID
    }

    /// A sortable, unique-enough id: UTC time plus random suffix.
    public static func makeRunID() -> String {
        let now = Timestamp.now.iso8601.filter { $0.isNumber }
        let suffix = String(UInt32.random(in: 0..<UInt32.max), radix: 36)
        return "\(now.prefix(14))-\(suffix)"
    }
}
