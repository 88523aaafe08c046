/// Reads a source as a sequence of batches.
public protocol Extractor: Sendable {
    /// Starts reading. The reader is used by one task only and closed by the runner.
    func open(_ request: ExtractRequest) async throws -> any BatchReader

    /// Parses a dead letter's raw input again, for redrive of records that could not be read.
    /// Returns nil when this extractor keeps no raw input.
    func reparse(raw: String, origin: Origin) throws(RecordError) -> (Schema, [Value])?
}

extension Extractor {
    public func reparse(raw: String, origin: Origin) throws(RecordError) -> (Schema, [Value])? { nil }
}

/// A source that also keeps a position of its own, outside the checkpoint store (a Kafka
/// consumer group's committed offsets): `checkpoint reset` says what it does not reset.
public protocol KeepsItsOwnPosition: Extractor {
    /// One or two sentences for `checkpoint reset`.
    var ownPositionNote: String { get }
}

/// What a run asks of its extractor.
public struct ExtractRequest: Sendable {
    /// Where the last run stopped; nil to start from the beginning (or the window's start).
    public var checkpoint: Checkpoint?
    /// `[from, to)` over the extractor's cursor, for backfills.
    public var window: Window?
    public var batching: BatchingPolicy
    /// Which part of the input this run reads when the work is split across pods.
    public var shard: Shard?
    /// Stop after this many records (`--limit`).
    public var limit: Int?
    /// True for the long-running streaming worker: wait for new input instead of ending.
    public var follow: Bool
    /// The pipeline's name and checkpoint store (nil for backfills and pipelines without one).
    /// A source whose parts are handed to it during the run (Kafka partitions, assigned by the
    /// group at any rebalance) reads each part's stored position when it gets the part, with
    /// `CheckpointCommit.key(pipeline:part:)`; `checkpoint` above is read only once, at open.
    public var pipeline: String = ""
    public var checkpoints: (any CheckpointStore)?
    /// The largest record (in input bytes) a reader may buffer; a larger one is rejected with
    /// code `record_too_large`, so that one huge line cannot exhaust the memory window.
    public var maxRecordBytes: Int = MemoryWindow.unboundedDefault / 8

    public init(
        checkpoint: Checkpoint? = nil, window: Window? = nil, batching: BatchingPolicy = .init(),
        shard: Shard? = nil, limit: Int? = nil, follow: Bool = false
    ) {
        self.checkpoint = checkpoint
        self.window = window
        self.batching = batching
        self.shard = shard
        self.limit = limit
        self.follow = follow
    }
}

/// A reader returned by `Extractor.open`.
public protocol BatchReader: AnyObject {
    /// The next batch, or nil when the input is exhausted (batch mode).
    func next() async throws -> Batch?
    func close() async
}

extension BatchReader {
    public func close() async {}
}

/// Rewrites records: casts, renames, masks, filters. Works on a whole batch so that it resolves
/// field names once per batch.
public protocol Transformer: Sendable {
    /// The name used in dead letters and metrics (`cast`, `rename`, ...).
    var name: String { get }
    func apply(to batch: inout Batch) throws
    /// True when `apply` works on a columnar batch (`Batch.columnar`); otherwise the runner hands
    /// it the batch in the row layout.
    var readsColumns: Bool { get }
}

extension Transformer {
    public var readsColumns: Bool { false }
}

/// Checks records against the pipeline's contract; failing records are rejected (`batch.reject`).
public protocol Validator: Sendable {
    var name: String { get }
    func apply(to batch: inout Batch) throws
    /// As `Transformer.readsColumns`.
    var readsColumns: Bool { get }
}

extension Validator {
    public var readsColumns: Bool { false }
}

/// Writes records to a target, idempotently by key.
public protocol Loader: Sendable {
    /// Creates or checks the target before the first batch. A target that does not match the
    /// spec is a data-contract error, reported before anything is written.
    func prepare(schema: Schema?) async throws

    /// Writes the batch's records. When `commit` is given (the loader's `transactionDomain` equals
    /// the checkpoint store's), the checkpoint is written in the same transaction.
    func load(_ batch: Batch, commit: CheckpointCommit?) async throws

    /// Where this loader can write checkpoints in its own transaction; nil when it cannot.
    var transactionDomain: TransactionDomain? { get }

    /// Finishes the run's output (closes files, flushes). Called once after the last batch.
    func finish() async throws

    /// One line saying where records go, for `--dry-run` and logs. Never contains a secret.
    var target: String { get }

    /// The fields the loader writes by (a row per key), or empty when it appends; the runner
    /// applies the pipeline's `KeyPolicy` to records that share a key within a run.
    var key: [String] { get }

    /// True when `load` reads a columnar batch (`Batch.columnar`); otherwise the runner hands it
    /// the batch in the row layout.
    var readsColumns: Bool { get }
}

extension Loader {
    public var readsColumns: Bool { false }
    public func prepare(schema: Schema?) async throws {}
    public var transactionDomain: TransactionDomain? { nil }
    public func finish() async throws {}
    public var key: [String] { [] }
}

/// `[from, to)` over an extractor's cursor, given as text and interpreted by the extractor
/// (a timestamp, a number).
public struct Window: Sendable, Hashable, CustomStringConvertible {
    public var from: String?
    public var to: String?
    public init(from: String?, to: String?) {
        self.from = from
        self.to = to
    }
    public var description: String { "[\(from ?? "-∞"), \(to ?? "+∞"))" }
}

/// Shard `index` of `count` (0-based), as an Indexed Job gives it.
public struct Shard: Sendable, Hashable, CustomStringConvertible {
    public var index: Int
    public var count: Int
    public init(index: Int, count: Int) {
        self.index = index
        self.count = count
    }
    public var description: String { "\(index)/\(count)" }
}

/// Thrown by a loader whose target refused some of a batch's records for reasons of the records
/// themselves (a webhook answering 422): nothing a retry can fix. The runner treats the refused
/// records like records a validator rejected — dead letter, drop or fail per `on_invalid` —
/// stores the rest as usual and commits the batch's position.
///
/// The loader must not have stored the refused records; the others it has stored.
public struct LoadRefusal: Error, Sendable, CustomStringConvertible {
    /// The refused records, by `Record.ordinal`, each with the reason (the target's answer).
    public var refused: [(ordinal: Int, error: RecordError)]
    public init(refused: [(ordinal: Int, error: RecordError)]) { self.refused = refused }
    public var description: String {
        "the target refused \(refused.count) record(s)" + (refused.first.map { ": \($0.error.message)" } ?? "")
    }
}
