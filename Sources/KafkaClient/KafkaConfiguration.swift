import CRdkafka

/// Where and how to reach the Kafka cluster: brokers, identity, TLS, SASL, and any other
/// librdkafka property.
///
/// ```swift
/// var configuration = KafkaConfiguration(brokers: ["kafka-0.kafka:9093"])
/// configuration.tls = .init(caFile: "/etc/kafka/ca.pem")
/// configuration.sasl = .init(mechanism: .scramSHA512, username: "runnel", password: secret)
/// configuration.properties["fetch.max.bytes"] = "10485760"
/// try configuration.validate()
/// ```
///
/// `description` replaces every secret (passwords, private keys) with `***`; secrets are never
/// part of a description, an error message or a log line written by this module.
public struct KafkaConfiguration: Sendable, CustomStringConvertible {
    /// `host:port` of one or more brokers (`bootstrap.servers`).
    public var brokers: [String]
    /// `client.id`: shows up in broker logs and quotas. Default: librdkafka's (`rdkafka`).
    public var clientID: String?
    /// Nil for plaintext.
    public var tls: TLS?
    /// Nil for no authentication.
    public var sasl: SASL?
    /// Any other librdkafka property, set last (so it may override the ones above).
    public var properties: [String: String]

    public init(brokers: [String], clientID: String? = nil, properties: [String: String] = [:]) {
        self.brokers = brokers
        self.clientID = clientID
        self.properties = properties
    }

    /// TLS from PEM files. The broker's certificate is always verified.
    public struct TLS: Sendable, Hashable {
        /// CA certificates to trust; nil uses the system's.
        public var caFile: String?
        /// Client certificate and key, for brokers that authenticate clients by certificate.
        public var certificateFile: String?
        public var keyFile: String?
        /// Password of an encrypted `keyFile`.
        public var keyPassword: String?

        public init(caFile: String? = nil, certificateFile: String? = nil, keyFile: String? = nil, keyPassword: String? = nil) {
            self.caFile = caFile
            self.certificateFile = certificateFile
            self.keyFile = keyFile
            self.keyPassword = keyPassword
        }
    }

    /// SASL username/password authentication.
    public struct SASL: Sendable, Hashable {
        public struct Mechanism: Sendable, Hashable, CustomStringConvertible {
            /// The name librdkafka and the broker use (`PLAIN`, `SCRAM-SHA-256`, ...).
            public let name: String
            private init(_ name: String) { self.name = name }
            public static let plain = Mechanism("PLAIN")
            public static let scramSHA256 = Mechanism("SCRAM-SHA-256")
            public static let scramSHA512 = Mechanism("SCRAM-SHA-512")
            public static let all: [Mechanism] = [.plain, .scramSHA256, .scramSHA512]
            public var description: String { name }
        }

        public var mechanism: Mechanism
        public var username: String
        public var password: String

        public init(mechanism: Mechanism, username: String, password: String) {
            self.mechanism = mechanism
            self.username = username
            self.password = password
        }
    }

    /// Every property handed to librdkafka, in the order they are set.
    public var librdkafkaProperties: [(name: String, value: String)] {
        var list: [(name: String, value: String)] = [("bootstrap.servers", brokers.joined(separator: ","))]
        if let clientID { list.append(("client.id", clientID)) }
        switch (tls != nil, sasl != nil) {
        case (false, false): break
        case (true, false): list.append(("security.protocol", "ssl"))
        case (false, true): list.append(("security.protocol", "sasl_plaintext"))
        case (true, true): list.append(("security.protocol", "sasl_ssl"))
        }
        if let tls {
            if let v = tls.caFile { list.append(("ssl.ca.location", v)) }
            if let v = tls.certificateFile { list.append(("ssl.certificate.location", v)) }
            if let v = tls.keyFile { list.append(("ssl.key.location", v)) }
            if let v = tls.keyPassword { list.append(("ssl.key.password", v)) }
        }
        if let sasl {
            list.append(("sasl.mechanisms", sasl.mechanism.name))
            list.append(("sasl.username", sasl.username))
            list.append(("sasl.password", sasl.password))
        }
        for name in properties.keys.sorted() { list.append((name, properties[name]!)) }
        return list
    }

    /// Whether a property holds a secret that must never be printed.
    public static func isSecret(_ name: String) -> Bool {
        let n = name.lowercased()
        return n.contains("password") || n.contains("secret") || n == "ssl.key.pem" || n == "ssl_key"
            || n.hasPrefix("sasl.oauthbearer.config") || n.hasSuffix(".jaas.config")
    }

    /// The properties as `name=value`, secrets as `***`.
    public var description: String {
        librdkafkaProperties.map { "\($0.name)=\(Self.isSecret($0.name) ? "***" : $0.value)" }.joined(separator: " ")
    }

    /// Checks every property with librdkafka's own parser (`rd_kafka_conf_set`): unknown
    /// names and invalid values fail with librdkafka's message, e.g.
    /// `No such configuration property: "fetch.max.byte"`.
    public func validate(extra: [(name: String, value: String)] = []) throws(KafkaError) {
        let conf = try makeConf(extra: extra)
        rd_kafka_conf_destroy(conf)
    }

    /// A new `rd_kafka_conf_t` holding every property plus `extra` (set last); the caller
    /// owns it.
    func makeConf(extra: [(name: String, value: String)]) throws(KafkaError) -> OpaquePointer {
        guard let conf = rd_kafka_conf_new() else {
            throw KafkaError(code: .fatal, message: "rd_kafka_conf_new failed")
        }
        for (name, value) in librdkafkaProperties + extra {
            if let message = Self.set(conf, name, value) {
                rd_kafka_conf_destroy(conf)
                let shown = Self.isSecret(name) ? "" : " = \"\(value)\""
                throw KafkaError(code: .invalidConfiguration, message: "property '\(name)'\(shown): \(message)")
            }
        }
        return conf
    }

    /// Sets one property; librdkafka's message when it refuses it.
    static func set(_ conf: OpaquePointer, _ name: String, _ value: String) -> String? {
        var errstr = [CChar](repeating: 0, count: 512)
        let result = errstr.withUnsafeMutableBufferPointer { buffer in
            rd_kafka_conf_set(conf, name, value, buffer.baseAddress, buffer.count)
        }
        guard result != RD_KAFKA_CONF_OK else { return nil }
        return errstr.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }
}
