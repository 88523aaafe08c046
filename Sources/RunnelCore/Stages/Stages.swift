/// Reads a source as a sequence of batches.
public protocol Extractor: Sendable {
    /// Starts reading. The reader is used by one task only and closed by the runner.
    func open(_ request: ExtractRequest) async throws -> any BatchReader

    /// Parses a dead letter's raw input again, for redrive of records that could not be read.
    /// Returns nil when this extractor keeps no raw input.
    func reparse(raw: String, origin: Origin) throws(RecordError) -> (Schema, [Value])?

    /// What `--from/--to` must be for this extractor; checked before the run opens anything.
    var windowBounds: WindowBoundKind { get }

    /// How the source itself keeps the position when the spec has no checkpoint store (a
    /// consumer group's acknowledgements or committed offsets), for `validate`; nil when it
    /// keeps none, so that every run without a checkpoint reads all input.
    var positionWithoutCheckpoint: String? { get }

    /// A look at the input without a server (files), for `validate`: what the path resolves
    /// to, how many inputs match, the fields of the first one and a few of its records. nil for
    /// sources that need a connection (validate does not connect).
    func inputPreview() async throws -> InputPreview?
}

/// What `validate` learns from an extractor's input without running the pipeline.
public struct InputPreview: Sendable {
    /// The spec's path as resolved (absolute).
    public var resolved: String
    /// The matching inputs, in reading order.
    public var inputs: [String]
    /// The fields of the first input: its CSV header (or `columns:`), the keys of its first
    /// JSON Lines records; nil when the first input is empty.
    public var fields: [String]?
    /// Where `fields` came from, for messages: `the header of /data/flights.csv`.
    public var fieldsSource: String
    /// The first records of the first input, as read (CSV values are text).
    public var samples: [Object]
    /// The field `--from/--to` apply to.
    public var cursor: String?
    /// True when the input declares its fields (a CSV header): a name it lacks is an error.
    /// False for records that describe themselves, which may leave a field out.
    public var declared: Bool

    public init(
        resolved: String, inputs: [String], fields: [String]?, fieldsSource: String, samples: [Object], cursor: String?,
        declared: Bool
    ) {
        self.declared = declared
        self.resolved = resolved
        self.inputs = inputs
        self.fields = fields
        self.fieldsSource = fieldsSource
        self.samples = samples
        self.cursor = cursor
    }

    /// Reads up to `limit` records of an extractor's input (the first batch) for a preview.
    public static func firstRecords(of extractor: any Extractor, limit: Int = 20) async throws -> (fields: [String], samples: [Object])? {
        var request = ExtractRequest(limit: limit)
        request.batching.maxRecords = limit
        let reader = try await extractor.open(request)
        let batch: Batch?
        do {
            batch = try await reader.nextBatch()?.batch
        } catch {
            await reader.close()
            throw error
        }
        await reader.close()
        guard let batch else { return nil }
        let fields = batch.sourceSchema.fields
        let samples = batch.sources.compactMap { s -> Object? in
            s.values.isEmpty ? nil : Object(keys: Array(fields.prefix(s.values.count)), values: Array(s.values.prefix(fields.count)))
        }
        return (fields, samples)
    }
}

extension Extractor {
    public func reparse(raw: String, origin: Origin) throws(RecordError) -> (Schema, [Value])? { nil }

    public var windowBounds: WindowBoundKind { .timeOrNumber }
    public var positionWithoutCheckpoint: String? { nil }
    public func inputPreview() async throws -> InputPreview? { nil }
}

/// A change source that can also read a consistent snapshot of what it captures
/// (`runnel-batch run --snapshot [--shard I/N]`): the rows as of one point of the change stream,
/// each carrying that point as its version, so that the snapshot and the stream converge in a
/// target written under the version guard whatever order they run in.
public protocol SnapshotSource: Extractor {
    func openSnapshot(_ request: ExtractRequest) async throws -> any BatchReader
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
    /// The next batch and how to commit it; `.idle` when a streaming reader's linger passed
    /// without input, `.end` when the input is exhausted (batch mode).
    func read() async throws -> ReadResult
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
    /// the checkpoint store's), the checkpoint is written in the same transaction. Returns
    /// `.stored`, or the records the target refused (see `LoadOutcome`); throws for a failure a
    /// retry may fix or that stops the run.
    func load(_ batch: Batch, commit: CheckpointCommit?) async throws -> LoadOutcome

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

    /// Checks the bounds against what the extractor's cursor holds, so that a typo is a usage
    /// error rather than a successful run that read nothing: each bound must parse as `kind`,
    /// both bounds must be of one kind, and `from` must come before `to`.
    /// - Parameters:
    ///   - fromName, toName: where the bounds came from (`--from`, `RUNNEL_FROM`), for the message.
    public func checked(
        as kind: WindowBoundKind, fromName: String = "--from", toName: String = "--to"
    ) throws(RunnelError) -> Window {
        var parsed: [(name: String, text: String, value: Value)] = []
        for (name, bound) in [(fromName, from), (toName, to)] {
            guard let bound else { continue }
            guard let value = kind.parse(bound) else {
                throw RunnelError.config("\(name) '\(bound)' is not \(kind.accepted)")
            }
            parsed.append((name, bound, value))
        }
        if parsed.count == 2 {
            let (a, b) = (parsed[0], parsed[1])
            guard let order = Comparison.compare(a.value, b.value) else {
                throw RunnelError.config(
                    "\(a.name) '\(a.text)' and \(b.name) '\(b.text)' are not of one kind: give both as \(kind.accepted)")
            }
            guard order == .orderedAscending else {
                throw RunnelError.config(
                    "\(a.name) '\(a.text)' is not before \(b.name) '\(b.text)': the window [from, to) would be empty")
            }
        }
        return self
    }
}

/// What a backfill window's bounds are, as an extractor's cursor holds them.
public enum WindowBoundKind: Sendable, Hashable {
    /// A time (ISO 8601: a date, or a date and time with an optional offset) or a number: a
    /// record field, or a column whose SQL type the extractor checks itself.
    case timeOrNumber
    /// A time only (an object's last-modified time).
    case time
    /// Text compared as text (object keys: a key prefix).
    case text

    func parse(_ text: String) -> Value? {
        switch self {
        case .text: return text.isEmpty ? nil : .string(text)
        case .time: return TimestampFormat.iso8601.parse(text).map(Value.timestamp)
        case .timeOrNumber:
            if let i = Int64(text) { return .int(i) }
            if let d = Double(text), d.isFinite { return .double(d) }
            return TimestampFormat.iso8601.parse(text).map(Value.timestamp)
        }
    }

    /// The accepted forms, for messages.
    var accepted: String {
        switch self {
        case .text: return "a key prefix (orders/2026-11-01)"
        case .time: return "a time: a date (2013-06-01) or a date and time (2013-06-01T10:00:00Z, 2013-06-01 10:00:00+02:00)"
        case .timeOrNumber:
            return "a time or a number: a date (2013-06-01), a date and time (2013-06-01T10:00:00Z, "
                + "2013-06-01 10:00:00+02:00) or a number (1370044800, 12.5)"
        }
    }
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

