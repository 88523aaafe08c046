public import RedisClient
public import RunnelCore

/// Appends each record to a Redis stream as a JSON object in one field (`payload` by
/// default), so that pipelines can chain: the next pipeline reads the stream with
/// `extract: {type: redis_stream}`.
///
/// A batch is one pipelined round of `XADD`s, optionally trimming the stream to about
/// `maxLength` entries (`MAXLEN ~`). Stream appends cannot be made idempotent by key: a batch
/// replayed after a crash appends its records again, and the downstream pipeline's loader
/// (idempotent by key) absorbs the duplicates.
///
/// ```yaml
/// load:
///   type: redis_stream
///   url: ${REDIS_URL}
///   stream: orders-clean
///   max_length: 1000000
/// ```
public struct RedisStreamLoader: Loader {
    public struct Configuration: Sendable {
        public var stream: String
        /// The entry field that holds the record's JSON. Default `payload`.
        public var field: String = "payload"
        /// Trim to about this many entries (`MAXLEN ~`); nil keeps everything.
        public var maxLength: Int?
        public init(stream: String) { self.stream = stream }
    }

    public let configuration: Configuration
    public let client: RedisClient

    public init(_ configuration: Configuration, client: RedisClient) {
        self.configuration = configuration
        self.client = client
    }

    public var target: String { "redis stream '\(configuration.stream)' at \(client.configuration.host):\(client.configuration.port)" }

    public func load(_ batch: Batch, commit: CheckpointCommit?) async throws {
        guard !batch.records.isEmpty else { return }
        let keys = batch.schema.fields
        var entries: [[(String, [UInt8])]] = []
        entries.reserveCapacity(batch.records.count)
        var bytes: [UInt8] = []
        for r in batch.records {
            bytes.removeAll(keepingCapacity: true)
            JSONText.write(.object(Object(keys: keys, values: r.values)), into: &bytes)
            entries.append([(configuration.field, bytes)])
        }
        _ = try await client.xaddPipelined(configuration.stream, entries: entries, maxLenApprox: configuration.maxLength)
    }
}
