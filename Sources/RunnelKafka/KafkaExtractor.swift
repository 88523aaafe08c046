import KafkaClient
public import Logging
import Metrics
public import RunnelCore

/// Reads Kafka topics as a consumer-group member, one micro-batch at a time.
///
/// Offsets are committed only after the loader and the dead letter queue stored a batch:
/// exactly the batch's next offset per partition. Where the loader writes the checkpoints in
/// its transaction (SQLite, PostgreSQL), each partition's next offset is also written there,
/// under `pipeline#topic/partition`; on every assignment the consumer starts a partition at
/// that stored offset, so a crash at any moment neither loses nor re-applies a message.
///
/// In batch mode (`runnel-batch`) the reader stops at the end offsets it takes when it is
/// first assigned each partition: a CronJob drains what was there when it started.
///
/// ```yaml
/// extract:
///   type: kafka
///   brokers: [kafka-0.kafka:9092]
///   topics: [orders]
///   group: orders-to-sqlite
/// ```
public struct KafkaExtractor: Extractor, BacklogReporting {
    public let configuration: KafkaSourceConfiguration
    let logger: Logger
    /// The open reader's consumer, for `backlog()`.
    private let current = CurrentConsumer()

    public init(_ configuration: KafkaSourceConfiguration, logger: Logger = Logger(label: "runnel.kafka")) {
        self.configuration = configuration
        var logger = logger
        logger[metadataKey: "runnel.group"] = "\(configuration.group)"
        self.logger = logger
    }

    public var consumerName: String? { configuration.client.clientID }

    public func open(_ request: ExtractRequest) async throws -> any BatchReader {
        let reader: KafkaSourceReader
        do {
            reader = try KafkaSourceReader(configuration: configuration, request: request, logger: logger)
        } catch let error as KafkaError where error.code == .invalidConfiguration {
            throw RunnelError.config("extract (kafka): \(error.message)")
        }
        current.set(reader.consumer, pipeline: request.pipeline)
        return reader
    }

    public func reparse(raw: String, origin: Origin) throws(RecordError) -> (Schema, [Value])? {
        guard configuration.format.parsesValue else { return nil }
        let object = try KafkaRecords.parseObject(Array(raw.utf8), json: JSONText.Stream())
        return (Schema(object.keys), object.values)
    }

    /// The lag of this member's partitions: high watermark minus committed offset, summed;
    /// each partition's also as `runnel_source_lag_records{topic,partition}`.
    public func backlog() async throws -> SourceBacklog {
        guard let (consumer, pipeline) = current.get() else { return SourceBacklog(pending: 0, ownPending: 0, lag: nil) }
        let partitions = consumer.assignment.sorted()
        guard !partitions.isEmpty else { return SourceBacklog(pending: 0, ownPending: 0, lag: 0) }
        let committed = try await consumer.committed(partitions)
        var lag = 0
        for tp in partitions {
            let (low, high) = try await consumer.watermarks(tp)
            let position = (committed[tp] ?? nil) ?? low
            // A broker whose watermark trails the committed offset (Tansu) would make it negative.
            let behind = Int(max(0, high - position))
            lag += behind
            Gauge(
                label: "runnel_source_lag_records",
                dimensions: [("pipeline", pipeline), ("topic", tp.topic), ("partition", String(tp.partition))]
            ).record(behind)
        }
        return SourceBacklog(pending: 0, ownPending: 0, lag: lag)
    }
}

/// The consumer of the reader that is open now. `@unchecked Sendable`: behind a lock.
final class CurrentConsumer: @unchecked Sendable {
    private let lock = ConditionLock()
    private var consumer: (KafkaConsumer, String)?
    func set(_ c: KafkaConsumer, pipeline: String) { lock.withLock { consumer = (c, pipeline) } }
    func get() -> (KafkaConsumer, String)? { lock.withLock { consumer } }
}

extension KafkaExtractor: KeepsItsOwnPosition {
    public var positionWithoutCheckpoint: String? {
        "consumer group '\(configuration.group)' keeps it: offsets are committed after their batch is stored "
            + "(at least once; loads idempotent by key)"
    }

    public var ownPositionNote: String {
        "the offsets stored with the data (one per partition) are forgotten, but consumer group '\(configuration.group)' "
            + "keeps its committed offsets in Kafka, and a partition without a stored offset resumes from those; to read the "
            + "topic again from the start, also reset the group (kafka-consumer-groups --reset-offsets --to-earliest) or set a new group"
    }
}
