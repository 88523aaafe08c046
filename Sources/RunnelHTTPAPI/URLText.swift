/// Small, allocation-light URL handling for paging: splitting a URL into its parts, editing the
/// query, resolving a relative `next` link. Strings stay percent-encoded as the server sent them;
/// only values Runnel adds are encoded here.
enum URLText {
    /// A URL as scheme, authority, path, query items (still encoded) and fragment.
    struct Parts {
        var scheme: String
        var authority: String
        var path: String
        var query: [(name: String, value: String?)]
        var fragment: String?

        init(_ url: String) {
            var rest = Substring(url)
            if let hash = rest.firstIndex(of: "#") {
                fragment = String(rest[rest.index(after: hash)...])
                rest = rest[..<hash]
            } else {
                fragment = nil
            }
            var queryText: Substring?
            if let q = rest.firstIndex(of: "?") {
                queryText = rest[rest.index(after: q)...]
                rest = rest[..<q]
            }
            if let sep = rest.firstRange(of: "://") {
                scheme = String(rest[..<sep.lowerBound])
                let afterScheme = rest[sep.upperBound...]
                let slash = afterScheme.firstIndex(of: "/") ?? afterScheme.endIndex
                authority = String(afterScheme[..<slash])
                path = String(afterScheme[slash...])
            } else {
                scheme = ""
                authority = ""
                path = String(rest)
            }
            query = (queryText ?? "").split(separator: "&", omittingEmptySubsequences: true).map { pair in
                if let eq = pair.firstIndex(of: "=") {
                    return (String(pair[..<eq]), String(pair[pair.index(after: eq)...]))
                }
                return (String(pair), nil)
            }
        }

        var text: String {
            var s = scheme.isEmpty ? path : "\(scheme)://\(authority)\(path)"
            if !query.isEmpty {
                s +=
                    "?"
                    + query.map { item in item.value.map { "\(item.name)=\($0)" } ?? item.name }.joined(separator: "&")
            }
            if let fragment { s += "#" + fragment }
            return s
        }

        /// Sets parameter `name` (given unencoded) to `value`, replacing any it had.
        mutating func set(_ name: String, _ value: String) {
            remove(name)
            query.append((URLText.percentEncode(name), URLText.percentEncode(value)))
        }

        mutating func remove(_ name: String) {
            query.removeAll { URLText.percentDecode($0.name) == name }
        }

        func value(of name: String) -> String? {
            query.first { URLText.percentDecode($0.name) == name }?.value.map(URLText.percentDecode)
        }
    }

    /// `url` with the parameters set (unencoded names and values), replacing same-named ones.
    static func setting(_ items: [(name: String, value: String)], in url: String) -> String {
        guard !items.isEmpty else { return url }
        var parts = Parts(url)
        for item in items { parts.set(item.name, item.value) }
        return parts.text
    }

    /// `url` without parameter `name`.
    static func removing(_ name: String, from url: String) -> String {
        var parts = Parts(url)
        let before = parts.query.count
        parts.remove(name)
        return parts.query.count == before ? url : parts.text
    }

    /// Resolves a `next` link against the URL of the page it came from (RFC 3986 §5.2, for the
    /// forms servers use: absolute, scheme-relative, absolute path, query only, relative path).
    static func resolve(_ reference: String, against base: String) -> String {
        if reference.contains("://") { return reference }
        let b = Parts(base)
        if reference.hasPrefix("//") { return "\(b.scheme):\(reference)" }
        let origin = "\(b.scheme)://\(b.authority)"
        if reference.hasPrefix("/") { return origin + reference }
        if reference.hasPrefix("?") { return origin + b.path + reference }
        let directory = b.path.lastIndex(of: "/").map { String(b.path[...$0]) } ?? "/"
        var segments: [Substring] = []
        for segment in (directory + reference).split(separator: "/", omittingEmptySubsequences: false) {
            switch segment {
            case ".": continue
            case "..": if segments.count > 1 { segments.removeLast() }
            default: segments.append(segment)
            }
        }
        return origin + segments.joined(separator: "/")
    }

    private static let unreserved: [Bool] = (0..<128).map { c in
        let ch = UInt8(c)
        return (0x41...0x5A).contains(ch) || (0x61...0x7A).contains(ch) || (0x30...0x39).contains(ch)
            || ch == UInt8(ascii: "-") || ch == UInt8(ascii: ".") || ch == UInt8(ascii: "_") || ch == UInt8(ascii: "~")
    }

    /// Percent-encodes everything but RFC 3986's unreserved characters.
    static func percentEncode(_ s: String) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(s.utf8.count)
        for b in s.utf8 {
            if b < 128, unreserved[Int(b)] {
                out.append(b)
            } else {
                out += [UInt8(ascii: "%"), hex[Int(b >> 4)], hex[Int(b & 0x0F)]]
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes `%XX` escapes and `+` (a space, in query strings).
    static func percentDecode(_ s: String) -> String {
        guard s.utf8.contains(where: { $0 == UInt8(ascii: "%") || $0 == UInt8(ascii: "+") }) else { return s }
        func hexValue(_ c: UInt8) -> UInt8? {
            switch c {
            case 0x30...0x39: c - 0x30
            case 0x41...0x46: c - 0x41 + 10
            case 0x61...0x66: c - 0x61 + 10
            default: nil
            }
        }
        let bytes = Array(s.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = 0
        while i < bytes.count {
            if bytes[i] == UInt8(ascii: "%"), i + 2 < bytes.count, let h = hexValue(bytes[i + 1]),
                let l = hexValue(bytes[i + 2])
            {
                out.append(h << 4 | l)
                i += 3
            } else {
                out.append(bytes[i] == UInt8(ascii: "+") ? 0x20 : bytes[i])
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
