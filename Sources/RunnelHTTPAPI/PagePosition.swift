public import RunnelCore

/// Where a listing stands: the page to request next, and the incremental cursor.
///
/// The checkpoint of a page's batch is the position *after* that page, so a killed run resumes
/// at the page after the last committed one:
///
///     {"since":"2024-05-01T00:00:00Z","max":"2024-05-03T10:00:00Z","next":{"offset":300}}
///
/// - `since`: the cursor value this listing sends as `cursor.param` (fixed for the whole
///   listing, so that resumed offsets and page numbers still address the same result set);
/// - `max`: the largest `cursor.field` value read so far in the listing;
/// - `next`: the page to request: `{"url": …}`, `{"token": …}`, `{"offset"|"page": n}`; absent
///   once the listing is complete: the next run starts a new listing with `since` = `max`.
struct PagePosition: Sendable, Hashable {
    enum Next: Sendable, Hashable {
        /// The listing's first request.
        case start
        case url(String)
        case token(String)
        case number(Int64)
    }

    var since: String?
    var max: String?
    var next: Next

    static func fresh(since: String?) -> PagePosition { PagePosition(since: since, max: nil, next: .start) }

    /// The position to resume from after this listing is complete.
    var completed: PagePosition { PagePosition(since: max ?? since, max: nil, next: .start) }

    var checkpoint: Checkpoint {
        var o = Object()
        if let since { o.set("since", .string(since)) }
        if let max { o.set("max", .string(max)) }
        switch next {
        case .start: break
        case .url(let u): o.set("next", .object(Object(keys: ["url"], values: [.string(u)])))
        case .token(let t): o.set("next", .object(Object(keys: ["token"], values: [.string(t)])))
        case .number(let n): o.set("next", .object(Object(keys: ["number"], values: [.int(n)])))
        }
        return Checkpoint(JSONText.encode(.object(o)))
    }

    init(since: String?, max: String?, next: Next) {
        self.since = since
        self.max = max
        self.next = next
    }

    init(checkpoint: Checkpoint) throws {
        guard case .object(let o)? = try? JSONText.parse(checkpoint.position) else {
            throw RunnelError.failure(
                "the checkpoint '\(checkpoint.position)' is not an http extractor position; "
                    + "reset it with `runnel-batch checkpoint reset` if the source changed")
        }
        func string(_ v: Value?) -> String? { if case .string(let s)? = v { s } else { nil } }
        since = string(o["since"])
        max = string(o["max"])
        switch o["next"] {
        case nil, .null?: next = .start
        case .object(let n)?:
            if let u = string(n["url"]) {
                next = .url(u)
            } else if let t = string(n["token"]) {
                next = .token(t)
            } else if case .int(let i)? = n["number"] {
                next = .number(i)
            } else {
                throw RunnelError.failure("the checkpoint '\(checkpoint.position)' names no next page; reset it")
            }
        default:
            throw RunnelError.failure("the checkpoint '\(checkpoint.position)' names no next page; reset it")
        }
    }
}

/// Orders incremental cursor values as what they look like: numbers as numbers, ISO 8601 times
/// as instants (whatever their offset or precision), anything else as text.
enum CursorOrder {
    static func isGreater(_ a: String, than b: String) -> Bool {
        if let x = Int64(a), let y = Int64(b) { return x > y }
        if let x = Double(a), let y = Double(b) { return x > y }
        if let x = TimestampFormat.iso8601.parse(a), let y = TimestampFormat.iso8601.parse(b) { return x > y }
        return a > b
    }

    /// The cursor text of a record field: strings as they are, numbers as their text.
    static func text(_ v: Value) -> String? {
        switch v {
        case .null, .array, .object: nil
        default: v.text
        }
    }
}
