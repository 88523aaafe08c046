import RunnelConfig

/// The declared keys of the Kafka components (see `registerKafka`).
enum KafkaKeys {
    static let tls: [ConfigKey] = [
        .string("ca", "CA certificate file (PEM) of a private CA."),
        .string("cert", "Client certificate file (PEM), with key."),
        .string("key", "Client key file (PEM), with cert."),
        .string("key_password", "Password of the client key; give it as ${VARIABLE}."),
    ]
    static let sasl: [ConfigKey] = [
        .choice("mechanism", ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"], required: true, "The SASL mechanism."),
        .string("username", required: true, "The user."),
        .string("password", required: true, "The password; give it as ${VARIABLE}."),
    ]

    /// The cluster settings; a load or dead_letter section takes the kafka extract section's.
    static func cluster(sink: Bool) -> [ConfigKey] {
        let borrowed = sink ? " Default: the kafka extract section's." : ""
        return [
            .strings(
                "brokers", required: !sink, "host:port of one or more brokers (a list, or comma-separated).\(borrowed)"),
            .string("client_id", default: sink ? "librdkafka's" : "HOSTNAME", "The client id brokers log."),
            .object("tls", tls, "TLS to the brokers.\(borrowed)"),
            .object("sasl", sasl, "SASL authentication.\(borrowed)"),
            .map("properties", of: .string, "Any librdkafka property (name: value), checked by librdkafka.\(borrowed)"),
        ]
    }

    static let extractor = ComponentKeys(
        "Reads topics through a consumer group; offsets are committed after the batch is stored.",
        cluster(sink: false) + [
            .strings("topics", required: true, "Topic names, or one regular expression starting with ^."),
            .string("group", default: "the pipeline name", "The consumer group."),
            .string("start", default: "earliest", "Where a new group starts: earliest, latest or an ISO 8601 time."),
            .choice(
                "format", ["json", "fields", "raw"], default: "json",
                "json: the value is a JSON object; fields: json plus kafka_* fields; raw: the bytes."),
            .duration("revoke_timeout", default: "30s", "How long a partition revoke waits for in-flight batches."),
        ])
    static let loader = ComponentKeys(
        "Produces records as JSON to a topic (idempotent producer).",
        cluster(sink: true) + [
            .string("topic", required: true, "The topic written."),
            .strings("key", "Fields whose values make the message key."),
            .strings("headers", "Fields sent as message headers."),
        ])
    static let deadLetters = ComponentKeys(
        "Produces rejected records to a topic.",
        cluster(sink: true) + [.string("topic", required: true, "The dead letter topic.")])
}
