import CRdkafka
public import Logging

/// Topic administration, for tests and examples: create and delete topics.
public final class KafkaAdmin: Sendable {
    private let handle: KafkaHandle
    private let context: ClientContext
    private let calls = BlockingExecutor(name: "runnel-kadmin")

    public init(_ configuration: KafkaConfiguration, logger: Logger = Logger(label: "runnel.kafka")) throws(KafkaError) {
        let context = ClientContext(logger: logger)
        let conf = try configuration.makeConf(extra: [])
        do {
            handle = try KafkaHandle.create(RD_KAFKA_PRODUCER, conf: conf, context: context)
        } catch {
            calls.stop()
            throw error
        }
        self.context = context
    }

    deinit {
        calls.stop()
        BoundedDestroy.destroy(handle, context: context, what: "admin client", logger: context.logger)
    }

    /// Creates a topic; `ignoreExisting` makes an existing one a success.
    public func createTopic(
        _ name: String, partitions: Int32, replicationFactor: Int32 = 1, ignoreExisting: Bool = true,
        timeout: Duration = .seconds(30)
    ) async throws(KafkaError) {
        let handle = self.handle
        try await calls.run { () throws(KafkaError) in
            var errstr = [CChar](repeating: 0, count: 512)
            let topic = errstr.withUnsafeMutableBufferPointer {
                rd_kafka_NewTopic_new(name, partitions, replicationFactor, $0.baseAddress, $0.count)
            }
            guard let topic else {
                throw KafkaError(code: .invalidConfiguration, message: errstr.withUnsafeBufferPointer { String(cString: $0.baseAddress!) })
            }
            defer { rd_kafka_NewTopic_destroy(topic) }
            var topics: [OpaquePointer?] = [topic]
            try Self.runAdmin(handle, timeout: timeout, what: "create topic \(name)", ignoring: ignoreExisting ? RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS : nil) {
                queue, options in rd_kafka_CreateTopics(handle.pointer, &topics, 1, options, queue)
            } results: { event in
                let result = rd_kafka_event_CreateTopics_result(event)
                var count = 0
                let items = rd_kafka_CreateTopics_result_topics(result, &count)
                return (0..<count).map { items![$0]! }
            }
        }
    }

    /// Deletes a topic; a missing one is a success.
    public func deleteTopic(_ name: String, timeout: Duration = .seconds(30)) async throws(KafkaError) {
        let handle = self.handle
        try await calls.run { () throws(KafkaError) in
            let topic = rd_kafka_DeleteTopic_new(name)
            defer { rd_kafka_DeleteTopic_destroy(topic) }
            var topics: [OpaquePointer?] = [topic]
            try Self.runAdmin(handle, timeout: timeout, what: "delete topic \(name)", ignoring: RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) {
                queue, options in rd_kafka_DeleteTopics(handle.pointer, &topics, 1, options, queue)
            } results: { event in
                let result = rd_kafka_event_DeleteTopics_result(event)
                var count = 0
                let items = rd_kafka_DeleteTopics_result_topics(result, &count)
                return (0..<count).map { items![$0]! }
            }
        }
    }

    /// The number of partitions of `topic` (from metadata); nil when it does not exist.
    public func partitionCount(_ topic: String, timeout: Duration = .seconds(10)) async throws(KafkaError) -> Int? {
        let handle = self.handle
        return try await calls.run { () throws(KafkaError) -> Int? in
            let rkt = rd_kafka_topic_new(handle.pointer, topic, nil)
            defer { rd_kafka_topic_destroy(rkt) }
            var metadata: UnsafePointer<rd_kafka_metadata>?
            let err = rd_kafka_metadata(handle.pointer, 0, rkt, &metadata, timeout.kafkaMilliseconds)
            guard err == RD_KAFKA_RESP_ERR_NO_ERROR, let metadata else { throw KafkaError(err, context: "metadata of \(topic)") }
            defer { rd_kafka_metadata_destroy(metadata) }
            guard metadata.pointee.topic_cnt > 0 else { return nil }
            let t = metadata.pointee.topics[0]
            if t.err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART { return nil }
            return Int(t.partition_cnt)
        }
    }

    /// Starts an admin request on a temporary queue, waits for its result event and checks
    /// each topic's error.
    private static func runAdmin(
        _ handle: KafkaHandle, timeout: Duration, what: String, ignoring: rd_kafka_resp_err_t?,
        start: (OpaquePointer, OpaquePointer) -> Void, results: (OpaquePointer) -> [OpaquePointer]
    ) throws(KafkaError) {
        let queue = rd_kafka_queue_new(handle.pointer)!
        defer { rd_kafka_queue_destroy(queue) }
        let options = rd_kafka_AdminOptions_new(handle.pointer, RD_KAFKA_ADMIN_OP_ANY)!
        defer { rd_kafka_AdminOptions_destroy(options) }
        var errstr = [CChar](repeating: 0, count: 256)
        _ = errstr.withUnsafeMutableBufferPointer {
            rd_kafka_AdminOptions_set_operation_timeout(options, timeout.kafkaMilliseconds, $0.baseAddress, $0.count)
        }
        start(queue, options)
        guard let event = rd_kafka_queue_poll(queue, timeout.kafkaMilliseconds + 5_000) else {
            throw KafkaError(code: .timeout, message: "\(what): no answer")
        }
        defer { rd_kafka_event_destroy(event) }
        let err = rd_kafka_event_error(event)
        if err != RD_KAFKA_RESP_ERR_NO_ERROR {
            throw KafkaError(code: KafkaError.classify(err), kafkaCode: err.rawValue, message: "\(what): \(String(cString: rd_kafka_event_error_string(event)))")
        }
        for item in results(event) {
            let err = rd_kafka_topic_result_error(item)
            if err == RD_KAFKA_RESP_ERR_NO_ERROR || err == ignoring { continue }
            let text = rd_kafka_topic_result_error_string(item).map { String(cString: $0) } ?? ""
            throw KafkaError(code: KafkaError.classify(err), kafkaCode: err.rawValue, message: "\(what): \(text)")
        }
    }
}
