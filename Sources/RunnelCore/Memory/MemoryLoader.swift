import Synchronization

/// Keeps loaded records in memory, upserting by key with an optional version guard — the same
/// contract as the database loaders, so runner tests exercise real semantics.
public final class MemoryLoader: Loader {
    public let key: [String]
    public let version: String?
    private struct State {
        var rows: [[Value]: Object] = [:]
        var loads = 0
    }
    private let state = Mutex(State())
    /// Called before each load; a test uses it to fail a load (e.g. throw a transient error).
    private let hook: (@Sendable (Int) throws -> Void)?
    /// Where checkpoints are written "in the same transaction", for exactly-once tests.
    private let transactionalStore: MemoryCheckpointStore?

    public init(
        key: [String], version: String? = nil, transactionalStore: MemoryCheckpointStore? = nil,
        beforeLoad hook: (@Sendable (Int) throws -> Void)? = nil
    ) {
        self.key = key
        self.version = version
        self.hook = hook
        self.transactionalStore = transactionalStore
    }

    public var target: String { "memory" }

    public func writesCheckpoint(to store: any CheckpointStore) -> Bool {
        guard let transactionalStore else { return false }
        return (store as AnyObject) === transactionalStore
    }

    public func load(_ batch: Batch, commit: CheckpointCommit?) async throws -> LoadOutcome {
        let attempt = state.withLock { s -> Int in
            s.loads += 1
            return s.loads
        }
        try hook?(attempt)
        let keyIdx = try key.map { k in
            guard let i = batch.schema.index(of: k) else { throw RunnelError.dataContract("key field '\(k)' missing") }
            return i
        }
        let versionIdx = version.flatMap { batch.schema.index(of: $0) }
        state.withLock { s in
            for r in batch.records {
                let k = keyIdx.map { r.values[$0] }
                if let v = versionIdx, let existing = s.rows[k], let old = existing[version!],
                    Comparison.compare(r.values[v], old) == .orderedAscending
                {
                    continue
                }
                s.rows[k] = r.object(batch.schema)
            }
        }
        if let commit, let store = transactionalStore {
            for entry in commit.entries { try await store.save(entry.checkpoint, pipeline: entry.key) }
        }
        return .stored
    }

    /// The stored rows, sorted by key.
    public var rows: [Object] {
        state.withLock { s in
            s.rows.sorted { a, b in
                for (x, y) in zip(a.key, b.key) {
                    switch Comparison.compare(x, y) ?? (x.text < y.text ? .orderedAscending : .orderedDescending) {
                    case .orderedAscending: return true
                    case .orderedDescending: return false
                    case .orderedSame: continue
                    }
                }
                return false
            }.map(\.value)
        }
    }

    public var loadCalls: Int { state.withLock { $0.loads } }
}
