public import RunnelCore

/// How the pages of a listing follow each other. Every style also stops on an empty page and
/// after `HTTPAPIExtractor.Configuration.maxPages`.
public struct Pagination: Sendable, Hashable {
    enum Style: Sendable, Hashable {
        /// One request.
        case none
        /// The next page's URL is a field of the body; stops when it is missing, null or empty.
        case nextURL(field: String)
        /// RFC 8288 `Link: <…>; rel="next"`; stops when there is none.
        case link
        /// A field of the body is sent back as query parameter `param`; stops when it is missing.
        case cursor(field: String, param: String)
        /// `param` (an offset, starting at `start`) and `limitParam=limit`; the next offset is this one plus `limit`.
        case offset(param: String, limitParam: String, limit: Int, start: Int64)
        /// `param` (a page number, starting at `start`), optionally with `sizeParam=size`.
        case page(param: String, sizeParam: String?, size: Int?, start: Int64)
    }
    let style: Style

    public static let none = Pagination(style: .none)
    /// `next_url`: `field` is the dotted path of the next page's URL in the body.
    public static func nextURL(field: String) -> Pagination { Pagination(style: .nextURL(field: field)) }
    /// `link`: the `Link` header's `rel="next"`.
    public static let link = Pagination(style: .link)
    /// `cursor`: `field`'s value is sent as `param` on the next request.
    public static func cursor(field: String, param: String) -> Pagination {
        Pagination(style: .cursor(field: field, param: param))
    }
    /// `offset`: `param` counts records from `start` (default 0), `limitParam` asks for `limit` per page.
    public static func offset(param: String = "offset", limitParam: String = "limit", limit: Int, start: Int64 = 0)
        -> Pagination
    {
        Pagination(style: .offset(param: param, limitParam: limitParam, limit: limit, start: start))
    }
    /// `page`: `param` counts pages from `start` (default 1); `sizeParam=size` when given.
    public static func page(param: String = "page", sizeParam: String? = nil, size: Int? = nil, start: Int64 = 1)
        -> Pagination
    {
        Pagination(style: .page(param: param, sizeParam: sizeParam, size: size, start: start))
    }

    /// Offsets and page numbers are known before the previous page arrives, so such pages can
    /// be fetched concurrently; the other styles learn the next page from the previous one.
    var isNumbered: Bool {
        switch style {
        case .offset, .page: true
        default: false
        }
    }

    /// The step between numbered pages.
    var step: Int64 {
        switch style {
        case .offset(_, _, let limit, _): Int64(limit)
        default: 1
        }
    }

    var start: Int64 {
        switch style {
        case .offset(_, _, _, let s), .page(_, _, _, let s): s
        default: 0
        }
    }

    /// The query parameters of numbered page `n`.
    func parameters(number n: Int64) -> [(name: String, value: String)] {
        switch style {
        case .offset(let param, let limitParam, let limit, _): [(param, String(n)), (limitParam, String(limit))]
        case .page(let param, let sizeParam, let size, _):
            [(param, String(n))] + (sizeParam.flatMap { p in size.map { (p, String($0)) } }.map { [$0] } ?? [])
        default: []
        }
    }
}

/// The `Link` header (RFC 8288): the target of the link whose `rel` includes `next`.
enum LinkHeader {
    static func next(_ values: [String]) -> String? {
        for value in values {
            // Links are separated by commas outside `<…>`; a URL may itself contain commas.
            var links: [Substring] = []
            var depth = false
            var start = value.startIndex
            for i in value.indices {
                switch value[i] {
                case "<": depth = true
                case ">": depth = false
                case "," where !depth:
                    links.append(value[start..<i])
                    start = value.index(after: i)
                default: break
                }
            }
            links.append(value[start...])
            for link in links {
                guard let open = link.firstIndex(of: "<"), let close = link[open...].firstIndex(of: ">") else {
                    continue
                }
                let target = String(link[link.index(after: open)..<close])
                for parameter in link[link.index(after: close)...].split(separator: ";") {
                    let kv = parameter.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: " \t\"") }
                    guard kv.count == 2, kv[0].lowercased() == "rel" else { continue }
                    if kv[1].lowercased().split(separator: " ").contains("next") { return target }
                }
            }
        }
        return nil
    }
}

extension Substring {
    func trimmingCharacters(in set: String) -> String { String(self).trimmingCharacters(in: set) }
}

/// A dotted path into a JSON body: `data.items`; empty for the whole body.
struct JSONPath: Sendable, Hashable, CustomStringConvertible {
    let keys: [String]
    init(_ text: String) { keys = text.isEmpty || text == "." ? [] : text.split(separator: ".").map(String.init) }
    var description: String { keys.joined(separator: ".") }

    func lookup(_ value: Value) -> Value? {
        var v = value
        for k in keys {
            switch v {
            case .object(let o):
                guard let next = o[k] else { return nil }
                v = next
            case .array(let a):
                guard let i = Int(k), a.indices.contains(i) else { return nil }
                v = a[i]
            default: return nil
            }
        }
        return v
    }
}
