public import RunnelCore

/// Posts each batch to a webhook (`load: {type: http}`), as one JSON array or as NDJSON.
///
/// - Every request carries an idempotency key (`Idempotency-Key` by default) derived from the
///   pipeline and the batch's source position, so a batch sent again — a retry, or a replay
///   after a crash before the checkpoint moved — carries the same key and the receiver can
///   recognise it.
/// - 408, 429, 502, 503, 504 and connection errors are retried (honouring `Retry-After`).
/// - Any other 4xx refuses the batch: its records go to the dead letter queue (per
///   `on_invalid`) with the status and the first bytes of the response, and the run goes on.
public struct HTTPWebhookLoader: Loader {
    /// How a batch is written in the request body.
    public struct Format: Sendable, Hashable {
        let ndjson: Bool
        /// `[{…},{…}]` with `Content-Type: application/json`.
        public static let jsonArray = Format(ndjson: false)
        /// One object per line with `Content-Type: application/x-ndjson`.
        public static let ndjson = Format(ndjson: true)
    }

    public struct Configuration: Sendable {
        public var endpoint: HTTPEndpoint
        public var format: Format = .jsonArray
        /// Default `Idempotency-Key`.
        public var idempotencyHeader: String = "Idempotency-Key"
        /// The largest response read (only its first bytes are kept, for refusals). Default 1 MiB.
        public var maxResponseBytes: Int = 1 << 20
        /// The pipeline's name: part of the idempotency key, so two pipelines posting to one
        /// receiver do not collide.
        public var pipeline: String
        public init(endpoint: HTTPEndpoint, pipeline: String) {
            self.endpoint = endpoint
            self.pipeline = pipeline
        }
    }

    public let configuration: Configuration
    public let client: HTTPAPIClient
    let limiter: RateLimiter?

    public init(_ configuration: Configuration, client: HTTPAPIClient) {
        self.configuration = configuration
        self.client = client
        self.limiter = configuration.endpoint.rateLimit.map { RateLimiter(perSecond: $0) }
    }

    public var target: String { "http \(configuration.endpoint.description)" }

    public func load(_ batch: Batch, commit: CheckpointCommit?) async throws -> LoadOutcome {
        guard !batch.records.isEmpty else { return .stored }
        let c = configuration
        var x = HTTPExchange(method: c.endpoint.method, url: URLText.setting(c.endpoint.query, in: c.endpoint.url))
        let body = Self.body(batch, format: c.format)
        x.body = body
        x.headers = [
            ("Content-Type", c.format.ndjson ? "application/x-ndjson" : "application/json"),
            (c.idempotencyHeader, Self.idempotencyKey(batch, body: body, pipeline: c.pipeline)),
        ]
        // The batch span's context (tracing on), so that the receiver continues the trace.
        if let context = batch.trace.context { x.headers.append(("traceparent", context.traceparent)) }
        do {
            _ = try await c.endpoint.send(x, client: client, limiter: limiter, maxBytes: c.maxResponseBytes)
        } catch let e as HTTPStatusError {
            let error = RecordError(code: "http_\(e.status)", message: "the webhook refused the batch: \(e)")
            return LoadOutcome(refused: batch.records.map { ($0.ordinal, error) })
        }
        return .stored
    }

    static func body(_ batch: Batch, format: Format) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(batch.byteCount + batch.records.count * 8 + 2)
        if !format.ndjson { out.append(UInt8(ascii: "[")) }
        for (i, record) in batch.records.enumerated() {
            if i > 0, !format.ndjson { out.append(UInt8(ascii: ",")) }
            JSONText.write(.object(record.object(batch.schema)), into: &out)
            if format.ndjson { out.append(0x0A) }
        }
        if !format.ndjson { out.append(UInt8(ascii: "]")) }
        return out
    }

    /// SHA-256 (hex) of the pipeline, the batch's first and last source positions, its count of
    /// records read and the body sent: the same for the same batch read again (the body is
    /// written deterministically), different for any other batch — also for a listing polled
    /// again at the same URL whose pages now hold other records.
    static func idempotencyKey(_ batch: Batch, body: [UInt8], pipeline: String) -> String {
        let first = batch.readCount > 0 ? batch.origin(at: 0).description : ""
        let last = batch.readCount > 0 ? batch.origin(at: batch.readCount - 1).description : ""
        let text = [pipeline, first, last, String(batch.readCount), ""].joined(separator: "\u{0}")
        return SHA256.hex(SHA256.digest(Array(text.utf8) + body))
    }
}
