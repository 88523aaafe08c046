import PostgresNIO
public import RunnelCore

/// Reads a table or a query incrementally, in keyset pages ordered by (cursor, key):
///
///     SELECT … FROM <source> WHERE cursor IS NOT NULL
///       AND (cursor, key) > ($last_cursor, $last_key)       -- resume after the last row read
///       [AND cursor >= $from AND cursor < $to]              -- a backfill window, [from, to)
///       [AND mod(hashtext(key::text) + 2^31, N) = I]        -- shard I of N
///     ORDER BY cursor, key LIMIT n
///
/// Ordering by the key as well as the cursor makes the order total: rows sharing a cursor
/// value are neither skipped nor read twice, across pages and across runs. The position
/// (checkpoint) is the last row's cursor and key, as the server renders them as text, so it
/// round-trips exactly whatever their types.
///
/// - `lookback` re-reads, at the start of an incremental run, the rows whose cursor lies within
///   `lookback` of the checkpoint (late rows: a row committed with an older cursor value after
///   the last run read past it). Those pages keep the old checkpoint, so the position never moves
///   backwards; the loads are idempotent, so the rows read again change nothing that is current.
/// - Sharding hashes the key's text (`hashtext`, the server's own string hash): deterministic,
///   uniform for any key type, and N shards partition exactly what one unsharded read returns.
///   It needs a window: shards share no checkpoint.
/// - Rows whose cursor is NULL are never read (they have no place in the order).
public struct PostgresExtractor: Extractor {
    /// How far back a run re-reads before its checkpoint: a duration for time cursors, an
    /// amount for numeric ones.
    public struct Lookback: Sendable, Hashable {
        let text: String
        let sqlType: String
        public static func duration(_ d: Duration) -> Lookback {
            let c = d.components
            let micros = c.seconds * 1_000_000 + c.attoseconds / 1_000_000_000_000
            return Lookback(text: "\(micros) microseconds", sqlType: "interval")
        }
        public static func amount(_ n: String) -> Lookback { Lookback(text: n, sqlType: "numeric") }
    }

    public struct Configuration: Sendable {
        public var schema: String?
        /// A table (or view) to read; or else `query`.
        public var table: String?
        /// A query to read, wrapped as a subquery: `SELECT … FROM (<query>) AS runnel_src …`.
        public var query: String?
        /// The columns read (default: all).
        public var columns: [String]?
        /// The column that orders the input and that windows apply to (a time or a number).
        public var cursor: String
        /// The column(s) that, with the cursor, identify a row: the tie-breaker between equal cursors.
        public var key: [String]
        public var lookback: Lookback?
        /// Rows per page (one page is one batch). Default: the pipeline's `batching.max_records`.
        public var pageSize: Int?
        public init(table: String, cursor: String, key: [String]) {
            self.table = table
            self.cursor = cursor
            self.key = key
        }
        public init(query: String, cursor: String, key: [String]) {
            self.query = query
            self.cursor = cursor
            self.key = key
        }
    }

    public let configuration: Configuration
    public let pool: PostgresPool

    public init(_ configuration: Configuration, pool: PostgresPool) {
        self.configuration = configuration
        self.pool = pool
    }

    /// The origin's source: the table's name, or `query`.
    var sourceName: String {
        if let t = configuration.table { return (configuration.schema.map { "\($0)." } ?? "") + t }
        return "query"
    }

    var sourceSQL: String {
        if let t = configuration.table { return PostgresSQL.qualified(schema: configuration.schema, table: t) }
        return "(\(configuration.query ?? "SELECT 1 WHERE false"))"
    }

    public func open(_ request: ExtractRequest) async throws -> any BatchReader {
        let c = configuration
        if let shard = request.shard, shard.count > 1, request.window == nil {
            throw RunnelError.config(
                "extract (postgres): --shard \(shard) needs a window (--from/--to): shards of an incremental run would share one checkpoint")
        }
        let sourceSQL = self.sourceSQL
        let sourceName = self.sourceName
        let pool = self.pool
        // Column names and types, from the server's description of the source.
        let described: [(name: String, oid: UInt32)] = try await pool.withConnection("describe \(sourceName)") { conn in
            let rows = try await conn.query(
                PostgresQuery(unsafeSQL: "SELECT * FROM \(sourceSQL) AS runnel_src LIMIT 0"), logger: pool.logger)
            let cols = rows.columns.map { ($0.name, $0.dataType.rawValue) }
            for try await _ in rows {}
            return cols
        }
        let names = described.map(\.name)
        for (what, col) in [("cursor", c.cursor)] + c.key.map({ ("key", $0) }) + (c.columns ?? []).map({ ("columns", $0) })
        where !names.contains(col) {
            throw RunnelError.config(
                "extract.\(what): column '\(col)' is not among the columns of \(sourceName) (\(names.joined(separator: ", ")))")
        }
        let selected = c.columns ?? names
        let oid = Dictionary(described.map { ($0.name, $0.oid) }, uniquingKeysWith: { a, _ in a })
        // The SQL types of the cursor and key, to cast the text positions back in comparisons.
        let typed = [c.cursor] + c.key
        let typeList = typed.map { "format_type(\(oid[$0]!), NULL)" }.joined(separator: ", ")
        let types: [String] = try await pool.withConnection("describe \(sourceName)") { conn in
            let rows = try await pool.rows(PostgresQuery(unsafeSQL: "SELECT ARRAY[\(typeList)]::text[]"), on: conn)
            return try rows.first?.decode([String].self) ?? []
        }
        // A window bound that the cursor's type cannot read is a usage error, found before reading.
        if let w = request.window {
            for (flag, bound) in [("--from", w.from), ("--to", w.to)] {
                guard let bound else { continue }
                do {
                    _ = try await pool.withConnection("check \(flag)") { conn in
                        try await pool.rows(PostgresQuery(unsafeSQL: "SELECT $1::text::\(types[0])", binds: Self.binds([bound])), on: conn)
                    }
                } catch let e as RunnelError where e.code == .dataContract {
                    throw RunnelError.config("\(flag) '\(bound)' is not a valid \(types[0]) for cursor column '\(c.cursor)'")
                }
            }
        }
        var start: Position?
        if let checkpoint = request.checkpoint {
            start = try Position(checkpoint: checkpoint, cursorColumn: c.cursor, keyCount: c.key.count)
        }
        let plan = Plan(
            source: sourceSQL, sourceName: sourceName, selected: selected,
            native: selected.map { PostgresDecoding.native.contains(oid[$0]!) }, cursor: c.cursor, key: c.key,
            types: types, window: request.window, shard: request.shard, isTable: c.table != nil)
        let pageSize = max(1, c.pageSize ?? request.batching.maxRecords)
        return PostgresBatchReader(
            pool: pool, plan: plan, start: start, lookback: start == nil ? nil : c.lookback, pageSize: pageSize,
            limit: request.limit)
    }

    static func binds(_ texts: [String]) -> PostgresBindings {
        var b = PostgresBindings(capacity: texts.count)
        for t in texts { b.append(t) }
        return b
    }
}

/// A position in (cursor, key) order, as the server's text renderings of the values.
struct Position: Sendable, Hashable {
    var cursor: String
    var key: [String]

    init(cursor: String, key: [String]) {
        self.cursor = cursor
        self.key = key
    }

    /// `{"cursor_column":"updated_at","cursor":"2024-05-01 10:00:00+00","key":["42"]}`
    init(checkpoint: Checkpoint, cursorColumn: String, keyCount: Int) throws {
        guard case .object(let o)? = try? JSONText.parse(checkpoint.position),
            case .string(let cursor)? = o["cursor"], case .array(let keys)? = o["key"]
        else {
            throw RunnelError.dataContract(
                "the checkpoint '\(checkpoint.position)' is not a postgres extractor position; "
                    + "reset it with `runnel-batch checkpoint reset` if the source changed")
        }
        if case .string(let column)? = o["cursor_column"], column != cursorColumn {
            throw RunnelError.config(
                "the checkpoint was written for cursor column '\(column)' but the spec's cursor is '\(cursorColumn)'; "
                    + "reset the checkpoint (`runnel-batch checkpoint reset`) to read with the new cursor")
        }
        let key = keys.compactMap { v -> String? in if case .string(let s) = v { s } else { nil } }
        guard key.count == keyCount else {
            throw RunnelError.config(
                "the checkpoint holds \(key.count) key values but the spec's key has \(keyCount) columns; reset the checkpoint")
        }
        self.cursor = cursor
        self.key = key
    }

    func checkpoint(cursorColumn: String) -> Checkpoint {
        var o = Object()
        o.set("cursor_column", .string(cursorColumn))
        o.set("cursor", .string(cursor))
        o.set("key", .array(key.map(Value.string)))
        return Checkpoint(JSONText.encode(.object(o)))
    }
}

/// Everything fixed at `open`: the source, the columns and how each is selected.
struct Plan: Sendable {
    var source: String
    var sourceName: String
    var selected: [String]
    /// Per selected column: decoded from binary (true) or selected as `::text`.
    var native: [Bool]
    var cursor: String
    var key: [String]
    /// SQL types of the cursor, then each key column.
    var types: [String]
    var window: Window?
    var shard: Shard?
    /// The source is a table or view (else a query), for the index advice.
    var isTable: Bool

    var cursorType: String { types[0] }

    /// A page query. `after`: exclusive lower position; `through`: inclusive upper position;
    /// `lowerCursor`: an inclusive lower bound on the cursor, as SQL over the binds.
    func pageQuery(
        after: Position?, through: Position?, lookbackFrom: (cursor: String, lookback: PostgresExtractor.Lookback)?, limit: Int
    ) -> PostgresQuery {
        // Columns are qualified with the source alias: the select list's `::text` renderings keep
        // the column names, which would make bare names in ORDER BY ambiguous.
        let q = { (name: String) in "runnel_src." + PostgresSQL.quote(name) }
        var binds: [String] = []
        func bind(_ text: String, as type: String) -> String {
            binds.append(text)
            return "$\(binds.count)::text::\(type)"
        }
        let order = ([cursor] + key).map(q)
        let tuple = "(" + order.joined(separator: ", ") + ")"
        func row(_ p: Position) -> String {
            "(" + ([bind(p.cursor, as: types[0])] + zip(p.key, types.dropFirst()).map { bind($0, as: $1) }).joined(separator: ", ") + ")"
        }
        var conditions = ["\(q(cursor)) IS NOT NULL"]
        if let after { conditions.append("\(tuple) > \(row(after))") }
        if let through { conditions.append("\(tuple) <= \(row(through))") }
        if let lookbackFrom {
            let start = bind(lookbackFrom.cursor, as: cursorType)
            let amount = bind(lookbackFrom.lookback.text, as: lookbackFrom.lookback.sqlType)
            conditions.append("\(q(cursor)) >= (\(start) - \(amount))")
        }
        if let from = window?.from { conditions.append("\(q(cursor)) >= \(bind(from, as: cursorType))") }
        if let to = window?.to { conditions.append("\(q(cursor)) < \(bind(to, as: cursorType))") }
        if let shard, shard.count > 1 {
            let keyText = key.count == 1 ? "\(q(key[0]))::text" : "ROW(\(key.map(q).joined(separator: ", ")))::text"
            conditions.append("mod(hashtext(\(keyText))::bigint + 2147483648, \(shard.count)) = \(shard.index)")
        }
        let columns = zip(selected, native).map { name, native in
            native ? q(name) : "\(q(name))::text AS \(PostgresSQL.quote(name))"
        }
        let positionColumns = ([cursor] + key).enumerated().map { "\(q($1))::text AS runnel_position_\($0)" }
        let sql =
            "SELECT \((columns + positionColumns).joined(separator: ", ")) FROM \(source) AS runnel_src "
            + "WHERE \(conditions.joined(separator: " AND ")) ORDER BY \(order.joined(separator: ", ")) LIMIT \(limit)"
        return PostgresQuery(unsafeSQL: sql, binds: PostgresExtractor.binds(binds))
    }
}

/// Reads pages on demand; one page is one batch.
final class PostgresBatchReader: BatchReader {
    private let pool: PostgresPool
    private let plan: Plan
    private let pageSize: Int
    private var remaining: Int?
    /// Where the main read resumes (exclusive).
    private var position: Position?
    /// The checkpoint the run started from, kept while the lookback pages are read.
    private let startCheckpoint: Position?
    /// Lookback phase: the re-read's own paging position, and its lower bound.
    private var lookbackPhase: Bool
    private var lookbackPosition: Position?
    private let lookback: PostgresExtractor.Lookback?
    private var exhausted = false
    private let schema: Schema
    /// Whether the first page's plan was looked at (`PageOrderCheck`).
    private var orderChecked = false
    /// The next page of the main read, requested while the current one is processed.
    private var readAhead: Task<Page, any Error>?

    init(pool: PostgresPool, plan: Plan, start: Position?, lookback: PostgresExtractor.Lookback?, pageSize: Int, limit: Int?) {
        self.pool = pool
        self.plan = plan
        self.pageSize = pageSize
        self.remaining = limit
        self.position = start
        self.startCheckpoint = start
        self.lookback = lookback
        self.lookbackPhase = lookback != nil && start != nil
        self.schema = Schema(plan.selected)
    }

    func read() async throws -> ReadResult {
        while true {
            if exhausted { return .end }
            let n = min(pageSize, remaining ?? Int.max)
            if n <= 0 { return .end }
            let page: Page
            if lookbackPhase, let start = startCheckpoint, let lookback {
                page = try await Self.read(
                    plan.pageQuery(after: lookbackPosition, through: start, lookbackFrom: (start.cursor, lookback), limit: n),
                    plan: plan, pool: pool)
            } else if let ahead = readAhead {
                readAhead = nil
                page = try await ahead.value
            } else {
                let query = plan.pageQuery(after: position, through: nil, lookbackFrom: nil, limit: n)
                if !orderChecked {
                    orderChecked = true
                    await PageOrderCheck.warnIfUnindexed(query, plan: plan, pool: pool, logger: pool.logger)
                }
                page = try await Self.read(query, plan: plan, pool: pool)
            }
            if let r = remaining { remaining = r - page.rows.count }
            if lookbackPhase {
                // Re-read pages keep the run's starting checkpoint: the position never moves back.
                if page.rows.count < n { lookbackPhase = false }
                lookbackPosition = page.last ?? lookbackPosition
                if page.rows.isEmpty { continue }
                return batch(page, checkpoint: startCheckpoint)
            }
            if page.rows.count < n { exhausted = true }
            if page.rows.isEmpty { return .end }
            position = page.last
            if !exhausted { startReadAhead() }
            return batch(page, checkpoint: page.last)
        }
    }

    /// Starts reading the page after `position` while the caller transforms and loads this one,
    /// so the server's scan and the network overlap the pipeline's work instead of waiting for
    /// it. Only `read()` moves `position`, so the page read ahead is exactly the one it would ask
    /// for; a run that stops early discards it (nothing read ahead is ever checkpointed).
    private func startReadAhead() {
        let n = min(pageSize, remaining ?? Int.max)
        guard n > 0, let position else { return }
        readAhead = Self.readTask(plan.pageQuery(after: position, through: nil, lookbackFrom: nil, limit: n), plan: plan, pool: pool)
    }

    private static func readTask(_ query: sending PostgresQuery, plan: Plan, pool: PostgresPool) -> Task<Page, any Error> {
        Task { try await read(query, plan: plan, pool: pool) }
    }

    func close() async {
        readAhead?.cancel()
        _ = try? await readAhead?.value
        readAhead = nil
    }

    deinit { readAhead?.cancel() }

    private struct Page: Sendable {
        var rows: [[Value]] = []
        var ids: [String] = []
        var last: Position?
        var bytes = 0
    }

    private static func read(_ query: PostgresQuery, plan: Plan, pool: PostgresPool) async throws -> Page {
        let width = plan.selected.count
        let keyCount = plan.key.count
        let logger = pool.logger
        return try await pool.withConnection("read \(plan.sourceName)") { conn in
            var page = Page()
            var cursorText = ""
            var keyTexts: [String] = []
            for try await row in try await conn.query(query, logger: logger) {
                var values: [Value] = []
                values.reserveCapacity(width)
                keyTexts.removeAll(keepingCapacity: true)
                var i = 0
                for cell in row {
                    page.bytes += cell.bytes?.readableBytes ?? 0
                    if i < width {
                        values.append(PostgresDecoding.value(cell))
                    } else if i == width {
                        cursorText = PostgresDecoding.text(cell) ?? ""
                    } else {
                        keyTexts.append(PostgresDecoding.text(cell) ?? "")
                    }
                    i += 1
                }
                page.rows.append(values)
                page.ids.append(keyCount == 1 ? keyTexts[0] : keyTexts.joined(separator: ","))
            }
            if !page.rows.isEmpty { page.last = Position(cursor: cursorText, key: keyTexts) }
            return page
        }
    }

    private func batch(_ page: Page, checkpoint: Position?) -> ReadResult {
        let origins = page.ids.map { Origin(source: plan.sourceName, id: $0) }
        return .batch(
            Batch(schema: schema, rows: page.rows, origins: origins, byteCount: page.bytes),
            checkpoint: checkpoint.map { $0.checkpoint(cursorColumn: plan.cursor) })
    }
}
