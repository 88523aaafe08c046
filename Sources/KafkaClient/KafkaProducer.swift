import CRdkafka
public import Logging

/// A producer whose `send` returns only when every message of the call was acknowledged
/// by the broker (or throws the first delivery failure).
///
/// Idempotent by default (`enable.idempotence=true`, `acks=all`): librdkafka's retries of a
/// batch never write a message twice or out of order. Delivery reports are served by a poll
/// thread of its own (`runnel-kprod`); `send` enqueues on the call thread, never on Swift's
/// cooperative pool, because a full local queue makes it wait.
///
/// ```swift
/// let producer = try KafkaProducer(.init(client: .init(brokers: ["127.0.0.1:9092"])))
/// try await producer.send([KafkaOutgoingMessage(topic: "orders", key: Array("42".utf8), value: Array(json.utf8))])
/// await producer.close()
/// ```
public final class KafkaProducer: Sendable {
    public struct Configuration: Sendable {
        public var client: KafkaConfiguration
        /// `enable.idempotence` with `acks=all`. Default true.
        public var idempotent: Bool = true
        /// `linger.ms`: how long librdkafka waits to fill a request. Default 5 ms.
        public var linger: Duration = .milliseconds(5)

        public init(client: KafkaConfiguration) { self.client = client }

        var producerProperties: [(name: String, value: String)] {
            var list: [(name: String, value: String)] = [("linger.ms", "\(linger.kafkaMilliseconds)")]
            if idempotent { list += [("enable.idempotence", "true"), ("acks", "all")] }
            return list
        }

        public func validate() throws(KafkaError) { try client.validate(extra: producerProperties) }
    }

    public let configuration: Configuration
    private let handle: KafkaHandle
    private let core: ProducerCore
    private let calls = BlockingExecutor(name: "runnel-kcall")
    private let poller: Locked<DedicatedThread?>

    public init(_ configuration: Configuration, logger: Logger = Logger(label: "runnel.kafka")) throws(KafkaError) {
        self.configuration = configuration
        let core = ProducerCore(logger: logger)
        // Producer properties first: the client's `properties:` may override linger.
        let conf = try configuration.client.makeConf(extra: [])
        for (name, value) in configuration.producerProperties where configuration.client.properties[name] == nil {
            if let message = KafkaConfiguration.set(conf, name, value) {
                rd_kafka_conf_destroy(conf)
                throw KafkaError(code: .invalidConfiguration, message: "property '\(name)': \(message)")
            }
        }
        rd_kafka_conf_set_dr_msg_cb(conf) { rk, message, opaque in
            guard let message, let opaque else { return }
            let core = Unmanaged<ClientContext>.fromOpaque(opaque).takeUnretainedValue() as! ProducerCore
            core.delivered(token: UInt(bitPattern: message.pointee._private), err: message.pointee.err)
        }
        do {
            handle = try KafkaHandle.create(RD_KAFKA_PRODUCER, conf: conf, context: core)
        } catch {
            calls.stop()
            throw error
        }
        self.core = core
        let handle = self.handle
        poller = Locked(
            DedicatedThread(name: "runnel-kprod") {
                while !core.closing.get() { rd_kafka_poll(handle.pointer, 100) }
            })
    }

    deinit {
        if !core.destroyed.get() {
            core.closing.set(true)
            poller.take()?.join()
            calls.stop()
            BoundedDestroy.destroy(handle, context: core, what: "producer", logger: core.logger)
        }
    }

    /// Sends `messages` and waits until every one is acknowledged. The first failed delivery
    /// is thrown once all reports are in (the others may have been written: the caller
    /// retries the whole batch, which idempotent keyed writes make harmless downstream).
    public func send(_ messages: [KafkaOutgoingMessage]) async throws(KafkaError) {
        guard !messages.isEmpty else { return }
        if let fatal = core.fatalError.get() { throw fatal }
        let handle = self.handle
        let core = self.core
        let result: KafkaError? = await withCheckedContinuation { continuation in
            let token = core.register(count: messages.count, continuation)
            Task {
                // Enqueueing may wait for room in librdkafka's queue: on the call thread.
                let unsent: (Int, KafkaError)? = try? await calls.run { () -> (Int, KafkaError)? in
                    for (i, m) in messages.enumerated() {
                        if let error = Self.enqueue(handle.pointer, m, token: token, core: core) { return (messages.count - i, error) }
                    }
                    return nil
                }
                if let (count, error) = unsent {
                    core.failed(token: token, count: count, error)
                }
            }
        }
        if let result { throw result }
    }

    /// Enqueues one message, waiting while librdkafka's queue is full; nil on success.
    private static func enqueue(_ rk: OpaquePointer, _ m: KafkaOutgoingMessage, token: UInt, core: ProducerCore) -> KafkaError? {
        while true {
            if core.closing.get() { return KafkaError(code: .closed, message: "producer closed") }
            var headers: OpaquePointer?
            if !m.headers.isEmpty {
                headers = rd_kafka_headers_new(m.headers.count)
                for h in m.headers {
                    _ = h.value.withUnsafeBytes { rd_kafka_header_add(headers, h.name, -1, $0.baseAddress, $0.count) }
                }
            }
            let partition = m.partition ?? Int32(RD_KAFKA_PARTITION_UA)
            let opaque = UnsafeMutableRawPointer(bitPattern: token)
            let err = withOptionalBytes(m.key) { key, keyLength in
                withOptionalBytes(m.value) { value, valueLength in
                    runnel_kafka_produce(
                        rk, m.topic, partition, key, keyLength, UnsafeMutableRawPointer(mutating: value), valueLength, headers,
                        m.timestamp ?? 0, opaque)
                }
            }
            if err == RD_KAFKA_RESP_ERR_NO_ERROR { return nil }
            if let headers { rd_kafka_headers_destroy(headers) }
            guard err == RD_KAFKA_RESP_ERR__QUEUE_FULL else { return KafkaError(err, context: "produce to \(m.topic)") }
            // Serve delivery reports here too, so the queue drains while we wait.
            rd_kafka_poll(rk, 10)
        }
    }

    /// Waits up to `timeout` for every queued message to be delivered.
    public func flush(timeout: Duration = .seconds(30)) async throws(KafkaError) {
        let handle = self.handle
        try await calls.run { () throws(KafkaError) in
            let err = rd_kafka_flush(handle.pointer, timeout.kafkaMilliseconds)
            if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(err, context: "flush") }
        }
    }

    /// Flushes (up to 10 s), stops the poll thread and frees librdkafka. Idempotent.
    public func close() async {
        try? await flush(timeout: .seconds(10))
        core.closing.set(true)
        let poller = self.poller.take()
        let handle = self.handle
        let core = self.core
        _ = try? await calls.run { () throws(KafkaError) in
            poller?.join()
            if !core.destroyed.get() {
                core.destroyed.set(true)
                BoundedDestroy.destroy(handle, context: core, what: "producer", logger: core.logger)
            }
        }
        calls.stop()
        core.failAll(KafkaError(code: .closed, message: "producer closed before delivery"))
    }
}

private func withOptionalBytes<R>(_ bytes: [UInt8]?, _ body: (UnsafeRawPointer?, Int) -> R) -> R {
    guard let bytes else { return body(nil, 0) }
    return bytes.withUnsafeBytes { body($0.baseAddress, $0.count) }
}

/// Delivery bookkeeping: one entry per `send` call, counted down by the delivery callback.
final class ProducerCore: ClientContext, @unchecked Sendable {
    // `@unchecked`: every mutable field is behind a lock (`Locked`).
    struct Pending {
        var remaining: Int
        var firstError: KafkaError?
        var continuation: CheckedContinuation<KafkaError?, Never>
    }

    let pending = Locked<(next: UInt, batches: [UInt: Pending])>((1, [:]))
    let closing = Locked(false)
    let destroyed = Locked(false)

    func register(count: Int, _ continuation: CheckedContinuation<KafkaError?, Never>) -> UInt {
        pending.withLock { p in
            let token = p.next
            p.next += 1
            p.batches[token] = Pending(remaining: count, firstError: nil, continuation: continuation)
            return token
        }
    }

    func delivered(token: UInt, err: rd_kafka_resp_err_t) {
        let error = err == RD_KAFKA_RESP_ERR_NO_ERROR ? nil : KafkaError(err, context: "delivery")
        countDown(token: token, count: 1, error)
    }

    func failed(token: UInt, count: Int, _ error: KafkaError) { countDown(token: token, count: count, error) }

    private func countDown(token: UInt, count: Int, _ error: KafkaError?) {
        let done = pending.withLock { p -> (CheckedContinuation<KafkaError?, Never>, KafkaError?)? in
            guard var entry = p.batches[token] else { return nil }
            entry.remaining -= count
            if entry.firstError == nil { entry.firstError = error }
            if entry.remaining > 0 {
                p.batches[token] = entry
                return nil
            }
            p.batches[token] = nil
            return (entry.continuation, entry.firstError)
        }
        if let (continuation, error) = done { continuation.resume(returning: error) }
    }

    func failAll(_ error: KafkaError) {
        let all = pending.withLock { p in
            defer { p.batches = [:] }
            return Array(p.batches.values)
        }
        for entry in all { entry.continuation.resume(returning: entry.firstError ?? error) }
    }
}
