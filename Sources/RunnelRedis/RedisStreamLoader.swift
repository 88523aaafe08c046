public import RedisClient
public import RunnelCore

/// Appends each record to a Redis stream as a JSON object in one field (`payload` by
/// default), so that pipelines can chain: the next pipeline reads the stream with
/// `extract: {type: redis_stream}`.
///
/// A batch is one server-side script that appends its records (`XADD`, optionally trimming the
/// stream to about `maxLength` entries with `MAXLEN ~`) and sets a marker key named after the
/// batch's source positions, atomically. A batch replayed after a crash with the same records
/// finds its marker and appends nothing: stream appends become idempotent per batch for
/// `dedupe_window` (default 24 h). A replay that reads different batch boundaries appends
/// again (at least once), and the downstream loader, idempotent by key, absorbs it; nothing is
/// ever skipped that was not appended. The marker and the stream are separate keys, so on a
/// Redis Cluster the stream name needs a hash tag (`{orders}-clean`).
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
        /// How long a batch's marker lives: a replay later than this appends again. Default 24 h.
        public var dedupeWindow: Duration = .seconds(86_400)
        public init(stream: String) { self.stream = stream }
    }

    public let configuration: Configuration
    public let client: RedisClient

    public init(_ configuration: Configuration, client: RedisClient) {
        self.configuration = configuration
        self.client = client
    }

    public var target: String { "redis stream '\(configuration.stream)' at \(client.configuration.host):\(client.configuration.port)" }

    /// Appends every payload unless the batch's marker exists; returns how many were appended.
    static let appendScript = """
        if not redis.call('SET', KEYS[2], '1', 'NX', 'EX', ARGV[3]) then return 0 end
        for i = 4, #ARGV do
          if ARGV[2] == '' then
            redis.call('XADD', KEYS[1], '*', ARGV[1], ARGV[i])
          else
            redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', ARGV[1], ARGV[i])
          end
        end
        return #ARGV - 3
        """

    /// The marker of a batch: a digest of its records' source positions, in order.
    func markerKey(_ batch: Batch) -> String {
        var text: [UInt8] = []
        for r in batch.records {
            text.append(contentsOf: batch.origin(at: r.ordinal).description.utf8)
            text.append(0)
        }
        return "runnel:appended:\(configuration.stream):" + SHA256.hex(SHA256.digest(text))
    }

    public func load(_ batch: Batch, commit: CheckpointCommit?) async throws -> LoadOutcome {
        guard !batch.records.isEmpty else { return .stored }
        let keys = batch.schema.fields
        var arguments: [RedisArgument] = [
            .string(Self.appendScript), 2, .string(configuration.stream), .string(markerKey(batch)),
            .string(configuration.field), .string(configuration.maxLength.map(String.init) ?? ""),
            .integer(max(1, Int(configuration.dedupeWindow.components.seconds))),
        ]
        arguments.reserveCapacity(arguments.count + batch.records.count)
        var bytes: [UInt8] = []
        for r in batch.records {
            bytes.removeAll(keepingCapacity: true)
            JSONText.write(.object(Object(keys: keys, values: r.values)), into: &bytes)
            arguments.append(.bytes(bytes))
        }
        let reply = try await client.send(RedisCommand("EVAL", arguments))
        if case .error(let message) = reply { throw RedisError(code: .server, message: message, command: "EVAL") }
        return .stored
    }
}
