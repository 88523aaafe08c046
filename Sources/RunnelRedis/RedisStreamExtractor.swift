public import Logging
public import RedisClient
public import RunnelCore

/// Reads a Redis stream through a consumer group, one micro-batch at a time.
///
/// On open it creates the group if missing (`XGROUP CREATE … MKSTREAM` at `startID`). It first
/// re-reads its own pending entries (id `0`: what a previous run of this consumer read and did
/// not acknowledge), then new ones (`>`). Every `claimInterval` it takes over entries other
/// consumers left idle longer than `minIdle` (`XAUTOCLAIM`). A re-delivered entry whose
/// delivery count is above `maxDeliveries` is not loaded again: it goes into its batch as a
/// rejection (stage `extract`, code `max_deliveries`), so the runner parks it in the dead
/// letter queue and acknowledges it with the batch — it blocks nothing.
///
/// Entries are acknowledged (`XACK` of exactly the batch's ids) only after the loader stored
/// the batch: delivery is at least once, and loads are idempotent by key.
///
/// ```yaml
/// extract:
///   type: redis_stream
///   url: ${REDIS_URL:-redis://127.0.0.1:6379}
///   stream: orders
///   group: orders-to-sqlite
///   min_idle: 30s
///   max_deliveries: 5
/// ```
public struct RedisStreamExtractor: Extractor, BacklogReporting {
    public struct Configuration: Sendable {
        public var stream: String
        public var group: String
        /// This worker's consumer name; the pod name (`HOSTNAME`) by default.
        public var consumer: String
        /// Where a new group starts: `0` (the whole stream, the default) or `$` (new entries only).
        public var startID: String = "0"
        public var format: RedisEntryFormat = .json
        /// The entry field holding the JSON record (format `json`). Default `payload`.
        public var field: String = "payload"
        /// When set, the entry id is added to each record under this field name (a natural key).
        public var idField: String?
        /// Entries another consumer left pending longer than this are claimed. Default 30 s.
        public var minIdle: Duration = .seconds(30)
        /// How often to look for idle entries to claim. Default 5 s.
        public var claimInterval: Duration = .seconds(5)
        /// An entry delivered more times than this becomes a dead letter. Default 5.
        public var maxDeliveries: Int = 5
        /// How long an idle `XREADGROUP … BLOCK` waits before the reader returns an empty batch,
        /// so a stop request is noticed. Default 250 ms.
        public var idleBlock: Duration = .milliseconds(250)

        public init(stream: String, group: String, consumer: String) {
            self.stream = stream
            self.group = group
            self.consumer = consumer
        }
    }

    public let configuration: Configuration
    /// The shared client (acknowledgements, claims, backlog); blocking reads get their own.
    public let client: RedisClient
    let logger: Logger

    public init(_ configuration: Configuration, client: RedisClient, logger: Logger = Logger(label: "runnel.redis")) {
        self.configuration = configuration
        self.client = client
        var logger = logger
        logger[metadataKey: "runnel.consumer"] = "\(configuration.consumer)"
        logger[metadataKey: "runnel.stream"] = "\(configuration.stream)"
        self.logger = logger
    }

    public var consumerName: String? { configuration.consumer }

    public var positionWithoutCheckpoint: String? {
        "the consumer group '\(configuration.group)' keeps it: entries are acknowledged (XACK) after their batch is stored "
            + "(at least once; loads idempotent by key)"
    }

    public func open(_ request: ExtractRequest) async throws -> any BatchReader {
        // XREADGROUP … BLOCK holds its connection: it gets a client of its own.
        let blocking = RedisClient(configuration: client.configuration, logger: logger)
        return RedisStreamReader(
            configuration: configuration, client: client, blockingClient: blocking, request: request, logger: logger)
    }

    public func reparse(raw: String, origin: Origin) throws(RecordError) -> (Schema, [Value])? {
        guard configuration.format.isJSON else { return nil }
        let object = try RedisStreamReader.parseJSONObject(Array(raw.utf8))
        return (Schema(object.keys), object.values)
    }

    /// The group's pending count, this consumer's share of it and the group's lag. A stream or
    /// group that does not exist yet has no backlog.
    public func backlog() async throws -> SourceBacklog {
        let c = configuration
        let groups: [StreamGroupInfo]
        do {
            groups = try await client.xinfoGroups(c.stream)
        } catch let error as RedisError where error.code == .server {
            return SourceBacklog(pending: 0, ownPending: 0, lag: nil)  // no such key: nothing written yet
        }
        guard let group = groups.first(where: { $0.name == c.group }) else {
            return SourceBacklog(pending: 0, ownPending: 0, lag: nil)
        }
        var own = 0
        if group.pending > 0 {
            let summary = try await client.xpendingSummary(c.stream, group: c.group)
            own = summary.consumers.first { $0.name == c.consumer }?.count ?? 0
        }
        return SourceBacklog(pending: group.pending, ownPending: own, lag: group.lag)
    }
}
