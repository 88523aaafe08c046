import RunnelCore
import RunnelFiles
import RunnelSQLite

extension ComponentRegistry {
    /// Every connector and transformer built into this binary.
    public static var standard: ComponentRegistry {
        var r = ComponentRegistry()
        r.registerFileComponents()
        r.registerSQLiteComponents()
        r.registerStandardTransformers()
        r.registerMemoryComponents()
        #if Postgres
            r.registerPostgresComponents()
        #else
            for t in ["postgres"] { r.unavailable[t] = "Postgres" }
        #endif
        #if Redis
            r.registerRedisComponents()
        #else
            for t in ["redis_stream", "redis"] { r.unavailable[t] = "Redis" }
        #endif
        return r
    }

    mutating func registerFileComponents() {
        registerExtractor("csv") { ctx in
            let s = ctx.section
            guard let path = s.path("path", required: true) else { return nil }
            var c = CSVExtractor.Configuration(path: path)
            if let d = s.node("delimiter") {
                if let text = d.string {
                    let bytes = Array((text == "\\t" ? "\t" : text).utf8)
                    if bytes.count == 1 { c.dialect.delimiter = bytes[0] } else { d.problem("delimiter must be one character, found '\(text)'") }
                }
            }
            if let q = s.node("quote"), let text = q.string {
                let bytes = Array(text.utf8)
                if bytes.count == 1 { c.dialect.quote = bytes[0] } else { q.problem("quote must be one character, found '\(text)'") }
            }
            c.header = s.bool("header") ?? true
            c.columns = s.strings("columns")
            c.emptyAsNull = s.bool("empty_as_null") ?? true
            c.cursor = s.string("cursor")
            if !c.header && c.columns == nil { s.node.problem("'header: false' needs 'columns' to name the fields") }
            return CSVExtractor(c)
        }
        registerExtractor("jsonl") { ctx in
            guard let path = ctx.section.path("path", required: true) else { return nil }
            var c = JSONLinesExtractor.Configuration(path: path)
            c.cursor = ctx.section.string("cursor")
            return JSONLinesExtractor(c)
        }
        for format in PartFileLoader.Format.allCases {
            registerLoader(format.rawValue) { ctx in
                guard let dir = ctx.section.path("path", required: true) else { return nil }
                var c = PartFileLoader.Configuration(directory: dir, format: format)
                if let p = ctx.section.string("prefix") { c.prefix = p }
                return PartFileLoader(c)
            }
        }
        registerDeadLetterQueue("jsonl") { ctx in
            guard let dir = ctx.section.path("path", required: true) else { return nil }
            return FileDeadLetterQueue(directory: dir)
        }
        registerCheckpointStore("file") { ctx in
            guard let path = ctx.section.path("path", required: true) else { return nil }
            return FileCheckpointStore(directory: path)
        }
    }

    mutating func registerSQLiteComponents() {
        registerLoader("sqlite") { ctx in
            let s = ctx.section
            let path = s.path("path", required: true)
            if let path { ctx.resources.set("sqlite.load.path", path) }
            let table = s.string("table", required: true)
            let key = s.strings("key", required: true)
            let version = s.string("version")
            var columns: [SQLiteLoader.Column]?
            if let node = s.node("columns"), let entries = node.entries {
                columns = entries.compactMap { name, typeNode in
                    guard let t = typeNode.string else { return nil }
                    let allowed = ["integer", "real", "text", "blob", "numeric", "int", "double", "string", "timestamp", "bool", ""]
                    guard allowed.contains(t.lowercased()) else {
                        typeNode.problem("'\(t)' is not a column type; use one of integer, real, text, blob, numeric")
                        return nil
                    }
                    let sqlType = ["int": "INTEGER", "double": "REAL", "string": "TEXT", "timestamp": "TEXT", "bool": "INTEGER"][t.lowercased()] ?? t.uppercased()
                    return SQLiteLoader.Column(name: name, type: sqlType)
                }
            }
            let synchronous = s.choice("synchronous", ["FULL", "NORMAL", "OFF"])
            guard let path, let table, let key, !key.isEmpty else { return nil }
            var dbc = SQLiteDatabase.Configuration(path: path)
            if let synchronous { dbc.synchronous = synchronous }
            let db = ctx.resources.sqlite.database(dbc)
            var c = SQLiteLoader.Configuration(table: table, key: key)
            c.version = version
            c.columns = columns
            return SQLiteLoader(c, database: db)
        }
        registerCheckpointStore("sqlite") { ctx in
            guard let path = sqlitePath(ctx) else { return nil }
            return SQLiteCheckpointStore(database: ctx.resources.sqlite.database(.init(path: path)))
        }
        registerDeadLetterQueue("sqlite") { ctx in
            guard let path = sqlitePath(ctx) else { return nil }
            let table = ctx.section.string("table") ?? "runnel_dead_letters"
            return SQLiteDeadLetterQueue(database: ctx.resources.sqlite.database(.init(path: path)), table: table)
        }
    }

    mutating func registerMemoryComponents() {
        registerCheckpointStore("memory") { _ in MemoryCheckpointStore() }
        registerDeadLetterQueue("memory") { _ in MemoryDeadLetterQueue() }
    }
}

/// The SQLite file of a checkpoint store or dead letter table: its own `path`, or else the
/// SQLite loader's (one file, one transaction: exactly-once).
private func sqlitePath(_ ctx: ComponentContext) -> String? {
    if let p = ctx.section.path("path") { return p }
    if let p: String = ctx.resources.get("sqlite.load.path") { return p }
    ctx.section.node.problem("missing required key 'path' (it may be left out only when the loader is sqlite)")
    return nil
}
