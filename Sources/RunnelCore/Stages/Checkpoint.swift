/// A source position, opaque to everything but the extractor that wrote it (usually a small JSON text).
public struct Checkpoint: Sendable, Hashable, Codable, CustomStringConvertible {
    public var position: String
    public init(_ position: String) { self.position = position }
    public var description: String { position }
}

/// Keeps each pipeline's last committed position.
///
/// A store that is configured but cannot be read must throw: a run never silently starts over.
public protocol CheckpointStore: Sendable {
    func load(pipeline: String) async throws -> Checkpoint?
    func save(_ checkpoint: Checkpoint, pipeline: String) async throws
    /// Forgets the position: the next run starts from the beginning. Only `checkpoint reset` calls this.
    func reset(pipeline: String) async throws

    /// The run lease this store holds, or nil when concurrent runs are harmless.
    var lease: (any RunLease)? { get }

    /// The database transaction this store's checkpoints can be written in. A loader with an
    /// equal domain writes the checkpoint in the load's transaction (see `Pipeline.checkpointsInLoad`).
    var transactionDomain: TransactionDomain? { get }
}

extension CheckpointStore {
    public var lease: (any RunLease)? { nil }
    public var transactionDomain: TransactionDomain? { nil }
}

/// Names one place where data and checkpoints can commit together: a database (the object
/// that holds its connection) and the checkpoint table in it. A loader and a checkpoint store
/// that report equal domains write the checkpoint in the load's transaction — effectively once.
/// A mismatch (another file, another table) only means the checkpoint is saved after the load.
public struct TransactionDomain: Hashable, Sendable, CustomStringConvertible {
    private let database: ObjectIdentifier
    private let checkpointTable: String
    /// For `validate` and logs, e.g. `sqlite out/orders.db`.
    public let description: String

    public init(database: any AnyObject & Sendable, checkpointTable: String, description: String) {
        self.database = ObjectIdentifier(database)
        self.checkpointTable = checkpointTable
        self.description = description
    }

    public static func == (a: Self, b: Self) -> Bool { a.database == b.database && a.checkpointTable == b.checkpointTable }
    public func hash(into h: inout Hasher) {
        h.combine(database)
        h.combine(checkpointTable)
    }
}

/// The checkpoint the runner asks a loader to write in the same transaction as the data.
public struct CheckpointCommit: Sendable {
    public var pipeline: String
    public var checkpoint: Checkpoint
    public init(pipeline: String, checkpoint: Checkpoint) {
        self.pipeline = pipeline
        self.checkpoint = checkpoint
    }
}
