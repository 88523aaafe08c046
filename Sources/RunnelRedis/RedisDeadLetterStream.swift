public import RedisClient
public import RunnelCore

/// A dead letter queue on a Redis stream: one entry per rejected record, holding the
/// dead-letter envelope as JSON (`envelope`), with `pipeline` and `key` fields beside it for
/// `redis-cli` readers.
///
/// Writes are idempotent by (pipeline, source position): a hash `<stream>:keys` maps each key
/// to its entry id, and a Lua script checks it and appends atomically, so a batch replayed
/// after a crash parks nothing twice.
///
/// ```yaml
/// dead_letter:
///   type: redis_stream
///   url: ${REDIS_URL}
///   stream: orders-dead-letters
/// ```
public struct RedisDeadLetterStream: DeadLetterQueue {
    public let stream: String
    public let client: RedisClient

    public init(stream: String, client: RedisClient) {
        self.stream = stream
        self.client = client
    }

    /// The hash from idempotency key to entry id.
    public var keysHash: String { stream + ":keys" }

    public var target: String { "redis stream '\(stream)' at \(client.configuration.host):\(client.configuration.port)" }

    private static let appendOnce = """
        if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 1 then return 0 end
        local id = redis.call('XADD', KEYS[1], '*', 'pipeline', ARGV[2], 'key', ARGV[3], 'envelope', ARGV[4])
        redis.call('HSET', KEYS[2], ARGV[1], id)
        return id
        """

    private func hashField(pipeline: String, key: String) -> String { pipeline + "\u{0}" + key }

    public func write(_ letters: [DeadLetter]) async throws {
        guard !letters.isEmpty else { return }
        let commands = letters.map { l in
            RedisCommand(
                "EVAL",
                [
                    .string(Self.appendOnce), 2, .string(stream), .string(keysHash),
                    .string(hashField(pipeline: l.pipeline, key: l.key)), .string(l.pipeline), .string(l.key),
                    .string(JSONText.encode(l.envelope)),
                ])
        }
        let replies = try await client.pipeline(commands)
        if let message = replies.lazy.compactMap(\.errorMessage).first {
            throw RedisError(code: .server, message: message, command: "EVAL")
        }
    }

    public func list(pipeline: String, limit: Int?) async throws -> [DeadLetter] {
        var out: [DeadLetter] = []
        var start = "-"
        while limit.map({ out.count < $0 }) ?? true {
            let reply = try await client.send(RedisCommand("XRANGE", [.string(stream), .string(start), "+", "COUNT", 500]))
            let page = try Self.entries(reply)
            for (_, fields) in page {
                guard fields["pipeline"] == pipeline, let text = fields["envelope"],
                    let value = try? JSONText.parse(text), let letter = DeadLetter(envelope: value)
                else { continue }
                out.append(letter)
                if let limit, out.count >= limit { break }
            }
            guard page.count == 500, let last = page.last else { break }
            start = "(" + last.id
        }
        return out
    }

    public func remove(pipeline: String, keys: [String]) async throws {
        guard !keys.isEmpty else { return }
        let fields = keys.map { hashField(pipeline: pipeline, key: $0) }
        let reply = try await client.send(RedisCommand("HMGET", [.string(keysHash)] + fields.map { .string($0) }))
        let ids = (reply.array ?? []).compactMap(\.string)
        if !ids.isEmpty { try await client.send(RedisCommand("XDEL", [.string(stream)] + ids.map { .string($0) })) }
        try await client.send(RedisCommand("HDEL", [.string(keysHash)] + fields.map { .string($0) }))
    }

    /// An XRANGE reply: `[[id, [field, value, …]], …]`, fields as text.
    static func entries(_ reply: RESPValue) throws -> [(id: String, fields: [String: String])] {
        guard let rows = reply.array else { throw RedisError(code: .unexpectedReply, message: "XRANGE: not an array", command: "XRANGE") }
        return rows.compactMap { row in
            guard let parts = row.array, parts.count == 2, let id = parts[0].string, let flat = parts[1].array else { return nil }
            var fields: [String: String] = [:]
            for i in stride(from: 0, to: flat.count - 1, by: 2) {
                if let k = flat[i].string, let v = flat[i + 1].string { fields[k] = v }
            }
            return (id, fields)
        }
    }
}
