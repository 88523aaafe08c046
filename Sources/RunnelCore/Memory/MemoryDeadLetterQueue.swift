import Synchronization

/// Dead letters kept in memory, idempotent by (pipeline, key) like every queue.
public final class MemoryDeadLetterQueue: DeadLetterQueue {
    private struct State {
        var order: [String] = []
        var letters: [String: DeadLetter] = [:]
    }
    private let state = Mutex(State())

    public init() {}

    public var target: String { "memory" }

    public func write(_ letters: [DeadLetter]) async throws {
        state.withLock { s in
            for letter in letters {
                let id = letter.pipeline + "\u{0}" + letter.key
                if s.letters[id] == nil { s.order.append(id) }
                s.letters[id] = letter
            }
        }
    }

    public func list(pipeline: String, limit: Int?) async throws -> [DeadLetter] {
        state.withLock { s in
            let all = s.order.compactMap { s.letters[$0] }.filter { $0.pipeline == pipeline }
            return limit.map { Array(all.prefix($0)) } ?? all
        }
    }

    public func remove(pipeline: String, keys: [String]) async throws {
        state.withLock { s in
            for key in keys { s.letters.removeValue(forKey: pipeline + "\u{0}" + key) }
            s.order.removeAll { s.letters[$0] == nil }
        }
    }

    public var count: Int { state.withLock { $0.letters.count } }
}
