import RunnelConfig

/// The declared keys of the Redis Streams components (see `registerRedis`).
enum RedisKeys {
    static let url = ConfigKey.string(
        "url", default: "redis://127.0.0.1:6379", "redis:// or rediss:// address (user and password may be in it).")

    static let extractor = ComponentKeys(
        "Reads a Redis stream through a consumer group; entries are acknowledged after they are stored.",
        [
            url,
            .string("stream", required: true, "The stream read."),
            .string("group", default: "the pipeline name", "The consumer group."),
            .string("consumer", default: "HOSTNAME", "This worker's consumer name, unique in the group."),
            .string(
                "start_id", default: "0", "Where a new group starts: 0 (whole stream), $ (new entries only) or an id."),
            .choice(
                "format", ["json", "fields"], default: "json",
                "json: one field holds a JSON object; fields: each entry field a string."),
            .string("field", default: "payload", "The field holding the JSON (format json)."),
            .string("id_field", "Adds the entry id to each record under this name."),
            .duration("min_idle", default: "30s", "Claim entries other consumers left pending this long."),
            .duration("claim_interval", default: "5s", "How often to look for entries to claim."),
            .int("max_deliveries", default: "5", "More deliveries than this: dead letter, acknowledged."),
        ])
    static let loader = ComponentKeys(
        "Appends records to a Redis stream as JSON, skipping ones already written.",
        [
            url,
            .string("stream", required: true, "The stream written."),
            .string("field", default: "payload", "The entry field holding the JSON."),
            .int("max_length", "Trim the stream to about this many entries."),
            .duration("dedupe_window", default: "24h", "How long a record's key is remembered to skip duplicates."),
        ])
    static let deadLetters = ComponentKeys(
        "Appends rejected records to a Redis stream.",
        [url, .string("stream", required: true, "The dead letter stream.")])
}
