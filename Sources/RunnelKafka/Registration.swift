public import KafkaClient
import Logging
public import RunnelConfig
import RunnelCore

#if canImport(Glibc)
    import Glibc
#endif

extension KafkaProducer {
    /// One idempotent producer per cluster settings for the pipeline's sink and dead letters.
    public static let resource = ResourceKey<KafkaProducer>("kafka.producer")
}

extension ComponentRegistry {
    /// `type: kafka` for extract, load and dead_letter.
    ///
    ///     extract:
    ///       type: kafka
    ///       brokers: [kafka-0.kafka:9092]        # or "host:port,host:port"; required
    ///       topics: [orders]                     # names, or one regular expression starting with ^
    ///       group: orders-to-sqlite              # default: the pipeline name
    ///       client_id: ${HOSTNAME}               # default: HOSTNAME (the pod name)
    ///       start: earliest                      # a new group starts at: earliest | latest | 2026-11-30T00:00:00Z
    ///       format: json                         # json | fields (json + kafka_* fields) | raw
    ///       revoke_timeout: 30s                  # how long a revoke waits for in-flight batches
    ///       tls: {ca: ca.pem, cert: client.pem, key: client.key, key_password: ${KEY_PASSWORD}}
    ///       sasl: {mechanism: SCRAM-SHA-512, username: runnel, password: ${KAFKA_PASSWORD}}
    ///       properties: {fetch.max.bytes: "10485760"}   # any librdkafka property, checked by librdkafka
    ///
    ///     load: {type: kafka, brokers: …, topic: orders-clean, key: [order_id], headers: [source]}
    ///     dead_letter: {type: kafka, brokers: …, topic: orders-dead-letters}
    ///
    /// `brokers`, `tls`, `sasl` and `properties` of a load or dead_letter section default to the
    /// kafka extract section's.
    public mutating func registerKafka() {
        registerExtractor("kafka", keys: KafkaKeys.extractor) { ctx in
            let s = ctx.section
            let client = clientConfiguration(ctx, defaultClientID: true)
            let subscription = subscription(s)
            let group = s.string("group") ?? ctx.pipeline
            let start = startPosition(s.node("start"))
            let format = s.choice("format", KafkaMessageFormat.all.map(\.description)).flatMap(KafkaMessageFormat.init(name:))
            let revokeTimeout = s.duration("revoke_timeout")
            guard var client, let subscription else { return nil }
            if group.isEmpty { s.node("group")?.problem("must not be empty") }
            var c = KafkaSourceConfiguration(client: client, subscription: subscription, group: group)
            if let start { c.start = start }
            if let format { c.format = format }
            if let revokeTimeout { c.revokeTimeout = revokeTimeout }
            do throws(KafkaError) {
                try c.consumer.validate()
            } catch {
                (s.node("properties") ?? s.node).problem("librdkafka refused a setting: \(error.message)")
                return nil
            }
            client = c.client
            return KafkaExtractor(c, logger: Logger(label: "runnel.kafka"))
        }

        registerLoader("kafka", keys: KafkaKeys.loader) { ctx in
            let s = ctx.section
            let client = clientConfiguration(ctx, defaultClientID: false)
            let topic = s.string("topic", required: true)
            let key = s.strings("key") ?? []
            let headers = s.strings("headers") ?? []
            guard let client, let topic, let producer = producer(ctx, client) else { return nil }
            var c = KafkaSink.Configuration(topic: topic)
            c.key = key
            c.headers = headers
            return KafkaSink(c, producer: producer)
        }

        registerDeadLetterQueue("kafka", keys: KafkaKeys.deadLetters) { ctx in
            let s = ctx.section
            let client = clientConfiguration(ctx, defaultClientID: false)
            let topic = s.string("topic", required: true)
            guard let client, let topic, let producer = producer(ctx, client) else { return nil }
            return KafkaDeadLetterTopic(topic: topic, producer: producer)
        }
    }
}

/// The shared producer for these cluster settings; closed when the run ends.
private func producer(_ ctx: ComponentContext, _ client: KafkaConfiguration) -> KafkaProducer? {
    let configuration = KafkaProducer.Configuration(client: client)
    do throws(KafkaError) { try configuration.validate() } catch {
        (ctx.section.node("properties") ?? ctx.section.node).problem("librdkafka refused a setting: \(error.message)")
        return nil
    }
    do {
        let id = client.librdkafkaProperties.map { "\($0.name)=\($0.value)" }.joined(separator: "\u{0}")
        return try ctx.resources.resource(KafkaProducer.resource, id: id) {
            let p = try KafkaProducer(configuration, logger: Logger(label: "runnel.kafka"))
            ctx.resources.addBackgroundTask(ProducerTask(producer: p))
            return p
        }
    } catch {
        ctx.section.node.problem("kafka producer: \(error)")
        return nil
    }
}

/// The section's cluster settings, with the kafka extract section's as defaults for sinks.
private func clientConfiguration(_ ctx: ComponentContext, defaultClientID: Bool) -> KafkaConfiguration? {
    let s = ctx.section
    var fallback: SpecSection?
    if ctx.role != "extract", let peer = ctx.peer("extract"), peer.type == "kafka" { fallback = peer.section }
    guard let brokers = brokers(s) ?? fallback.flatMap({ brokers($0, reading: false) }) else {
        // The extract section's type is misspelled: that is the problem, reported there.
        if ctx.role != "extract", !s.has("brokers"), ctx.peerTypeIsUnknown("extract") { return nil }
        s.node.problem("missing required key 'brokers' (host:port of one or more brokers)")
        return nil
    }
    var c = KafkaConfiguration(brokers: brokers)
    if defaultClientID {
        c.clientID = s.string("client_id") ?? nonEmpty(s.source.environment["HOSTNAME"]) ?? nonEmpty(hostName())
    } else {
        c.clientID = s.string("client_id")
    }
    let own = security(s, into: &c)
    if !own, let fallback { _ = security(fallback, into: &c, reading: false) }
    return c
}

private func brokers(_ s: SpecSection, reading: Bool = true) -> [String]? {
    guard let n = reading ? s.node("brokers") : s.peek("brokers") else { return nil }
    let list = n.strings ?? n.string.map { $0.split(separator: ",").map { String($0).trimmingSpaces } }
    guard let list, !list.isEmpty, list.allSatisfy({ !$0.isEmpty }) else {
        if reading { n.problem("expected host:port, or a list of them") }
        return nil
    }
    return list
}

private func subscription(_ s: SpecSection) -> KafkaConsumer.Subscription? {
    guard let n = s.node("topics", required: true) else { return nil }
    if let list = n.strings, !list.isEmpty {
        if list.count > 1, list.contains(where: { $0.hasPrefix("^") }) {
            n.problem("a regular expression (starting with ^) must be the only entry")
            return nil
        }
        return list[0].hasPrefix("^") ? .pattern(list[0]) : .names(list)
    }
    if let one = n.string, !one.isEmpty { return one.hasPrefix("^") ? .pattern(one) : .names([one]) }
    n.problem("expected a topic name, a list of names, or a regular expression starting with ^")
    return nil
}

/// Reads `tls`, `sasl` and `properties`; true when the section has any of them.
private func security(_ s: SpecSection, into c: inout KafkaConfiguration, reading: Bool = true) -> Bool {
    func node(_ k: String) -> SpecNode? { reading ? s.node(k) : s.peek(k) }
    var any = false
    if let n = node("tls"), let t = SpecSection(n) {
        any = true
        var tls = KafkaConfiguration.TLS()
        tls.caFile = t.path("ca")
        tls.certificateFile = t.path("cert")
        tls.keyFile = t.path("key")
        tls.keyPassword = t.string("key_password")
        if (tls.certificateFile == nil) != (tls.keyFile == nil) { n.problem("'cert' and 'key' go together") }
        if reading { t.finish("\(s.path).tls") }
        c.tls = tls
    }
    if let n = node("sasl"), let a = SpecSection(n) {
        any = true
        let names = KafkaConfiguration.SASL.Mechanism.all.map(\.name)
        let mechanism = a.choice("mechanism", names, required: true).flatMap { m in KafkaConfiguration.SASL.Mechanism.all.first { $0.name == m } }
        let user = a.string("username", required: true)
        let password = a.string("password", required: true)
        if reading { a.finish("\(s.path).sasl") }
        if let mechanism, let user, let password { c.sasl = .init(mechanism: mechanism, username: user, password: password) }
    }
    if let n = node("properties") {
        any = true
        guard let entries = n.entries else {
            n.problem("expected a map of librdkafka properties (name: value)")
            return any
        }
        for (k, v) in entries {
            guard let text = v.string else {
                v.problem("expected a value (quote numbers to be safe)")
                continue
            }
            c.properties[k] = text
        }
    }
    return any
}

/// Flushes and closes a sink's producer when the run ends.
struct ProducerTask: BackgroundTask {
    let producer: KafkaProducer
    func run() async throws {
        // Background tasks run until the run ends and cancels them.
        while !Task.isCancelled { try? await Task.sleep(for: .seconds(3_600)) }
        await producer.close()
    }
}

private func nonEmpty(_ s: String?) -> String? { s.flatMap { $0.isEmpty ? nil : $0 } }

private func hostName() -> String? {
    var buffer = [CChar](repeating: 0, count: 256)
    guard gethostname(&buffer, buffer.count) == 0 else { return nil }
    return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

extension String {
    fileprivate var trimmingSpaces: String {
        var s = Substring(self)
        while s.first == " " { s.removeFirst() }
        while s.last == " " { s.removeLast() }
        return String(s)
    }
}

/// `earliest`, `latest`, or an ISO 8601 time: a partition the group has no offset for starts at
/// its first message at or after that time.
private func startPosition(_ n: SpecNode?) -> KafkaStartPosition? {
    guard let n, let text = n.string else { return nil }
    switch text {
    case "earliest": return .earliest
    case "latest": return .latest
    default:
        guard let t = TimestampFormat.iso8601.parse(text) else {
            n.problem("expected earliest, latest or an ISO 8601 time such as 2026-11-30T00:00:00Z, found '\(text)'")
            return nil
        }
        return .timestamp(t.microseconds / 1_000)
    }
}
