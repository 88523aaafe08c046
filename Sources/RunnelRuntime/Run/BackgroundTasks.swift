import RunnelConfig
import RunnelCore

/// Runs `body` while the spec's background tasks (connection pools) run beside it, then stops
/// them. The one-shot commands (`checkpoint`, `dead-letter`) need the same pools as a run.
func withBackgroundTasks<R: Sendable>(_ spec: PipelineSpec, _ body: () async throws -> R) async throws -> R {
    let tasks = spec.resources.backgroundTasks
    guard !tasks.isEmpty else { return try await body() }
    return try await withThrowingTaskGroup(of: Void.self) { group in
        for task in tasks { group.addTask { try await task.run() } }
        defer { group.cancelAll() }
        return try await body()
    }
}

extension PipelineSpec {
    /// The checkpoint store, or a config error for commands that need one.
    func requireCheckpoints() throws -> any CheckpointStore {
        guard let store = pipeline.checkpoints else { throw RunnelError.config("the spec has no 'checkpoint' section") }
        return store
    }

    /// The dead letter queue, or a config error for commands that need one.
    func requireDeadLetters() throws -> any DeadLetterQueue {
        guard let queue = pipeline.deadLetters else { throw RunnelError.config("the spec has no 'dead_letter' section") }
        return queue
    }
}
