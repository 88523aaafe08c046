import CRdkafka

/// One partition of one topic.
public struct KafkaTopicPartition: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var topic: String
    public var partition: Int32

    public init(_ topic: String, _ partition: Int32) {
        self.topic = topic
        self.partition = partition
    }

    public var description: String { "\(topic)[\(partition)]" }

    public static func < (a: Self, b: Self) -> Bool {
        a.topic == b.topic ? a.partition < b.partition : a.topic < b.topic
    }
}

/// A message as the consumer read it. `key` and `value` are nil for a null key or value (a
/// tombstone), which is not the same as empty.
public struct KafkaMessage: Sendable {
    public var topic: String
    public var partition: Int32
    public var offset: Int64
    public var key: [UInt8]?
    public var value: [UInt8]?
    public var headers: [(name: String, value: [UInt8]?)]
    /// Milliseconds since the epoch (create or log-append time); nil when the broker gave none.
    public var timestamp: Int64?
    /// The consumer's assignment generation when the message was fetched: it grows by one
    /// at every rebalance, so a reader can tell a message fetched before its partition was
    /// revoked (and maybe assigned back) from one fetched after.
    public var generation: UInt64
    /// True for a message of a partition that starts by time (`startTimestamp`) that comes before
    /// the partition's first message at or after that time: the reader passes over it (its offset
    /// still counts as read). The broker's by-time lookup normally starts past such messages;
    /// this catches a broker whose time index answers with an earlier offset.
    public var beforeStart = false

    public init(
        topic: String, partition: Int32, offset: Int64, key: [UInt8]?, value: [UInt8]?,
        headers: [(name: String, value: [UInt8]?)] = [], timestamp: Int64? = nil, generation: UInt64 = 0
    ) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.key = key
        self.value = value
        self.headers = headers
        self.timestamp = timestamp
        self.generation = generation
    }

    public var topicPartition: KafkaTopicPartition { KafkaTopicPartition(topic, partition) }

    /// Copies a message out of librdkafka's buffer (the caller destroys `m`).
    init(copying m: UnsafeMutablePointer<rd_kafka_message_t>, generation: UInt64) {
        let message = m.pointee
        topic = String(cString: rd_kafka_topic_name(message.rkt))
        partition = message.partition
        offset = message.offset
        key = message.key.map { Array(UnsafeRawBufferPointer(start: $0, count: message.key_len)) }
        value = message.payload.map { Array(UnsafeRawBufferPointer(start: $0, count: message.len)) }
        var type = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE
        let ts = rd_kafka_message_timestamp(m, &type)
        timestamp = type == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE || ts < 0 ? nil : ts
        headers = []
        var hdrs: OpaquePointer?
        if rd_kafka_message_headers(m, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR, let hdrs {
            var index = 0
            var name: UnsafePointer<CChar>?
            var value: UnsafeRawPointer?
            var size = 0
            while rd_kafka_header_get_all(hdrs, index, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR {
                let bytes = value.map { Array(UnsafeRawBufferPointer(start: $0, count: size)) }
                headers.append((name.map { String(cString: $0) } ?? "", bytes))
                index += 1
            }
        }
        self.generation = generation
    }

    /// Approximate size, for byte-based batching.
    public var byteCount: Int { (key?.count ?? 0) + (value?.count ?? 0) + 32 }
}

/// A message for the producer.
public struct KafkaOutgoingMessage: Sendable {
    public var topic: String
    /// Nil: librdkafka's partitioner chooses by key (consistent hashing), or spreads keyless
    /// messages.
    public var partition: Int32?
    public var key: [UInt8]?
    public var value: [UInt8]?
    public var headers: [(name: String, value: [UInt8])]
    /// The message's time (milliseconds since the epoch); nil: when it is sent.
    public var timestamp: Int64?

    public init(
        topic: String, partition: Int32? = nil, key: [UInt8]?, value: [UInt8]?, headers: [(name: String, value: [UInt8])] = [],
        timestamp: Int64? = nil
    ) {
        self.timestamp = timestamp
        self.topic = topic
        self.partition = partition
        self.key = key
        self.value = value
        self.headers = headers
    }
}

/// Reads and writes librdkafka partition lists.
enum PartitionList {
    static func make(_ offsets: [(KafkaTopicPartition, Int64)]) -> UnsafeMutablePointer<rd_kafka_topic_partition_list_t> {
        let list = rd_kafka_topic_partition_list_new(Int32(max(1, offsets.count)))!
        for (tp, offset) in offsets {
            let element = rd_kafka_topic_partition_list_add(list, tp.topic, tp.partition)!
            element.pointee.offset = offset
        }
        return list
    }

    static func make(_ partitions: [KafkaTopicPartition]) -> UnsafeMutablePointer<rd_kafka_topic_partition_list_t> {
        make(partitions.map { ($0, Int64(RD_KAFKA_OFFSET_INVALID)) })
    }

    /// Every element: partition, offset, and its error (NO_ERROR for none).
    static func read(_ list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>) -> [(KafkaTopicPartition, Int64, rd_kafka_resp_err_t)] {
        var out: [(KafkaTopicPartition, Int64, rd_kafka_resp_err_t)] = []
        for i in 0..<Int(list.pointee.cnt) {
            let e = runnel_kafka_partition_at(list, Int32(i))!.pointee
            out.append((KafkaTopicPartition(String(cString: e.topic), e.partition), e.offset, e.err))
        }
        return out
    }
}
