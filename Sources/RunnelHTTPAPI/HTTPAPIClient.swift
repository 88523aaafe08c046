import AsyncHTTPClient
public import NIOCore
import NIOHTTP1
import NIOHTTPCompression
import NIOSSL
public import RunnelCore
import Synchronization

/// The HTTP client of the `http` components: async-http-client (HTTP/1.1, and HTTP/2 over TLS
/// where the server offers it) with the endpoint's retries, `Retry-After`, rate limit, timeouts
/// and redaction around every request.
///
/// One client per spec is shared by its components; `run()` keeps it until cancelled and then
/// shuts it down (the runtime runs it beside the pipeline). Tests call `shutdown()` themselves.
public final class HTTPAPIClient: Sendable {
    private let configuration: HTTPClient.Configuration
    /// Made on the first request: a client that was never used needs no shutdown, so commands
    /// that build a spec without running it (`validate`) leave nothing behind.
    private let made = Mutex<(client: HTTPClient?, shutDown: Bool)>((nil, false))

    public init(connectTimeout: Duration = .seconds(10), tls: HTTPTLS? = nil) throws(RunnelError) {
        var configuration = HTTPClient.Configuration()
        configuration.timeout = .init(connect: TimeAmount(connectTimeout), read: nil)
        configuration.httpVersion = .automatic
        configuration.redirectConfiguration = .follow(max: 5, allowCycles: false)
        // gzip and deflate bodies are inflated as they arrive; `max_response_bytes` bounds the
        // inflated size (the body is collected up to it), so no ratio limit is needed here.
        configuration.decompression = .enabled(limit: .none)
        if let tls { configuration.tlsConfiguration = try tls.configuration() }
        self.configuration = configuration
    }

    var client: HTTPClient {
        get throws {
            try made.withLock { state in
                if state.shutDown { throw RunnelError(.cancelled, "the HTTP client was shut down") }
                if let c = state.client { return c }
                let c = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
                state.client = c
                return c
            }
        }
    }

    /// Waits until cancelled, then shuts the client down.
    public func run() async throws {
        while !Task.isCancelled {
            do { try await Task.sleep(for: .seconds(3600)) } catch { break }
        }
        try? await shutdown()
    }

    public func shutdown() async throws {
        let client = made.withLock { state -> HTTPClient? in
            state.shutDown = true
            defer { state.client = nil }
            return state.client
        }
        try await client?.shutdown()
    }
}

/// One request to send; the endpoint adds its headers, auth and query.
struct HTTPExchange: Sendable {
    var method: String
    var url: String
    var headers: [(name: String, value: String)] = []
    var body: [UInt8]?
}

/// A complete response.
struct HTTPAnswer: Sendable {
    var status: Int
    var headers: HTTPHeaders
    var body: ByteBuffer
    /// The URL asked for, as fit to print.
    var redactedURL: String
}

/// A 4xx answer other than 408 and 429: the request itself is wrong, and sending it again
/// cannot help. The extractor makes it a configuration error, the loader a refusal of the batch.
public struct HTTPStatusError: Error, Sendable, CustomStringConvertible {
    public var status: Int
    public var reason: String
    /// The URL, with secret query parameters masked.
    public var url: String
    public var method: String
    /// The first bytes of the response body, with secrets masked.
    public var bodyPrefix: String

    public var description: String {
        "\(method) \(url): HTTP \(status) \(reason)" + (bodyPrefix.isEmpty ? "" : ": \(bodyPrefix)")
    }
}

/// A page or batch answer larger than allowed.
struct TooLargeError: Error {}

extension HTTPEndpoint {
    /// Sends `exchange` with this endpoint's headers, auth, timeout and retries, and returns the
    /// 2xx answer with its whole body (at most `maxBytes`).
    ///
    /// - Throws: `HTTPStatusError` for a 4xx other than 408/429; `RunnelError` `.config` for a URL
    ///   that cannot be requested; `.failure` once retries are used up or the body is too large;
    ///   `.transient` for another 5xx (the Job's retry may find the server well).
    func send(
        _ exchange: HTTPExchange, client: HTTPAPIClient, limiter: RateLimiter?, maxBytes: Int,
        random: @Sendable () -> Double = { Double.random(in: 0..<1) }
    ) async throws -> HTTPAnswer {
        let redactor = self.redactor
        var url = exchange.url
        if let q = auth?.query { url = URLText.setting([q], in: url) }
        let printable = redactor.url(url)
        var request = HTTPClientRequest(url: url)
        request.method = HTTPMethod(rawValue: exchange.method)
        request.headers.add(name: "Accept", value: "application/json")
        request.headers.add(name: "User-Agent", value: "runnel")
        request.headers.add(name: "Accept-Encoding", value: "gzip, deflate")
        for h in headers { request.headers.replaceOrAdd(name: h.name, value: h.value) }
        if let h = auth?.header { request.headers.replaceOrAdd(name: h.name, value: h.value) }
        for h in exchange.headers { request.headers.replaceOrAdd(name: h.name, value: h.value) }
        if let body = exchange.body {
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        let timeout = TimeAmount(self.timeout)

        var attempt = 1
        while true {
            try Task.checkCancellation()
            if let limiter { try await limiter.wait() }
            var problem: String
            var status: Int?
            var serverDelay: Duration?
            do {
                let response = try await client.client.execute(request, timeout: timeout)
                let code = Int(response.status.code)
                status = code
                let body: ByteBuffer
                do {
                    body = try await response.body.collect(upTo: maxBytes)
                } catch is NIOTooManyBytesError {
                    throw RunnelError.failure(
                        "\(exchange.method) \(printable): the response is larger than \(maxBytes) bytes (max_response_bytes)"
                    )
                }
                switch code {
                case 200..<300:
                    return HTTPAnswer(status: code, headers: response.headers, body: body, redactedURL: printable)
                case 408, 429, 502, 503, 504:
                    problem = "HTTP \(code) \(response.status.reasonPhrase)"
                    serverDelay = RetryAfter.delay(response.headers.first(name: "Retry-After"), now: .now)
                case 400..<500:
                    throw HTTPStatusError(
                        status: code, reason: response.status.reasonPhrase, url: printable, method: exchange.method,
                        bodyPrefix: redactor.text(Self.prefix(of: body)))
                default:
                    throw RunnelError.transient(
                        "\(exchange.method) \(printable): HTTP \(code) \(response.status.reasonPhrase)"
                            + (body.readableBytes > 0 ? ": \(redactor.text(Self.prefix(of: body)))" : ""))
                }
            } catch let e as HTTPClientError where [.invalidURL, .emptyHost, .emptyScheme].contains(e) {
                throw RunnelError.config("\(exchange.method) \(printable): not a URL that can be requested (\(e))")
            } catch let e as HTTPClientError where "\(e)".contains("unsupportedScheme") {
                throw RunnelError.config("\(exchange.method) \(printable): only http and https URLs can be requested")
            } catch let e as NIOSSLError {
                // A certificate that is not trusted, or names another host, stays so: no retry.
                guard case .handshakeFailed = e else { throw RunnelError.transient("\(exchange.method) \(printable): TLS: \(e)") }
                throw RunnelError.config(
                    "\(exchange.method) \(printable): the TLS handshake failed (\(e)): the server's certificate is not "
                        + "trusted or does not name the host; set tls.ca to the CA that signed it")
            } catch let e as NIOSSLExtraError where e == .failedToValidateHostname {
                throw RunnelError.config(
                    "\(exchange.method) \(printable): the server's certificate does not name the host (\(e))")
            } catch let e as RunnelError {
                throw e
            } catch let e as HTTPStatusError {
                throw e
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                // Connection refused or reset, a body cut short, a timeout: the network's fault.
                if Task.isCancelled { throw CancellationError() }
                status = nil
                problem = redactor.text("\(error)")
            }
            guard attempt < retry.maxAttempts else {
                throw RunnelError.failure(
                    "\(exchange.method) \(printable): \(problem); gave up after \(attempt) attempt\(attempt == 1 ? "" : "s")"
                )
            }
            let wait: Duration
            if let serverDelay {
                guard serverDelay <= retry.maxRetryAfter else {
                    throw RunnelError.failure(
                        "\(exchange.method) \(printable): \(problem) with Retry-After of \(serverDelay.components.seconds) s, "
                            + "longer than max_retry_after (\(retry.maxRetryAfter.components.seconds) s)")
                }
                wait = serverDelay
            } else {
                let ceiling = min(retry.maxDelay, retry.baseDelay * (1 << min(attempt - 1, 30)))
                wait = ceiling * random()
            }
            retries?.record(
                reason: RequestRetries.reason(status: status), problem: problem, target: "\(exchange.method) \(printable)",
                attempt: attempt, delay: wait)
            try await Task.sleep(for: wait)
            attempt += 1
        }
    }

    /// The first 256 bytes of a body, for error messages.
    static func prefix(of body: ByteBuffer) -> String {
        let bytes = body.readableBytesView.prefix(256)
        var text = String(decoding: bytes, as: UTF8.self)
        if body.readableBytes > 256 { text += "…" }
        return text.replacing("\n", with: " ")
    }
}

extension TimeAmount {
    init(_ d: Duration) {
        let c = d.components
        self = .nanoseconds(c.seconds * 1_000_000_000 + c.attoseconds / 1_000_000_000)
    }
}
