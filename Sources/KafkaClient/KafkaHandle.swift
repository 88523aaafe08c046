import CRdkafka
import Logging

/// What librdkafka's callbacks reach: the logger and the last error. Consumers and producers
/// subclass it for their own callbacks. librdkafka calls in from its own threads, so every
/// mutable field is behind a lock.
///
/// `@unchecked Sendable`: `logger` is immutable and the rest is behind `Locked`.
class ClientContext: @unchecked Sendable {
    let logger: Logger
    /// The last error librdkafka reported by callback, with the time; cleared by the owner
    /// when the client works again.
    let lastError = Locked<KafkaError?>(nil)
    /// Set once a fatal error was raised: the client cannot be used any more.
    let fatalError = Locked<KafkaError?>(nil)
    /// The last time the brokers refused this client's credentials or certificate (kept when
    /// later errors, such as "all brokers down", follow it; cleared with `lastError`).
    let refusal = Locked<KafkaError?>(nil)

    init(logger: Logger) { self.logger = logger }

    func errorReported(_ rk: OpaquePointer, _ err: rd_kafka_resp_err_t, reason: String) {
        if err == RD_KAFKA_RESP_ERR__FATAL {
            var buffer = [CChar](repeating: 0, count: 512)
            let code = buffer.withUnsafeMutableBufferPointer { rd_kafka_fatal_error(rk, $0.baseAddress, $0.count) }
            let text = buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
            let error = KafkaError(code: .fatal, kafkaCode: code.rawValue, message: text)
            fatalError.set(error)
            logger.error("kafka client failed", metadata: ["runnel.error": "\(error)"])
            return
        }
        var error = KafkaError(err, context: nil)
        error.message = reason
        if error.isRefusal { refusal.set(error) }
        let first = lastError.withLock { last in
            defer { last = error }
            return last?.kafkaCode != error.kafkaCode
        }
        // librdkafka repeats the same error while brokers stay down: log the first of a run.
        if first { logger.warning("kafka", metadata: ["runnel.error": "\(error)"]) }
    }

    func log(level: Int32, facility: String, message: String) {
        // syslog levels: 0–3 errors, 4 warning, 5–6 notice/info, 7 debug.
        let metadata: Logger.Metadata = ["runnel.kafka_facility": "\(facility)"]
        switch level {
        case ...3: logger.error("\(message)", metadata: metadata)
        case 4: logger.warning("\(message)", metadata: metadata)
        case 5...6: logger.info("\(message)", metadata: metadata)
        default: logger.debug("\(message)", metadata: metadata)
        }
    }
}

/// An `rd_kafka_t`. `@unchecked Sendable`: librdkafka's handles are thread safe (its
/// documentation: every API may be called from any thread); the pointer itself never changes.
struct KafkaHandle: @unchecked Sendable {
    let pointer: OpaquePointer

    /// Creates the handle from `conf`, whose ownership passes to librdkafka on success (and
    /// is destroyed here on failure). `context` must outlive the handle.
    static func create(_ type: rd_kafka_type_t, conf: OpaquePointer, context: ClientContext) throws(KafkaError) -> KafkaHandle {
        rd_kafka_conf_set_opaque(conf, Unmanaged.passUnretained(context).toOpaque())
        rd_kafka_conf_set_error_cb(conf) { rk, err, reason, opaque in
            guard let rk, let opaque else { return }
            let context = Unmanaged<ClientContext>.fromOpaque(opaque).takeUnretainedValue()
            context.errorReported(rk, rd_kafka_resp_err_t(rawValue: err), reason: reason.map { String(cString: $0) } ?? "")
        }
        rd_kafka_conf_set_log_cb(conf) { rk, level, facility, message in
            guard let rk, let opaque = rd_kafka_opaque(rk) else { return }
            let context = Unmanaged<ClientContext>.fromOpaque(opaque).takeUnretainedValue()
            context.log(
                level: level, facility: facility.map { String(cString: $0) } ?? "",
                message: message.map { String(cString: $0) } ?? "")
        }
        var errstr = [CChar](repeating: 0, count: 512)
        let rk = errstr.withUnsafeMutableBufferPointer { rd_kafka_new(type, conf, $0.baseAddress, $0.count) }
        guard let rk else {
            rd_kafka_conf_destroy(conf)
            let message = errstr.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
            throw KafkaError(code: .invalidConfiguration, message: message)
        }
        return KafkaHandle(pointer: rk)
    }
}

extension Duration {
    /// Whole milliseconds, rounded down, as librdkafka's `int` timeouts want them.
    var kafkaMilliseconds: Int32 {
        let (seconds, attoseconds) = components
        return Int32(clamping: seconds * 1_000 + attoseconds / 1_000_000_000_000_000)
    }
}
