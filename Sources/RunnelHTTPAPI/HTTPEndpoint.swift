public import RunnelCore

/// Where and how to send requests: the keys the `http` extractor and loader share.
///
/// Secrets (the `auth` values) reach this struct already expanded from `${ENV}`; they are kept
/// out of every text Runnel prints through `redactor` (`description`, errors, dead letters,
/// checkpoints).
public struct HTTPEndpoint: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// How failed requests are retried: 408, 429, 502, 503, 504 and connection errors, with
    /// exponential back-off and full jitter, or exactly as long as a `Retry-After` header says.
    public struct Retry: Sendable, Hashable {
        /// Attempts in all, the first included. Default 5.
        public var maxAttempts: Int = 5
        /// Default 500 ms.
        public var baseDelay: Duration = .milliseconds(500)
        /// The cap of the back-off. Default 30 s. A server's `Retry-After` is honoured even when
        /// longer, up to `maxRetryAfter`.
        public var maxDelay: Duration = .seconds(30)
        /// The longest `Retry-After` honoured; a longer one fails the request (the Job retries later). Default 15 min.
        public var maxRetryAfter: Duration = .seconds(900)
        public init() {}
    }

    public var url: String
    /// Default `GET` for the extractor, `POST` for the loader.
    public var method: String
    public var headers: [(name: String, value: String)] = []
    /// Query parameters added to `url` (the extractor's first page; later pages as the pagination says).
    public var query: [(name: String, value: String)] = []
    /// A JSON body (the extractor's POST searches).
    public var body: Value?
    public var auth: HTTPAuth?
    /// The CA and client certificate; nil: the system's roots, no client certificate.
    public var tls: HTTPTLS?
    /// Default 10 s.
    public var connectTimeout: Duration = .seconds(10)
    /// The whole request, body included. Default 60 s.
    public var timeout: Duration = .seconds(60)
    public var retry = Retry()
    /// Requests per second at most, across all concurrent requests; nil: unlimited.
    public var rateLimit: Double?
    /// Counts and logs every retry (never with a secret); nil: silent.
    public var retries: RequestRetries?

    public init(url: String, method: String = "GET") {
        self.url = url
        self.method = method
    }

    /// Hides the secrets of this endpoint in text.
    public var redactor: Redactor {
        Redactor(secrets: auth?.secrets ?? [], secretParameters: auth?.queryParameter.map { [$0] } ?? [])
    }

    /// `GET https://host/path`, with secret query parameters masked.
    public var description: String { "\(method) \(redactor.url(url))" }
    public var debugDescription: String { description }
    /// Reflection (`String(describing:)` of a struct holding this, `dump`) sees no secret either:
    /// service-lifecycle logs its services that way at debug level.
    public var customMirror: Mirror { Mirror(self, children: ["endpoint": description], displayStyle: .struct) }
}

/// Credentials for an HTTP API: a bearer token, basic credentials, or an API key in a header or
/// a query parameter. Values come from `${ENV}` in the spec and are never printed.
public struct HTTPAuth: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    enum Kind: Sendable {
        case bearer(String)
        case basic(user: String, password: String)
        case headerKey(name: String, value: String)
        case queryKey(name: String, value: String)
    }
    let kind: Kind

    /// The kind of credentials, never their values.
    public var description: String {
        switch kind {
        case .bearer: "bearer ***"
        case .basic(let user, _): "basic \(user):***"
        case .headerKey(let name, _): "api_key header \(name): ***"
        case .queryKey(let name, _): "api_key query \(name)=***"
        }
    }
    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: ["auth": description], displayStyle: .struct) }

    /// `Authorization: Bearer <token>`.
    public static func bearer(_ token: String) -> HTTPAuth { HTTPAuth(kind: .bearer(token)) }
    /// `Authorization: Basic base64(user:password)`.
    public static func basic(user: String, password: String) -> HTTPAuth {
        HTTPAuth(kind: .basic(user: user, password: password))
    }
    /// An API key sent in header `name`.
    public static func apiKey(header name: String, value: String) -> HTTPAuth {
        HTTPAuth(kind: .headerKey(name: name, value: value))
    }
    /// An API key sent as query parameter `name` on every request.
    public static func apiKey(query name: String, value: String) -> HTTPAuth {
        HTTPAuth(kind: .queryKey(name: name, value: value))
    }

    /// The texts that must never be printed: the raw values and the forms they travel in.
    var secrets: [String] {
        switch kind {
        case .bearer(let t): [t]
        case .basic(let u, let p): [p, Base64.encode(Array("\(u):\(p)".utf8))]
        case .headerKey(_, let v), .queryKey(_, let v): [v, URLText.percentEncode(v)]
        }
    }

    /// The query parameter that carries the key, when the key travels in the query.
    var queryParameter: String? {
        if case .queryKey(let name, _) = kind { return name }
        return nil
    }

    /// The header this auth adds, if any.
    var header: (name: String, value: String)? {
        switch kind {
        case .bearer(let t): ("Authorization", "Bearer \(t)")
        case .basic(let u, let p): ("Authorization", "Basic " + Base64.encode(Array("\(u):\(p)".utf8)))
        case .headerKey(let n, let v): (n, v)
        case .queryKey: nil
        }
    }

    /// The query parameter this auth adds, if any.
    var query: (name: String, value: String)? {
        if case .queryKey(let n, let v) = kind { return (n, v) }
        return nil
    }
}

/// Standard base64 (RFC 4648, with padding), for basic credentials.
enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var i = 0
        while i < bytes.count {
            let b0 = bytes[i]
            let b1 = i + 1 < bytes.count ? bytes[i + 1] : 0
            let b2 = i + 2 < bytes.count ? bytes[i + 2] : 0
            out.append(alphabet[Int(b0 >> 2)])
            out.append(alphabet[Int((b0 & 0x03) << 4 | b1 >> 4)])
            out.append(i + 1 < bytes.count ? alphabet[Int((b1 & 0x0F) << 2 | b2 >> 6)] : UInt8(ascii: "="))
            out.append(i + 2 < bytes.count ? alphabet[Int(b2 & 0x3F)] : UInt8(ascii: "="))
            i += 3
        }
        return String(decoding: out, as: UTF8.self)
    }
}
