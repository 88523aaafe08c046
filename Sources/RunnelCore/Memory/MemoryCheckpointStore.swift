import Synchronization

/// Checkpoints kept in memory, for tests and for pipelines that must not resume.
public final class MemoryCheckpointStore: CheckpointStore {
    private let state = Mutex<[String: Checkpoint]>([:])
    /// Every save in order, so tests can check what was committed and when.
    private let history = Mutex<[Checkpoint]>([])

    public init(_ initial: [String: Checkpoint] = [:]) { state.withLock { $0 = initial } }

    public func load(pipeline: String) async throws -> Checkpoint? { state.withLock { $0[pipeline] } }

    public func save(_ checkpoint: Checkpoint, pipeline: String) async throws {
        state.withLock { $0[pipeline] = checkpoint }
        history.withLock { $0.append(checkpoint) }
    }

    public func reset(pipeline: String) async throws {
        state.withLock { s in s = s.filter { !CheckpointCommit.belongs($0.key, to: pipeline) } }
    }

    public var saved: [Checkpoint] { history.withLock { $0 } }
}
