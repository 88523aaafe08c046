import Foundation
import Synchronization
public import Logging
import Metrics
public import PostgresReplication
public import RunnelCore

/// `type: postgres_cdc`: row changes from a PostgreSQL logical replication slot (pgoutput).
///
/// The change decoding, numbering and resume rules live in `PostgresReplication`
/// (`ChangeStream`, `ChangeAssembler`); this type and `PostgresCDCReader` only adapt them to
/// `Extractor`/`BatchReader`: records, the checkpoint and the acknowledgement.
///
/// - The checkpoint is a `CDCPosition`: the end of the last transaction stored whole, and the
///   last change stored of the next one when a batch ended inside it.
/// - The acknowledgement confirms the end of the last whole transaction to the server, so the
///   slot's `confirmed_flush_lsn` moves only after the target committed.
/// - Without `follow` (runnel-batch) the reader drains up to the WAL position current at open.
public struct PostgresCDCExtractor: Extractor {
    public struct Configuration: Sendable {
        public var connection: ReplicationConfiguration
        public var publication: String
        /// Tables of the publication (`schema.table` or `table`); empty: all its tables.
        public var tables: [String] = []
        /// Create the publication for `tables` when it is missing. Default true.
        public var createPublication = true
        public var slot: String
        /// A warning (and `runnel_cdc_slot_lag_bytes`) when the slot holds more WAL than this.
        public var maxLagBytes: Int64?
        /// How often an idle stream confirms the server's position. Default 10 s.
        public var heartbeat: Duration = .seconds(10)

        public init(connection: ReplicationConfiguration, publication: String, slot: String) {
            self.connection = connection
            self.publication = publication
            self.slot = slot
        }
    }

    public let configuration: Configuration
    let logger: Logger

    public init(_ configuration: Configuration, logger: Logger = Logger(label: "runnel.postgres_cdc")) {
        self.configuration = configuration
        self.logger = logger
    }

    public func open(_ request: ExtractRequest) async throws -> any BatchReader {
        let c = configuration
        var position: CDCPosition?
        if let checkpoint = request.checkpoint {
            guard let parsed = CDCPosition(checkpoint.position) else {
                throw RunnelError(
                    .config,
                    "postgres_cdc: the stored checkpoint '\(checkpoint.position)' is not a replication position")
            }
            position = parsed
        }
        let drainTo = try await ReplicationConnection.withConnection(configuration: c.connection, logger: logger) {
            connection in
            try await prepare(connection, position: position)
            return request.follow ? nil : try await connection.identifySystem().position
        }
        var streamConfiguration = ChangeStream.Configuration(
            connection: c.connection, slot: c.slot, publications: [c.publication], position: position)
        streamConfiguration.capacity = max(1_024, request.batching.maxRecords * 2)
        let stream = ChangeStream(streamConfiguration, logger: logger)
        return PostgresCDCReader(
            stream: stream, position: position ?? CDCPosition(resume: .zero), request: request,
            drainTo: drainTo, heartbeat: c.heartbeat, tables: Set(c.tables))
    }

    /// The publication (created for `tables` when missing and allowed) and the slot (created at
    /// first start). A stored position whose slot is gone is an error, never a silent restart.
    private func prepare(_ connection: ReplicationConnection, position: CDCPosition?) async throws {
        let c = configuration
        let publication = c.publication.replacingOccurrences(of: "'", with: "''")
        let exists = try await connection.simpleQuery("SELECT 1 FROM pg_publication WHERE pubname = '\(publication)'")
        if exists.rows.isEmpty {
            guard c.createPublication, !c.tables.isEmpty else {
                throw RunnelError(
                    .config, "postgres_cdc: publication '\(c.publication)' does not exist (give 'tables' to create it)")
            }
            let tables = c.tables.map { name in
                name.split(separator: ".").map { "\"" + $0.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }.joined(
                    separator: ".")
            }
            try await connection.simpleQuery(
                "CREATE PUBLICATION \"\(c.publication.replacingOccurrences(of: "\"", with: "\"\""))\" FOR TABLE \(tables.joined(separator: ", "))"
            )
            logger.info("created publication", metadata: ["postgres.publication": "\(c.publication)"])
        }
        let slot = try await connection.simpleQuery(
            "SELECT plugin, database FROM pg_replication_slots WHERE slot_name = '\(c.slot.replacingOccurrences(of: "'", with: "''"))'"
        )
        if slot.rows.isEmpty {
            if let position, position.resume > .zero {
                throw RunnelError(
                    .config,
                    "postgres_cdc: slot '\(c.slot)' is gone but a position (\(position)) is stored: changes since then are lost; reset the checkpoint and run a snapshot"
                )
            }
            _ = try await connection.createLogicalSlot(c.slot)
            logger.info("created replication slot", metadata: ["postgres.slot": "\(c.slot)"])
        } else if slot.first("plugin") != "pgoutput" {
            throw RunnelError(
                .config, "postgres_cdc: slot '\(c.slot)' uses plugin \(slot.first("plugin") ?? "?"), not pgoutput")
        } else if let maxLag = c.maxLagBytes {
            // Checked at each open for now; the metric (runnel_cdc_slot_lag_bytes) is still to come.
            let lag = try await connection.simpleQuery(
                "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::bigint AS lag FROM pg_replication_slots WHERE slot_name = '\(c.slot.replacingOccurrences(of: "'", with: "''"))'"
            )
            if let bytes = lag.first("lag").flatMap({ Int64($0) }), bytes > maxLag {
                logger.warning(
                    "the replication slot holds more WAL than max_lag_bytes",
                    metadata: [
                        "postgres.slot": "\(c.slot)", "runnel.lag_bytes": "\(bytes)",
                        "runnel.max_lag_bytes": "\(maxLag)",
                    ])
            }
        }
    }
}

/// `PostgresCDCExtractor`'s reader: a batch holds up to `max_records` changes, waits at most
/// `max_linger` after its first one, and may end inside a transaction (a huge transaction
/// needs no memory beyond a batch; readers of the target see part of it until the next batch,
/// and a resume skips the part already stored).
final class PostgresCDCReader: BatchReader {
    static let fields = ["_table", "_op", "_lsn", "_index", "_commit_time", "_unchanged", "_key"]

    private let stream: ChangeStream
    private let request: ExtractRequest
    private let drainTo: LSN?
    private let heartbeat: Duration
    private let tables: Set<String>
    private var task: Task<Void, Never>?
    /// The end of the last transaction read whole, and the last change read of an open one.
    private var position: CDCPosition
    private var union = FieldUnion(maximumFields: 4_096)
    private var layouts: [UInt32: RelationLayout] = [:]
    private var lastIdleConfirm = ContinuousClock.now
    /// The commit time of the last change read (nil after an idle confirmation).
    private var lastCommitTime: PostgresTimestamp?
    private var readSoFar = 0
    /// The position the last batch carried: an idle batch that did not move carries none, so
    /// the runner skips it.
    private var emitted: CDCPosition?
    /// The last position an acknowledgement handed out will confirm.
    private var acknowledged: LSN?
    private let gauges: CDCGauges

    init(
        stream: ChangeStream, position: CDCPosition, request: ExtractRequest, drainTo: LSN?, heartbeat: Duration,
        tables: Set<String>
    ) {
        self.stream = stream
        self.position = position
        self.request = request
        self.drainTo = drainTo
        self.heartbeat = heartbeat
        self.tables = tables
        self.emitted = position
        self.gauges = CDCGauges(pipeline: request.pipeline, stream: stream, confirmed: position.resume)
        _ = union.add(Self.fields)
    }

    func read() async throws -> ReadResult {
        if task == nil {
            // The reading task lives as long as the reader: the runner closes it.
            let stream = stream
            task = Task { await stream.run() }
        }
        if let limit = request.limit, readSoFar >= limit { return .end }
        if let drainTo, position.within == nil, position.resume >= drainTo { return .end }

        var objects: [Object] = []
        var origins: [Origin] = []
        var deadline: ContinuousClock.Instant?
        let idleWait = min(request.batching.maxLinger * 10, .seconds(1))
        let maxRecords = min(request.batching.maxRecords, request.limit.map { $0 - readSoFar } ?? .max)
        var idleEnd: LSN?
        while objects.count < maxRecords {
            let wait = deadline.map { max(.zero, $0 - .now) } ?? idleWait
            guard let event = try await stream.next(timeout: wait) else { break }
            switch event {
            case .change(let change):
                position.within = change.position
                lastCommitTime = change.commitTime
                let name = change.relation.qualifiedName
                guard tables.isEmpty || tables.contains(name) || tables.contains(change.relation.name) else { continue }
                objects.append(Self.object(change, layouts: &layouts))
                origins.append(Origin(source: name, id: change.position.description))
                if deadline == nil { deadline = .now + request.batching.maxLinger }
            case .commit(_, let end):
                position = CDCPosition(resume: end)
            case .relation(let relation, _):
                layouts[relation.oid] = nil
                continue
            case .idle(let walEnd):
                if !objects.isEmpty, position.within == nil, walEnd > position.resume {
                    // The server is idle past this batch's last commit: the batch's position says
                    // so. Dropping it would leave a drain whose end lies past the last change (WAL
                    // of other tables, a checkpoint) waiting for the server's next keepalive, which
                    // it sends only when it thinks the reader is behind (about 30 s).
                    position = CDCPosition(resume: walEnd)
                } else if objects.isEmpty, position.within == nil, walEnd > position.resume,
                    ContinuousClock.now - lastIdleConfirm >= heartbeat || (drainTo.map { walEnd >= $0 } ?? false)
                {
                    idleEnd = walEnd
                }
            }
            if idleEnd != nil { break }
            if let drainTo, position.within == nil, position.resume >= drainTo { break }
        }
        if let idleEnd {
            lastCommitTime = nil
            position = CDCPosition(resume: idleEnd)
            lastIdleConfirm = .now
        }
        gauges.recordLag()
        readSoFar += objects.count
        for object in objects { _ = union.add(object.keys) }
        let rows = objects.map { union.row($0) }
        // A batch that only moves the position (an idle stream's heartbeat) is committed through
        // the checkpoint store until the loader is prepared (see `CommitPlan`).
        let moved = position != emitted
        if moved {
            emitted = position
            acknowledged = position.resume
        }
        return .batch(
            Batch(schema: Schema(union.names), rows: rows, origins: origins, byteCount: rows.count * 64),
            BatchCommit(
                checkpoint: moved ? Checkpoint(position.description) : nil,
                acknowledgement: moved
                    ? CDCConfirmation(stream: stream, lsn: position.resume, lastCommit: lastCommitTime, gauges: gauges) : nil))
    }

    func close() async {
        // The runner closes the reader before the committer stored (and acknowledged) the last
        // batches: keep the connection until the last position handed out is confirmed.
        if let last = acknowledged, last > .zero {
            await stream.close(afterConfirming: last, timeout: .seconds(30))
        }
        stream.close()
        task?.cancel()
        await task?.value
    }

    /// `_table`, `_op`, `_lsn` (the commit LSN as an integer: the version), `_index`,
    /// `_commit_time`, `_unchanged` (columns whose TOASTed value the update left as it was; the
    /// loader must keep the target's value), `_key` (the replica identity's columns: the key of
    /// a routed target table), then the row's columns.
    ///
    /// `layouts` keeps, per relation, the key array of a change that carries every column (the
    /// union then lays all of them out by the same slots) and the `_table` and `_key` values; a
    /// Relation message (a schema change) drops the relation's entry.
    static func object(_ change: Change, layouts: inout [UInt32: RelationLayout]) -> Object {
        let relation = change.relation
        let layout: RelationLayout
        if let cached = layouts[relation.oid] {
            layout = cached
        } else {
            layout = RelationLayout(
                keys: fields + relation.columns.map(\.name), table: .string(relation.qualifiedName),
                key: .array(relation.keyColumns.map(Value.string)))
            layouts[relation.oid] = layout
        }
        var values: [Value] = [
            layout.table, .string(change.operation.rawValue),
            .int(Int64(bitPattern: change.position.commitLSN.rawValue)), .int(Int64(change.position.index)),
            .timestamp(Timestamp(microseconds: change.commitTime.microsecondsSince1970)), .null, layout.key,
        ]
        values.reserveCapacity(layout.keys.count)
        if !change.values.contains(where: { if case .unchangedToast = $0 { true } else { false } }) {
            for (column, value) in zip(relation.columns, change.values) {
                if case .null = value { values.append(.null) } else { values.append(typed(value.string ?? "", type: column.typeOID)) }
            }
            if values.count == layout.keys.count { return Object(keys: layout.keys, values: values) }
            values.removeSubrange(fields.count...)
        }
        var keys = fields
        var unchanged: [Value] = []
        for (column, value) in zip(change.relation.columns, change.values) {
            switch value {
            case .unchangedToast:
                unchanged.append(.string(column.name))
                continue
            case .null:
                values.append(.null)
            case .text, .binary:
                values.append(typed(value.string ?? "", type: column.typeOID))
            }
            keys.append(column.name)
        }
        if !unchanged.isEmpty { values[5] = .array(unchanged) }
        return Object(keys: keys, values: values)
    }

    struct RelationLayout {
        var keys: [String]
        var table: Value
        var key: Value
    }

    /// Integers, floats and booleans typed; everything else as PostgreSQL's text.
    static func typed(_ text: String, type: UInt32) -> Value {
        switch type {
        case 20, 21, 23: Int64(text).map(Value.int) ?? .string(text)
        case 700, 701: Double(text).map(Value.double) ?? .string(text)
        case 16: .bool(text == "t")
        default: .string(text)
        }
    }
}

/// Confirms the end of the last whole transaction of a batch to the server, after the runner
/// stored the batch.
struct CDCConfirmation: Acknowledgement {
    let stream: ChangeStream
    let lsn: LSN
    /// The source commit time of the batch's last change; nil for an idle confirmation.
    let lastCommit: PostgresTimestamp?
    let gauges: CDCGauges

    func acknowledge() async throws {
        if lsn > .zero { stream.confirm(lsn) }
        gauges.stored(through: lsn, lastCommit: lastCommit)
    }
}

/// `runnel_cdc_slot_lag_bytes`: the server's WAL end minus the position confirmed after the
/// target's commit (the WAL the slot holds back; the stream's messages carry the WAL end, so no
/// query is needed). `runnel_cdc_replication_delay_seconds`: from the source's commit of the
/// last change of a batch to that batch's store; 0 once an idle stream confirms.
final class CDCGauges: Sendable {
    private let stream: ChangeStream
    private let confirmed: Atomic<UInt64>
    private let lag: Gauge
    private let delay: Gauge

    init(pipeline: String, stream: ChangeStream, confirmed: LSN) {
        self.stream = stream
        self.confirmed = Atomic(confirmed.rawValue)
        lag = Gauge(label: "runnel_cdc_slot_lag_bytes", dimensions: [("pipeline", pipeline)])
        delay = Gauge(label: "runnel_cdc_replication_delay_seconds", dimensions: [("pipeline", pipeline)])
    }

    func recordLag() {
        let end = stream.serverWALEnd.rawValue
        let confirmed = confirmed.load(ordering: .relaxed)
        guard end > 0 else { return }
        lag.record(Int64(end > confirmed ? end - confirmed : 0))
    }

    func stored(through lsn: LSN, lastCommit: PostgresTimestamp?) {
        confirmed.max(lsn.rawValue, ordering: .relaxed)
        let seconds = lastCommit.map { Double(PostgresTimestamp.now().microsecondsSince2000 - $0.microsecondsSince2000) / 1e6 } ?? 0
        delay.record(max(0, seconds))
        recordLag()
    }
}

extension PostgresCDCExtractor: SnapshotSource {
    /// The snapshot of the publication's tables (`tables`, or all of the publication's), read
    /// by `PostgresSnapshotReader`. The stream's slot must exist first.
    public func openSnapshot(_ request: ExtractRequest) async throws -> any BatchReader {
        let c = configuration
        var start: PostgresSnapshotReader.Position?
        if let checkpoint = request.checkpoint {
            guard let position = try? JSONDecoder().decode(PostgresSnapshotReader.Position.self, from: Data(checkpoint.position.utf8))
            else {
                throw RunnelError(
                    .config, "postgres_cdc --snapshot: the stored checkpoint '\(checkpoint.position)' is not a snapshot position")
            }
            start = position
        }
        let tables = try await ReplicationConnection.withConnection(configuration: c.connection, logger: logger) {
            connection in
            let slot = try await connection.simpleQuery(
                "SELECT 1 FROM pg_replication_slots WHERE slot_name = \(PostgresSQL.literal(c.slot))")
            guard !slot.rows.isEmpty else {
                throw RunnelError(
                    .config,
                    "postgres_cdc --snapshot: the stream's slot '\(c.slot)' does not exist yet; start the stream "
                        + "(runnel-stream) first: changes committed while the snapshot runs reach the target only through it")
            }
            if !c.tables.isEmpty { return c.tables.map { $0.contains(".") ? $0 : "public." + $0 } }
            let published = try await connection.simpleQuery(
                "SELECT schemaname || '.' || tablename FROM pg_publication_tables WHERE pubname = \(PostgresSQL.literal(c.publication)) ORDER BY 1"
            )
            return published.rows.compactMap { $0[0] }
        }
        return PostgresSnapshotReader(
            connection: c.connection, tables: tables, shard: request.shard, start: start,
            pageSize: max(1, request.batching.maxRecords), logger: logger)
    }
}
