/// `load.table: "{table}"` (or `"{schema}_{table}"`, `"raw_{table}"`): each record goes to the
/// target table named from its source table (the `_table` field, `schema.table`), which a
/// per-table loader creates and writes like any keyed table.
///
/// - The key is `load.key`, or else each table's own (the `_key` field the change records carry:
///   the source's primary key or replica identity).
/// - A table's columns are the fields its records hold values in: records of several tables
///   share the batch's union schema, and a field that is null throughout a table's records is
///   another table's. A later field is `schema_drift`'s (by default added, with `postgres_cdc`).
///   Without `columns:` in the spec, a new table's columns are typed from their first values.
/// - A batch that holds several tables is written table by table, in the order they first
///   appear, and the checkpoint commits with the last one. A crash between two of them replays
///   the batch, which the version guard makes idempotent: the target ends the same.
public struct RoutingLoader: Loader {
    /// Makes the loader of one target table.
    public typealias Make = @Sendable (TableTarget) -> any Loader

    public let base: TableTarget
    /// The store's name for a portable type, to type the columns of a table it creates.
    let columnType: @Sendable (PortableType) -> String
    let make: Make
    let domain: TransactionDomain?
    let description: String
    /// The target tables' loaders, in the order they were made.
    private let loaders = Locked<[(table: String, loader: any Loader)]>([])

    public static let tableField = "_table"

    /// Whether `table` is a template that routes (holds `{table}` or `{schema}`).
    public static func routes(_ table: String) -> Bool { table.contains("{table}") || table.contains("{schema}") }

    public init(
        base: TableTarget, target: String, transactionDomain: TransactionDomain?,
        columnType: @escaping @Sendable (PortableType) -> String, make: @escaping Make
    ) {
        self.base = base
        self.description = target
        self.domain = transactionDomain
        self.columnType = columnType
        self.make = make
    }

    public var target: String { description }
    public var key: [String] { base.key }
    public var transactionDomain: TransactionDomain? { domain }

    /// The target table of a source table `schema.table`.
    public func targetTable(for source: String) -> String {
        let parts = source.split(separator: ".", maxSplits: 1).map(String.init)
        let (schema, table) = parts.count == 2 ? (parts[0], parts[1]) : ("public", parts[0])
        return base.table.replacing("{table}", with: table).replacing("{schema}", with: schema)
    }

    public func load(_ batch: Batch, commit: CheckpointCommit?) async throws -> LoadOutcome {
        let records = batch.records
        guard !records.isEmpty else { return try await loadPositionOnly(batch, commit: commit) }
        guard let tableField = batch.schema.index(of: Self.tableField) else {
            throw RunnelError.config(
                "load.table '\(base.table)' routes by the records' '\(Self.tableField)' field, which they do not have")
        }
        var groups: [(table: String, records: [Record])] = []
        var refused: [(ordinal: Int, error: RecordError)] = []
        for r in records {
            guard tableField < r.values.count, case .string(let source) = r.values[tableField] else {
                refused.append(
                    (r.ordinal, RecordError(code: "no_table", message: "the record names no source table", field: Self.tableField)))
                continue
            }
            let table = targetTable(for: source)
            if let i = groups.firstIndex(where: { $0.table == table }) {
                groups[i].records.append(r)
            } else {
                groups.append((table, [r]))
            }
        }
        for (n, group) in groups.enumerated() {
            var sub = batch
            sub.records = group.records
            let loader = try await loader(for: group.table, sub)
            let outcome = try await loader.load(sub, commit: n == groups.count - 1 ? commit : nil)
            refused += outcome.refused
        }
        if groups.isEmpty {
            var none = batch
            none.records = []
            _ = try await loadPositionOnly(none, commit: commit)
        }
        return LoadOutcome(refused: refused)
    }

    /// A batch with no record to write: any table's loader writes its position (they share the
    /// transaction domain). Before the first table (only when every record so far named none, and
    /// was refused) there is no loader: the position is not written, and the next run reads again
    /// from the last one stored, which the idempotent loads allow.
    private func loadPositionOnly(_ batch: Batch, commit: CheckpointCommit?) async throws -> LoadOutcome {
        guard let commit, let any = loaders.value.first?.loader else { return .stored }
        return try await any.load(batch, commit: commit)
    }

    /// The loader of `table`, made and prepared with the fields `batch`'s records hold values in.
    private func loader(for table: String, _ batch: Batch) async throws -> any Loader {
        if let made = loaders.value.first(where: { $0.table == table }) { return made.loader }
        var target = base
        target.table = table
        let records = batch.records
        let keyField = base.changes?.keyField ?? "_key"
        if target.key.isEmpty {
            if let p = batch.schema.index(of: keyField), let first = records.first, p < first.values.count,
                case .array(let names) = first.values[p]
            {
                target.key = names.compactMap { if case .string(let s) = $0 { s } else { nil } }
            }
            guard !target.key.isEmpty else {
                throw RunnelError.config(
                    "load: table \(table) has no key: give load.key, or read from a source whose records carry '\(keyField)' (postgres_cdc; a table without a primary key needs REPLICA IDENTITY FULL or load.key)")
            }
        }
        let control = base.changes?.controlFields ?? []
        let present = batch.schema.fields.enumerated().filter { i, name in
            !control.contains(name)
                && (target.key.contains(name) || name == target.version
                    || records.contains { i < $0.values.count && $0.values[i] != .null })
        }
        if target.columns == nil {
            target.columns = present.map { i, name in
                TableTarget.Column(name: name, type: columnType(TableTarget.portableType(of: i, in: records)))
            }
        }
        let loader = make(target)
        try await loader.prepare(schema: Schema(present.map(\.element)))
        loaders.withLock { $0.append((table, loader)) }
        return loader
    }

    public func finish() async throws {
        for made in loaders.value { try await made.loader.finish() }
    }
}
