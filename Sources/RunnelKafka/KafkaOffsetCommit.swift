import KafkaClient
import Logging
import RunnelCore

/// Commits a batch's next offsets to the group after the batch was stored, then lets a
/// waiting revoke of its partitions go on.
///
/// With offsets in the target's transaction, the target already holds the truth and this
/// commit only feeds lag tooling; without, it is the position itself. Either way a commit
/// the group refuses (the partition moved to another member in between) is logged, not
/// thrown: the next owner reads from the last accepted position, and loads are idempotent
/// by key, so the batch is loaded at most once more, never lost.
struct KafkaOffsetCommit: Acknowledgement {
    let consumer: KafkaConsumer
    let offsets: [KafkaTopicPartition: Int64]
    let ledger: PartitionLedger
    /// True when the offsets are also in the checkpoint store (which the next owner reads):
    /// then the group commit only feeds lag tooling, and a broker outage must not fail the run.
    let advisory: Bool
    let logger: Logger

    func acknowledge() async throws {
        // A transient failure is retried by the runner: the batch stays in flight until then.
        do {
            try await consumer.commit(offsets)
            ledger.release(Array(offsets.keys))
        } catch let error where error.isTransient {
            throw RunnelError.transient("kafka commit: \(error.message)", underlying: error)
        } catch {
            ledger.release(Array(offsets.keys))
            logger.warning(
                "kafka commit refused; the partitions' next owner reads from the last accepted offsets",
                metadata: ["runnel.error": "\(error)", "runnel.offsets": "\(offsets.sorted { $0.key < $1.key })"])
        }
    }
}
