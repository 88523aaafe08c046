import KafkaClient
import Logging
import RunnelCore

/// The reader `KafkaExtractor.open` returns; used by the runner's producer task only.
///
/// Micro-batching: a batch is complete at `max_records` messages or `max_bytes`, or
/// `max_linger` after its first message, whichever comes first; with no input `read()`
/// returns `.idle` every `idleWait` so that a stop request is noticed. Backpressure:
/// the runner reads one batch ahead, and the consumer pauses its partitions while its
/// buffer is full.
final class KafkaSourceReader: BatchReader {
    let consumer: KafkaConsumer
    private let ledger: PartitionLedger
    private let c: KafkaSourceConfiguration
    private let request: ExtractRequest
    private let logger: Logger
    private let storeFailure = StoreFailure()
    private var started = false
    private let openedAt = ContinuousClock.now
    /// Batch mode: the end offset of each partition, taken when it was first assigned.
    private var stops: [KafkaTopicPartition: Int64] = [:]
    private var readSoFar = 0
    /// The fields seen so far in this run, in order of first appearance: each batch's columns
    /// start with them. A producer that sends ever new keys does not grow the batches without
    /// bound: past 1,024 a record's other fields go to one overflow column.
    private var knownFields: [String] = []
    /// Reused from message to message (see `JSONText.Stream`).
    private let json = JSONText.Stream()

    /// The consumer's read-ahead buffer, from the batch it feeds. Each pause of the partitions
    /// costs a fetch round trip when they resume, so the buffer holds many batches: with room for
    /// two batches of 5,000 the partitions paused at every batch and the benchmark ran at a
    /// quarter of the speed it reaches with sixteen. Its bytes stay within a quarter of the
    /// memory window (`maxRecordBytes` is an eighth).
    static func consumerSettings(_ c: KafkaSourceConfiguration, _ request: ExtractRequest) -> KafkaConsumer.Configuration {
        var settings = c.consumer
        settings.bufferCapacity = max(10_000, 16 * request.batching.maxRecords)
        settings.bufferBytes = max(1 << 20, min(4 * request.batching.maxBytes, 2 * request.maxRecordBytes))
        return settings
    }

    init(configuration: KafkaSourceConfiguration, request: ExtractRequest, logger: Logger) throws {
        self.c = configuration
        self.request = request
        self.logger = logger
        let ledger = PartitionLedger(revokeTimeout: configuration.revokeTimeout, logger: logger)
        self.ledger = ledger
        let store = request.checkpoints
        let pipeline = request.pipeline
        let failure = storeFailure
        consumer = try KafkaConsumer(Self.consumerSettings(configuration, request), logger: logger) { event in
            switch event {
            case .assigned(let partitions, let generation):
                var starts: [KafkaTopicPartition: Int64] = [:]
                if let store {
                    do {
                        starts = try StoredOffsets.read(store, pipeline: pipeline, partitions: partitions)
                    } catch {
                        // Never a silent start from the group's offsets: the reader fails the run.
                        failure.set(error)
                    }
                }
                if !starts.isEmpty {
                    logger.info("partitions start at stored offsets", metadata: ["runnel.offsets": "\(starts.sorted { $0.key < $1.key })"])
                }
                ledger.assigned(partitions, generation: generation, starts: starts)
                return starts
            case .revoked(let partitions, _, _):
                ledger.revoked(partitions)
                return [:]
            }
        }
    }

    private var maxRecords: Int {
        let n = request.batching.maxRecords
        guard let limit = request.limit else { return n }
        return max(1, min(n, limit - readSoFar))
    }

    func read() async throws -> ReadResult {
        if let limit = request.limit, readSoFar >= limit { return .end }
        if !started {
            do { try consumer.start(c.subscription) } catch { throw RunnelError.config("extract (kafka): \(error.message)") }
            started = true
        }
        // A wrong password or CA stays wrong: stop now with a config error (exit 2) that says
        // so, rather than wait for an assignment that cannot come.
        if let refusal = consumer.refusal, !ledger.everAssigned {
            throw RunnelError.config(
                "extract (kafka): the brokers refused this client (\(refusal.message)); check extract.sasl and extract.tls")
        }
        if let error = storeFailure.get() {
            throw RunnelError.transient("kafka: reading the stored offsets of newly assigned partitions failed: \(error)", underlying: error)
        }
        if !request.follow, try await drained() { return .end }

        var messages: [KafkaMessage]
        do {
            messages = try await consumer.take(maxMessages: maxRecords, maxBytes: request.batching.maxBytes, waitingUpTo: c.idleWait)
            if !messages.isEmpty {
                let deadline = ContinuousClock.now + request.batching.maxLinger
                var bytes = messages.reduce(0) { $0 + $1.byteCount }
                while messages.count < maxRecords, bytes < request.batching.maxBytes {
                    let left = deadline - .now
                    guard left > .zero else { break }
                    let more = try await consumer.take(
                        maxMessages: maxRecords - messages.count, maxBytes: request.batching.maxBytes - bytes, waitingUpTo: left)
                    if more.isEmpty { break }
                    bytes += more.reduce(0) { $0 + $1.byteCount }
                    messages += more
                }
            }
        } catch {
            if error.code == .closed { return .end }
            throw RunnelError.failure("kafka consumer: \(error.message)", underlying: error)
        }
        let (kept, replaces) = ledger.seal(messages, stopAt: request.follow ? [:] : stops)
        guard !kept.isEmpty else { return .idle }
        // A message below where the partition started (its stored offset) means the log was
        // truncated or the topic recreated (a broker that lost its data): loading it would move
        // the stored offset backwards and mix two histories. Stop and say so.
        for m in kept {
            if let start = ledger.start(m.topicPartition), m.offset < start {
                throw RunnelError.dataContract(
                    "kafka \(m.topicPartition): the broker delivered offset \(m.offset), below the stored offset \(start); "
                        + "the topic was truncated or recreated. 'checkpoint reset' starts the pipeline over")
            }
        }
        readSoFar += kept.count
        var (batch, commit) = makeBatch(kept)
        for (tp, position) in replaces { commit.partReplaces[StoredOffsets.part(tp)] = position }
        return .batch(batch, commit)
    }

    /// Batch mode: true once every owned partition reached the end offset taken when it was
    /// first assigned. Waits up to `assignmentTimeout` for the first assignment.
    private func drained() async throws -> Bool {
        if !ledger.everAssigned {
            if ContinuousClock.now - openedAt > c.assignmentTimeout {
                throw RunnelError.transient(
                    "kafka: no partition assigned within \(c.assignmentTimeout) (group \(c.group))"
                        + (consumer.lastError.map { "; the client's last error: \($0.message)" } ?? ""))
            }
            return false
        }
        let owned = ledger.owned
        var unknown: [KafkaTopicPartition] = []
        for tp in owned where stops[tp] == nil {
            let (low, high) = try await transient { () async throws(KafkaError) in try await self.consumer.watermarks(tp) }
            stops[tp] = high
            logger.info("batch mode: reading up to the end offset taken now", metadata: ["runnel.partition": "\(tp)", "runnel.stop_offset": "\(high)"])
            if ledger.position(tp) == nil { unknown.append(tp) }
            _ = low
        }
        if !unknown.isEmpty {
            // Partitions without a stored offset start at the group's commit, or the earliest.
            let committed = try await transient { () async throws(KafkaError) in try await self.consumer.committed(unknown) }
            for tp in unknown {
                let (low, _) = try await transient { () async throws(KafkaError) in try await self.consumer.watermarks(tp) }
                ledger.setStart(tp, (committed[tp] ?? nil) ?? (c.start == .latest ? stops[tp]! : low))
            }
        }
        return owned.allSatisfy { tp in (ledger.position(tp) ?? -1) >= stops[tp]! }
    }

    private func transient<T>(_ body: () async throws(KafkaError) -> T) async throws -> T {
        do { return try await body() } catch {
            throw error.isTransient
                ? RunnelError.transient("kafka: \(error.message)", underlying: error)
                : RunnelError.failure("kafka: \(error.message)", underlying: error)
        }
    }

    func close() async {
        // A run that failed will commit nothing more: revokes must not wait for it.
        if Task.isCancelled { ledger.abandonAll() }
        await consumer.close()
        ledger.abandonAll()
    }

    private func makeBatch(_ messages: [KafkaMessage]) -> (Batch, BatchCommit) {
        var rejections: [(Int, RecordError)] = []
        var raws: [Int: String] = [:]
        var unreadable: Set<Int> = []
        var times: [Timestamp] = []
        var origins: [Origin] = []
        var next: [KafkaTopicPartition: Int64] = [:]
        var bytes = 0
        var skipped = 0
        var messages = messages
        messages.removeAll { m in
            guard m.beforeStart else { return false }
            // Read, so its offset is committed, but older than `start`: no record.
            next[m.topicPartition] = max(next[m.topicPartition] ?? 0, m.offset + 1)
            skipped += 1
            return true
        }
        if skipped > 0 { logger.debug("passed over messages older than start", metadata: ["runnel.count": "\(skipped)"]) }
        // Self-describing records: the columns start with the fields seen so far in this run, so
        // a micro-batch lacking an optional field still has it (as null). A value that is a flat
        // JSON object goes straight into the columns; any other is parsed, with the same outcome.
        var columns = ColumnsBuilder(fields: knownFields, maximumFields: 1_024)
        let direct = c.format.parsesValue && !c.format.addsMetadata
        origins.reserveCapacity(messages.count)
        times.reserveCapacity(messages.count)
        for (i, m) in messages.enumerated() {
            bytes += m.byteCount
            next[m.topicPartition] = max(next[m.topicPartition] ?? 0, m.offset + 1)
            times.append(Timestamp(microseconds: (m.timestamp ?? 0) &* 1_000))
            origins.append(KafkaRecords.origin(m))
            if direct, let value = m.value, value.withUnsafeBytes({ columns.append(flatJSON: $0) }) { continue }
            do {
                columns.append(object: try KafkaRecords.object(m, format: c.format, json: json))
            } catch {
                var e = error
                e.message += " (\(KafkaRecords.context(m)))"
                rejections.append((i, e))
                raws[i] = KafkaRecords.raw(m)
                unreadable.insert(i)
                columns.appendUnreadable()
            }
        }
        let (schema, built) = columns.finish()
        knownFields = schema.fields
        var batch = Batch(schema: schema, columns: built, origins: origins, raws: raws, unreadable: unreadable, byteCount: bytes)
        var commit = BatchCommit(
            acknowledgement: KafkaOffsetCommit(
                consumer: consumer, offsets: next, ledger: ledger, advisory: request.checkpoints != nil, logger: logger))
        batch.sourceTimes = times
        // W3C trace context of the producers: the batch span links to each (a few at most).
        for m in messages {
            for h in m.headers where h.name == "traceparent" {
                if let v = h.value { batch.trace.link(traceparent: String(decoding: v, as: UTF8.self)) }
            }
        }
        for (tp, offset) in next { commit.parts[StoredOffsets.part(tp)] = StoredOffsets.checkpoint(offset) }
        for (i, error) in rejections { batch.reject(ordinal: i, stage: "extract", error: error) }
        return (batch, commit)
    }
}

/// A failure of the rebalance handler, for the reader to throw. `@unchecked`: behind a lock.
final class StoreFailure: @unchecked Sendable {
    private let lock = ConditionLock()
    private var error: (any Error)?
    func set(_ e: any Error) { lock.withLock { error = e } }
    func get() -> (any Error)? { lock.withLock { error } }
}

/// Per-partition offsets in the checkpoint store, read on the consumer's poll thread.
enum StoredOffsets {
    /// The part name of a partition: `topic/partition`.
    static func part(_ tp: KafkaTopicPartition) -> String { "\(tp.topic)/\(tp.partition)" }

    /// A partition's next offset as it is stored (`read` parses it back).
    static func checkpoint(_ offset: Int64) -> Checkpoint { Checkpoint(String(offset)) }

    /// The stored next offsets of `partitions` (those that have one). The store is async;
    /// the poll thread is ours, not the cooperative pool's, so it may block while a task
    /// reads it.
    static func read(_ store: any CheckpointStore, pipeline: String, partitions: [KafkaTopicPartition]) throws
        -> [KafkaTopicPartition: Int64]
    {
        let box = ResultBox()
        Task {
            var out: [KafkaTopicPartition: Int64] = [:]
            do {
                for tp in partitions {
                    let key = CheckpointCommit.key(pipeline: pipeline, part: part(tp))
                    guard let c = try await store.load(pipeline: key) else { continue }
                    guard let offset = Int64(c.position), offset >= 0 else {
                        throw RunnelError.failure("checkpoint '\(key)' is not an offset: \(c.position)")
                    }
                    out[tp] = offset
                }
                box.finish(.success(out))
            } catch {
                box.finish(.failure(error))
            }
        }
        return try box.wait().get()
    }

    /// `@unchecked Sendable`: behind its lock.
    final class ResultBox: @unchecked Sendable {
        private let lock = ConditionLock()
        private var result: Result<[KafkaTopicPartition: Int64], any Error>?
        func finish(_ r: Result<[KafkaTopicPartition: Int64], any Error>) {
            lock.withLock {
                result = r
                lock.broadcast()
            }
        }
        func wait() -> Result<[KafkaTopicPartition: Int64], any Error> {
            lock.withLock {
                while result == nil { lock.wait(untilNanoseconds: nil) }
                return result!
            }
        }
    }
}
