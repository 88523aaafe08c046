public import RunnelConfig

/// The declared keys of the files components (see `registerFiles`).
enum FilesKeys {
    /// The CSV dialect and header keys, shared with the S3 extractor's `format: csv`.
    static let csvKeys: [ConfigKey] = [
        .string("delimiter", default: ",", "One character between fields; \\t for a tab."),
        .string("quote", default: "\"", "One character that quotes a field."),
        .bool("header", default: "true", "The first line names the fields."),
        .strings("columns", "Field names, when there is no header (or to rename the header's)."),
        .bool("empty_as_null", default: "true", "An empty field is null rather than an empty string."),
    ]
    static let cursor = ConfigKey.string(
        "cursor", "Field whose highest value is the checkpoint: the next run reads only records above it.")

    static let csv = ComponentKeys(
        "Reads CSV files (RFC 4180; gzip too).",
        [.string("path", required: true, "File, folder or glob, relative to the spec's folder.")] + csvKeys + [cursor])
    static let jsonl = ComponentKeys(
        "Reads JSON Lines files (gzip too).",
        [.string("path", required: true, "File, folder or glob, relative to the spec's folder."), cursor])

    static func partLoader(_ format: String) -> ComponentKeys {
        ComponentKeys(
            "Writes each batch as a \(format) part file in a folder.",
            [
                .string("path", required: true, "The folder of the part files."),
                .string("prefix", default: "part", "The start of each part file's name."),
            ])
    }
    static let deadLetters = ComponentKeys(
        "Writes rejected records as JSON Lines files in a folder.", [.string("path", required: true, "The folder.")])
    static let checkpoint = ComponentKeys(
        "Keeps positions in files in a folder.",
        [.string("path", required: true, "The folder of the checkpoint files.")])
}

extension ComponentRegistry {
    /// The CSV keys of `type: csv` (path and cursor aside), for another extractor reading CSV.
    public static var csvKeys: [ConfigKey] { FilesKeys.csvKeys }
}
