import RunnelConfig

/// The declared keys of the HTTP components (see `registerHTTPAPI`).
enum HTTPKeys {
    static let auth: [ConfigKey] = [
        .string("bearer", "A bearer token, as ${VARIABLE}."),
        .object(
            "basic",
            [
                .string("user", required: true, "The user."),
                .string("password", required: true, "The password, as ${VARIABLE}."),
            ],
            "HTTP basic authentication."),
        .object(
            "api_key",
            [
                .string("header", "The header's name (give header or query)."),
                .string("query", "The query parameter's name."),
                .string("value", required: true, "The key, as ${VARIABLE}."),
            ], "An API key in a header or query parameter."),
    ]
    static let retry: [ConfigKey] = [
        .int("max_attempts", default: "5", "Attempts of a request, 1 to 100."),
        .duration("base_delay", default: "500ms", "Delay before the first retry."),
        .duration("max_delay", default: "30s", "Longest delay between retries."),
        .duration("max_retry_after", default: "15m", "Longest Retry-After honoured; longer fails the request."),
    ]

    /// The keys both components share.
    static func endpoint(methods: [String], defaultMethod: String) -> [ConfigKey] {
        [
            .string("url", required: true, "http:// or https:// URL."),
            .choice("method", methods, default: defaultMethod, "The request method."),
            .map("headers", of: .string, "Request headers."),
            .map("query", of: .string, "Query parameters."),
            .object("auth", auth, "Authentication: exactly one of bearer, basic or api_key; secrets as ${VARIABLE}."),
            .object(
                "tls",
                [
                    .string("ca", "CA certificate file (PEM) of a private CA."),
                    .string("cert", "Client certificate file (PEM), with key."),
                    .string("key", "Client key file (PEM), with cert."),
                ], "A private CA; a client certificate (mTLS)."),
            .duration("connect_timeout", default: "10s", "How long connecting may take."),
            .duration("timeout", default: "60s", "How long a request may take."),
            .number("rate_limit", "Most requests per second."),
            .object("retry", retry, "How failed requests are retried."),
        ]
    }

    static let pagination: [ConfigKey] = [
        .choice(
            "type", ["none", "next_url", "link", "cursor", "offset", "page"], required: true,
            "How the next page is found."),
        .string("field", "next_url, cursor: the dotted path of the next URL or cursor in the body."),
        .string("param", "cursor, offset, page: the query parameter (offset: offset, page: page)."),
        .int("limit", "offset: records per page (required)."),
        .string("limit_param", default: "limit", "offset: the query parameter of the page size."),
        .int("start", "offset: first offset (0); page: first page (1)."),
        .int("size", "page: records per page (with size_param)."),
        .string("size_param", "page: the query parameter of the page size."),
    ]

    static let extractor = ComponentKeys(
        "Reads a paginated JSON API.",
        endpoint(methods: ["GET", "POST"], defaultMethod: "GET") + [
            .anyValue("body", "The JSON body, with method POST."),
            .string("records", default: "the body", "Dotted path of the records array in the body."),
            .object("pagination", pagination, "How pages follow each other. Default: none."),
            .int("max_pages", "Most pages read in one run."),
            .object(
                "cursor",
                [
                    .string("field", required: true, "The record field whose highest value is the checkpoint."),
                    .string("param", required: true, "The query parameter the checkpoint is sent in."),
                    .string("initial", "The value sent on the first run."),
                    .string("end_param", "The query parameter of a backfill window's end."),
                ], "Incremental reads: a field of the records sent back as a query parameter."),
            .int("concurrency", default: "1", "Pages fetched at once (offset and page pagination), 1 to 64."),
            .bytes("max_response_bytes", default: "64MiB", "Largest response body."),
        ])
    static let loader = ComponentKeys(
        "Posts each batch to a webhook, with an idempotency key.",
        endpoint(methods: ["POST", "PUT", "PATCH"], defaultMethod: "POST") + [
            .choice(
                "format", ["json", "ndjson"], default: "json", "json: one array per batch; ndjson: one line per record."
            ),
            .string(
                "idempotency_header", default: "Idempotency-Key", "The header carrying the batch's idempotency key."),
        ])
}
