import KafkaClient
import Logging
import RunnelCore

/// Which partitions this worker owns, since which rebalance, and which of them have batches
/// in the runner that are not committed yet.
///
/// The rebalance handler (on the consumer's poll thread) and the reader (on the runner's
/// task) meet here, under one lock:
/// - a batch is sealed only from messages fetched after their partition was (last) assigned
///   to this worker, and it counts as in flight for its partitions until it is committed or
///   abandoned;
/// - a revoke waits until no batch of a revoked partition is in flight, so the partition is
///   handed to the next owner only after this worker committed what it loaded: two workers
///   never load a partition past its committed position at once.
final class PartitionLedger: Sendable {
    private struct State {
        var assignedAt: [KafkaTopicPartition: UInt64] = [:]
        var inFlight: [KafkaTopicPartition: Int] = [:]
        /// Next offset of each partition as far as sealed batches go.
        var sealed: [KafkaTopicPartition: Int64] = [:]
        /// Where each partition started in this assignment (stored, committed or reset).
        var starts: [KafkaTopicPartition: Int64] = [:]
        /// The position each partition's next batch replaces in the checkpoint store: the stored
        /// offset read at assignment, then each sealed batch's next offset. Not derivable from
        /// `sealed` and `starts`: a batch-mode start from the group's commit (`setStart`) is in
        /// `starts` but not in the store, where the first batch must find no position.
        var stored: [KafkaTopicPartition: StoredPosition] = [:]
        var everAssigned = false
    }

    private let lock = ConditionLock()
    // Touched only inside `lock.withLock`.
    nonisolated(unsafe) private var state = State()
    let revokeTimeout: Duration
    let logger: Logger

    init(revokeTimeout: Duration, logger: Logger) {
        self.revokeTimeout = revokeTimeout
        self.logger = logger
    }

    func assigned(_ partitions: [KafkaTopicPartition], generation: UInt64, starts: [KafkaTopicPartition: Int64]) {
        lock.withLock {
            state.everAssigned = true
            for tp in partitions {
                state.assignedAt[tp] = generation
                state.sealed[tp] = nil
                state.starts[tp] = starts[tp]
                state.stored[tp] = StoredPosition(starts[tp].map(StoredOffsets.checkpoint))
            }
        }
    }

    /// Removes the partitions, then waits (on the poll thread) until their in-flight batches
    /// are committed or abandoned, or `revokeTimeout` passed.
    func revoked(_ partitions: [KafkaTopicPartition]) {
        let deadline = ConditionLock.now() + UInt64(revokeTimeout.components.seconds) * 1_000_000_000
            + UInt64(revokeTimeout.components.attoseconds / 1_000_000_000)
        let waiting = lock.withLock { () -> [KafkaTopicPartition] in
            for tp in partitions {
                state.assignedAt[tp] = nil
                state.sealed[tp] = nil
                state.starts[tp] = nil
                state.stored[tp] = nil
            }
            while true {
                let busy = partitions.filter { (state.inFlight[$0] ?? 0) > 0 }
                if busy.isEmpty { return [] }
                if !lock.wait(untilNanoseconds: deadline), ConditionLock.now() >= deadline { return busy }
            }
        }
        if !waiting.isEmpty {
            logger.warning(
                "revoked partitions still have batches in flight; handing them back uncommitted",
                metadata: ["runnel.partitions": "\(waiting.sorted())", "runnel.revoke_timeout": "\(revokeTimeout)"])
        }
    }

    /// Keeps the messages whose partition is still owned since before they were fetched,
    /// and counts the batch as in flight for their partitions. Returns the kept messages and,
    /// per partition, the stored position the batch replaces: batches commit in the order they
    /// are sealed, so each one replaces the previous one's next offset. A load that finds
    /// another position there was overtaken by the partition's next owner and is fenced off.
    func seal(_ messages: [KafkaMessage], stopAt stops: [KafkaTopicPartition: Int64])
        -> (kept: [KafkaMessage], replaces: [KafkaTopicPartition: StoredPosition])
    {
        lock.withLock {
            var kept: [KafkaMessage] = []
            kept.reserveCapacity(messages.count)
            var partitions: Set<KafkaTopicPartition> = []
            for m in messages {
                let tp = m.topicPartition
                guard let since = state.assignedAt[tp], since <= m.generation else { continue }
                if let stop = stops[tp], m.offset >= stop { continue }
                kept.append(m)
                partitions.insert(tp)
                state.sealed[tp] = max(state.sealed[tp] ?? 0, m.offset + 1)
            }
            var replaces: [KafkaTopicPartition: StoredPosition] = [:]
            for tp in partitions {
                state.inFlight[tp, default: 0] += 1
                replaces[tp] = state.stored[tp] ?? StoredPosition.absent
                state.stored[tp] = .position(StoredOffsets.checkpoint(state.sealed[tp]!))
            }
            return (kept, replaces)
        }
    }

    /// The batch over `partitions` is committed (or given up): a waiting revoke may go on.
    func release(_ partitions: [KafkaTopicPartition]) {
        lock.withLock {
            for tp in partitions {
                let n = (state.inFlight[tp] ?? 1) - 1
                state.inFlight[tp] = n > 0 ? n : nil
            }
            lock.broadcast()
        }
    }

    /// Gives up every batch in flight (the run failed or stops): revokes stop waiting.
    func abandonAll() {
        lock.withLock {
            state.inFlight = [:]
            lock.broadcast()
        }
    }

    var everAssigned: Bool { lock.withLock { state.everAssigned } }
    var owned: [KafkaTopicPartition] { lock.withLock { Array(state.assignedAt.keys) } }

    /// The next offset of `tp` as far as this worker has read: the sealed position, or
    /// where the partition started.
    func position(_ tp: KafkaTopicPartition) -> Int64? {
        lock.withLock { state.sealed[tp] ?? state.starts[tp] }
    }

    /// Where `tp` started in this assignment, where known.
    func start(_ tp: KafkaTopicPartition) -> Int64? { lock.withLock { state.starts[tp] } }

    func setStart(_ tp: KafkaTopicPartition, _ offset: Int64) {
        lock.withLock { if state.starts[tp] == nil, state.assignedAt[tp] != nil { state.starts[tp] = offset } }
    }
}
