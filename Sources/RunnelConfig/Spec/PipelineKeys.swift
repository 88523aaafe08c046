import RunnelCore

/// The declared keys of the spec's own sections (the components declare theirs where they
/// register). `PipelineSpec` checks sections against these; the JSON Schema and the key tables
/// are generated from them.
public enum PipelineKeys {
    /// The component sections, in the order a spec is read, with the role that builds each.
    public static let componentSections: [(key: String, role: ComponentRegistry.Role, required: Bool, doc: String)] = [
        ("extract", .extract, true, "Where records come from."),
        ("transform", .transform, false, "Stages applied in order, each `{type: …}`."),
        ("load", .load, true, "Where records go, written by key."),
        ("checkpoint", .checkpoint, false, "Where the source position is kept between runs."),
        ("dead_letter", .deadLetter, false, "Where rejected records go, with why."),
    ]

    public static let top = ComponentKeys(
        "The pipeline spec.",
        [
            .string("pipeline", required: true, "The pipeline's name: letters, digits, '-', '_' and '.'."),
            .string("description", "Free text for people reading the spec."),
            .anyValue("extract", required: true, "Where records come from: `{type: …}`."),
            .anyValue("transform", "Stages applied in order: a list of `{type: …}`."),
            .object("validate", validate.keys, "Rules records must meet, and what happens to those that do not."),
            .anyValue("load", required: true, "Where records go: `{type: …}`."),
            .anyValue("checkpoint", "Where the source position is kept: `{type: …}`."),
            .anyValue("dead_letter", "Where rejected records go: `{type: …}`."),
            .object("batching", batching.keys, "How records are grouped into batches."),
            .object("memory", memory.keys, "The memory window batches are held in."),
            .object("retry", retry.keys, "How transient errors of a batch are retried."),
            .object("stream", stream.keys, "Settings only `runnel-stream` uses."),
            .object("metrics", metrics.keys, "Where `runnel-batch` pushes its metrics."),
        ])

    /// `load.key_policy`: read by the runner, not the loader, so every loader takes it.
    public static let keyPolicy = ConfigKey.choice(
        "key_policy", KeyPolicy.names, default: "last_wins",
        "What happens to two records with the same key in one batch.")

    public static let batching = ComponentKeys(
        "How records are grouped into batches.",
        [
            .int("max_records", default: "5000", "Most records in one batch."),
            .bytes("max_bytes", default: "8MiB", "Most bytes of input in one batch."),
            .duration("max_linger", default: "100ms", "Longest a partial batch waits for more records (streaming)."),
        ])

    public static let memory = ComponentKeys(
        "The memory window batches are held in.",
        [
            .number(
                "max_fraction", default: "0.5",
                "Share of the container's memory limit batches may hold, above 0 and at most 1."),
            .bytes("max_bytes", "A fixed memory window instead of a share of the limit."),
        ])

    public static let retry = ComponentKeys(
        "How transient errors of a batch are retried (exponential backoff with jitter).",
        [
            .int("max_attempts", default: "5", "Attempts of a batch before the run fails."),
            .duration("base_delay", default: "200ms", "Delay before the first retry."),
            .duration("max_delay", default: "10s", "Longest delay between retries."),
        ])

    public static let stream = ComponentKeys(
        "Settings only `runnel-stream` uses.",
        [
            .duration(
                "drain_timeout", default: "20s",
                "How long SIGTERM waits for the in-flight batch; keep it below the pod's grace period."),
            .duration(
                "stall_timeout", default: "60s",
                "`/livez` fails when input is pending and nothing was committed for this long."),
        ])

    public static let metricsPush = ComponentKeys(
        "Pushes to a Prometheus Pushgateway.",
        [
            .string("url", default: "RUNNEL_METRICS_PUSH_URL", "http:// address of the Pushgateway."),
            .duration("interval", default: "30s", "How often a run pushes while it lasts; 0: only at its end."),
            .string("job", default: "runnel", "The `job` grouping label."),
            .map("grouping", of: .string, "More grouping labels."),
        ])

    public static let metrics = ComponentKeys(
        "Where `runnel-batch` pushes its metrics.",
        [.object("push", metricsPush.keys, "Push to a Prometheus Pushgateway.")])

    /// A field rule of `validate.rules` (rules of a registered kind, `expr`, declare their own).
    public static let fieldRule = ComponentKeys(
        "Checks of one field.",
        [
            .string("field", required: true, "The field checked."),
            .bool("required", default: "false", "The field must be present and not null."),
            .choice("type", FieldRules.types, "The type the value must have."),
            .anyValue("min", "Smallest allowed value."),
            .anyValue("max", "Largest allowed value."),
            .string("pattern", "Regular expression a string value must match."),
            .anyValue("one_of", "List of the allowed values."),
            .int("max_length", "Longest allowed string."),
        ])

    public static let validate = ComponentKeys(
        "Rules records must meet, and what happens to those that do not.",
        [
            .choice(
                "on_invalid", InvalidRecordPolicy.Action.allCases.map(\.rawValue), default: "dead_letter",
                "What happens to a record that breaks a rule."),
            .number("max_invalid_ratio", "Largest share of invalid records (0 to 1) before the run fails."),
            .anyValue("rules", "The rules: field checks `{field, …}`, or a registered kind such as `{expr, code}`."),
        ])
}
