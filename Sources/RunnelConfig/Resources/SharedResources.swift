public import RunnelCore
import Synchronization

/// Names a kind of resource components share, with its type: `ResourceKey<SQLiteDatabase>`,
/// `ResourceKey<PostgresPool>`. The connector that owns the resource declares the key, so a
/// component asking for it gets that type or a compile error — never a nil at run time.
public struct ResourceKey<Resource: Sendable>: Sendable, Hashable {
    public let name: String
    public init(_ name: String) { self.name = name }
}

/// Resources the components of one pipeline share (one SQLite database per file, one
/// PostgreSQL pool per server), and long-running tasks they need run (a pool's `run()`),
/// which the runtime runs beside the pipeline.
public final class SharedResources: Sendable {
    private let values = Mutex<[String: any Sendable]>([:])
    private let tasks = Mutex<[any BackgroundTask]>([])

    /// The run's memory window (`memory:` and the container's limit), for components that size
    /// a cache or buffer from it.
    public let memory: MemoryWindow

    public init(memory: MemoryWindow = MemoryWindow()) {
        self.memory = memory
    }

    /// The resource of kind `key` identified by `id` (a path, a connection string), made on
    /// first request: components naming the same `id` share one.
    public func resource<R>(_ key: ResourceKey<R>, id: String, make: () throws -> R) rethrows -> R {
        let slot = key.name + "\u{0}" + id
        return try values.withLock { values in
            // Only `resource(key:)` writes the slot, with the key's own type: the cast cannot fail.
            if let existing = values[slot] { return existing as! R }
            let made = try make()
            values[slot] = made
            return made
        }
    }

    public func addBackgroundTask(_ task: any BackgroundTask) { tasks.withLock { $0.append(task) } }
    public var backgroundTasks: [any BackgroundTask] { tasks.withLock { $0 } }
}

/// A long-running task a component needs (a connection pool). Runs until cancelled.
public protocol BackgroundTask: Sendable {
    func run() async throws
}
