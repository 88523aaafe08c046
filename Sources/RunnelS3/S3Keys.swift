import RunnelConfig
import RunnelFiles

/// The declared keys of the S3 components (see `registerS3`).
enum S3Keys {
    /// The bucket, endpoint and credentials every S3 section takes.
    static let client: [ConfigKey] = [
        .string("bucket", required: true, "The bucket."),
        .string("region", default: "AWS_REGION, else us-east-1", "The bucket's region."),
        .string(
            "endpoint", default: "AWS S3",
            "http:// or https:// address of an S3-compatible store (MinIO), without a path."),
        .bool(
            "path_style", default: "true with an endpoint", "Address the bucket in the path rather than the host name."),
        .string("access_key_id", default: "the environment", "Access key (with secret_access_key), as ${VARIABLE}."),
        .string("secret_access_key", "Secret key, as ${VARIABLE}."),
        .string("session_token", "Session token of temporary credentials."),
        .string("role_arn", "Role assumed with a web identity token (with web_identity_token_file)."),
        .string("web_identity_token_file", "The web identity token file (IRSA)."),
        .string("sts_endpoint", default: "AWS_ENDPOINT_URL_STS", "The STS address for the web identity exchange."),
    ]

    static let extractor = ComponentKeys(
        "Reads CSV or JSON Lines objects under a prefix, streamed in chunks.",
        client + [
            .choice(
                "format", ["csv", "jsonl", "parquet"], required: true,
                "The objects' format (gzip is recognised; parquet is read by ranged GETs of the footer and each column chunk)."),
            .string("prefix", default: "the whole bucket", "The key prefix of the objects read."),
            .string("glob", "A glob of keys instead of a prefix."),
            .string(
                "cursor",
                "Field whose highest value is the checkpoint (csv, jsonl); format parquet: the column --from/--to apply to, row groups outside the window skipped by their statistics."),
            .choice(
                "window", ["key", "last_modified", "cursor"], default: "cursor when given, else key",
                "What a backfill window (--from/--to) compares."),
            .bytes("chunk_size", default: "8MiB", "Bytes fetched per request, 64KiB to 64MiB."),
        ]
            + ComponentRegistry.csvKeys.map { key in
                var key = key
                key.doc = "format csv: " + key.doc
                return key
            })
    /// `compression`, `row_group_size` and `schema_drift` are read from this section by the Parquet encoder
    /// (format parquet), which another module brings: declared here so they are valid either way.
    static let loader = ComponentKeys(
        "Writes each batch as a part object under a prefix (multipart upload).",
        client + [
            .choice("format", PartFileLoader.Format.allCases.map(\.rawValue), required: true, "The parts' format."),
            .string("prefix", default: "empty", "The key prefix of the parts."),
            .bool("gzip", default: "false", "Compress parts with gzip (csv, jsonl)."),
            .string("name_prefix", default: "part", "The start of each part's name."),
            .bytes("part_size", default: "8MiB", "Size of the upload's parts, at least 5MiB."),
            .duration("abandoned_upload_age", default: "15m", "Uploads left unfinished this long are aborted."),
            .choice(
                "compression", ["zstd", "snappy", "gzip", "none"], default: "zstd",
                "format parquet: compression of the column chunks."),
            .int("row_group_size", default: "122880", "format parquet: most rows in one row group."),
            .choice(
                "schema_drift", ["freeze", "evolve", "dead_letter"], default: "freeze",
                "format parquet: a batch that does not fit the parts' schema (the newest part's, else the first batch's): fail, widen the schema, or dead-letter the records that do not fit."),
        ])
    static let deadLetters = ComponentKeys(
        "Writes rejected records as JSON Lines objects under a prefix.",
        client + [.string("prefix", default: "dead-letters/", "The key prefix.")])
}
