import Logging
import RedisClient
import RunnelCore

/// The reader `RedisStreamExtractor.open` returns; used by the runner's producer task only.
///
/// Micro-batching: a batch is complete when it holds `max_records` entries or `max_bytes` of
/// replies (the entries with their ids and field names), or `max_linger` after its first entry
/// arrived, whichever comes first. With no
/// input at all, `read()` returns `.idle` every `idleBlock`, so the runner notices a
/// stop request; backpressure comes from the runner, which reads one batch ahead.
final class RedisStreamReader: BatchReader {
    private enum Phase {
        /// Re-reading this consumer's own pending entries, from after `cursor`.
        case history(cursor: StreamID)
        /// New entries (`>`), with periodic claims of idle ones.
        case live
    }

    private let c: RedisStreamExtractor.Configuration
    private let client: RedisClient
    private let blockingClient: RedisClient
    private let request: ExtractRequest
    private let logger: Logger
    private var phase = Phase.history(cursor: .zero)
    private var groupReady = false
    private var claimCursor = StreamID.zero
    private var nextClaim: ContinuousClock.Instant
    private var failures = 0
    private var readSoFar = 0
    private var exhausted = false
    /// Field names seen so far in this run, in order of first appearance: each batch's columns
    /// start with them. A producer that sends ever new keys does not grow the batches without
    /// bound: past `maximumFields` a record's other fields go to one overflow column.
    private var knownFields: [String] = []
    static let maximumFields = 1_024

    init(
        configuration: RedisStreamExtractor.Configuration, client: RedisClient, blockingClient: RedisClient,
        request: ExtractRequest, logger: Logger
    ) {
        self.c = configuration
        self.client = client
        self.blockingClient = blockingClient
        self.request = request
        self.logger = logger
        // Claim at once on start: entries of a consumer that died before this one started.
        self.nextClaim = .now
    }

    private var maxRecords: Int {
        let n = request.batching.maxRecords
        guard let limit = request.limit else { return n }
        return max(1, min(n, limit - readSoFar))
    }

    func read() async throws -> ReadResult {
        if let limit = request.limit, readSoFar >= limit { return .end }
        if exhausted { return .end }
        do {
            if !groupReady {
                let created = try await client.xgroupCreate(c.stream, group: c.group, startID: c.startID, mkstream: true)
                if created {
                    logger.info("created consumer group", metadata: ["runnel.group": "\(c.group)", "runnel.start_id": "\(c.startID)"])
                }
                groupReady = true
            }
            let result = try await readEntries()
            if failures > 0 {
                logger.info("redis stream reachable again", metadata: ["runnel.failures": "\(failures)"])
                failures = 0
            }
            if let batch = result.batch { readSoFar += batch.readCount }
            return result
        } catch let error as RedisError where error.serverErrorCode == "NOGROUP" {
            // The group (or the stream) went away: a Redis restart without persistence, or
            // someone deleted it. Create it again and start over from this consumer's pending.
            logger.warning("consumer group missing, creating it again", metadata: ["runnel.group": "\(c.group)"])
            groupReady = false
            phase = .history(cursor: .zero)
            return .idle
        } catch let error as RedisError where error.isTransient && request.follow {
            // A streaming worker rides out an outage: back off, then try again. The health
            // poller marks the source unreachable meanwhile. After reconnecting, re-read this
            // consumer's pending entries: a reply lost with the connection may have delivered
            // entries that nobody would otherwise see before min_idle.
            failures += 1
            let delay = Duration.milliseconds(min(2_000, 50 << min(failures, 6)))
            logger.warning(
                "redis stream unreachable, retrying",
                metadata: ["runnel.error": "\(error)", "runnel.failures": "\(failures)", "runnel.retry_in_ms": "\(delay.milliseconds)"])
            try await Task.sleep(for: delay)
            phase = .history(cursor: .zero)
            return .idle
        }
    }

    func close() async {
        await blockingClient.close()
    }

    // MARK: - Reading

    private func readEntries() async throws -> ReadResult {
        if case .history(let cursor) = phase {
            let entries = try await client.xreadgroupEntries(
                group: c.group, consumer: c.consumer, key: c.stream, id: cursor.description, count: maxRecords)
            if let (_, last) = try entries.idRange() {
                phase = .history(cursor: last)
                return try await makeBatch([entries], redelivered: true)
            }
            phase = .live
        }
        if ContinuousClock.now >= nextClaim {
            let claimed = try await claim()
            if !claimed.isEmpty { return try await makeBatch([claimed], redelivered: true) }
        }
        guard request.follow else {
            let entries = try await client.xreadgroupEntries(
                group: c.group, consumer: c.consumer, key: c.stream, id: ">", count: maxRecords)
            if entries.isEmpty {
                exhausted = true
                return .end
            }
            return try await makeBatch([entries], redelivered: false)
        }
        return try await gather()
    }

    /// New entries, lingering up to `max_linger` after the first one to fill the batch.
    private func gather() async throws -> ReadResult {
        let limit = maxRecords
        let first = try await blockingClient.xreadgroupEntries(
            group: c.group, consumer: c.consumer, key: c.stream, id: ">", count: limit,
            blockMilliseconds: max(1, Int(c.idleBlock.milliseconds)))
        if first.isEmpty { return .idle }
        var replies = [first]
        var count = first.count
        var bytes = first.byteCount
        let deadline = ContinuousClock.now + request.batching.maxLinger
        while count < limit, bytes < request.batching.maxBytes {
            let left = (deadline - .now).milliseconds
            guard left >= 1 else { break }
            let more = try await blockingClient.xreadgroupEntries(
                group: c.group, consumer: c.consumer, key: c.stream, id: ">", count: limit - count,
                blockMilliseconds: Int(left))
            if more.isEmpty { break }
            replies.append(more)
            count += more.count
            bytes += more.byteCount
        }
        return try await makeBatch(replies, redelivered: false)
    }

    /// `XAUTOCLAIM` of entries idle longer than `min_idle`, one page per call; the scan
    /// continues from its cursor and starts again after `claim_interval` once complete.
    private func claim() async throws -> StreamEntries {
        let result = try await client.xautoclaimEntries(
            c.stream, group: c.group, consumer: c.consumer, minIdleMilliseconds: Int(c.minIdle.milliseconds),
            start: claimCursor, count: maxRecords)
        claimCursor = result.next
        if result.next == .zero { nextClaim = .now + c.claimInterval }
        if !result.entries.isEmpty {
            logger.info(
                "claimed idle entries", metadata: ["runnel.count": "\(result.entries.count)", "runnel.min_idle": "\(c.minIdle)"])
        }
        return result.entries
    }

    // MARK: - Entries to a batch

    private func makeBatch(_ replies: [StreamEntries], redelivered: Bool) async throws -> ReadResult {
        // Delivery counts matter only for entries delivered before (own pending, claimed).
        var deliveries: [StreamID: Int] = [:]
        if redelivered, let first = try replies.first?.idRange()?.first, let last = try replies.last?.idRange()?.last {
            let count = replies.reduce(0) { $0 + $1.count }
            let rows = try await client.xpendingRange(
                c.stream, group: c.group, start: first.description, end: last.description,
                count: count + 4 * request.batching.maxRecords, consumer: c.consumer)
            for row in rows { deliveries[row.id] = row.deliveryCount }
        }

        var ids: [StreamID] = []
        ids.reserveCapacity(replies.reduce(0) { $0 + $1.count })
        // Self-describing records: the columns start with the fields seen so far in this run (in
        // order of first appearance), so that a micro-batch whose records happen to lack an
        // optional field still has it (as null) for the stages that name it. A JSON payload that
        // is a flat object goes straight from the reply's bytes into the columns
        // (`ColumnsBuilder.append(flatJSON:)`); any other is parsed, with the same outcome and
        // the same errors.
        var columns = ColumnsBuilder(fields: knownFields, maximumFields: Self.maximumFields)
        var origins: [Origin] = []
        origins.reserveCapacity(ids.capacity)
        var times: [Timestamp] = []
        times.reserveCapacity(ids.capacity)
        var raws: [Int: String] = [:]
        var unreadable: Set<Int> = []
        var rejections: [(Int, RecordError)] = []
        var tooOften: [(row: Int, error: RecordError)] = []
        var bytes = 0
        let idField = c.idField
        let payloadField = Array(c.field.utf8)
        for reply in replies {
            try reply.forEach { entry in
                ids.append(entry.id)
                if entry.isDeleted { return }  // pending but trimmed from the stream: only acknowledged
                let ordinal = origins.count
                let id = entry.id.description
                origins.append(Origin(source: c.stream, id: id))
                times.append(Timestamp(microseconds: Int64(clamping: entry.id.milliseconds) &* 1_000))
                bytes += entry.fieldBytes
                let appended =
                    c.format.isJSON
                    && (entry.value(ofField: payloadField).map { payload in
                        columns.append(flatJSON: payload, adding: idField.map { ($0, .string(id)) })
                    } ?? false)
                if !appended {
                    let materialized = entry.entry
                    do throws(RecordError) {
                        columns.append(object: try record(materialized))
                    } catch {
                        rejections.append((ordinal, error))
                        raws[ordinal] = rawText(materialized)
                        unreadable.insert(ordinal)
                        columns.appendUnreadable()
                        return
                    }
                }
                if let count = deliveries[entry.id], count > c.maxDeliveries {
                    raws[ordinal] = rawText(entry.entry)
                    tooOften.append(
                        (
                            ordinal,
                            RecordError(
                                code: "max_deliveries",
                                message: "delivered \(count) times, more than max_deliveries \(c.maxDeliveries); "
                                    + "moved to the dead letter queue instead of being loaded again")
                        ))
                }
            }
        }
        let (schema, built) = columns.finish()
        knownFields = schema.fields
        var batch = Batch(schema: schema, columns: built, origins: origins, raws: raws, unreadable: unreadable, byteCount: bytes)
        batch.sourceTimes = times
        for (i, error) in rejections { batch.reject(ordinal: i, stage: "extract", error: error) }
        batch.reject(rows: tooOften, stage: "extract")
        let ack = ids.isEmpty ? nil : RedisStreamAcknowledgement(client: client, stream: c.stream, group: c.group, ids: ids)
        return .batch(batch, BatchCommit(acknowledgement: ack))
    }

    private func record(_ entry: StreamEntry) throws(RecordError) -> Object {
        var object: Object
        if c.format.isJSON {
            guard let payload = entry[field: c.field] else {
                throw RecordError(
                    code: "malformed_entry", message: "the entry has no '\(c.field)' field (extract.field)", field: c.field)
            }
            object = try Self.parseJSONObject(payload)
        } else {
            object = Object()
            for f in entry.fields { object.set(f.name, .string(String(decoding: f.value, as: UTF8.self))) }
        }
        if let idField = c.idField { object.set(idField, .string(entry.id.description)) }
        return object
    }

    static func parseJSONObject(_ bytes: [UInt8]) throws(RecordError) -> Object {
        let value: Value
        do { value = try JSONText.parse(bytes) } catch {
            throw RecordError(code: "malformed_entry", message: "not valid JSON: \(error)")
        }
        guard case .object(let object) = value else {
            throw RecordError(code: "malformed_entry", message: "the payload is a JSON \(value.typeName), not an object")
        }
        return object
    }

    /// The entry as text for a dead letter: the payload field, or all fields as a JSON object.
    private func rawText(_ entry: StreamEntry) -> String {
        if c.format.isJSON, let payload = entry[field: c.field] { return String(decoding: payload, as: UTF8.self) }
        var o = Object()
        for f in entry.fields { o.set(f.name, .string(String(decoding: f.value, as: UTF8.self))) }
        return JSONText.encode(.object(o))
    }
}

extension Duration {
    /// Whole milliseconds, rounded down.
    var milliseconds: Int64 { nanoseconds / 1_000_000 }
}
