import Logging
public import RedisClient
public import RunnelConfig
import RunnelCore

#if canImport(Glibc)
    import Glibc
#endif

extension RedisClient {
    /// One client per URL for the components of a pipeline (blocking reads open their own).
    public static let resource = ResourceKey<RedisClient>("redis.client")
}

extension ComponentRegistry {
    /// `type: redis_stream` for extract, load and dead_letter.
    ///
    ///     extract:
    ///       type: redis_stream
    ///       url: ${REDIS_URL:-redis://127.0.0.1:6379}   # default redis://127.0.0.1:6379
    ///       stream: orders                 # required
    ///       group: orders-to-sqlite        # default: the pipeline name
    ///       consumer: ${HOSTNAME}          # default: HOSTNAME (the pod name)
    ///       start_id: "0"                  # a new group starts at: 0 (whole stream) | $ (new only) | an id
    ///       format: json                   # json (one field holds a JSON object) | fields (each field a string)
    ///       field: payload                 # the JSON field, format json
    ///       id_field: _id                  # optional: add the entry id to each record
    ///       min_idle: 30s                  # claim entries other consumers left pending this long
    ///       claim_interval: 5s             # how often to look for them
    ///       max_deliveries: 5              # more deliveries than this: dead letter, acknowledged
    ///
    ///     load:  {type: redis_stream, url: …, stream: orders-clean, field: payload, max_length: 1000000, dedupe_window: 24h}
    ///     dead_letter: {type: redis_stream, url: …, stream: orders-dead-letters}
    ///
    /// Components naming the same `url` share one client; blocking reads get their own.
    public mutating func registerRedis() {
        registerExtractor("redis_stream", keys: RedisKeys.extractor) { ctx in
            let s = ctx.section
            let client = redisClient(ctx)
            let stream = s.string("stream", required: true)
            let group = s.string("group") ?? ctx.pipeline
            let consumerNode = s.node("consumer")
            var consumer = consumerNode?.string
            if consumerNode == nil {
                consumer = nonEmpty(s.source.environment["HOSTNAME"]) ?? nonEmpty(hostName())
                if consumer == nil {
                    s.node.problem("'consumer' is not set and neither is HOSTNAME; give each worker a unique consumer name")
                }
            }
            if let consumer, consumer.isEmpty { consumerNode?.problem("must not be empty; each worker needs a unique consumer name") }
            var startID: String?
            if let n = s.node("start_id"), let text = n.string {
                if text == "$" || text == "0" || StreamID(text) != nil {
                    startID = text
                } else {
                    n.problem("expected 0 (the whole stream), $ (new entries only) or a stream id such as 1700000000000-0, found '\(text)'")
                }
            }
            let format = s.choice("format", RedisEntryFormat.names).flatMap(RedisEntryFormat.init(name:))
            let field = s.string("field")
            let idField = s.string("id_field")
            let minIdle = positive(s, "min_idle")
            let claimInterval = positive(s, "claim_interval")
            let maxDeliveries = s.int("max_deliveries", in: 1...Int.max)
            if format == .fields, s.has("field") {
                s.node("field")?.problem("'field' applies to format json; with format fields every entry field is a record field")
            }
            guard let client, let stream, let consumer, !consumer.isEmpty else { return nil }
            var c = RedisStreamExtractor.Configuration(stream: stream, group: group, consumer: consumer)
            if let startID { c.startID = startID }
            if let format { c.format = format }
            if let field { c.field = field }
            c.idField = idField
            if let minIdle { c.minIdle = minIdle }
            if let claimInterval { c.claimInterval = claimInterval } else { c.claimInterval = min(c.claimInterval, c.minIdle) }
            if let maxDeliveries { c.maxDeliveries = maxDeliveries }
            return RedisStreamExtractor(c, client: client, logger: Logger(label: "runnel.redis"))
        }

        registerLoader("redis_stream", keys: RedisKeys.loader) { ctx in
            let s = ctx.section
            let client = redisClient(ctx)
            let stream = s.string("stream", required: true)
            let field = s.string("field")
            let maxLength = s.int("max_length", in: 1...Int.max)
            let window = positive(s, "dedupe_window")
            guard let client, let stream else { return nil }
            var c = RedisStreamLoader.Configuration(stream: stream)
            if let field { c.field = field }
            c.maxLength = maxLength
            if let window { c.dedupeWindow = window }
            return RedisStreamLoader(c, client: client)
        }

        registerDeadLetterQueue("redis_stream", keys: RedisKeys.deadLetters) { ctx in
            let client = redisClient(ctx)
            let stream = ctx.section.string("stream", required: true)
            guard let client, let stream else { return nil }
            return RedisDeadLetterStream(stream: stream, client: client)
        }
    }
}

/// The shared client for the section's `url`.
private func redisClient(_ ctx: ComponentContext) -> RedisClient? {
    let node = ctx.section.node("url")
    let url = node?.string ?? (node == nil ? "redis://127.0.0.1:6379" : nil)
    guard let url else { return nil }
    let configuration: RedisConfiguration
    do { configuration = try .runnel(url: url) } catch {
        (node ?? ctx.section.node).problem(
            error.message.hasPrefix("url: ") ? String(error.message.dropFirst(5)) : error.message)
        return nil
    }
    return ctx.resources.resource(RedisClient.resource, id: url) {
        RedisClient(configuration: configuration, logger: Logger(label: "runnel.redis"))
    }
}

private func positive(_ s: SpecSection, _ key: String) -> Duration? {
    guard let n = s.node(key), let d = n.duration else { return nil }
    guard d > .zero else {
        n.problem("must be more than 0")
        return nil
    }
    return d
}

private func nonEmpty(_ s: String?) -> String? { s.flatMap { $0.isEmpty ? nil : $0 } }

private func hostName() -> String? {
    var buffer = [CChar](repeating: 0, count: 256)
    guard gethostname(&buffer, buffer.count) == 0 else { return nil }
    return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
