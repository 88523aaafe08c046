import CRdkafka

/// An error from librdkafka or from the broker.
///
/// `code` says what kind of failure it is; `kafkaCode` is librdkafka's own error code
/// (`rd_kafka_resp_err_t`, negative for client-side errors), and `message` librdkafka's text.
/// Messages never contain a secret: they come from librdkafka, which does not print
/// passwords, or from this module, which formats only redacted configuration.
public struct KafkaError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The kind of failure. A struct over a private enum so that cases can be added.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: String, Sendable, Hashable {
            case invalidConfiguration, transient, broker, fatal, closed, timeout
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// A property librdkafka refused (name and value are in the message).
        public static let invalidConfiguration = Code(.invalidConfiguration)
        /// Brokers unreachable, a connection dropped, a coordinator moving: retry later.
        public static let transient = Code(.transient)
        /// The broker answered with an error that a retry will not fix (unknown topic, not
        /// authorized, a rebalance that took the partition away).
        public static let broker = Code(.broker)
        /// The client cannot go on (a fenced idempotent producer, a failed authentication
        /// setup); it must be created again.
        public static let fatal = Code(.fatal)
        /// The client was closed by its owner.
        public static let closed = Code(.closed)
        /// The operation did not finish in the time it was given.
        public static let timeout = Code(.timeout)

        public var description: String { base.rawValue }
    }

    public var code: Code
    /// librdkafka's error code; 0 where the error did not come from librdkafka.
    public var kafkaCode: Int32
    public var message: String

    public init(code: Code, kafkaCode: Int32 = 0, message: String) {
        self.code = code
        self.kafkaCode = kafkaCode
        self.message = message
    }

    /// An error for librdkafka's code `err`, classified as transient or not.
    init(_ err: rd_kafka_resp_err_t, context: String? = nil) {
        let text = String(cString: rd_kafka_err2str(err))
        let message = context.map { "\($0): \(text)" } ?? text
        self.init(code: Self.classify(err), kafkaCode: err.rawValue, message: message)
    }

    /// An error from an `rd_kafka_error_t`, which it destroys.
    init(consuming error: OpaquePointer, context: String? = nil) {
        let err = rd_kafka_error_code(error)
        let text = String(cString: rd_kafka_error_string(error))
        let message = context.map { "\($0): \(text)" } ?? text
        var code = Self.classify(err)
        if rd_kafka_error_is_fatal(error) != 0 {
            code = .fatal
        } else if rd_kafka_error_is_retriable(error) != 0 {
            code = .transient
        }
        rd_kafka_error_destroy(error)
        self.init(code: code, kafkaCode: err.rawValue, message: message)
    }

    /// Whether a retry of the same operation later may succeed.
    public var isTransient: Bool { code == .transient || code == .timeout }

    /// The brokers refused this client: a SASL login failed, or the TLS handshake did (a
    /// certificate that does not verify, a client certificate missing). The same settings meet
    /// the same refusal, so it is a configuration problem, not an outage.
    public var isRefusal: Bool {
        kafkaCode == RD_KAFKA_RESP_ERR__AUTHENTICATION.rawValue || kafkaCode == RD_KAFKA_RESP_ERR__SSL.rawValue
            || kafkaCode == RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED.rawValue
    }

    public var description: String { "kafka \(code): \(message)" }

    /// The codes that mean "not now" rather than "never": transport trouble, coordinators and
    /// leaders moving, brokers busy. Everything else is reported as a broker error.
    static func classify(_ err: rd_kafka_resp_err_t) -> Code {
        switch err {
        case RD_KAFKA_RESP_ERR__TRANSPORT, RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN, RD_KAFKA_RESP_ERR__RESOLVE,
            RD_KAFKA_RESP_ERR__WAIT_COORD, RD_KAFKA_RESP_ERR__TIMED_OUT_QUEUE,
            RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE, RD_KAFKA_RESP_ERR_NOT_COORDINATOR,
            RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS, RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE,
            RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION, RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT,
            RD_KAFKA_RESP_ERR_NETWORK_EXCEPTION, RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS,
            RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND, RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS,
            RD_KAFKA_RESP_ERR__QUEUE_FULL, RD_KAFKA_RESP_ERR__MSG_TIMED_OUT, RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION,
            RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
            return .transient
        case RD_KAFKA_RESP_ERR__TIMED_OUT:
            return .timeout
        case RD_KAFKA_RESP_ERR__FATAL, RD_KAFKA_RESP_ERR__FENCED, RD_KAFKA_RESP_ERR_PRODUCER_FENCED:
            return .fatal
        case RD_KAFKA_RESP_ERR__DESTROY:
            return .closed
        default:
            return .broker
        }
    }
}
