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
}

extension CheckpointStore { public var lease: (any RunLease)? { nil } }

/// The checkpoint the runner asks a loader to write in the same transaction as the data.
public struct CheckpointCommit: Sendable {
    public var pipeline: String
    public var checkpoint: Checkpoint
    public init(pipeline: String, checkpoint: Checkpoint) {
        self.pipeline = pipeline
        self.checkpoint = checkpoint
    }
}
