public import KafkaClient
public import RunnelCore

/// Writes each record as a JSON message to a topic through the idempotent producer
/// (`enable.idempotence=true`, `acks=all`). The message key comes from the `key` fields, headers
/// from the `headers` fields. A batch counts as stored only when every delivery report came
/// back successful; a failed delivery fails the load, which the runner retries whole (the
/// redelivered messages carry the same keys, so a compacted or key-deduplicating consumer sees
/// each record once).
///
/// ```yaml
/// load: {type: kafka, brokers: [kafka-0:9092], topic: orders-clean, key: [order_id], headers: [source]}
/// ```
public struct KafkaSink: Loader {
    public struct Configuration: Sendable {
        public var topic: String
        /// Fields whose values form the message key: one field's text, or a JSON array of
        /// several. Empty: no key (librdkafka spreads the messages over the partitions).
        public var key: [String] = []
        /// Fields sent as headers (their text), besides being part of the value.
        public var headers: [String] = []
        public init(topic: String) { self.topic = topic }
    }

    public let configuration: Configuration
    public let producer: KafkaProducer

    public init(_ configuration: Configuration, producer: KafkaProducer) {
        self.configuration = configuration
        self.producer = producer
    }

    public var target: String { "kafka topic \(configuration.topic)" }

    public func prepare(schema: Schema?) async throws {
        guard let schema else { return }
        for f in configuration.key + configuration.headers where schema.index(of: f) == nil {
            throw RunnelError.config("load (kafka): field '\(f)' named in key or headers is not among the records' fields (\(schema.fields.joined(separator: ", ")))")
        }
    }

    public func load(_ batch: Batch, commit: CheckpointCommit?) async throws -> LoadOutcome {
        let c = configuration
        let keyPositions = c.key.map { batch.schema.index(of: $0) }
        let headerPositions = c.headers.map { batch.schema.index(of: $0) }
        var messages: [KafkaOutgoingMessage] = []
        messages.reserveCapacity(batch.records.count)
        // The batch span's context, so that consumers downstream continue the trace (tracing on).
        let traceparent = batch.trace.context.map { Array($0.traceparent.utf8) }
        var bytes: [UInt8] = []
        for r in batch.records {
            bytes.removeAll(keepingCapacity: true)
            JSONText.write(.object(r.object(batch.schema)), into: &bytes)
            var key: [UInt8]?
            if !keyPositions.isEmpty {
                let values = keyPositions.map { p in p.map { r.values[$0] } ?? .null }
                key = Array((values.count == 1 ? values[0].text : JSONText.encode(.array(values))).utf8)
            }
            var headers: [(name: String, value: [UInt8])] = []
            for (name, p) in zip(c.headers, headerPositions) {
                if let p, r.values[p] != .null { headers.append((name, Array(r.values[p].text.utf8))) }
            }
            if let traceparent, !c.headers.contains("traceparent") { headers.append(("traceparent", traceparent)) }
            messages.append(KafkaOutgoingMessage(topic: c.topic, key: key, value: bytes, headers: headers))
        }
        do {
            try await producer.send(messages)
        } catch {
            throw KafkaErrors.runnel(error, "load kafka \(c.topic)")
        }
        return .stored
    }
}

/// Dead letters as JSON envelopes on a topic, keyed by the letter's source position (so a
/// compacted topic keeps one per position, as the other queues do).
public struct KafkaDeadLetterTopic: DeadLetterQueue {
    public let topic: String
    public let producer: KafkaProducer

    public init(topic: String, producer: KafkaProducer) {
        self.topic = topic
        self.producer = producer
    }

    public var target: String { "kafka topic \(topic)" }

    public func write(_ letters: [DeadLetter]) async throws {
        let messages = letters.map {
            KafkaOutgoingMessage(topic: topic, key: Array("\($0.pipeline)|\($0.key)".utf8), value: Array(JSONText.encode($0.envelope).utf8))
        }
        do { try await producer.send(messages) } catch { throw KafkaErrors.runnel(error, "dead letters to kafka \(topic)") }
    }

    public func list(pipeline: String, limit: Int?) async throws -> [DeadLetter] {
        throw RunnelError.config("dead letters on the Kafka topic '\(topic)' are read with a consumer of that topic; 'dead-letter list' and 'redrive' need a table or stream queue")
    }

    public func remove(pipeline: String, keys: [String]) async throws {
        throw RunnelError.config("dead letters on a Kafka topic cannot be removed")
    }
}

enum KafkaErrors {
    /// A client error as a classified Runnel error: transient ones are retried by the runner.
    static func runnel(_ error: KafkaError, _ context: String) -> RunnelError {
        switch error.code {
        case .invalidConfiguration: RunnelError(.config, "\(context): \(error.message)", underlying: error)
        case _ where error.isTransient: RunnelError(.transient, "\(context): \(error.message)", underlying: error)
        default: RunnelError(.failure, "\(context): \(error.message)", underlying: error)
        }
    }
}
