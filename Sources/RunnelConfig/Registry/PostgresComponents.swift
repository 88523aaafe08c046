#if Postgres
    import RunnelCore
    import RunnelPostgres

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
        mutating func registerPostgresComponents() {
            registerExtractor("postgres") { ctx in
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
                var pageSize: Int?
                if let n = s.node("page_size"), let v = n.int {
                    if v > 0 { pageSize = v } else { n.problem("must be at least 1") }
                }
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

            registerLoader("postgres") { ctx in
                let s = ctx.section
                let pool = postgresPool(ctx, required: true)
                let schema = s.string("schema")
                let table = s.string("table", required: true)
                let key = s.strings("key", required: true)
                let version = s.string("version")
                let create = s.bool("create")
                var columns: [PostgresLoader.Column]?
                if let node = s.node("columns"), let entries = node.entries {
                    columns = entries.compactMap { name, typeNode in
                        guard let t = typeNode.string?.trimmingWhitespace(), !t.isEmpty else {
                            typeNode.problem("give the column's PostgreSQL type (bigint, text, timestamptz, numeric(12,2), …)")
                            return nil
                        }
                        return PostgresLoader.Column(name: name, type: postgresType(t))
                    }
                }
                guard let pool, let table, let key, !key.isEmpty else { return nil }
                ctx.resources.set("postgres.load.pool", pool)
                var c = PostgresLoader.Configuration(table: table, key: key)
                c.schema = schema
                c.version = version
                c.columns = columns
                if let create { c.create = create }
                return PostgresLoader(c, pool: pool)
            }

            registerCheckpointStore("postgres") { ctx in
                guard let pool = postgresPool(ctx, required: false) else { return nil }
                return PostgresCheckpointStore(
                    pool: pool, schema: ctx.section.string("schema"), table: ctx.section.string("table") ?? "runnel_checkpoints")
            }

            registerDeadLetterQueue("postgres") { ctx in
                guard let pool = postgresPool(ctx, required: false) else { return nil }
                return PostgresDeadLetterQueue(
                    pool: pool, schema: ctx.section.string("schema"), table: ctx.section.string("table") ?? "runnel_dead_letters")
            }
        }
    }

    /// The runnel type names (`int`, `double`, `string`, `timestamp`, `bool`, `json`) as PostgreSQL
    /// types; anything else is taken as a PostgreSQL type and checked by the server at prepare.
    private func postgresType(_ t: String) -> String {
        switch t.lowercased() {
        case "int", "integer", "long": "bigint"
        case "double", "float", "number": "double precision"
        case "string": "text"
        case "timestamp", "datetime": "timestamptz"
        case "bool": "boolean"
        case "json", "object", "array": "jsonb"
        default: t
        }
    }

    private let connectionKeys = ["host", "port", "database", "user", "password", "tls", "connect_timeout", "max_connections"]

    /// The pool for a section's connection settings (inline or under `connection:`); without any,
    /// the loader's pool when `required` is false.
    private func postgresPool(_ ctx: ComponentContext, required: Bool) -> PostgresPool? {
        let s = ctx.section
        let settings: PostgresSettings?
        if let node = s.node("connection") {
            guard let sub = SpecSection(node) else { return nil }
            settings = readSettings(sub)
            sub.finish("\(ctx.role).connection")
            for k in connectionKeys where s.has(k) {
                s.node(k)?.problem("'\(k)' is given both here and under 'connection'; keep one")
            }
        } else if required || connectionKeys.contains(where: { s.has($0) }) {
            settings = readSettings(s)
        } else if let pool: PostgresPool = ctx.resources.get("postgres.load.pool") {
            return pool
        } else {
            s.node.problem("missing connection settings ('connection:' or host/database/user); they may be left out only when the loader is postgres")
            return nil
        }
        guard let settings else { return nil }
        let id = [
            settings.host, "\(settings.port)", settings.database, settings.user, settings.password ?? "", settings.tls.rawValue,
            "\(settings.connectTimeout)", "\(settings.maxConnections)",
        ].joined(separator: "\u{0}")
        // The type is spelled out: inferred from the optional return type, `resource` would look up
        // a `PostgresPool?` and take a missing entry for a stored nil.
        let pool: PostgresPool = ctx.resources.resource("postgres.pool\u{0}" + id) {
            let pool = PostgresPool(settings: settings)
            ctx.resources.addBackgroundTask(PostgresClientTask(pool: pool))
            return pool
        }
        return pool
    }

    private func readSettings(_ s: SpecSection) -> PostgresSettings? {
        let host = s.string("host") ?? "127.0.0.1"
        var port = 5432
        if let n = s.node("port"), let p = n.int {
            if (1...65535).contains(p) { port = p } else { n.problem("must be a TCP port, 1 to 65535") }
        }
        let database = s.string("database", required: true)
        let user = s.string("user", required: true)
        let password = s.string("password")
        let tls = s.choice("tls", PostgresSettings.TLSMode.allCases.map(\.rawValue)).flatMap(PostgresSettings.TLSMode.init(rawValue:))
        let timeout = s.duration("connect_timeout")
        var maxConnections: Int?
        if let n = s.node("max_connections"), let v = n.int {
            if v >= 1 { maxConnections = v } else { n.problem("must be at least 1") }
        }
        guard let database, let user else { return nil }
        var settings = PostgresSettings(host: host, port: port, database: database, user: user, password: password)
        if let tls { settings.tls = tls }
        if let timeout { settings.connectTimeout = timeout }
        if let maxConnections { settings.maxConnections = maxConnections }
        return settings
    }
#endif
