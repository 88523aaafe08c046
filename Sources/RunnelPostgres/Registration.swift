import PostgresReplication
public import RunnelConfig
import RunnelCore

extension PostgresPool {
    /// One pool per server, database and credentials for the components of a pipeline.
    public static let resource = ResourceKey<PostgresPool>("postgres.pool")
}

/// Runs a pipeline's PostgreSQL pool beside the pipeline (the runtime's service group).
struct PostgresClientTask: BackgroundTask {
    let pool: PostgresPool
    func run() async throws { await pool.run() }
}

extension ComponentRegistry {
    /// `type: postgres` for extract, load, checkpoint and dead_letter.
    ///
    /// Connection keys go either inline in the section or under `connection:`:
    ///
    ///     connection:
    ///       host: ${PGHOST:-127.0.0.1}
    ///       port: 5432
    ///       database: shop
    ///       user: runnel
    ///       password: ${PGPASSWORD}
    ///       tls: prefer            # disable | prefer | require
    ///       connect_timeout: 10s
    ///       max_connections: 4
    ///
    /// A checkpoint or dead_letter section without connection keys uses the loader's database.
    /// Components naming the same server, database, user and password share one pool; when the
    /// loader and the checkpoint store share it, the checkpoint commits in the load's transaction.
    public mutating func registerPostgres() {
        registerExtractor("postgres", keys: PostgresKeys.extractor) { ctx in
            let s = ctx.section
            guard let pool = postgresPool(ctx, required: true) else { return nil }
            let schema = s.string("schema")
            let table = s.string("table")
            let query = s.string("query")
            let columns = s.strings("columns")
            let cursor = s.string("cursor", required: true)
            let key = s.strings("key", required: true)
            var lookback: PostgresExtractor.Lookback?
            if let n = s.node("lookback"), let text = n.string {
                if Double(text) != nil {
                    lookback = .amount(text)
                } else if let d = n.duration {
                    lookback = .duration(d)
                }
            }
            let pageSize = s.int("page_size", in: 1...Int.max)
            if (table == nil) == (query == nil) {
                s.node.problem("give exactly one of 'table' or 'query'")
                return nil
            }
            if query != nil, schema != nil { s.node("schema")?.problem("'schema' applies to 'table', not to 'query'") }
            guard let cursor, let key, !key.isEmpty else { return nil }
            var c: PostgresExtractor.Configuration
            if let table {
                c = .init(table: table, cursor: cursor, key: key)
                c.schema = schema
            } else {
                c = .init(query: query!, cursor: cursor, key: key)
            }
            c.columns = columns
            c.lookback = lookback
            c.pageSize = pageSize
            return PostgresExtractor(c, pool: pool)
        }

        registerLoader("postgres", keys: PostgresKeys.loader) { ctx in
            let s = ctx.section
            let pool = postgresPool(ctx, required: true)
            let create = s.bool("create")
            let target = ctx.tableTarget(schemas: true) { t in t.isEmpty ? nil : postgresType(t) }
            guard let pool, let target else { return nil }
            var c = PostgresLoader.Configuration(target)
            if let create { c.create = create }
            // The checkpoint table this loader writes in its transaction: the checkpoint
            // section's, when that store is postgres (equal domains then say so).
            if let checkpoint = ctx.peer("checkpoint"), checkpoint.type == "postgres" {
                c.checkpointSchema = checkpoint.section.string("schema")
                c.checkpointTable = checkpoint.section.string("table") ?? PostgresCheckpointStore.defaultTable
            }
            if RoutingLoader.routes(target.table) {
                let base = c
                return RoutingLoader(
                    base: target, target: "\(pool.settings) tables \(target.table)",
                    transactionDomain: PostgresLoader(c, pool: pool).transactionDomain, columnType: PostgresLoader.columnType
                ) { routed in
                    var c = base
                    c.target = routed
                    return PostgresLoader(c, pool: pool)
                }
            }
            return PostgresLoader(c, pool: pool)
        }

        // `type: postgres_cdc`: changes from a logical replication slot (see CDC/).
        registerExtractor("postgres_cdc", keys: PostgresKeys.cdc) { ctx in
            let s = ctx.section
            let settings = connectionSettings(s, role: ctx.role)
            let publication = s.string("publication", required: true)
            let slot = s.string("slot") ?? cdcSlotName(ctx.pipeline)
            let tables = s.strings("tables") ?? []
            let heartbeat = s.duration("heartbeat")
            let maxLag = s.int("max_lag_bytes", in: 1...Int.max)
            guard let settings, let publication else { return nil }
            var connection = ReplicationConfiguration(
                host: settings.host, port: settings.port, user: settings.user, password: settings.password,
                database: settings.database, connectTimeout: settings.connectTimeout)
            connection.tls = switch settings.tls {
            case .disable: .disable
            case .prefer: .prefer
            case .require: .require
            }
            var c = PostgresCDCExtractor.Configuration(connection: connection, publication: publication, slot: slot)
            c.tables = tables
            if let heartbeat { c.heartbeat = heartbeat }
            c.maxLagBytes = maxLag.map(Int64.init)
            return PostgresCDCExtractor(c)
        }

        registerCheckpointStore("postgres", keys: PostgresKeys.checkpoint) { ctx in
            guard let pool = postgresPool(ctx, required: false) else { return nil }
            return PostgresCheckpointStore(
                pool: pool, schema: ctx.section.string("schema"), table: ctx.section.string("table") ?? PostgresCheckpointStore.defaultTable)
        }

        registerDeadLetterQueue("postgres", keys: PostgresKeys.deadLetters) { ctx in
            guard let pool = postgresPool(ctx, required: false) else { return nil }
            return PostgresDeadLetterQueue(
                pool: pool, schema: ctx.section.string("schema"), table: ctx.section.string("table") ?? "runnel_dead_letters")
        }
    }
}

/// The runnel type names (`int`, `double`, `string`, `timestamp`, `bool`, `json`) as PostgreSQL
/// types; anything else is taken as a PostgreSQL type and checked by the server at prepare.
private func postgresType(_ t: String) -> String {
    switch PortableType(name: t) {
    case .int?: "bigint"
    case .double?: "double precision"
    case .string?: "text"
    case .timestamp?: "timestamptz"
    case .bool?: "boolean"
    case .json?: "jsonb"
    case nil: t
    }
}

/// A slot name from the pipeline's name: lower-case letters, digits and underscores.
func cdcSlotName(_ pipeline: String) -> String {
    let mapped = pipeline.lowercased().unicodeScalars.map { c -> Character in
        (c >= "a" && c <= "z") || (c >= "0" && c <= "9") ? Character(c) : "_"
    }
    let name = "runnel_" + String(mapped)
    return String(name.prefix(63))
}

private let connectionKeys = ["host", "port", "database", "user", "password", "tls", "connect_timeout", "max_connections"]

/// The pool for a section's connection settings (inline or under `connection:`); without any
/// and when `required` is false, the postgres loader's pool (read from its section, so the
/// order sections are built in does not matter).
private func postgresPool(_ ctx: ComponentContext, required: Bool) -> PostgresPool? {
    let s = ctx.section
    let settings: PostgresSettings?
    if required || s.has("connection") || connectionKeys.contains(where: { s.has($0) }) {
        settings = connectionSettings(s, role: ctx.role)
    } else if let load = ctx.peer("load") {
        guard load.type == "postgres" else {
            if let type = load.type {
                s.node.problem(
                    "missing connection settings ('connection:' or host/database/user); they may be left out only when the loader is postgres (it is \(type))")
            }
            return nil
        }
        // Nil when the loader's settings are broken: reported there, not again here.
        settings = connectionSettings(load.section, role: "load")
    } else {
        return nil  // no load section: reported at the top of the spec
    }
    guard let settings else { return nil }
    let id = [
        settings.host, "\(settings.port)", settings.database, settings.user, settings.password ?? "", settings.tls.rawValue,
        "\(settings.connectTimeout)", "\(settings.maxConnections)",
    ].joined(separator: "\u{0}")
    return ctx.resources.resource(PostgresPool.resource, id: id) {
        let pool = PostgresPool(settings: settings)
        ctx.resources.addBackgroundTask(PostgresClientTask(pool: pool))
        return pool
    }
}

/// The connection settings of a section: under `connection:`, or inline.
private func connectionSettings(_ s: SpecSection, role: String) -> PostgresSettings? {
    guard let node = s.node("connection") else { return readSettings(s) }
    guard let sub = SpecSection(node) else { return nil }
    let settings = readSettings(sub)
    sub.finish("\(role).connection")
    for k in connectionKeys where s.has(k) {
        s.node(k)?.problem("'\(k)' is given both here and under 'connection'; keep one")
    }
    return settings
}

private func readSettings(_ s: SpecSection) -> PostgresSettings? {
    let host = s.string("host") ?? "127.0.0.1"
    let port = s.int("port", in: 1...65535) ?? 5432
    let database = s.string("database", required: true)
    let user = s.string("user", required: true)
    let password = s.string("password")
    let tls = s.choice("tls", PostgresSettings.TLSMode.allCases.map(\.rawValue)).flatMap(PostgresSettings.TLSMode.init(rawValue:))
    let timeout = s.duration("connect_timeout")
    let maxConnections = s.int("max_connections", in: 1...Int.max)
    guard let database, let user else { return nil }
    var settings = PostgresSettings(host: host, port: port, database: database, user: user, password: password)
    if let tls { settings.tls = tls }
    if let timeout { settings.connectTimeout = timeout }
    if let maxConnections { settings.maxConnections = maxConnections }
    return settings
}
