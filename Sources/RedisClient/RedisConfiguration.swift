
/// Where and how to connect to Redis.
///
/// ```swift
/// var configuration = try RedisConfiguration(url: "rediss://runnel:secret@redis.internal:6380/2")
/// configuration.commandTimeout = .seconds(5)
/// ```
///
/// `description` shows the URL with the password replaced by `***`; the password is never
/// part of a description, an error message or a log line.
public struct RedisConfiguration: Sendable, CustomStringConvertible {
    public var host: String
    /// Default 6379.
    public var port: Int
    /// ACL user name; `nil` authenticates the `default` user (password only).
    public var username: String?
    /// `nil` skips authentication.
    public var password: String?
    /// Database selected after connecting. Default 0.
    public var database: Int
    /// `nil` for plain TCP. `rediss://` URLs set `TLS()`.
    public var tls: TLS?
    /// Time allowed for the TCP connect. Default 10 s.
    public var connectTimeout: Duration
    /// Time allowed for a reply, on top of a command's `serverBlockingTime`. When it passes the
    /// command fails with `.timeout` and the connection is closed (a reply that late means the
    /// connection can no longer be trusted). `nil` waits forever. Default 30 s.
    public var commandTimeout: Duration?
    /// How `RedisClient` spaces reconnect attempts. Default `.exponentialJitter()`.
    public var reconnect: Backoff
    public var options: Options

    /// Rarely changed knobs.
    public struct Options: Sendable {
        /// Ask for RESP3 with `HELLO 3`, falling back to RESP2 on servers older than Redis 6.
        /// Default `true`.
        public var preferRESP3: Bool = true
        /// Sent with `HELLO … SETNAME` / `CLIENT SETNAME`, shows up in `CLIENT LIST`. Default `nil`.
        public var clientName: String?

        public init(preferRESP3: Bool = true, clientName: String? = nil) {
            self.preferRESP3 = preferRESP3
            self.clientName = clientName
        }
    }

    /// TLS settings (NIOSSL). Certificates are always verified.
    public struct TLS: Sendable {
        /// PEM file with the CA certificates to trust; `nil` uses the system trust store.
        public var caFile: String?
        /// Name to send in SNI and to verify the certificate against; `nil` uses `host` when it is
        /// a name (IP addresses are not sent as SNI).
        public var serverName: String?

        public init(caFile: String? = nil, serverName: String? = nil) {
            self.caFile = caFile
            self.serverName = serverName
        }
    }

    /// Delay before reconnect attempts: exponential growth from `base`, capped at `cap`, with
    /// "equal jitter" (a random value between half and all of the step) so that many clients
    /// dropped by one failover do not return in lockstep.
    public struct Backoff: Sendable, Hashable {
        public var base: Duration
        public var cap: Duration

        /// - Parameters:
        ///   - base: Delay after the first failed attempt (default 100 ms).
        ///   - cap: Largest delay (default 10 s).
        public static func exponentialJitter(base: Duration = .milliseconds(100), cap: Duration = .seconds(10))
            -> Backoff
        {
            Backoff(base: base, cap: cap)
        }

        /// The delay before the next attempt after `failures` consecutive failed attempts.
        /// The first attempt after a drop is immediate (`failures == 0`).
        /// - Parameter random: A value in `0...1`, injected so tests can pin the jitter.
        public func delay(afterFailures failures: Int, random: Double = Double.random(in: 0...1)) -> Duration {
            guard failures > 0 else { return .zero }
            let exponent = min(failures - 1, 32)
            let step = min(cap, base * Double(1 << UInt64(exponent)))
            return step * (0.5 + 0.5 * min(max(random, 0), 1))
        }
    }

    public init(
        host: String,
        port: Int = 6379,
        username: String? = nil,
        password: String? = nil,
        database: Int = 0,
        tls: TLS? = nil
    ) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
        self.tls = tls
        self.connectTimeout = .seconds(10)
        self.commandTimeout = .seconds(30)
        self.reconnect = .exponentialJitter()
        self.options = Options()
    }

    /// Parses `redis://[user[:password]@]host[:port][/db]`, or `rediss://…` for TLS.
    ///
    /// User and password may be percent-encoded. `redis://:secret@host` sets only a password.
    /// IPv6 hosts go in brackets: `redis://[::1]:6379`. Errors never quote the URL, which may
    /// hold a password.
    public init(url: String) throws {
        let schemeEnd = url.firstRange(of: "://")
        let scheme = schemeEnd.map { url[..<$0.lowerBound].lowercased() }
        guard let schemeEnd, scheme == "redis" || scheme == "rediss" else {
            throw Self.invalid("the URL must start with redis:// or rediss://")
        }
        var rest = url[schemeEnd.upperBound...]
        guard !rest.contains("?"), !rest.contains("#") else {
            throw Self.invalid("query parameters and fragments are not supported in a Redis URL")
        }

        // Path: the database number.
        var database = 0
        if let slash = rest.firstIndex(of: "/") {
            let path = rest[rest.index(after: slash)...]
            rest = rest[..<slash]
            if !path.isEmpty {
                guard let number = Int(path), number >= 0 else {
                    throw Self.invalid("the URL path must be a database number")
                }
                database = number
            }
        }

        // User info: up to the last "@" (a password may contain "@" only percent-encoded, but
        // being lenient costs nothing).
        var username: String?
        var password: String?
        if let at = rest.lastIndex(of: "@") {
            let userInfo = rest[..<at]
            rest = rest[rest.index(after: at)...]
            let colon = userInfo.firstIndex(of: ":")
            let user = try Self.percentDecoded(colon.map { userInfo[..<$0] } ?? userInfo)
            username = user.isEmpty ? nil : user
            if let colon {
                password = try Self.percentDecoded(userInfo[userInfo.index(after: colon)...])
            }
        }

        // Host and port.
        var host: Substring
        var portText: Substring?
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { throw Self.invalid("unterminated IPv6 address") }
            host = rest[rest.index(after: rest.startIndex)..<close]
            let after = rest[rest.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw Self.invalid("unexpected text after the IPv6 address") }
                portText = after.dropFirst()
            }
        } else if let colon = rest.firstIndex(of: ":") {
            host = rest[..<colon]
            portText = rest[rest.index(after: colon)...]
        } else {
            host = rest
        }
        guard !host.isEmpty else { throw Self.invalid("the URL has no host") }
        var port = 6379
        if let portText {
            guard let number = Int(portText), (1...65535).contains(number) else {
                throw Self.invalid("the port must be a number between 1 and 65535")
            }
            port = number
        }

        self.init(
            host: String(host),
            port: port,
            username: username,
            password: password,
            database: database,
            tls: scheme == "rediss" ? TLS() : nil
        )
    }

    /// The URL with the password masked.
    public var description: String {
        var text = tls == nil ? "redis://" : "rediss://"
        switch (username, password) {
        case (let user?, nil): text += "\(user)@"
        case (let user, _?): text += "\(user ?? ""):***@"
        case (nil, nil): break
        }
        text += host.contains(":") ? "[\(host)]" : host
        text += ":\(port)"
        if database != 0 { text += "/\(database)" }
        return text
    }

    /// `host:port`, for log metadata and connect errors.
    var address: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    private static func invalid(_ message: String) -> RedisError {
        RedisError(code: .invalidConfiguration, message: message)
    }

    private static func percentDecoded(_ text: Substring) throws -> String {
        guard text.contains("%") else { return String(text) }
        var bytes: [UInt8] = []
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else {
                throw invalid("malformed percent-encoding in the URL's user info")
            }
            bytes.append(high << 4 | low)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
