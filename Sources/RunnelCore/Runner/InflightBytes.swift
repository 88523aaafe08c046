import Synchronization

/// The input bytes of the batches a run has read but not yet committed: what the memory window
/// bounds (`runnel_inflight_bytes`). The reading task adds a batch when it hands it over, the
/// committing task takes it away once the batch is stored.
final class InflightBytes: Sendable {
    private let bytes = Atomic<Int>(0)

    func add(_ n: Int) { bytes.wrappingAdd(n, ordering: .relaxed) }

    /// Takes `n` away and returns what is left.
    func remove(_ n: Int) -> Int { bytes.wrappingSubtract(n, ordering: .relaxed).newValue }
}
