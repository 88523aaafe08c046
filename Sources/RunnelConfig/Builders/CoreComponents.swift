import RunnelCore

extension ComponentRegistry {
    /// What every build has without a connector: the declarative transformers and the
    /// in-memory checkpoint store and dead letter queue (for tests and throwaway runs).
    public mutating func registerCore() {
        registerStandardTransformers()
        registerCheckpointStore("memory", keys: .init("Keeps positions in memory: gone when the process ends (tests, throwaway runs).", [])) { _ in
            MemoryCheckpointStore()
        }
        registerDeadLetterQueue("memory", keys: .init("Keeps rejected records in memory: gone when the process ends (tests).", [])) { _ in
            MemoryDeadLetterQueue()
        }
    }
}
