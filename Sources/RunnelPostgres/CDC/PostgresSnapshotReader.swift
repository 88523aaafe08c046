import Foundation
import Logging
import PostgresReplication
import RunnelCore
import Synchronization

/// `runnel-batch run --snapshot [--shard I/N]` on a `postgres_cdc` source: the rows of the
/// publication's tables as of one point of the change stream, loaded with that point as their
/// version.
///
/// On one replication connection: `BEGIN READ ONLY ISOLATION LEVEL REPEATABLE READ`, then
/// `CREATE_REPLICATION_SLOT … TEMPORARY LOGICAL pgoutput (SNAPSHOT 'use')`. The transaction then
/// sees exactly the transactions whose commit records precede the slot's consistent point C, and
/// a slot streams exactly those at or after it. Each row gets the version C − 1: it sorts after
/// every change the snapshot holds (their commit records start before C, and a WAL record is
/// longer than one byte) and before every change it does not (they start at C or later), so the
/// loaders' guard (`>=`) keeps the newer of the two whatever order the stream and the shards
/// write in. Taking `pg_current_wal_lsn()` beside an ordinary snapshot would not do: commits can
/// become visible in another order than their WAL order.
///
/// Each table is read in keyset pages by its primary key (`hashtext` of the key selects the
/// shard's share), one page per batch; the checkpoint is the table and the last key stored. A
/// killed shard resumes after that key in a new snapshot with a new, later C: rows stored before
/// the kill carry an older version, and every change to them since is in the stream with a
/// larger one, so the target converges all the same. A finished snapshot stores `done`; the next
/// `--snapshot` run starts over, which repairs the target.
///
/// The stream's slot must exist before the snapshot starts: changes committed while the snapshot
/// runs reach the target only through it.
final class PostgresSnapshotReader: BatchReader {
    struct Position: Codable, Hashable {
        var table: String?
        /// The last key stored, as the server prints each key column.
        var after: [String]?
        var done: Bool?
    }

    struct Page: Sendable {
        var table: String
        var columns: [(name: String, type: UInt32)]
        /// The primary key's columns.
        var key: [String]
        var rows: [[String?]]
        var version: Int64
        var position: Position
    }

    private let producer: SnapshotProducer
    private var handoff: Handoff<Page> { producer.handoff }
    private var task: Task<Void, Never>?
    private var union = FieldUnion(maximumFields: 4_096)

    init(
        connection: ReplicationConfiguration, tables: [String], shard: Shard?, start: Position?, pageSize: Int,
        logger: Logger
    ) {
        producer = SnapshotProducer(
            connection: connection, tables: tables.sorted(), shard: shard, start: start?.done == true ? nil : start,
            pageSize: pageSize, logger: logger)
        _ = union.add(PostgresCDCReader.fields)
    }

    func read() async throws -> ReadResult {
        if task == nil {
            let producer = producer
            task = Task {
                do {
                    try await producer.produce()
                    producer.handoff.finish(nil)
                } catch {
                    producer.handoff.finish(error)
                }
            }
        }
        guard let page = try await handoff.take() else { return .end }
        var objects: [Object] = []
        var origins: [Origin] = []
        objects.reserveCapacity(page.rows.count)
        let keyValue = Value.array(page.key.map(Value.string))
        // One key array for the page: the union then lays every row out by the same slots.
        let keys = PostgresCDCReader.fields + page.columns.map(\.name)
        let head: [Value] = [.string(page.table), .string("snapshot"), .int(page.version), .int(0), .null, .null, keyValue]
        let origin = Origin(source: page.table, id: "snapshot")
        for row in page.rows {
            var values = head
            values.reserveCapacity(keys.count)
            for (column, text) in zip(page.columns, row) {
                values.append(text.map { PostgresCDCReader.typed($0, type: column.type) } ?? .null)
            }
            objects.append(Object(keys: keys, values: values))
            origins.append(origin)
        }
        _ = union.add(page.columns.map(\.name))
        let rows = objects.map { union.row($0) }
        let checkpoint = String(decoding: try JSONEncoder().encode(page.position), as: UTF8.self)
        return .batch(
            Batch(schema: Schema(union.names), rows: rows, origins: origins, byteCount: rows.count * 64),
            BatchCommit(checkpoint: Checkpoint(checkpoint)))
    }

    func close() async {
        handoff.close()
        task?.cancel()
        await task?.value
    }
}

/// The snapshot's reading side: one transaction on one replication connection, one page ahead.
struct SnapshotProducer: Sendable {
    typealias Page = PostgresSnapshotReader.Page
    typealias Position = PostgresSnapshotReader.Position

    let connection: ReplicationConfiguration
    let tables: [String]
    let shard: Shard?
    let start: Position?
    let pageSize: Int
    let logger: Logger
    let handoff = Handoff<Page>()

    /// Reads every table's share, page by page, into the handoff (one page ahead of the runner).
    func produce() async throws {
        try await ReplicationConnection.withConnection(configuration: connection, logger: logger) { conn in
            try await conn.simpleQuery("BEGIN READ ONLY ISOLATION LEVEL REPEATABLE READ")
            let name = "runnel_snapshot_" + String(UInt64.random(in: 0..<UInt64.max), radix: 16)
            let slot = try await conn.createLogicalSlot(name, temporary: true, snapshot: .use)
            let version = Int64(bitPattern: slot.consistentPoint.rawValue &- 1)
            logger.info(
                "snapshot taken",
                metadata: [
                    "postgres.consistent_point": "\(slot.consistentPoint)", "runnel.shard": "\(shard?.description ?? "all")",
                ])
            for table in tables {
                if let startTable = start?.table, table < startTable { continue }
                let description = try await describe(table, on: conn)
                var after = start?.table == table ? start?.after : nil
                while true {
                    let result = try await conn.simpleQuery(pageSQL(table, description, after: after))
                    guard !result.rows.isEmpty else { break }
                    let last = description.keyIndexes.map { result.rows[result.rows.count - 1][$0] ?? "" }
                    let page = Page(
                        table: table, columns: description.columns, key: description.key, rows: result.rows,
                        version: version,
                        position: Position(table: table, after: last))
                    guard await handoff.put(page) else { return }
                    if result.rows.count < pageSize { break }
                    after = last
                }
            }
            try await conn.simpleQuery("COMMIT")
            _ = await handoff.put(
                Page(table: "", columns: [], key: [], rows: [], version: version, position: Position(done: true)))
        }
    }

    struct TableDescription {
        var columns: [(name: String, type: UInt32)]
        var typeNames: [String]
        var key: [String]
        var keyIndexes: [Int]
    }

    /// The table's columns and types, and its primary key (a snapshot reads in key order).
    private func describe(_ table: String, on conn: ReplicationConnection) async throws -> TableDescription {
        let relation = "to_regclass(\(PostgresSQL.literal(Self.quotedName(table))))"
        let columns = try await conn.simpleQuery(
            """
            SELECT a.attname, a.atttypid::int8, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a
            WHERE a.attrelid = \(relation) AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum
            """)
        guard !columns.rows.isEmpty else {
            throw RunnelError(.config, "postgres_cdc --snapshot: table \(table) does not exist or has no columns")
        }
        let key = try await conn.simpleQuery(
            """
            SELECT a.attname FROM pg_index i CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, n)
            JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
            WHERE i.indrelid = \(relation) AND i.indisprimary ORDER BY k.n
            """)
        let names = columns.rows.map { $0[0] ?? "" }
        let keyNames = key.rows.compactMap { $0[0] }
        guard !keyNames.isEmpty else {
            throw RunnelError(
                .dataContract,
                "postgres_cdc --snapshot: table \(table) has no primary key; a snapshot reads in key order and the "
                    + "target is written by key (add a primary key)")
        }
        return TableDescription(
            columns: columns.rows.map { ($0[0] ?? "", UInt32($0[1] ?? "0") ?? 0) },
            typeNames: columns.rows.map { $0[2] ?? "text" },
            key: keyNames, keyIndexes: keyNames.compactMap { names.firstIndex(of: $0) })
    }

    /// One keyset page of the shard's share, after the key `after`.
    private func pageSQL(_ table: String, _ d: TableDescription, after: [String]?) -> String {
        let q = PostgresSQL.quote
        let keyList = d.key.map(q).joined(separator: ", ")
        var conditions: [String] = []
        if let after, after.count == d.key.count {
            let bounds = zip(d.keyIndexes, after).map { index, text in
                "CAST(\(PostgresSQL.literal(text)) AS \(d.typeNames[index]))"
            }
            conditions.append("(\(keyList)) > (\(bounds.joined(separator: ", ")))")
        }
        if let shard, shard.count > 1 {
            conditions.append("mod(hashtext(ROW(\(keyList))::text)::bigint + 2147483648, \(shard.count)) = \(shard.index)")
        }
        return "SELECT \(d.columns.map { q($0.name) }.joined(separator: ", ")) FROM \(Self.quotedName(table))"
            + (conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND "))
            + " ORDER BY \(keyList) LIMIT \(pageSize)"
    }

    /// `schema.table` quoted part by part (`public` when no schema is given).
    static func quotedName(_ table: String) -> String {
        let parts = table.split(separator: ".", maxSplits: 1).map(String.init)
        let qualified = parts.count == 2 ? parts : ["public"] + parts
        return qualified.map(PostgresSQL.quote).joined(separator: ".")
    }
}

/// A one-slot handoff between a producing task and a reader: `put` waits until the reader took
/// the previous item (so memory holds at most one page ahead), `take` waits for the next one.
final class Handoff<Item: Sendable>: Sendable {
    private struct State: ~Copyable {
        var item: Item?
        var finished = false
        var closed = false
        var failure: (any Error)?
        var taker: CheckedContinuation<Void, Never>?
        var putter: CheckedContinuation<Void, Never>?
    }

    private let state = Mutex(State())

    /// Hands `item` over; false when the reader closed (the producer should stop).
    func put(_ item: Item) async -> Bool {
        while true {
            let placed = state.withLock { s -> Bool? in
                if s.closed { return nil }
                guard s.item == nil else { return false }
                s.item = item
                s.taker.take()?.resume()
                return true
            }
            guard let placed else { return false }
            if placed { return true }
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                let now = state.withLock { s -> Bool in
                    if s.item == nil || s.closed { return true }
                    s.putter = c
                    return false
                }
                if now { c.resume() }
            }
        }
    }

    /// The next item; nil once the producer finished; throws what it failed with.
    func take() async throws -> Item? {
        while true {
            let result = state.withLock { s -> Result<Item?, any Error>? in
                if let item = s.item {
                    s.item = nil
                    s.putter.take()?.resume()
                    return .success(item)
                }
                if let failure = s.failure { return .failure(failure) }
                if s.finished || s.closed { return .success(nil) }
                return nil
            }
            if let result { return try result.get() }
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                let now = state.withLock { s -> Bool in
                    if s.item != nil || s.finished || s.closed || s.failure != nil { return true }
                    s.taker = c
                    return false
                }
                if now { c.resume() }
            }
        }
    }

    func finish(_ error: (any Error)?) {
        state.withLock { s in
            s.finished = true
            s.failure = error
            s.taker.take()?.resume()
        }
    }

    func close() {
        state.withLock { s in
            s.closed = true
            s.taker.take()?.resume()
            s.putter.take()?.resume()
        }
    }
}
