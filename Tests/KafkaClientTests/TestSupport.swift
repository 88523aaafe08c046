#if Kafka
    import Foundation
    import KafkaClient
    import Logging
    import Testing

    /// The broker scripts/test starts (scripts/services/kafka.sh), or a local one on 19092.
    let testBrokers = ProcessInfo.processInfo.environment["RUNNEL_TEST_KAFKA_BROKERS"] ?? "127.0.0.1:19092"

    /// Tests log nothing unless RUNNEL_TEST_LOG is set.
    let testLogger: Logger = {
        if ProcessInfo.processInfo.environment["RUNNEL_TEST_LOG"] != nil {
            var logger = Logger(label: "kafka-client-tests")
            logger.logLevel = .debug
            return logger
        }
        return Logger(label: "kafka-client-tests", factory: { _ in SwiftLogNoOpLogHandler() })
    }()

    var testClient: KafkaConfiguration { KafkaConfiguration(brokers: [testBrokers]) }

    /// A consumer configuration for the test broker. The session timeout is Kafka's minimum
    /// (6 s): Tansu waits about half of it for other members before it completes a join.
    func testConsumerConfiguration(group: String) -> KafkaConsumer.Configuration {
        var client = testClient
        client.properties["session.timeout.ms"] = "6000"
        client.properties["heartbeat.interval.ms"] = "500"
        return KafkaConsumer.Configuration(client: client, group: group)
    }

    /// A name no other test (or earlier run) uses, so suites run in parallel against one broker.
    func uniqueName(_ name: String) -> String {
        "runnel-test-\(name)-\(UUID().uuidString.prefix(8).lowercased())"
    }

    /// A new topic with `partitions` partitions.
    func makeTopic(_ name: String, partitions: Int32) async throws -> String {
        let topic = uniqueName(name)
        let admin = try KafkaAdmin(testClient, logger: testLogger)
        try await admin.createTopic(topic, partitions: partitions)
        return topic
    }

    /// Sends `count` keyed JSON messages `{"n": i}` with key `k<i>`, spread by key.
    func produce(_ topic: String, count: Int, from start: Int = 0) async throws {
        let producer = try KafkaProducer(.init(client: testClient), logger: testLogger)
        var messages: [KafkaOutgoingMessage] = []
        for i in start..<(start + count) {
            messages.append(KafkaOutgoingMessage(topic: topic, key: Array("k\(i)".utf8), value: Array("{\"n\":\(i)}".utf8)))
        }
        try await producer.send(messages)
        await producer.close()
    }

    /// Records what a consumer was assigned and revoked, for the assertions.
    final class RebalanceLog: Sendable {
        let events = Locked<[KafkaConsumer.RebalanceEvent]>([])
        var handler: KafkaConsumer.RebalanceHandler {
            { event in
                self.events.withLock { $0.append(event) }
                return [:]
            }
        }
    }

    final class Locked<Value: Sendable>: @unchecked Sendable {
        // `@unchecked`: every access holds `lock`.
        private var value: Value
        private let lock = NSLock()
        init(_ value: Value) { self.value = value }
        func withLock<R>(_ body: (inout Value) -> R) -> R {
            lock.lock()
            defer { lock.unlock() }
            return body(&value)
        }
        var current: Value { withLock { $0 } }
    }

    struct Timeout: Error, CustomStringConvertible {
        var description: String
    }

    /// Takes messages until `condition` holds for what was taken, failing after `timeout`.
    func consume(
        _ consumer: KafkaConsumer, timeout: Duration = .seconds(30), until condition: ([KafkaMessage]) -> Bool
    ) async throws -> [KafkaMessage] {
        var all: [KafkaMessage] = []
        let deadline = ContinuousClock.now + timeout
        while !condition(all) {
            guard ContinuousClock.now < deadline else {
                throw Timeout(description: "condition not met after \(timeout); \(all.count) messages taken")
            }
            all += try await consumer.take(maxMessages: 500, waitingUpTo: .milliseconds(200))
        }
        return all
    }

    /// Polls `condition` until it holds, failing after `timeout`. Waits on an outcome; the short
    /// pause between polls only keeps it from spinning.
    func eventually(_ what: String, timeout: Duration = .seconds(30), _ condition: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while try await !condition() {
            guard ContinuousClock.now < deadline else { throw Timeout(description: "\(what): not after \(timeout)") }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    extension KafkaMessage {
        var text: String { value.map { String(decoding: $0, as: UTF8.self) } ?? "" }
    }
#endif
