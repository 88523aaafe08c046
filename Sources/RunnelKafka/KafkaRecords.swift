import KafkaClient
import RunnelCore

/// Kafka messages to record objects, by format.
enum KafkaRecords {
    static func object(_ m: KafkaMessage, format: KafkaMessageFormat, json: JSONText.Stream) throws(RecordError) -> Object {
        guard format.parsesValue else {
            var o = Object()
            o.set("key", m.key.map { .string(text($0)) } ?? .null)
            o.set("value", m.value.map { .string(text($0)) } ?? .null)
            o.set("headers", headers(m))
            addPosition(&o, m, prefix: "")
            return o
        }
        guard let value = m.value else {
            throw RecordError(code: "malformed_message", message: "the message has no value (a tombstone); format \(format) needs a JSON object")
        }
        var o = try parseObject(value, json: json)
        if format.addsMetadata {
            o.set("kafka_key", m.key.map { .string(text($0)) } ?? .null)
            o.set("kafka_headers", headers(m))
            addPosition(&o, m, prefix: "kafka_")
        }
        return o
    }

    static func parseObject(_ bytes: [UInt8], json: JSONText.Stream) throws(RecordError) -> Object {
        let value: Value
        do {
            value = try bytes.withUnsafeBytes { raw throws(JSONError) in try json.parse(raw) }
        } catch {
            throw RecordError(code: "malformed_message", message: "not valid JSON: \(error)")
        }
        guard case .object(let object) = value else {
            throw RecordError(code: "malformed_message", message: "the value is a JSON \(value.typeName), not an object")
        }
        return object
    }

    /// The value as text for a dead letter, with the key and headers where there are any
    /// (they are not part of the parsed record when the value could not be parsed).
    static func raw(_ m: KafkaMessage) -> String { m.value.map(text) ?? "" }

    static func origin(_ m: KafkaMessage) -> Origin {
        Origin(source: m.topic, offset: m.offset, id: "\(m.partition)/\(m.offset)")
    }

    /// Describes key and headers for the rejection message of an unparsable value.
    static func context(_ m: KafkaMessage) -> String {
        var parts = ["partition \(m.partition) offset \(m.offset)"]
        if let k = m.key { parts.append("key \(JSONText.encode(.string(text(k))))") }
        if !m.headers.isEmpty { parts.append("headers \(JSONText.encode(headers(m)))") }
        return parts.joined(separator: ", ")
    }

    private static func addPosition(_ o: inout Object, _ m: KafkaMessage, prefix: String) {
        o.set(prefix + "topic", .string(m.topic))
        o.set(prefix + "partition", .int(Int64(m.partition)))
        o.set(prefix + "offset", .int(m.offset))
        o.set(prefix + "timestamp", m.timestamp.map { .timestamp(Timestamp(microseconds: $0 &* 1_000)) } ?? .null)
    }

    private static func headers(_ m: KafkaMessage) -> Value {
        var h = Object()
        for (name, value) in m.headers { h.set(name, value.map { .string(text($0)) } ?? .null) }
        return .object(h)
    }

    private static func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }
}
