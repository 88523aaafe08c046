public import RunnelConfig

/// The declared keys of the Parquet components (see `registerParquet`).
public enum ParquetKeys {
    /// The part options, also declared by the S3 loader (its `format: parquet`).
    public static let partOptions: [ConfigKey] = [
        .choice(
            "compression", ["zstd", "snappy", "gzip", "none"], default: "zstd", "Compression of the column chunks."),
        .int("row_group_size", default: "122880", "Most rows in one row group."),
        .choice(
            "schema_drift", ["freeze", "evolve", "dead_letter"], default: "freeze",
            "A batch that does not fit the parts' schema (the newest part's, else the first batch's): fail (exit 3), widen the schema, or dead-letter the records that do not fit."),
    ]
    static let extractor = ComponentKeys(
        "Reads Parquet files.",
        [
            .string("path", required: true, "File, folder or glob, relative to the spec's folder."),
            .string(
                "cursor",
                "The column --from/--to apply to: row groups whose statistics lie outside the window are skipped unread."),
        ])
    static let encoder = ComponentKeys("Encodes part files as Parquet.", partOptions)
    static let loader = ComponentKeys(
        "Writes each batch as a Parquet part file in a folder.",
        [
            .string("path", required: true, "The folder of the part files."),
            .string("prefix", default: "part", "The start of each part file's name."),
        ] + partOptions)
}
