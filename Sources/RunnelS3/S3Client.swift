import AsyncHTTPClient
import NIOCore
import NIOHTTP1
public import RunnelConfig
public import RunnelCore

/// A client for one bucket of an S3-compatible store (AWS S3, MinIO, Ceph, R2, GCS's
/// interoperability API, moto), signed with SigV4 over async-http-client.
///
/// Every call retries transient failures itself (5xx, 429, `SlowDown`, dropped connections) with
/// the configured policy, so that a mid-object read resumes at the byte it stopped at. Errors that
/// no retry can fix — credentials refused, a missing bucket, a wrong region — are config errors
/// (exit 2) that name the bucket and endpoint and never a secret.
public final class S3Client: Sendable {
    public struct Configuration: Sendable {
        public var bucket: String
        /// Default `us-east-1`.
        public var region: String = "us-east-1"
        /// `http(s)://host[:port]` of a non-AWS store; nil for AWS (`https://s3.REGION.amazonaws.com`).
        public var endpoint: String?
        /// Address the bucket in the path (`host/bucket/key`) rather than the host name
        /// (`bucket.host/key`). Default: true with an `endpoint` (MinIO, Ceph, moto), false for AWS.
        public var pathStyle: Bool?
        /// Retries of transient failures inside each call. Default 5 attempts, 100 ms to 5 s.
        public var retry: RetryPolicy = .exponentialJitter(maxAttempts: 5, baseDelay: .milliseconds(100), maxDelay: .seconds(5))
        /// Deadline of one request (a ranged GET of one chunk, a part upload). Default 120 s.
        public var requestTimeout: Duration = .seconds(120)
        /// Counts and logs the retries; nil: silent.
        public var retries: RequestRetries?

        public init(bucket: String) { self.bucket = bucket }
    }

    /// An object as listed.
    public struct Object: Sendable, Hashable {
        public var key: String
        public var size: Int64
        public var etag: String
        public var lastModified: Timestamp?
    }

    /// A response whose body was read whole (everything but object data is small).
    struct Response: Sendable {
        var status: Int
        var headers: HTTPHeaders
        var body: [UInt8]
        var text: Substring { Substring(String(decoding: body, as: UTF8.self)) }
    }

    /// One client per bucket, endpoint and keys, shared by the sections of a spec.
    public static let resource = ResourceKey<S3Client>("s3.client")

    public let configuration: Configuration
    let credentials: S3Credentials
    private let scheme: String
    private let host: String
    private let pathStyle: Bool

    public init(_ configuration: Configuration, credentials: S3Credentials) throws(RunnelError) {
        self.configuration = configuration
        self.credentials = credentials
        let endpoint = configuration.endpoint ?? "https://s3.\(configuration.region).amazonaws.com"
        guard let parsed = S3Client.parseEndpoint(endpoint) else {
            throw RunnelError.config("endpoint '\(endpoint)' is not an http:// or https:// address")
        }
        scheme = parsed.scheme
        pathStyle = configuration.pathStyle ?? (configuration.endpoint != nil)
        host = pathStyle ? parsed.host : "\(configuration.bucket).\(parsed.host)"
    }

    /// `s3://bucket` at the endpoint, for messages and `target` lines.
    public var description: String {
        "s3://\(configuration.bucket)" + (configuration.endpoint.map { " at \($0)" } ?? " (\(configuration.region))")
    }

    // MARK: Listing

    /// Every object under `prefix` whose key sorts after `startAfter`, in key order, following
    /// continuation tokens page by page (1,000 keys a page).
    public func list(prefix: String, startAfter: String? = nil, pageSize: Int = 1000) async throws(RunnelError) -> [Object] {
        var objects: [Object] = []
        var token: String?
        repeat {
            var query = [("list-type", "2"), ("encoding-type", "url"), ("max-keys", String(pageSize))]
            if !prefix.isEmpty { query.append(("prefix", prefix)) }
            if let token {
                query.append(("continuation-token", token))
            } else if let startAfter {
                query.append(("start-after", startAfter))
            }
            let r = try await send("GET", key: nil, query: query, operation: "list \(description)/\(prefix)")
            let xml = r.text
            for entry in S3XML.elements("Contents", in: xml) {
                guard let rawKey = S3XML.text("Key", in: entry) else { continue }
                let size = S3XML.text("Size", in: entry).flatMap { Int64($0) } ?? 0
                let etag = S3XML.text("ETag", in: entry) ?? ""
                let modified = S3XML.text("LastModified", in: entry).flatMap { TimestampFormat.iso8601.parse($0) }
                objects.append(Object(key: S3XML.urlDecode(rawKey), size: size, etag: etag, lastModified: modified))
            }
            let truncated = S3XML.text("IsTruncated", in: xml) == "true"
            token = truncated ? S3XML.text("NextContinuationToken", in: xml) : nil
            if truncated && token == nil {
                throw RunnelError.failure("\(description): a truncated listing came without a continuation token")
            }
        } while token != nil
        return objects
    }

    /// Creates the bucket (for tests and examples; pipelines never create buckets).
    public func createBucket() async throws(RunnelError) {
        var body: [UInt8]?
        if configuration.region != "us-east-1" {
            body = Array(
                "<CreateBucketConfiguration><LocationConstraint>\(configuration.region)</LocationConstraint></CreateBucketConfiguration>".utf8)
        }
        _ = try await send("PUT", key: nil, body: body, operation: "create bucket \(description)", allow: [409])
    }

    // MARK: Objects

    /// The object's size, ETag and headers, or nil when it does not exist.
    public func head(_ key: String) async throws(RunnelError) -> (size: Int64, etag: String, contentEncoding: String?)? {
        let r = try await send("HEAD", key: key, operation: "head \(url(key))", allow: [404])
        if r.status == 404 { return nil }
        let size = r.headers.first(name: "content-length").flatMap { Int64($0) } ?? 0
        return (size, r.headers.first(name: "etag") ?? "", r.headers.first(name: "content-encoding"))
    }

    /// Bytes `[from, from + count)` of an object, checked against `etag` so that an object
    /// replaced mid-read is an error instead of a mix of two versions.
    func getRange(_ key: String, from: Int64, count: Int64, etag: String?) async throws(RunnelError) -> Response {
        var headers = [("Range", "bytes=\(from)-\(from + count - 1)")]
        if let etag, !etag.isEmpty { headers.append(("If-Match", etag)) }
        let operation = "read \(url(key)) at byte \(from)"
        // A body cut short is retried like a dropped connection.
        let r = try await send("GET", key: key, headers: headers, operation: operation, allow: [412]) { r throws(RunnelError) in
            if r.status != 412, r.body.count != count {
                throw RunnelError.transient("\(operation): asked for \(count) bytes, got \(r.body.count)")
            }
        }
        if r.status == 412 {
            throw RunnelError.failure("\(url(key)) changed while it was read (its ETag is no longer \(etag ?? "")); run again")
        }
        return r
    }

    /// Writes a whole object in one request.
    public func put(_ key: String, body: [UInt8], contentType: String, contentEncoding: String? = nil) async throws(RunnelError) {
        var headers = [("Content-Type", contentType)]
        if let contentEncoding { headers.append(("Content-Encoding", contentEncoding)) }
        _ = try await send("PUT", key: key, headers: headers, body: body, operation: "write \(url(key))")
    }

    public func delete(_ key: String) async throws(RunnelError) {
        _ = try await send("DELETE", key: key, operation: "delete \(url(key))", allow: [404])
    }

    /// The whole content of a small object, or nil when it does not exist.
    public func getSmall(_ key: String) async throws(RunnelError) -> [UInt8]? {
        let r = try await send("GET", key: key, operation: "read \(url(key))", allow: [404])
        return r.status == 404 ? nil : r.body
    }

    // MARK: Multipart upload

    public func createMultipartUpload(_ key: String, contentType: String) async throws(RunnelError) -> String {
        let r = try await send(
            "POST", key: key, query: [("uploads", "")], headers: [("Content-Type", contentType)],
            operation: "start the upload of \(url(key))")
        guard let id = S3XML.text("UploadId", in: r.text) else {
            throw RunnelError.failure("\(url(key)): the upload was started but no UploadId came back")
        }
        return id
    }

    /// Uploads part `number` (1-based) and returns its ETag.
    public func uploadPart(_ key: String, uploadID: String, number: Int, body: [UInt8]) async throws(RunnelError) -> String {
        let r = try await send(
            "PUT", key: key, query: [("partNumber", String(number)), ("uploadId", uploadID)], body: body,
            operation: "upload part \(number) of \(url(key))")
        guard let etag = r.headers.first(name: "etag") else {
            throw RunnelError.failure("\(url(key)): part \(number) was uploaded but no ETag came back")
        }
        return etag
    }

    public func completeMultipartUpload(_ key: String, uploadID: String, parts: [String]) async throws(RunnelError) {
        var xml = "<CompleteMultipartUpload>"
        for (i, etag) in parts.enumerated() {
            xml += "<Part><PartNumber>\(i + 1)</PartNumber><ETag>\(S3XML.escape(etag))</ETag></Part>"
        }
        xml += "</CompleteMultipartUpload>"
        let r = try await send(
            "POST", key: key, query: [("uploadId", uploadID)], headers: [("Content-Type", "application/xml")],
            body: Array(xml.utf8), operation: "complete the upload of \(url(key))")
        // S3 may answer 200 with an error in the body when completion fails late.
        if let code = S3XML.text("Code", in: r.text), r.text.contains("<Error>") {
            throw classify(status: 500, code: code, message: S3XML.text("Message", in: r.text) ?? "", operation: "complete the upload of \(url(key))")
        }
    }

    public func abortMultipartUpload(_ key: String, uploadID: String) async throws(RunnelError) {
        _ = try await send(
            "DELETE", key: key, query: [("uploadId", uploadID)], operation: "abort the upload of \(url(key))", allow: [404])
    }

    /// Uploads in progress under `prefix`: (key, upload id).
    public func listMultipartUploads(prefix: String) async throws(RunnelError)
        -> [(key: String, uploadID: String, initiated: Timestamp?)]
    {
        var uploads: [(String, String, Timestamp?)] = []
        var keyMarker: String?
        var idMarker: String?
        while true {
            var query = [("uploads", ""), ("prefix", prefix)]
            if let keyMarker { query.append(("key-marker", keyMarker)) }
            if let idMarker { query.append(("upload-id-marker", idMarker)) }
            let r = try await send("GET", key: nil, query: query, operation: "list uploads in \(description)/\(prefix)")
            for u in S3XML.elements("Upload", in: r.text) {
                if let k = S3XML.text("Key", in: u), let id = S3XML.text("UploadId", in: u) {
                    uploads.append((k, id, S3XML.text("Initiated", in: u).flatMap { TimestampFormat.iso8601.parse($0) }))
                }
            }
            guard S3XML.text("IsTruncated", in: r.text) == "true" else { break }
            keyMarker = S3XML.text("NextKeyMarker", in: r.text)
            idMarker = S3XML.text("NextUploadIdMarker", in: r.text)
            if keyMarker == nil { break }
        }
        return uploads
    }

    // MARK: Requests

    /// `s3://bucket/key`, for messages.
    func url(_ key: String) -> String { "s3://\(configuration.bucket)/\(key)" }

    /// Signs and sends one request, retrying transient failures. Statuses in `allow` are
    /// returned to the caller; other non-2xx statuses are classified and thrown.
    func send(
        _ method: String, key: String?, query: [(String, String)] = [], headers: [(String, String)] = [],
        body: [UInt8]? = nil, operation: String, allow: Set<Int> = [],
        check: ((Response) throws(RunnelError) -> Void)? = nil
    ) async throws(RunnelError) -> Response {
        do {
            return try await configuration.retry.run {
                let r = try await self.sendOnce(method, key: key, query: query, headers: headers, body: body, operation: operation, allow: allow)
                try check?(r)
                return r
            } onRetry: { attempt, error, delay in
                configuration.retries?.record(
                    reason: RequestRetries.reason(status: (error.underlying as? S3Status)?.code), problem: error.message,
                    target: "\(method) \(key.map(url) ?? description)", attempt: attempt, delay: delay)
            }
        } catch {
            throw RunnelError.classify(error)
        }
    }

    private func sendOnce(
        _ method: String, key: String?, query: [(String, String)], headers: [(String, String)], body: [UInt8]?,
        operation: String, allow: Set<Int>
    ) async throws(RunnelError) -> Response {
        var path = pathStyle ? "/\(configuration.bucket)" : ""
        if let key { path += "/\(key)" } else if path.isEmpty { path = "/" }
        let creds = try await credentials.current()
        let payloadHash = body.map { SigV4.hexSHA256($0) } ?? SigV4.emptyPayloadHash
        let signed = SigV4.sign(
            SigV4.Request(method: method, host: host, path: path, query: query, headers: headers, payloadHash: payloadHash),
            credentials: creds, region: configuration.region, service: "s3", time: .now)
        var url = "\(scheme)://\(host)\(signed.encodedPath)"
        if !signed.encodedQuery.isEmpty { url += "?\(signed.encodedQuery)" }
        var request = HTTPClientRequest(url: url)
        request.method = HTTPMethod(rawValue: method)
        request.headers.add(name: "Host", value: host)
        for (name, value) in signed.headers { request.headers.add(name: name, value: value) }
        if let body {
            request.body = .bytes(ByteBuffer(bytes: body))
            request.headers.replaceOrAdd(name: "Content-Length", value: String(body.count))
        }
        let response: HTTPClientResponse
        let bytes: ByteBuffer
        do {
            response = try await S3HTTP.client.execute(request, timeout: .nanoseconds(configuration.requestTimeout.nanoseconds))
            // Bodies are bounded by what this client asks for: a chunk, a listing page.
            bytes = try await response.body.collect(upTo: 256 << 20)
        } catch {
            throw RunnelError.transient("\(operation): cannot reach \(scheme)://\(host): \(error)", underlying: error)
        }
        let status = Int(response.status.code)
        let result = Response(status: status, headers: response.headers, body: Array(bytes.readableBytesView))
        if (200..<300).contains(status) || allow.contains(status) { return result }
        let text = result.text
        let code = S3XML.text("Code", in: text) ?? response.status.reasonPhrase
        let message = S3XML.text("Message", in: text) ?? ""
        throw classify(status: status, code: code, message: message, operation: operation)
    }

    /// The status of a response retried, for the retry metric's reason.
    struct S3Status: Error { var code: Int }

    /// What a failed response means for the run.
    func classify(status: Int, code: String, message: String, operation: String) -> RunnelError {
        let detail = message.isEmpty ? "\(status) \(code)" : "\(status) \(code): \(message)"
        switch (status, code) {
        case (_, "InvalidAccessKeyId"), (_, "SignatureDoesNotMatch"), (_, "InvalidToken"), (_, "ExpiredToken"),
            (_, "InvalidClientTokenId"), (_, "AuthorizationHeaderMalformed"):
            return RunnelError.config(
                "\(operation): S3 refused the credentials (\(detail)); check the access key, secret and region for \(description) (credentials: \(credentials.origin))")
        case (403, _):
            return RunnelError.config(
                "\(operation): access denied (\(detail)); the credentials (\(credentials.origin)) lack permission on \(description)")
        case (_, "NoSuchBucket"):
            return RunnelError.config("\(operation): bucket '\(configuration.bucket)' does not exist (\(detail))")
        case (301, _), (307, _), (_, "PermanentRedirect"):
            return RunnelError.config("\(operation): \(description) is not in region '\(configuration.region)' (\(detail)); set 'region'")
        case (408, _), (429, _), (500..., _), (_, "SlowDown"), (_, "RequestTimeout"), (_, "InternalError"):
            return RunnelError.transient("\(operation): \(detail)", underlying: S3Status(code: status))
        case (404, _):
            return RunnelError.failure("\(operation): not found (\(detail))")
        default:
            return RunnelError.config("\(operation): \(detail)")
        }
    }

    /// (scheme, host[:port]) of an endpoint address; a trailing path is not supported.
    static func parseEndpoint(_ endpoint: String) -> (scheme: String, host: String)? {
        for scheme in ["http", "https"] {
            let prefix = "\(scheme)://"
            guard endpoint.hasPrefix(prefix) else { continue }
            var rest = endpoint.dropFirst(prefix.count)
            while rest.hasSuffix("/") { rest = rest.dropLast() }
            guard !rest.isEmpty, !rest.contains("/") else { return nil }
            // The default port is not part of the Host header that is signed.
            if scheme == "http", rest.hasSuffix(":80") { rest = rest.dropLast(3) }
            if scheme == "https", rest.hasSuffix(":443") { rest = rest.dropLast(4) }
            return (scheme, String(rest))
        }
        return nil
    }
}

/// The HTTP client every S3 connection shares.
///
/// Process-wide and never shut down, as async-http-client's own `HTTPClient.shared` is, so that no
/// component has to own its lifetime; unlike `shared` it never follows redirects (a redirect
/// would break the signature and means a wrong region) and never decompresses bodies (a ranged
/// GET of a gzip object must see the stored bytes).
enum S3HTTP {
    static let client = HTTPClient(
        eventLoopGroupProvider: .singleton,
        configuration: HTTPClient.Configuration(
            redirectConfiguration: .disallow,
            timeout: .init(connect: .seconds(10), read: .seconds(60)),
            decompression: .disabled))
}

extension Duration {
    var nanoseconds: Int64 {
        let (s, atto) = components
        return s * 1_000_000_000 + atto / 1_000_000_000
    }
}
