import CRdkafka
#if canImport(Glibc)
    import Glibc
#endif
public import Logging

/// A consumer-group member: subscribes to topics (names or a regular expression), hands
/// fetched messages to async code through a bounded buffer, and commits exact offsets.
///
/// librdkafka's poll runs on a thread of its own (`runnel-kpoll`), never on Swift's
/// cooperative pool; rebalance callbacks run there too and may block (they wait for the
/// owner to finish the revoked partitions' work). Calls that wait for the broker (commit,
/// committed offsets, watermarks) run on a second thread (`runnel-kcall`), so that a commit
/// made while a revoke callback waits does not wait behind it.
///
/// Offsets are never committed automatically (`enable.auto.commit=false`): the owner commits
/// what it has stored, with `commit(_:)`.
///
/// When the buffer is full the poll thread waits for the owner to take messages. An owner that
/// has not made room within `pauseAfter` is slow (a load retrying through an outage): then the
/// consumer pauses its partitions and keeps polling, so that it neither grows memory nor exceeds
/// `max.poll.interval.ms` (librdkafka counts the poll calls, which go on), and resumes once the
/// buffer is half empty. It does not pause at once because a pause drops what librdkafka has
/// fetched ahead and the resume fetches it again: pausing whenever the buffer filled made
/// librdkafka fetch 58% of the messages twice in the benchmark, with a late fetch after each resume.
///
/// ```swift
/// let consumer = try KafkaConsumer(.init(client: .init(brokers: ["127.0.0.1:9092"]), group: "orders")) { event in
///     [:]  // start every assigned partition at its committed offset
/// }
/// try consumer.start(.names(["orders"]))
/// let messages = try await consumer.take(maxMessages: 100, waitingUpTo: .milliseconds(250))
/// try await consumer.commit([KafkaTopicPartition("orders", 0): messages.last!.offset + 1])
/// await consumer.close()
/// ```
public final class KafkaConsumer: Sendable {
    public struct Configuration: Sendable {
        public var client: KafkaConfiguration
        /// `group.id`.
        public var group: String
        /// Where partitions without a committed (or given) offset start: `earliest` (default)
        /// or `latest` (`auto.offset.reset`).
        public var autoOffsetReset: String = "earliest"
        /// Milliseconds since the epoch: partitions without a committed (or given) offset start
        /// at their first message at or after this time instead (the end when there is none).
        public var startTimestamp: Int64?
        /// `partition.assignment.strategy`. Default `cooperative-sticky`: a rebalance moves
        /// only the partitions that change owner, the others keep being consumed.
        public var assignmentStrategy: String = "cooperative-sticky"
        /// Messages held for the owner before partitions are paused. Default 10,000.
        public var bufferCapacity: Int = 10_000
        /// Bytes held before partitions are paused. Default 64 MiB.
        public var bufferBytes: Int = 64 << 20
        /// How long the buffer may stay full before the partitions are paused. Default 1 s.
        public var pauseAfter: Duration = .seconds(1)
        /// How long one poll call waits when nothing arrives. Default 100 ms.
        public var pollTimeout: Duration = .milliseconds(100)

        public init(client: KafkaConfiguration, group: String) {
            self.client = client
            self.group = group
        }

        /// The properties the consumer sets on top of `client`'s.
        var consumerProperties: [(name: String, value: String)] {
            [
                ("group.id", group), ("enable.auto.commit", "false"), ("enable.auto.offset.store", "false"),
                ("auto.offset.reset", autoOffsetReset), ("partition.assignment.strategy", assignmentStrategy),
            ]
        }

        /// Checks every property with librdkafka's parser.
        public func validate() throws(KafkaError) {
            // The client's own properties go last: a `properties:` entry may override ours.
            try client.validate(extra: consumerProperties)
        }
    }

    /// What the consumer subscribes to.
    public enum Subscription: Sendable, Hashable {
        /// Exact topic names.
        case names([String])
        /// A regular expression (POSIX extended, as librdkafka's): every matching topic,
        /// including ones created later (found at the next metadata refresh).
        case pattern(String)

        var topics: [String] {
            switch self {
            case .names(let names): names
            // librdkafka takes a topic that starts with ^ as a regular expression.
            case .pattern(let p): [p.hasPrefix("^") ? p : "^" + p]
            }
        }
    }

    /// A change of this member's partitions.
    public enum RebalanceEvent: Sendable {
        /// New partitions. The handler returns the offset each starts at; a partition left
        /// out starts at the group's committed offset (or `autoOffsetReset`).
        case assigned([KafkaTopicPartition], generation: UInt64)
        /// Partitions taken away. They are handed back when the handler returns: it must
        /// first finish (or give up) the work on their messages. `lost` is true when the
        /// member was kicked out of the group (its session expired): committing them fails.
        case revoked([KafkaTopicPartition], lost: Bool, generation: UInt64)
    }

    /// Called on the poll thread; may block.
    public typealias RebalanceHandler = @Sendable (RebalanceEvent) -> [KafkaTopicPartition: Int64]

    public let configuration: Configuration
    private let handle: KafkaHandle
    private let core: ConsumerCore
    private let calls = BlockingExecutor(name: "runnel-kcall")
    private let poller = Locked<DedicatedThread?>(nil)

    /// Creates the consumer (no connection yet: `start` subscribes and starts polling).
    /// Throws `.invalidConfiguration` with librdkafka's message for a bad property.
    public init(_ configuration: Configuration, logger: Logger = Logger(label: "runnel.kafka"), rebalance: @escaping RebalanceHandler)
        throws(KafkaError)
    {
        self.configuration = configuration
        let core = ConsumerCore(configuration: configuration, logger: logger, handler: rebalance)
        let conf = try configuration.client.makeConf(extra: configuration.consumerProperties)
        rd_kafka_conf_set_rebalance_cb(conf) { rk, err, partitions, opaque in
            guard let rk, let partitions, let opaque else { return }
            let core = Unmanaged<ClientContext>.fromOpaque(opaque).takeUnretainedValue() as! ConsumerCore
            core.rebalanced(rk, err, partitions)
        }
        do {
            self.handle = try KafkaHandle.create(RD_KAFKA_CONSUMER, conf: conf, context: core)
        } catch {
            calls.stop()
            throw error
        }
        self.core = core
        // All messages and callbacks of this consumer through rd_kafka_consumer_poll.
        rd_kafka_poll_set_consumer(handle.pointer)
    }

    deinit {
        // `close()` is the owner's duty; a consumer dropped without it still frees librdkafka.
        if core.state.withLock({ !$0.destroyed }) {
            calls.stop()
            BoundedDestroy.destroy(handle, context: core, what: "consumer", logger: core.logger)
        }
    }

    /// Subscribes and starts the poll thread. Partitions arrive through the rebalance handler.
    public func start(_ subscription: Subscription) throws(KafkaError) {
        let topics = subscription.topics
        let list = PartitionList.make(topics.map { KafkaTopicPartition($0, Int32(RD_KAFKA_PARTITION_UA)) })
        defer { rd_kafka_topic_partition_list_destroy(list) }
        let err = rd_kafka_subscribe(handle.pointer, list)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else {
            throw KafkaError(err, context: "subscribe to \(topics.joined(separator: ", "))")
        }
        let handle = self.handle
        let core = self.core
        poller.set(
            DedicatedThread(name: "runnel-kpoll") {
                core.pollLoop(handle.pointer)
                core.pollThreadEnded()
            })
    }

    /// Up to `maxMessages` (and about `maxBytes`) buffered messages, in fetch order. When
    /// none is buffered, waits up to `wait` for the first; returns an empty array when none
    /// came. Throws when the client hit a fatal error or was closed.
    public func take(maxMessages: Int, maxBytes: Int = .max, waitingUpTo wait: Duration) async throws(KafkaError) -> [KafkaMessage] {
        let now = try core.take(maxMessages: maxMessages, maxBytes: maxBytes)
        if !now.isEmpty || wait <= .zero { return now }
        await core.waitForMessages(upTo: wait)
        return try core.take(maxMessages: maxMessages, maxBytes: maxBytes)
    }

    /// Commits `offsets` (the next offset to read, per partition) synchronously. Partitions
    /// this member no longer owns fail the commit (`.broker`).
    public func commit(_ offsets: [KafkaTopicPartition: Int64]) async throws(KafkaError) {
        guard !offsets.isEmpty else { return }
        let handle = self.handle
        let core = self.core
        try await calls.run { () throws(KafkaError) in
            try core.ensureOpen()
            let list = PartitionList.make(offsets.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
            defer { rd_kafka_topic_partition_list_destroy(list) }
            let err = rd_kafka_commit(handle.pointer, list, 0)
            if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(err, context: "commit") }
            for (tp, _, err) in PartitionList.read(list) where err != RD_KAFKA_RESP_ERR_NO_ERROR {
                throw KafkaError(err, context: "commit \(tp)")
            }
        }
    }

    /// The group's committed offsets for `partitions`; nil where none is committed.
    public func committed(_ partitions: [KafkaTopicPartition], timeout: Duration = .seconds(10)) async throws(KafkaError)
        -> [KafkaTopicPartition: Int64?]
    {
        let handle = self.handle
        let core = self.core
        return try await calls.run { () throws(KafkaError) in
            try core.ensureOpen()
            let list = PartitionList.make(partitions)
            defer { rd_kafka_topic_partition_list_destroy(list) }
            let err = rd_kafka_committed(handle.pointer, list, timeout.kafkaMilliseconds)
            if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(err, context: "committed offsets") }
            var out: [KafkaTopicPartition: Int64?] = [:]
            for (tp, offset, err) in PartitionList.read(list) {
                if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(err, context: "committed offset of \(tp)") }
                out[tp] = offset >= 0 ? offset : nil
            }
            return out
        }
    }

    /// The partition's low and high watermark, asked of its leader.
    public func watermarks(_ partition: KafkaTopicPartition, timeout: Duration = .seconds(10)) async throws(KafkaError) -> (
        low: Int64, high: Int64
    ) {
        let handle = self.handle
        let core = self.core
        return try await calls.run { () throws(KafkaError) in
            try core.ensureOpen()
            var low: Int64 = 0
            var high: Int64 = 0
            let err = rd_kafka_query_watermark_offsets(
                handle.pointer, partition.topic, partition.partition, &low, &high, timeout.kafkaMilliseconds)
            if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(err, context: "watermarks of \(partition)") }
            return (low, high)
        }
    }

    /// The partitions assigned to this member now.
    public var assignment: Set<KafkaTopicPartition> { core.state.withLock { $0.assignment } }

    /// The last error librdkafka reported (brokers down, authentication), nil once messages
    /// flow again.
    public var lastError: KafkaError? { core.lastError.get() }

    /// The brokers' refusal of this client's credentials or certificate since messages last
    /// flowed (see `KafkaError.isRefusal`), nil when none.
    public var refusal: KafkaError? { core.refusal.get() }

    /// Leaves the group: the revoke handler runs for the partitions still assigned (on the
    /// poll thread), then the poll thread ends and librdkafka is freed. Idempotent.
    public func close() async {
        core.requestClose()
        let handle = self.handle
        let core = self.core
        let poller = self.poller.take()
        // Leaving the group runs the revoke handler, which may wait for the owner's commits;
        // those run on `calls`, so the wait for the poll thread must not occupy it.
        if poller != nil { await core.pollThreadEnd() }
        _ = try? await calls.run { () throws(KafkaError) in
            poller?.join()
            let destroy = core.state.withLock { state in
                defer { state.destroyed = true }
                return !state.destroyed
            }
            if destroy {
                // Without a poll thread (never started) the group was never joined.
                if poller == nil { _ = rd_kafka_consumer_close(handle.pointer) }
                BoundedDestroy.destroy(handle, context: core, what: "consumer", logger: core.logger)
            }
        }
        calls.stop()
        core.wakeWaiter()
    }
}

/// The consumer's state shared by the poll thread, librdkafka's callbacks and async callers.
final class ConsumerCore: ClientContext, @unchecked Sendable {
    // `@unchecked`: every mutable field is in `state`, behind its lock.
    struct State {
        var buffer: [KafkaMessage] = []
        var head = 0
        var bufferedBytes = 0
        var generation: UInt64 = 0
        var assignment: Set<KafkaTopicPartition> = []
        /// Partitions that start by time, until their first message at or after it arrives.
        var startsAt: [KafkaTopicPartition: Int64] = [:]
        var paused = false
        var closing = false
        var destroyed = false
        var waiter = Waiter.none
        var nextWaiterID = 0

        var count: Int { buffer.count - head }
    }

    enum Waiter {
        case none
        case waiting(Int, CheckedContinuation<Void, Never>)
        /// The timer or a message came before the waiter parked.
        case woken(Int)
    }

    let state = Locked(State())
    let configuration: KafkaConsumer.Configuration
    let handler: KafkaConsumer.RebalanceHandler

    init(configuration: KafkaConsumer.Configuration, logger: Logger, handler: @escaping KafkaConsumer.RebalanceHandler) {
        self.configuration = configuration
        self.handler = handler
        super.init(logger: logger)
    }

    func ensureOpen() throws(KafkaError) {
        if let fatal = fatalError.get() { throw fatal }
        if state.withLock({ $0.destroyed }) { throw KafkaError(code: .closed, message: "consumer closed") }
    }

    // MARK: Poll thread

    func pollLoop(_ rk: OpaquePointer) {
        let timeout = configuration.pollTimeout.kafkaMilliseconds
        let clock = ContinuousClock()
        var fullSince: ContinuousClock.Instant?
        while true {
            let (closing, full, pause, resume) = state.withLock { s -> (Bool, Bool, Bool, Bool) in
                let full = s.count >= configuration.bufferCapacity || s.bufferedBytes >= configuration.bufferBytes
                let low = s.count <= configuration.bufferCapacity / 2 && s.bufferedBytes <= configuration.bufferBytes / 2
                let pause = full && !s.paused && fullSince.map { clock.now - $0 >= configuration.pauseAfter } ?? false
                let resume = s.paused && low
                if pause { s.paused = true }
                if resume { s.paused = false }
                return (s.closing, full && !s.paused, pause, resume)
            }
            if closing { break }
            if pause || resume { setPaused(rk, pause, partitions: Array(state.withLock { $0.assignment })) }
            if full {
                // Waiting for the owner to take messages (see the type's comment). A millisecond
                // at a time: the wait is short and rare, and no other thread has to signal it.
                if fullSince == nil { fullSince = clock.now }
                if configuration.pauseAfter > .zero {
                    var pause = timespec(tv_sec: 0, tv_nsec: 1_000_000)
                    nanosleep(&pause, nil)
                    continue
                }
            } else {
                fullSince = nil
            }
            guard let m = rd_kafka_consumer_poll(rk, timeout) else { continue }
            defer { rd_kafka_message_destroy(m) }
            let err = m.pointee.err
            if err == RD_KAFKA_RESP_ERR__PARTITION_EOF { continue }
            if err != RD_KAFKA_RESP_ERR_NO_ERROR {
                let text = rd_kafka_message_errstr(m).map { String(cString: $0) } ?? ""
                errorReported(rk, err, reason: text)
                continue
            }
            lastError.set(nil)
            refusal.set(nil)
            let waiter = state.withLock { s -> CheckedContinuation<Void, Never>? in
                var message = KafkaMessage(copying: m, generation: s.generation)
                // A message of a partition revoked while it was being copied out is dropped.
                guard s.assignment.contains(message.topicPartition) else { return nil }
                if let ms = s.startsAt[message.topicPartition] {
                    if (message.timestamp ?? .max) < ms { message.beforeStart = true } else { s.startsAt[message.topicPartition] = nil }
                }
                s.buffer.append(message)
                s.bufferedBytes += message.byteCount
                return Self.wake(&s)
            }
            waiter?.resume()
        }
        // Leaving the group runs the revoke callback for what is still assigned.
        _ = rd_kafka_consumer_close(rk)
    }

    private func setPaused(_ rk: OpaquePointer, _ pause: Bool, partitions: [KafkaTopicPartition]) {
        guard !partitions.isEmpty else { return }
        let list = PartitionList.make(partitions)
        defer { rd_kafka_topic_partition_list_destroy(list) }
        _ = pause ? rd_kafka_pause_partitions(rk, list) : rd_kafka_resume_partitions(rk, list)
        logger.debug(
            pause ? "buffer full, partitions paused" : "buffer drained, partitions resumed",
            metadata: ["runnel.partitions": "\(partitions.count)"])
    }

    /// For `partitions` the group has no committed offset for: the offset of the first message
    /// at or after `ms` (`RD_KAFKA_OFFSET_END` when there is none). Two broker round trips, on the
    /// poll thread inside the rebalance callback, where blocking is allowed; a failure is logged
    /// and leaves those partitions to `auto.offset.reset`.
    private func timeStarts(_ rk: OpaquePointer, _ partitions: [KafkaTopicPartition], at ms: Int64) -> [KafkaTopicPartition: Int64] {
        guard !partitions.isEmpty else { return [:] }
        let committed = PartitionList.make(partitions)
        defer { rd_kafka_topic_partition_list_destroy(committed) }
        let err = rd_kafka_committed(rk, committed, 10_000)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else {
            logger.error("reading committed offsets failed; start: timestamp not applied", metadata: ["runnel.error": "\(KafkaError(err))"])
            return [:]
        }
        let fresh = PartitionList.read(committed).filter { $0.1 < 0 }.map(\.0)
        guard !fresh.isEmpty else { return [:] }
        let times = PartitionList.make(fresh.map { ($0, ms) })
        defer { rd_kafka_topic_partition_list_destroy(times) }
        let timesErr = rd_kafka_offsets_for_times(rk, times, 10_000)
        guard timesErr == RD_KAFKA_RESP_ERR_NO_ERROR else {
            logger.error("looking up offsets by time failed; start: timestamp not applied", metadata: ["runnel.error": "\(KafkaError(timesErr))"])
            return [:]
        }
        var out: [KafkaTopicPartition: Int64] = [:]
        for (tp, offset, e) in PartitionList.read(times) where e == RD_KAFKA_RESP_ERR_NO_ERROR {
            out[tp] = offset >= 0 ? offset : Int64(RD_KAFKA_OFFSET_END)
        }
        logger.info("partitions start by time", metadata: ["runnel.offsets": "\(out.sorted { $0.key < $1.key }.map { "\($0.key)@\($0.value)" })", "runnel.start_ms": "\(ms)"])
        return out
    }

    /// The rebalance callback (on the poll thread, inside `rd_kafka_consumer_poll`/`close`).
    func rebalanced(_ rk: OpaquePointer, _ err: rd_kafka_resp_err_t, _ list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>) {
        let cooperative = String(cString: rd_kafka_rebalance_protocol(rk)) == "COOPERATIVE"
        let partitions = PartitionList.read(list).map(\.0)
        switch err {
        case RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS:
            let (generation, paused) = state.withLock { s -> (UInt64, Bool) in
                s.generation += 1
                s.assignment.formUnion(partitions)
                return (s.generation, s.paused)
            }
            logger.info("partitions assigned", metadata: ["runnel.partitions": "\(partitions.sorted())"])
            var starts = handler(.assigned(partitions, generation: generation))
            if let ms = configuration.startTimestamp {
                let byTime = timeStarts(rk, partitions.filter { starts[$0] == nil }, at: ms)
                for (tp, offset) in byTime { starts[tp] = offset }
                state.withLock { s in for tp in byTime.keys { s.startsAt[tp] = ms } }
            }
            for i in 0..<Int(list.pointee.cnt) {
                let e = runnel_kafka_partition_at(list, Int32(i))!
                let tp = KafkaTopicPartition(String(cString: e.pointee.topic), e.pointee.partition)
                if let start = starts[tp] { e.pointee.offset = start }
            }
            if cooperative {
                if let error = rd_kafka_incremental_assign(rk, list) {
                    logger.error("assign failed", metadata: ["runnel.error": "\(KafkaError(consuming: error))"])
                }
            } else {
                _ = rd_kafka_assign(rk, list)
            }
            if paused { _ = rd_kafka_pause_partitions(rk, list) }
        case RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS:
            let lost = rd_kafka_assignment_lost(rk) != 0
            let revoked = Set(partitions)
            let generation = state.withLock { s -> UInt64 in
                s.generation += 1
                s.assignment.subtract(revoked)
                for tp in revoked { s.startsAt[tp] = nil }
                // Buffered messages of revoked partitions are the next owner's now.
                let kept = s.buffer[s.head...].filter { !revoked.contains($0.topicPartition) }
                s.buffer = Array(kept)
                s.head = 0
                s.bufferedBytes = kept.reduce(0) { $0 + $1.byteCount }
                return s.generation
            }
            logger.info(
                lost ? "partitions lost" : "partitions revoked",
                metadata: ["runnel.partitions": "\(partitions.sorted())"])
            _ = handler(.revoked(partitions, lost: lost, generation: generation))
            if cooperative {
                if let error = rd_kafka_incremental_unassign(rk, list) {
                    logger.error("unassign failed", metadata: ["runnel.error": "\(KafkaError(consuming: error))"])
                }
            } else {
                _ = rd_kafka_assign(rk, nil)
            }
        default:
            logger.error("rebalance failed", metadata: ["runnel.error": "\(KafkaError(err))"])
            state.withLock { s in
                s.generation += 1
                s.assignment = []
                s.buffer = []
                s.head = 0
                s.bufferedBytes = 0
            }
            _ = rd_kafka_assign(rk, nil)
        }
    }

    // MARK: Async side

    func take(maxMessages: Int, maxBytes: Int) throws(KafkaError) -> [KafkaMessage] {
        if let fatal = fatalError.get() { throw fatal }
        let taken = state.withLock { s -> [KafkaMessage]? in
            if s.count == 0 { return s.closing || s.destroyed ? nil : [] }
            var end = s.head
            var bytes = 0
            while end < s.buffer.count, end - s.head < maxMessages {
                let size = s.buffer[end].byteCount
                if end > s.head, bytes + size > maxBytes { break }
                bytes += size
                end += 1
            }
            let out = Array(s.buffer[s.head..<end])
            s.head = end
            s.bufferedBytes -= bytes
            // Compact once the consumed prefix is the larger part, so appends stay cheap.
            if s.head > 4_096 && s.head * 2 > s.buffer.count {
                s.buffer.removeFirst(s.head)
                s.head = 0
            }
            return out
        }
        guard let taken else { throw KafkaError(code: .closed, message: "consumer closed") }
        return taken
    }

    /// Returns when a message is buffered, the consumer closes, or `wait` passed.
    func waitForMessages(upTo wait: Duration) async {
        let id = state.withLock { s -> Int in
            s.nextWaiterID += 1
            return s.nextWaiterID
        }
        let timer = Task { [weak self] in
            try? await Task.sleep(for: wait)
            self?.wake(id: id)
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let now = state.withLock { s -> Bool in
                    if s.count > 0 || s.closing || s.destroyed { return true }
                    if case .woken(let woken) = s.waiter, woken == id {
                        s.waiter = .none
                        return true
                    }
                    s.waiter = .waiting(id, continuation)
                    return false
                }
                if now { continuation.resume() }
            }
        } onCancel: {
            self.wake(id: id)
        }
        timer.cancel()
    }

    private func wake(id: Int) {
        let continuation = state.withLock { s -> CheckedContinuation<Void, Never>? in
            switch s.waiter {
            case .waiting(let waiting, let continuation) where waiting == id:
                s.waiter = .none
                return continuation
            case .waiting, .woken:
                return nil
            case .none:
                s.waiter = .woken(id)
                return nil
            }
        }
        continuation?.resume()
    }

    func wakeWaiter() {
        state.withLock { Self.wake(&$0) }?.resume()
    }

    /// Takes the parked waiter, if any, for the caller to resume after the lock.
    private static func wake(_ s: inout State) -> CheckedContinuation<Void, Never>? {
        guard case .waiting(_, let continuation) = s.waiter else { return nil }
        s.waiter = .none
        return continuation
    }

    private let ended = Locked<(done: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    func pollThreadEnded() {
        let waiters = ended.withLock { e in
            e.done = true
            defer { e.waiters = [] }
            return e.waiters
        }
        for w in waiters { w.resume() }
    }

    func pollThreadEnd() async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let done = ended.withLock { e in
                if !e.done { e.waiters.append(c) }
                return e.done
            }
            if done { c.resume() }
        }
    }

    func requestClose() {
        state.withLock { $0.closing = true }
        wakeWaiter()
    }
}
