import RunnelCore

extension ComponentRegistry {
    /// What every build has without a connector: the declarative transformers and the
    /// in-memory checkpoint store and dead letter queue (for tests and throwaway runs).
    public mutating func registerCore() {
        registerStandardTransformers()
        registerCheckpointStore("memory") { _ in MemoryCheckpointStore() }
        registerDeadLetterQueue("memory") { _ in MemoryDeadLetterQueue() }
    }
}
