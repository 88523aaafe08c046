import RunnelConfig

/// The declared keys of the SQLite components (see `registerSQLite`).
enum SQLiteKeys {
    static let loader = ComponentKeys(
        "Upserts into a table of an SQLite file.",
        [.string("path", required: true, "The database file (created when missing).")]
            + ComponentRegistry.tableTargetKeys(schemas: false)
            + [
                .choice(
                    "synchronous", ["FULL", "NORMAL", "OFF"], default: "SQLite's",
                    "SQLite's synchronous setting for this file.")
            ])
    static let path = ConfigKey.string(
        "path", default: "the sqlite loader's",
        "The database file; left out, the loader's (one transaction with the load).")
    static let checkpoint = ComponentKeys("Keeps positions in a table of an SQLite file.", [path])
    static let deadLetters = ComponentKeys(
        "Writes rejected records to a table of an SQLite file.",
        [path, .string("table", default: "runnel_dead_letters", "The dead letter table.")])
}
