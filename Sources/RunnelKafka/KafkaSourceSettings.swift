public import KafkaClient

/// How a Kafka message becomes a record.
public struct KafkaMessageFormat: Sendable, Hashable, CustomStringConvertible {
    private enum Base: String, Sendable, Hashable { case json, fields, raw }
    private let base: Base
    private init(_ base: Base) { self.base = base }

    /// The value is a JSON object; its members are the record's fields.
    public static let json = KafkaMessageFormat(.json)
    /// The value's JSON object plus `kafka_key`, `kafka_topic`, `kafka_partition`,
    /// `kafka_offset`, `kafka_timestamp` and `kafka_headers` (an object of strings).
    public static let fields = KafkaMessageFormat(.fields)
    /// Nothing parsed: `key`, `value` (text), `headers`, `topic`, `partition`, `offset`,
    /// `timestamp`.
    public static let raw = KafkaMessageFormat(.raw)
    public static let all: [KafkaMessageFormat] = [.json, .fields, .raw]

    public init?(name: String) {
        guard let base = Base(rawValue: name) else { return nil }
        self.base = base
    }

    public var description: String { base.rawValue }
    var parsesValue: Bool { base != .raw }
    var addsMetadata: Bool { base == .fields }
}

/// Where a group that has no committed offset (and no stored one) starts.
public enum KafkaStartPosition: Sendable, Hashable {
    case earliest
    case latest
    /// The first message at or after this time (milliseconds since the epoch).
    case timestamp(Int64)
}

/// The `extract: {type: kafka}` settings.
public struct KafkaSourceConfiguration: Sendable {
    public var client: KafkaConfiguration
    public var subscription: KafkaConsumer.Subscription
    /// `group.id`; the pipeline name by default.
    public var group: String
    public var start: KafkaStartPosition = .earliest
    public var format: KafkaMessageFormat = .json
    /// How long an idle take waits before the reader returns an empty batch, so that a
    /// stop request is noticed. Default 250 ms.
    public var idleWait: Duration = .milliseconds(250)
    /// How long a revoke waits for the revoked partitions' batches to be committed before
    /// it hands them back anyway. Default 30 s (below the default `max.poll.interval.ms`).
    public var revokeTimeout: Duration = .seconds(30)
    /// Batch mode: how long to wait for the group to assign partitions before giving up.
    public var assignmentTimeout: Duration = .seconds(60)

    public init(client: KafkaConfiguration, subscription: KafkaConsumer.Subscription, group: String) {
        self.client = client
        self.subscription = subscription
        self.group = group
    }

    /// The consumer settings these map to.
    var consumer: KafkaConsumer.Configuration {
        var c = KafkaConsumer.Configuration(client: client, group: group)
        c.autoOffsetReset = start == .latest ? "latest" : "earliest"
        if case .timestamp(let ms) = start { c.startTimestamp = ms }
        return c
    }
}
