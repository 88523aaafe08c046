import Synchronization

/// The input bytes of the batches a run has read but not yet committed: what the memory window
/// bounds (`runnel_inflight_bytes`). The reading task adds a batch when it hands it over, the
/// committing task takes it away once the batch is stored.
final class InflightBytes: Sendable {
    private let bytes = Atomic<Int>(0)

    /// Adds `n`; returns what is in flight now.
    @discardableResult
    func add(_ n: Int) -> Int { bytes.wrappingAdd(n, ordering: .relaxed).newValue }

    /// Takes `n` away and returns what was in flight while the batch of `n` bytes was committed
    /// (its own bytes included). What is left after it is usually 0 — the reader hands the next
    /// batch over only when the committer asks for it — so reporting that kept the gauge at 0.
    func remove(_ n: Int) -> Int { bytes.wrappingSubtract(n, ordering: .relaxed).oldValue }

    /// Takes `n` away (a batch the run stops on).
    /// Returns what is left in flight.
    @discardableResult
    func discard(_ n: Int) -> Int { bytes.wrappingSubtract(n, ordering: .relaxed).newValue }
}
