public import PostgresNIO

/// How to reach one PostgreSQL database: the `host`, `port`, `database`, `user`, `password` and
/// `tls` keys of a spec section (secrets come in through `${VAR}`).
///
/// `description` never contains the password: it is what logs, errors and `--dry-run` show.
public struct PostgresSettings: Sendable, Hashable, CustomStringConvertible {
    /// `disable`: plain TCP. `prefer` (default): TLS when the server offers it. `require`: TLS or fail.
    public enum TLSMode: String, Sendable, Hashable, CaseIterable {
        case disable, prefer, require
    }

    public var host: String
    /// Default 5432.
    public var port: Int
    public var database: String
    public var user: String
    public var password: String?
    public var tls: TLSMode
    /// How long a connection attempt, or the wait for a pooled connection, may take before the
    /// operation fails as transient (and the runner retries). Default 10 s.
    public var connectTimeout: Duration
    /// Connections the pool opens at most. Default 4: a run uses one for reading, one for
    /// loading, and the lease holds one of its own outside the pool.
    public var maxConnections: Int

    public init(
        host: String = "127.0.0.1", port: Int = 5432, database: String, user: String, password: String? = nil,
        tls: TLSMode = .prefer, connectTimeout: Duration = .seconds(10), maxConnections: Int = 4
    ) {
        self.host = host
        self.port = port
        self.database = database
        self.user = user
        self.password = password
        self.tls = tls
        self.connectTimeout = connectTimeout
        self.maxConnections = maxConnections
    }

    /// `postgres://user@host:port/database`: the password is left out on purpose.
    public var description: String { "postgres://\(user)@\(host):\(port)/\(database)" }

    /// Session settings every connection starts with, so that text renderings of times (the
    /// extractor's positions) do not depend on the server's defaults.
    static let startupParameters: [(String, String)] = [
        ("TimeZone", "UTC"), ("DateStyle", "ISO, YMD"), ("client_min_messages", "warning"),
        ("application_name", "runnel"),
    ]

    /// The pooled client's configuration.
    var clientConfiguration: PostgresClient.Configuration {
        let tlsConfig: PostgresClient.Configuration.TLS =
            switch tls {
            case .disable: .disable
            case .prefer: .prefer(.makeClientConfiguration())
            case .require: .require(.makeClientConfiguration())
            }
        var c = PostgresClient.Configuration(
            host: host, port: port, username: user, password: password, database: database, tls: tlsConfig)
        c.options.connectTimeout = connectTimeout
        c.options.maximumConnections = maxConnections
        c.options.minimumConnections = 0
        c.options.additionalStartupParameters = Self.startupParameters
        return c
    }

    /// A single connection's configuration (the lease's dedicated connection, and the
    /// fallback when the pool is not running).
    func connectionConfiguration() throws -> PostgresConnection.Configuration {
        let tlsConfig: PostgresConnection.Configuration.TLS
        switch tls {
        case .disable: tlsConfig = .disable
        case .prefer: tlsConfig = .prefer(try NIOSSLContext(configuration: .makeClientConfiguration()))
        case .require: tlsConfig = .require(try NIOSSLContext(configuration: .makeClientConfiguration()))
        }
        var c = PostgresConnection.Configuration(
            host: host, port: port, username: user, password: password, database: database, tls: tlsConfig)
        let ms = connectTimeout.components.seconds * 1000 + connectTimeout.components.attoseconds / 1_000_000_000_000_000
        c.options.connectTimeout = .milliseconds(ms)
        c.options.additionalStartupParameters = Self.startupParameters
        return c
    }
}
