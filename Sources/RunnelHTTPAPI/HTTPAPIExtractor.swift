import NIOCore
import NIOHTTP1
public import RunnelCore

/// Reads records from a paginated JSON API (`type: http`), one page per batch.
///
/// - Records are the array at `records` (a dotted path; the whole body when empty); an object
///   there is one record.
/// - Pages follow each other as `pagination` says; every style stops on an empty page and
///   after `maxPages` pages in one run (the next run goes on from there).
/// - Incremental loads: with `cursor`, the first request of a listing sends the last committed
///   value of `cursor.field` as `cursor.param` (`updated_since=`); `--from/--to` send the window
///   as `cursor.param` and `cursor.endParam` instead, and neither read nor move the checkpoint.
/// - The checkpoint is the position after the page (see `PagePosition`): a killed run resumes
///   at the page after the last committed one.
/// - A response that is not JSON, or lacks the `records` path, is rejected whole (stage
///   `extract`, code `malformed_page`, the raw body in the dead letter). Offsets, page numbers
///   and `Link` headers still lead to the next page; a `next_url` or `cursor` listing cannot go
///   on, so the run ends there with the checkpoint at that page, which the next run asks for again.
/// - A 4xx answer other than 408/429 is a configuration error (exit 2) naming the URL (secrets
///   masked), the status and the first bytes of the body.
public struct HTTPAPIExtractor: Extractor {
    /// `cursor:`: the record field whose last committed value the next listing starts from.
    public struct IncrementalCursor: Sendable, Hashable {
        /// The record field (a time or a number) that grows as records change.
        public var field: String
        /// The query parameter the value is sent as (`updated_since`); a backfill's `--from`.
        public var param: String
        /// The value sent before anything was committed; nil: the parameter is left out.
        public var initial: String?
        /// The query parameter a backfill's `--to` is sent as.
        public var endParam: String?
        public init(field: String, param: String, initial: String? = nil, endParam: String? = nil) {
            self.field = field
            self.param = param
            self.initial = initial
            self.endParam = endParam
        }
    }

    public struct Configuration: Sendable {
        public var endpoint: HTTPEndpoint
        /// Dotted path of the records array in the body; empty: the body itself.
        public var records: String = ""
        public var pagination: Pagination = .none
        /// Pages read at most per run; nil: until the listing ends.
        public var maxPages: Int?
        public var cursor: IncrementalCursor?
        /// Requests in flight at once (offset and page styles only). Default 1.
        public var concurrency: Int = 1
        /// The largest response accepted. Default 64 MiB: memory is bounded by this times `concurrency`.
        public var maxResponseBytes: Int = 64 << 20
        public init(endpoint: HTTPEndpoint) { self.endpoint = endpoint }
    }

    public let configuration: Configuration
    public let client: HTTPAPIClient
    let limiter: RateLimiter?

    public init(_ configuration: Configuration, client: HTTPAPIClient) {
        self.configuration = configuration
        self.client = client
        self.limiter = configuration.endpoint.rateLimit.map { RateLimiter(perSecond: $0) }
    }

    public func open(_ request: ExtractRequest) async throws -> any BatchReader {
        let c = configuration
        if let shard = request.shard, shard.count > 1 {
            throw RunnelError.config("extract (http): --shard \(shard): an HTTP listing cannot be split into shards")
        }
        if c.concurrency > 1, !c.pagination.isNumbered {
            throw RunnelError.config(
                "extract.concurrency: \(c.concurrency) needs offset or page pagination; other styles learn each page from the one before"
            )
        }
        let position: PagePosition
        if let window = request.window {
            guard let cursor = c.cursor else {
                throw RunnelError.config(
                    "--from/--to need extract.cursor (field and param) to send the window to the API")
            }
            if window.to != nil, cursor.endParam == nil {
                throw RunnelError.config(
                    "--to needs extract.cursor.end_param: the query parameter the window's end is sent as")
            }
            position = .fresh(since: window.from ?? cursor.initial)
        } else if let checkpoint = request.checkpoint {
            position = try PagePosition(checkpoint: checkpoint)
        } else {
            position = .fresh(since: c.cursor?.initial)
        }
        return HTTPPageReader(extractor: self, position: position, windowEnd: request.window?.to, limit: request.limit)
    }
}

/// Reads pages on demand; offset and page listings keep up to `concurrency` requests ahead.
final class HTTPPageReader: BatchReader {
    private let extractor: HTTPAPIExtractor
    private var configuration: HTTPAPIExtractor.Configuration { extractor.configuration }
    private let redactor: Redactor
    private let recordsPath: JSONPath
    private let windowEnd: String?
    /// The position before the next page to return.
    private var position: PagePosition
    private var remaining: Int?
    private var pagesRead = 0
    private var finished = false
    /// Numbered pages requested ahead, in page order. Their tasks are cancelled by `close`.
    private var inflight: [(number: Int64, url: String, task: Task<HTTPAnswer, any Error>)] = []
    /// A numbered page that came back shorter than the page size: it must be the last one.
    private var shortPage: (url: String, count: Int)?

    init(extractor: HTTPAPIExtractor, position: PagePosition, windowEnd: String?, limit: Int?) {
        self.extractor = extractor
        self.redactor = extractor.configuration.endpoint.redactor
        self.recordsPath = JSONPath(extractor.configuration.records)
        self.position = position
        self.windowEnd = windowEnd
        self.remaining = limit
    }

    func close() async {
        for f in inflight { f.task.cancel() }
        inflight.removeAll()
    }

    func read() async throws -> ReadResult {
        if finished { return .end }
        if let max = configuration.maxPages, pagesRead >= max { return .end }
        if let r = remaining, r <= 0 { return .end }
        let (url, answer) = try await fetchNext()
        pagesRead += 1
        return try batch(from: answer, url: url)
    }

    // MARK: - Requests

    /// The listing's base URL with the configured query and the incremental parameters.
    private func baseURL() -> String {
        var items = configuration.endpoint.query
        if let cursor = configuration.cursor {
            if let since = position.since { items.append((cursor.param, since)) }
            if let end = windowEnd, let endParam = cursor.endParam { items.append((endParam, end)) }
        }
        return URLText.setting(items, in: configuration.endpoint.url)
    }

    private func url(for next: PagePosition.Next) -> String {
        let p = configuration.pagination
        switch next {
        case .url(let u): return u
        case .token(let t):
            guard case .cursor(_, let param) = p.style else { return baseURL() }
            return URLText.setting([(param, t)], in: baseURL())
        case .number(let n): return URLText.setting(p.parameters(number: n), in: baseURL())
        case .start: return p.isNumbered ? URLText.setting(p.parameters(number: p.start), in: baseURL()) : baseURL()
        }
    }

    private func exchange(_ url: String) -> HTTPExchange {
        let e = configuration.endpoint
        var x = HTTPExchange(method: e.method, url: url)
        if let body = e.body {
            var bytes: [UInt8] = []
            JSONText.write(body, into: &bytes)
            x.body = bytes
            x.headers.append(("Content-Type", "application/json"))
        }
        return x
    }

    private func send(_ url: String) -> @Sendable () async throws -> HTTPAnswer {
        let endpoint = configuration.endpoint
        let client = extractor.client
        let limiter = extractor.limiter
        let maxBytes = configuration.maxResponseBytes
        let exchange = self.exchange(url)
        return { try await endpoint.send(exchange, client: client, limiter: limiter, maxBytes: maxBytes) }
    }

    private func fetchNext() async throws -> (String, HTTPAnswer) {
        do {
            guard configuration.pagination.isNumbered else {
                let url = self.url(for: position.next)
                return (url, try await send(url)())
            }
            let p = configuration.pagination
            var number: Int64
            if case .number(let n) = position.next { number = n } else { number = p.start }
            if let last = inflight.last { number = last.number + p.step }
            let budget = configuration.maxPages.map { $0 - pagesRead } ?? Int.max
            while inflight.count < min(max(1, configuration.concurrency), budget) {
                let url = URLText.setting(p.parameters(number: number), in: baseURL())
                // Unstructured on purpose: the requests outlive this call (they are the read-ahead);
                // `close` and failures cancel them.
                inflight.append((number, url, Task(operation: send(url))))
                number += p.step
            }
            let first = inflight.removeFirst()
            return (first.url, try await first.task.value)
        } catch {
            await close()
            throw Self.classify(error)
        }
    }

    static func classify(_ error: any Error) -> any Error {
        if let e = error as? HTTPStatusError {
            return RunnelError.config(
                "\(e); a 4xx answer means the request is wrong (URL, query, auth): fix the spec or the credentials")
        }
        return error
    }

    // MARK: - Pages

    private enum Advance {
        case to(PagePosition.Next)
        /// The listing is complete.
        case end
        /// The page cannot be read and there is no way past it: stop, and ask for it again next run.
        case stuck
    }

    private func batch(from answer: HTTPAnswer, url: String) throws -> ReadResult {
        let printable = answer.redactedURL
        // Pages of flat records go straight into columns (`PageRecords`); a cursor or a --limit
        // needs the records as values, and any other page is parsed whole.
        let flat = configuration.cursor == nil && remaining == nil ? flatRecords(answer.body) : nil
        var problem: String?
        var elements: [Value] = []
        var document: Value?
        let parsed: Result<Value, JSONError> =
            flat.map { .success($0.document) }
            ?? answer.body.withUnsafeReadableBytes { raw in
                Result { () throws(JSONError) -> Value in try JSONText.parse(raw) }
            }
        switch parsed {
        case .failure(let e): problem = "the response is not JSON: \(e)"
        case .success(let doc) where flat != nil:
            document = doc
        case .success(let doc):
            document = doc
            switch recordsPath.lookup(doc) {
            case nil: problem = "the response has no '\(recordsPath)' (extract.records)"
            case .array(let a)?: elements = a
            case .object(let o)?: elements = [.object(o)]
            case let other?:
                problem =
                    "'\(recordsPath.description.isEmpty ? "the body" : recordsPath.description)' is a JSON \(other.typeName), not an array or object"
            }
        }

        let count = flat?.count ?? elements.count
        let advance =
            problem == nil
            ? nextPage(document!, answer: answer, url: url, count: count) : pastMalformed(answer, url: url)
        if case .to = advance, configuration.pagination.isNumbered, let short = shortPage, count > 0 {
            throw RunnelError.config(
                "extract.pagination: \(short.url) returned \(short.count) records but more pages follow: the server caps the page size; "
                    + "lower pagination.limit to at most \(short.count), or records would be skipped")
        }
        if case .offset(_, _, let limit, _) = configuration.pagination.style, problem == nil, count > 0, count < limit {
            shortPage = (printable, count)
        }

        // Records: objects by their keys, in order of first appearance; anything else is rejected.
        let cursorField = configuration.cursor?.field
        var max = position.max
        var truncated = false
        if let r = remaining, elements.count > r {
            elements.removeLast(elements.count - r)
            truncated = true
        }
        for case .object(let o) in elements {
            if let cursorField, let v = o[cursorField], let text = CursorOrder.text(v) {
                if max.map({ CursorOrder.isGreater(text, than: $0) }) ?? true { max = text }
            }
        }
        // By column: a key first seen late in the page costs nothing for the records before it.
        var columns = flat?.columns ?? ColumnsBuilder()
        var origins: [Origin] = []
        origins.reserveCapacity(count + 1)
        if flat != nil {
            for i in 0..<count { origins.append(Origin(source: printable, id: String(i))) }
        }
        var raws: [Int: String] = [:]
        var unreadable: Set<Int> = []
        var rejections: [(Int, RecordError)] = []
        for (i, element) in elements.enumerated() {
            origins.append(Origin(source: printable, id: String(i)))
            guard case .object(let o) = element else {
                raws[i] = redactor.text(JSONText.encode(element))
                unreadable.insert(i)
                columns.appendUnreadable()
                rejections.append(
                    (
                        i,
                        RecordError(
                            code: "malformed_record",
                            message: "record \(i) of the page is a JSON \(element.typeName), not an object")
                    ))
                continue
            }
            columns.append(object: o)
        }
        if let problem {
            let body = String(decoding: answer.body.readableBytesView, as: UTF8.self)
            let row = origins.count
            origins.append(Origin(source: printable))
            raws[row] = redactor.text(body)
            unreadable.insert(row)
            columns.appendUnreadable()
            var message = problem
            if case .stuck = advance {
                message += "; the listing cannot go past this page: the next run asks for it again"
            }
            rejections.append((row, RecordError(code: "malformed_page", message: message)))
        }
        if let r = remaining { remaining = r - count }

        let after: PagePosition
        if truncated {
            // --limit ended the run inside this page: the next run reads the whole page again.
            after = position
            finished = true
        } else {
            switch advance {
            case .to(let next): after = PagePosition(since: position.since, max: max, next: next)
            case .end:
                after = PagePosition(since: position.since, max: max, next: .start).completed
                finished = true
            case .stuck:
                after = position
                finished = true
            }
        }
        position = after
        if finished { for f in inflight { f.task.cancel() } }
        let (schema, built) = columns.finish()
        var batch = Batch(
            schema: schema, columns: built, origins: origins, raws: raws, unreadable: unreadable, byteCount: answer.body.readableBytes)
        // A server that traces answers with its own `traceparent`: the batch span links to it.
        if let traceparent = answer.headers.first(name: "traceparent") { batch.trace.link(traceparent: traceparent) }
        for (i, e) in rejections { batch.reject(ordinal: i, stage: "extract", error: e) }
        return .batch(batch, checkpoint: after.checkpoint)
    }

    /// The page's records in columns and the page without them, when every record is a flat
    /// object of scalars; nil to parse the page whole.
    private func flatRecords(_ body: ByteBuffer) -> (columns: ColumnsBuilder, count: Int, document: Value)? {
        body.withUnsafeReadableBytes { raw in
            guard let split = PageRecords.split(raw, path: recordsPath.keys),
                let document = try? split.rest.withUnsafeBytes({ rest throws(JSONError) in try JSONText.parse(rest) }),
                case .array(let none)? = recordsPath.lookup(document), none.isEmpty
            else { return nil }
            var columns = ColumnsBuilder()
            for r in split.elements {
                guard columns.append(flatJSON: UnsafeRawBufferPointer(rebasing: raw[r])) else { return nil }
            }
            return (columns, split.elements.count, document)
        }
    }

    /// Where a well-formed page with `count` records leads.
    private func nextPage(_ document: Value, answer: HTTPAnswer, url: String, count: Int) -> Advance {
        if count == 0 { return .end }
        switch configuration.pagination.style {
        case .none: return .end
        case .nextURL(let field):
            guard case .string(let next)? = JSONPath(field).lookup(document), !next.isEmpty else { return .end }
            return .to(.url(stored(URLText.resolve(next, against: url))))
        case .link:
            return linkNext(answer, url: url)
        case .cursor(let field, _):
            guard let v = JSONPath(field).lookup(document), let token = CursorOrder.text(v), !token.isEmpty else {
                return .end
            }
            return .to(.token(token))
        case .offset, .page:
            return .to(.number(currentNumber() + configuration.pagination.step))
        }
    }

    /// Where a malformed page leads: past it where the next page does not depend on its body.
    private func pastMalformed(_ answer: HTTPAnswer, url: String) -> Advance {
        switch configuration.pagination.style {
        case .link:
            let next = linkNext(answer, url: url)
            if case .end = next { return .stuck }
            return next
        case .offset, .page: return .to(.number(currentNumber() + configuration.pagination.step))
        case .none, .nextURL, .cursor: return .stuck
        }
    }

    private func linkNext(_ answer: HTTPAnswer, url: String) -> Advance {
        guard let next = LinkHeader.next(answer.headers["Link"]) else { return .end }
        return .to(.url(stored(URLText.resolve(next, against: url))))
    }

    private func currentNumber() -> Int64 {
        if case .number(let n) = position.next { return n }
        return configuration.pagination.start
    }

    /// A server's next link as kept in the checkpoint: without the API key, which every request
    /// adds again, so that the key is never stored.
    private func stored(_ url: String) -> String {
        guard let name = configuration.endpoint.auth?.queryParameter else { return url }
        return URLText.removing(name, from: url)
    }
}
