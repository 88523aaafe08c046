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
    /// Forgets the position, and those of the pipeline's parts (`CheckpointCommit.key(pipeline:part:)`):
    /// the next run starts from the beginning. Only `checkpoint reset` calls this.
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

/// The checkpoints the runner asks a loader to write in the same transaction as the data: the
/// pipeline's own position and, for sources read in parts by several workers at once (Kafka
/// partitions), one position per part, each under its own key.
public struct CheckpointCommit: Sendable {
    public struct Entry: Sendable, Hashable {
        /// The key the store saves it under: the pipeline name, or `CheckpointCommit.key(pipeline:part:)`.
        public var key: String
        public var checkpoint: Checkpoint
        /// When set, the position the store must still hold for this write to go ahead: the
        /// one the batch was read from (compare-and-set, checked in the load's transaction).
        public var replaces: StoredPosition?
        public init(key: String, checkpoint: Checkpoint, replaces: StoredPosition? = nil) {
            self.key = key
            self.checkpoint = checkpoint
            self.replaces = replaces
        }
    }

    public var entries: [Entry]

    public init(entries: [Entry]) { self.entries = entries }

    public init(pipeline: String, checkpoint: Checkpoint) {
        self.entries = [Entry(key: pipeline, checkpoint: checkpoint)]
    }

    /// The store key of one part's position. Workers that share a pipeline name (the members of
    /// one consumer group) each write only the parts they hold, so they never overwrite each
    /// other's positions, and a worker that is handed a part reads that part's key.
    public static func key(pipeline: String, part: String) -> String { "\(pipeline)#\(part)" }

    /// True when `key` is `pipeline`'s own or one of its parts' (pipeline names hold no '#').
    public static func belongs(_ key: String, to pipeline: String) -> Bool {
        key == pipeline || key.hasPrefix(pipeline + "#")
    }
}

/// A stored position as a precondition: none stored yet (`absent`), or this one.
public enum StoredPosition: Sendable, Hashable, CustomStringConvertible {
    case absent
    case position(Checkpoint)

    public init(_ checkpoint: Checkpoint?) { self = checkpoint.map(StoredPosition.position) ?? .absent }

    public var description: String {
        switch self {
        case .absent: "none"
        case .position(let c): c.position
        }
    }
}

extension CheckpointCommit {
    /// The keys whose stored position the load must read (in its transaction, locked) before
    /// it writes anything.
    public var guardedKeys: [String] { entries.filter { $0.replaces != nil }.map(\.key) }

    /// What a load does, given the stored positions of `guardedKeys` read in its transaction.
    public enum Verdict: Sendable, Equatable {
        /// Every guarded position is still the one the batch was read from: write.
        case write
        /// Every guarded position already is the batch's own: an earlier attempt of this very
        /// load committed (its reply was lost). Nothing to write again.
        case alreadyStored
    }

    /// Compares the stored positions with the entries' preconditions. Throws `fenced` when
    /// another worker moved a position meanwhile: the caller rolls back, so neither the rows
    /// nor the older position are written.
    public func verify(stored: [String: Checkpoint]) throws -> Verdict {
        var moved: [String] = []
        var own = 0
        var guarded = 0
        for entry in entries {
            guard let replaces = entry.replaces else { continue }
            guarded += 1
            let found = StoredPosition(stored[entry.key])
            if found == replaces { continue }
            if found == .position(entry.checkpoint) {
                own += 1
                continue
            }
            moved.append("'\(entry.key)' is at \(found), this batch was read from \(replaces)")
        }
        if moved.isEmpty { return guarded > 0 && own == guarded ? .alreadyStored : .write }
        if own > 0 { moved.append("(\(own) other part(s) already at this batch's position)") }
        throw RunnelError(
            .fenced,
            "another worker committed past this batch (its parts were taken over while it was in flight): "
                + moved.joined(separator: "; ")
                + "; nothing of it was written, and a restart reads from the stored positions")
    }
}
