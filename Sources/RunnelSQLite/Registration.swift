public import RunnelConfig
import RunnelCore

extension SQLiteDatabase {
    /// One database per file for the components of a pipeline, so that a loader, its checkpoint
    /// store and its dead letter table write in one transaction.
    public static let resource = ResourceKey<SQLiteDatabase>("sqlite.database")
}

extension ComponentRegistry {
    /// `type: sqlite` for load, checkpoint and dead_letter.
    ///
    /// A checkpoint or dead_letter section without `path` uses the sqlite loader's file (one
    /// file, one transaction: the checkpoint commits with the data).
    public mutating func registerSQLite() {
        registerLoader("sqlite", keys: SQLiteKeys.loader) { ctx in
            let s = ctx.section
            let path = s.path("path", required: true)
            let target = ctx.tableTarget(columnType: sqliteType)
            let synchronous = s.choice("synchronous", ["FULL", "NORMAL", "OFF"])
            guard let path, let target else { return nil }
            let db = database(ctx, path: path)
            if let synchronous { db.configure { $0.synchronous = synchronous } }
            if RoutingLoader.routes(target.table) {
                return RoutingLoader(
                    base: target, target: "sqlite \(path) tables \(target.table)",
                    transactionDomain: SQLiteCheckpointStore.domain(db), columnType: SQLiteLoader.affinity
                ) { SQLiteLoader($0, database: db) }
            }
            return SQLiteLoader(target, database: db)
        }
        registerCheckpointStore("sqlite", keys: SQLiteKeys.checkpoint) { ctx in
            guard let path = sqlitePath(ctx) else { return nil }
            return SQLiteCheckpointStore(database: database(ctx, path: path))
        }
        registerDeadLetterQueue("sqlite", keys: SQLiteKeys.deadLetters) { ctx in
            guard let path = sqlitePath(ctx) else { return nil }
            let table = ctx.section.string("table") ?? "runnel_dead_letters"
            return SQLiteDeadLetterQueue(database: database(ctx, path: path), table: table)
        }
    }
}

private func database(_ ctx: ComponentContext, path: String) -> SQLiteDatabase {
    ctx.resources.resource(SQLiteDatabase.resource, id: path) {
        var configuration = SQLiteDatabase.Configuration(path: path)
        configuration.cacheBytes = ctx.resources.memory.cacheBytes
        return SQLiteDatabase(configuration)
    }
}

/// A column type as SQLite names it: the portable names (`int`, `timestamp`, …) or an SQLite
/// affinity (`integer`, `real`, `text`, `blob`, `numeric`); nil for anything else.
private func sqliteType(_ text: String) -> String? {
    switch text.lowercased() {
    case "": return ""
    case "integer", "real", "text", "blob", "numeric": return text.uppercased()
    default: break
    }
    return PortableType(name: text).map(SQLiteLoader.affinity)
}

/// The SQLite file of a checkpoint store or dead letter table: its own `path`, or else the
/// sqlite loader's. Says nothing when the loader's section is missing or its path is broken:
/// that section reports its own problem, and a second message here would be a false one.
private func sqlitePath(_ ctx: ComponentContext) -> String? {
    if let p = ctx.section.path("path") { return p }
    if ctx.section.has("path") { return nil }  // present but unreadable: already reported
    guard let load = ctx.peer("load") else { return nil }
    guard load.type == "sqlite" else {
        if let type = load.type {
            ctx.section.node.problem(
                "missing required key 'path' (it may be left out only when the loader is sqlite; the loader is \(type))")
        }
        return nil
    }
    return load.section.path("path")
}
