import RunnelConfig

/// The declared keys of the PostgreSQL components (see `registerPostgres`).
enum PostgresKeys {
    /// The connection settings: inline in the section or under `connection:`.
    static let connectionSettings: [ConfigKey] = [
        .string("host", default: "127.0.0.1", "The server's host name or address."),
        .int("port", default: "5432", "The server's port."),
        .string("database", "The database (required, here or under connection)."),
        .string("user", "The user (required, here or under connection)."),
        .string("password", "The password; give it as ${VARIABLE} from a Secret."),
        .choice("tls", ["disable", "prefer", "require"], default: "prefer", "Whether the connection uses TLS."),
        .duration("connect_timeout", default: "10s", "How long a connection attempt may take."),
        .int("max_connections", default: "4", "Most connections of the pool."),
    ]
    static let connection: [ConfigKey] =
        [.object("connection", connectionSettings, "The connection settings, grouped (instead of inline).")]
        + connectionSettings

    /// Connection keys of a section that may take the loader's (checkpoint, dead_letter).
    static let borrowedConnection: [ConfigKey] =
        [.object("connection", connectionSettings, "The connection settings; left out, the postgres loader's.")]
        + connectionSettings

    static let extractor = ComponentKeys(
        "Reads a table or query incrementally by a cursor column.",
        connection + [
            .string("schema", "The table's schema (with table)."),
            .string("table", "The table read (give table or query)."),
            .string("query", "A query read instead of a table."),
            .strings("columns", default: "every column", "The columns read."),
            .string(
                "cursor", required: true, "The column whose highest value is the checkpoint (an update time, an id)."),
            .strings("key", required: true, "The key columns: order within equal cursor values."),
            .string("lookback", "Re-read this far behind the cursor (a duration, or an amount of the cursor's type)."),
            .int("page_size", default: "batching.max_records", "Rows fetched per query."),
        ])
    static let loader = ComponentKeys(
        "Upserts into a table (COPY into staging, then a guarded merge).",
        connection + [.bool("create", default: "true", "Create the table when it is missing.")]
            + ComponentRegistry.tableTargetKeys(schemas: true))
    static let cdc = ComponentKeys(
        "Reads changes from a logical replication slot (pgoutput).",
        connection + [
            .string("publication", required: true, "The publication whose tables are read."),
            .string("slot", default: "runnel_<pipeline>", "The replication slot (created when missing)."),
            .strings("tables", default: "every table of the publication", "The tables read."),
            .duration("heartbeat", default: "10s", "How often the position is confirmed to the server when idle."),
            .int("max_lag_bytes", "Fail when the slot holds more WAL than this behind the server."),
        ])
    static let checkpoint = ComponentKeys(
        "Keeps positions in a table (in the load's transaction when the loader uses the same database).",
        borrowedConnection + [
            .string("schema", "The table's schema."),
            .string("table", default: "runnel_checkpoints", "The checkpoint table."),
        ])
    static let deadLetters = ComponentKeys(
        "Writes rejected records to a table.",
        borrowedConnection + [
            .string("schema", "The table's schema."),
            .string("table", default: "runnel_dead_letters", "The dead letter table."),
        ])
}
