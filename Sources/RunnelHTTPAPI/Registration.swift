public import RunnelConfig
import Logging
import RunnelCore
import Yams

extension HTTPAPIClient {
    /// One client per connect timeout for the components of a pipeline.
    public static let resource = ResourceKey<HTTPAPIClient>("http.client")
}

/// Keeps a pipeline's HTTP client until the run ends, then shuts it down.
struct HTTPClientTask: BackgroundTask {
    let client: HTTPAPIClient
    func run() async throws { try await client.run() }
}

extension ComponentRegistry {
    /// `type: http` for extract (a paginated JSON API) and load (a webhook).
    ///
    ///     extract:
    ///       type: http
    ///       url: https://api.example.com/v1/orders
    ///       method: GET                    # or POST, with `body:` (JSON)
    ///       headers: {Accept-Language: en}
    ///       query: {status: open}
    ///       auth: {bearer: ${API_TOKEN}}   # or basic: {user, password}, or api_key: {header|query: name, value}
    ///       records: data.items            # dotted path of the records array; empty: the body
    ///       pagination: {type: next_url, field: links.next}   # link | cursor | offset | page | none
    ///       max_pages: 1000
    ///       cursor: {field: updated_at, param: updated_since, initial: "2024-01-01T00:00:00Z", end_param: updated_before}
    ///       rate_limit: 5                  # requests per second
    ///       concurrency: 1                 # offset and page pagination only
    ///       retry: {max_attempts: 5, base_delay: 500ms, max_delay: 30s, max_retry_after: 15m}
    ///       tls: {ca: ca.pem, cert: client.pem, key: client.key}   # a private CA; a client certificate (mTLS)
    ///       connect_timeout: 10s
    ///       timeout: 60s
    ///       max_response_bytes: 64MiB
    public mutating func registerHTTPAPI() {
        registerExtractor("http", keys: HTTPKeys.extractor) { ctx in
            let s = ctx.section
            guard let endpoint = httpEndpoint(ctx, defaultMethod: "GET", allowBody: true) else { return nil }
            var c = HTTPAPIExtractor.Configuration(endpoint: endpoint)
            c.records = s.string("records") ?? ""
            if let p = s.node("pagination") {
                guard let pagination = readPagination(p) else { return nil }
                c.pagination = pagination
            }
            c.maxPages = s.int("max_pages", in: 1...Int.max)
            if let node = s.node("cursor") {
                guard let sub = SpecSection(node) else { return nil }
                let field = sub.string("field", required: true)
                let param = sub.string("param", required: true)
                let initial = sub.string("initial")
                let endParam = sub.string("end_param")
                sub.finish("extract.cursor")
                guard let field, let param else { return nil }
                c.cursor = .init(field: field, param: param, initial: initial, endParam: endParam)
            }
            if let n = s.int("concurrency", in: 1...64) {
                if n > 1, !c.pagination.isNumbered {
                    s.node("concurrency")?.problem(
                        "concurrency above 1 needs offset or page pagination: other styles learn each page from the one before"
                    )
                }
                c.concurrency = n
            }
            if let b = s.bytes("max_response_bytes") { c.maxResponseBytes = b }
            guard let client = client(ctx, endpoint) else { return nil }
            return HTTPAPIExtractor(c, client: client)
        }

        registerLoader("http", keys: HTTPKeys.loader) { ctx in
            let s = ctx.section
            guard let endpoint = httpEndpoint(ctx, defaultMethod: "POST", allowBody: false) else { return nil }
            var c = HTTPWebhookLoader.Configuration(endpoint: endpoint, pipeline: ctx.pipeline)
            switch s.choice("format", ["json", "ndjson"]) {
            case "ndjson": c.format = .ndjson
            default: c.format = .jsonArray
            }
            if let h = s.string("idempotency_header") { c.idempotencyHeader = h }
            guard let client = client(ctx, endpoint) else { return nil }
            return HTTPWebhookLoader(c, client: client)
        }
    }
}

/// One client per connect timeout and TLS settings; nil (the problem reported) when the TLS
/// files cannot be read.
private func client(_ ctx: ComponentContext, _ endpoint: HTTPEndpoint) -> HTTPAPIClient? {
    let tls: HTTPTLS? = endpoint.tls
    do {
        return try ctx.resources.resource(HTTPAPIClient.resource, id: "\(endpoint.connectTimeout)|\(String(describing: tls))") {
            let client = try HTTPAPIClient(connectTimeout: endpoint.connectTimeout, tls: tls)
            ctx.resources.addBackgroundTask(HTTPClientTask(client: client))
            return client
        }
    } catch {
        (ctx.section.node("tls") ?? ctx.section.node).problem(RunnelError.classify(error).message)
        return nil
    }
}

/// The keys both components share: url, method, headers, query, body, auth, timeouts, retry, rate limit.
private func httpEndpoint(_ ctx: ComponentContext, defaultMethod: String, allowBody: Bool) -> HTTPEndpoint? {
    let s = ctx.section
    let url = s.string("url", required: true)
    if let url, !(url.hasPrefix("http://") || url.hasPrefix("https://")) {
        s.node("url")?.problem("expected an http:// or https:// URL")
    }
    let method = s.choice("method", allowBody ? ["GET", "POST"] : ["POST", "PUT", "PATCH"]) ?? defaultMethod
    var endpoint = HTTPEndpoint(url: url ?? "", method: method)
    endpoint.headers = pairs(s.node("headers"))
    endpoint.query = pairs(s.node("query"))
    if allowBody, let b = s.node("body") {
        endpoint.body = b.value
        if method != "POST" { b.problem("a body is sent with method POST only") }
    }
    if let a = s.node("auth") { endpoint.auth = auth(a) }
    if let n = s.node("tls"), let t = SpecSection(n) {
        let tls = HTTPTLS(caFile: t.path("ca"), certificateFile: t.path("cert"), keyFile: t.path("key"))
        if (tls.certificateFile == nil) != (tls.keyFile == nil) { n.problem("'cert' and 'key' go together") }
        t.finish("\(ctx.role).tls")
        endpoint.tls = tls
    }
    if let d = s.duration("connect_timeout") { endpoint.connectTimeout = d }
    if let d = s.duration("timeout") { endpoint.timeout = d }
    if let n = s.node("rate_limit"), let r = n.double {
        if r > 0 { endpoint.rateLimit = r } else { n.problem("requests per second must be above 0") }
    }
    if let node = s.node("retry"), let r = SpecSection(node) {
        if let n = r.int("max_attempts", in: 1...100) { endpoint.retry.maxAttempts = n }
        if let d = r.duration("base_delay") { endpoint.retry.baseDelay = d }
        if let d = r.duration("max_delay") { endpoint.retry.maxDelay = d }
        if let d = r.duration("max_retry_after") { endpoint.retry.maxRetryAfter = d }
        r.finish("\(ctx.role).retry")
    }
    guard url != nil else { return nil }
    endpoint.retries = RequestRetries(pipeline: ctx.pipeline, connector: "http", logger: Logger(label: "runnel.http"))
    return endpoint
}

/// A mapping of names to scalar values (headers, query parameters).
private func pairs(_ node: SpecNode?) -> [(name: String, value: String)] {
    guard let node, let entries = node.entries else { return [] }
    return entries.compactMap { k, v in v.string.map { (k, $0) } }
}

/// `auth:`. The values must come from `${ENV}`: a literal secret in a spec (a ConfigMap, a
/// repository) is refused, so that credentials live in Secrets.
private func auth(_ node: SpecNode) -> HTTPAuth? {
    guard let s = SpecSection(node) else { return nil }
    func secret(_ n: SpecNode?) -> String? {
        guard let n else { return nil }
        if case .scalar(let raw) = n.node, !raw.string.contains("${") {
            n.problem("give the secret as ${VARIABLE} (from a Kubernetes Secret), not literally in the spec")
            return nil
        }
        return n.string
    }
    var result: HTTPAuth?
    var given = 0
    if let n = s.node("bearer") {
        given += 1
        result = secret(n).map { .bearer($0) }
    }
    if let n = s.node("basic"), let b = SpecSection(n) {
        given += 1
        let user = b.string("user", required: true)
        let password = secret(b.node("password", required: true))
        b.finish("auth.basic")
        if let user, let password { result = .basic(user: user, password: password) }
    }
    if let n = s.node("api_key"), let k = SpecSection(n) {
        given += 1
        let header = k.string("header")
        let query = k.string("query")
        let value = secret(k.node("value", required: true))
        k.finish("auth.api_key")
        if (header == nil) == (query == nil) {
            n.problem("give exactly one of 'header' (the header's name) or 'query' (the parameter's name)")
        } else if let value {
            result = header.map { .apiKey(header: $0, value: value) } ?? .apiKey(query: query!, value: value)
        }
    }
    s.finish("auth")
    if given != 1 { node.problem("give exactly one of bearer, basic or api_key") }
    return result
}

private func readPagination(_ node: SpecNode) -> Pagination? {
    guard let s = SpecSection(node) else { return nil }
    defer { s.finish("pagination") }
    let styles = ["none", "next_url", "link", "cursor", "offset", "page"]
    guard let type = s.choice("type", styles, required: true) else { return nil }
    switch type {
    case "next_url":
        guard let field = s.string("field", required: true) else { return nil }
        return .nextURL(field: field)
    case "link": return .link
    case "cursor":
        let field = s.string("field", required: true)
        let param = s.string("param", required: true)
        guard let field, let param else { return nil }
        return .cursor(field: field, param: param)
    case "offset":
        let limit = s.int("limit", in: 1...Int.max, required: true)
        let start = s.int("start")
        guard let limit else { return nil }
        return .offset(
            param: s.string("param") ?? "offset", limitParam: s.string("limit_param") ?? "limit", limit: limit,
            start: Int64(start ?? 0))
    case "page":
        let size = s.int("size", in: 1...Int.max)
        let sizeParam = s.string("size_param")
        if (size == nil) != (sizeParam == nil) { s.node.problem("give 'size' and 'size_param' together, or neither") }
        return .page(
            param: s.string("param") ?? "page", sizeParam: sizeParam, size: size, start: Int64(s.int("start") ?? 1))
    default: return Pagination.none
    }
}
