/// Where and how to open a `replication=database` connection.
public struct ReplicationConfiguration: Sendable {
    public var host: String
    /// Default 5432.
    public var port: Int
    public var user: String
    /// Needed for password, md5 and SCRAM-SHA-256 authentication; nil for trust.
    public var password: String?
    public var database: String
    public var tls: TLS
    /// Shown in `pg_stat_replication.application_name`. Default `runnel`.
    public var applicationName: String
    /// Default 10 seconds.
    public var connectTimeout: Duration

    public init(
        host: String, port: Int = 5432, user: String, password: String? = nil, database: String,
        tls: TLS = .prefer, applicationName: String = "runnel", connectTimeout: Duration = .seconds(10)
    ) {
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.database = database
        self.tls = tls
        self.applicationName = applicationName
        self.connectTimeout = connectTimeout
    }

    /// TLS as libpq's `sslmode`: `disable`, `prefer` (TLS when the server offers it, unverified),
    /// `require` (TLS or fail, unverified), `verify-full` (TLS, the chain checked against
    /// `caFile` or the system's roots, and the host name or IP address against the certificate).
    public struct TLS: Sendable, Hashable {
        public enum Mode: String, Sendable, Hashable, CaseIterable {
            case disable, prefer, require
            case verifyFull = "verify-full"
        }
        public var mode: Mode
        /// PEM file of the certificate authorities to trust (verify-full); nil: the system's.
        public var caFile: String?
        /// The name to check the certificate against (and send as SNI); nil: `host`.
        public var serverName: String?

        public init(mode: Mode, caFile: String? = nil, serverName: String? = nil) {
            self.mode = mode
            self.caFile = caFile
            self.serverName = serverName
        }

        public static let disable = TLS(mode: .disable)
        public static let prefer = TLS(mode: .prefer)
        public static let require = TLS(mode: .require)
        public static func verifyFull(caFile: String?, serverName: String? = nil) -> TLS {
            TLS(mode: .verifyFull, caFile: caFile, serverName: serverName)
        }
    }

    /// `host:port/database` for messages (never the password).
    public var address: String { "\(host):\(port)/\(database)" }
}
