/// The values of the Kubernetes CEL libraries (`apiserver/pkg/cel/library`) that make sense on
/// data: URLs, IP addresses, CIDRs, quantities and semantic versions.
public enum KubeValue: Sendable, Hashable {
    case url(KubeURL)
    case ip(IPAddress)
    case cidr(CIDR)
    case quantity(Quantity)
    case semver(Semver)

    var type: CELType {
        switch self {
        case .url: .url
        case .ip: .ip
        case .cidr: .cidr
        case .quantity: .quantity
        case .semver: .semver
        }
    }

    /// The text `string()` gives.
    var text: String {
        switch self {
        case .url(let u): u.text
        case .ip(let a): a.text
        case .cidr(let c): c.text
        case .quantity(let q): q.text
        case .semver(let v): v.text
        }
    }
}

enum Kube {
    static func parse(_ f: Extension, _ s: String, normalize: Bool = false) -> CELValue {
        switch f {
        case .url:
            return KubeURL(s).map { .kube(.url($0)) }
                ?? .error(
                    EvalError(
                        "URL parse error during conversion from string: '\(s)' is not an absolute URI or an absolute path"
                    ))
        case .ip:
            switch IPAddress.parse(s) {
            case .success(let a): return .kube(.ip(a))
            case .failure(let e): return .error(e)
            }
        case .cidr:
            switch CIDR.parse(s) {
            case .success(let c): return .kube(.cidr(c))
            case .failure(let e): return .error(e)
            }
        case .quantity:
            return Quantity(s).map { .kube(.quantity($0)) }
                ?? .error(
                    EvalError(
                        "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$': '\(s)'"
                    ))
        case .semver:
            return Semver(s, normalize: normalize).map { .kube(.semver($0)) }
                ?? .error(EvalError("invalid semver: '\(s)'"))
        default:
            return .error(EvalError("\(f.name) is not a constructor"))
        }
    }

    static func call(_ f: Extension, _ a: [CELValue]) -> CELValue {
        func bad() -> CELValue { Extensions.noOverload(f, a) }
        switch f {
        case .url, .ip, .cidr, .quantity, .semver:
            guard case .string(let s) = a[0] else { return bad() }
            var normalize = false
            if a.count == 2 {
                guard case .bool(let b) = a[1] else { return bad() }
                normalize = b
            }
            return parse(f, s, normalize: normalize)
        case .isURL, .isIP, .isCIDR, .isQuantity, .isSemver:
            guard case .string(let s) = a[0] else { return bad() }
            var normalize = false
            if a.count == 2 {
                guard case .bool(let b) = a[1] else { return bad() }
                normalize = b
            }
            let ctor: Extension =
                f == .isURL ? .url : f == .isIP ? .ip : f == .isCIDR ? .cidr : f == .isQuantity ? .quantity : .semver
            return .bool(!parse(ctor, s, normalize: normalize).isError)
        case .ipIsCanonical:
            guard case .string(let s) = a[0] else { return bad() }
            switch IPAddress.parse(s) {
            case .success(let ip): return .bool(ip.text == s)
            case .failure(let e): return .error(e)
            }
        default: break
        }
        guard case .kube(let k) = a[0] else { return bad() }
        switch (k, f) {
        case (.url(let u), .getScheme): return .string(u.scheme)
        case (.url(let u), .getHost): return .string(u.host)
        case (.url(let u), .getHostname): return .string(u.hostname)
        case (.url(let u), .getPort): return .string(u.port)
        case (.url(let u), .getEscapedPath):
            return .string(u.path.split(separator: " ", omittingEmptySubsequences: false).joined(separator: "%20"))
        case (.url(let u), .getQuery): return u.query
        case (.ip(let ip), _): return ipMethod(f, ip) ?? bad()
        case (.cidr(let c), .containsIP):
            switch a[1] {
            case .kube(.ip(let ip)): return .bool(c.contains(ip))
            case .string(let s):
                switch IPAddress.parse(s) {
                case .success(let ip): return .bool(c.contains(ip))
                case .failure(let e): return .error(e)
                }
            default: return bad()
            }
        case (.cidr(let c), .containsCIDR):
            switch a[1] {
            case .kube(.cidr(let other)): return .bool(c.contains(other))
            case .string(let s):
                switch CIDR.parse(s) {
                case .success(let other): return .bool(c.contains(other))
                case .failure(let e): return .error(e)
                }
            default: return bad()
            }
        case (.cidr(let c), .cidrIP): return .kube(.ip(c.address))
        case (.cidr(let c), .masked): return .kube(.cidr(c.masked))
        case (.cidr(let c), .prefixLength): return .int(Int64(c.prefix))
        case (.quantity(let q), _): return quantityMethod(f, q, a) ?? bad()
        case (.semver(let v), .major): return .int(v.major)
        case (.semver(let v), .minor): return .int(v.minor)
        case (.semver(let v), .patch): return .int(v.patch)
        case (.semver(let v), .isGreaterThan), (.semver(let v), .isLessThan), (.semver(let v), .compareTo):
            guard case .kube(.semver(let w)) = a[1] else { return bad() }
            let c = v.compare(w)
            return f == .compareTo ? .int(Int64(c)) : .bool(c == (f == .isGreaterThan ? 1 : -1))
        default: return bad()
        }
    }

    private static func ipMethod(_ f: Extension, _ ip: IPAddress) -> CELValue? {
        let b = ip.bytes
        switch f {
        case .family: return .int(b.count == 4 ? 4 : 6)
        case .isUnspecified: return .bool(b.allSatisfy { $0 == 0 })
        case .isLoopback: return .bool(b.count == 4 ? b[0] == 127 : b == [UInt8](repeating: 0, count: 15) + [1])
        case .isLinkLocalMulticast:
            return .bool(b.count == 4 ? b[0] == 224 && b[1] == 0 && b[2] == 0 : b[0] == 0xFF && b[1] & 0x0F == 0x02)
        case .isLinkLocalUnicast:
            return .bool(b.count == 4 ? b[0] == 169 && b[1] == 254 : b[0] == 0xFE && b[1] & 0xC0 == 0x80)
        case .isGlobalUnicast:
            let unspecified = b.allSatisfy { $0 == 0 }
            if b.count == 4 {
                let broadcast = b.allSatisfy { $0 == 255 }
                return .bool(!unspecified && !broadcast && b[0] != 127 && b[0] < 224 && !(b[0] == 169 && b[1] == 254))
            }
            let loopback = b == [UInt8](repeating: 0, count: 15) + [1]
            return .bool(!unspecified && !loopback && b[0] != 0xFF && !(b[0] == 0xFE && b[1] & 0xC0 == 0x80))
        default: return nil
        }
    }

    private static func quantityMethod(_ f: Extension, _ q: Quantity, _ a: [CELValue]) -> CELValue? {
        switch f {
        case .isInteger: return .bool(q.integer != nil)
        case .asInteger:
            return q.integer.map { .int($0) }
                ?? .error(EvalError("cannot convert quantity \(q.text) to an int without losing precision or range"))
        case .asApproximateFloat: return .double(Double(q.nanos) / 1e9)
        case .quantitySign: return .int(Int64(q.nanos.signum()))
        case .add, .sub:
            let other: Int128
            switch a[1] {
            case .kube(.quantity(let r)): other = r.nanos
            case .int(let i): other = Int128(i) * 1_000_000_000
            default: return nil
            }
            let (r, o) =
                f == .add ? q.nanos.addingReportingOverflow(other) : q.nanos.subtractingReportingOverflow(other)
            return o ? .error(EvalError("quantity overflow")) : .kube(.quantity(Quantity(nanos: r)))
        case .isGreaterThan, .isLessThan, .compareTo:
            guard case .kube(.quantity(let r)) = a[1] else { return nil }
            let c: Int64 = q.nanos < r.nanos ? -1 : q.nanos > r.nanos ? 1 : 0
            return f == .compareTo ? .int(c) : .bool(c == (f == .isGreaterThan ? 1 : -1))
        default: return nil
        }
    }
}

/// An absolute URI (`https://host:port/path?query`) or an absolute path, parsed as Go's net/url does.
public struct KubeURL: Sendable, Hashable {
    var text: String
    var scheme = "", host = "", path = "", rawQuery = ""

    init?(_ s: String) {
        text = s
        // Control characters are refused anywhere, spaces in the host; a space in the path or
        // the query is escaped by getEscapedPath(), as Go's net/url does.
        guard !s.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else { return nil }
        var rest = Substring(s)
        if let hash = rest.firstIndex(of: "#") { rest = rest[..<hash] }
        if let colon = rest.firstIndex(of: ":"), let first = rest.first, first.isASCII, first.isLetter,
            rest[..<colon].allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "+-.".contains($0)) })
        {
            scheme = String(rest[..<colon]).lowercased()
            rest = rest[rest.index(after: colon)...]
        }
        if let q = rest.firstIndex(of: "?") {
            rawQuery = String(rest[rest.index(after: q)...])
            rest = rest[..<q]
        }
        if scheme.isEmpty, !rest.hasPrefix("/") { return nil }
        if rest.hasPrefix("//") {
            rest = rest.dropFirst(2)
            let end = rest.firstIndex(of: "/") ?? rest.endIndex
            var authority = rest[..<end]
            rest = rest[end...]
            if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }
            host = String(authority)
            if host.contains(" ") { return nil }
            // A port must be digits; an IPv6 literal must be closed.
            if host.hasPrefix("[") {
                guard let close = host.firstIndex(of: "]") else { return nil }
                let after = host[host.index(after: close)...]
                if !after.isEmpty,
                    !(after.hasPrefix(":") && after.dropFirst().allSatisfy(\.isASCII)
                        && after.dropFirst().allSatisfy(\.isNumber))
                {
                    return nil
                }
            } else if let colon = host.lastIndex(of: ":") {
                guard host[host.index(after: colon)...].allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
            }
        } else if !scheme.isEmpty, !rest.hasPrefix("/") {
            // An opaque URI (mailto:x): no host, the rest is its path.
        }
        path = String(rest)
        guard Self.validEscapes(path), Self.validEscapes(rawQuery) else { return nil }
    }

    private static func validEscapes(_ s: String) -> Bool {
        let b = Array(s.utf8)
        var i = 0
        while i < b.count {
            if b[i] == UInt8(ascii: "%") {
                guard i + 2 < b.count, hex(b[i + 1]) != nil, hex(b[i + 2]) != nil else { return false }
                i += 3
            } else {
                i += 1
            }
        }
        return true
    }

    static func hex(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30...0x39: c - 0x30
        case 0x61...0x66: c - 0x61 + 10
        case 0x41...0x46: c - 0x41 + 10
        default: nil
        }
    }

    /// The host without the port, IPv6 literals without brackets.
    var hostname: String {
        if host.hasPrefix("["), let close = host.firstIndex(of: "]") {
            return String(host[host.index(after: host.startIndex)..<close])
        }
        if let colon = host.lastIndex(of: ":") { return String(host[..<colon]) }
        return host
    }

    var port: String {
        if host.hasPrefix("["), let close = host.firstIndex(of: "]") {
            let after = host[host.index(after: close)...]
            return after.hasPrefix(":") ? String(after.dropFirst()) : ""
        }
        if let colon = host.lastIndex(of: ":") { return String(host[host.index(after: colon)...]) }
        return ""
    }

    /// `map(string, list(string))`, values unescaped (`+` is a space), in order of appearance.
    var query: CELValue {
        var keys: [CELValue] = []
        var values: [[CELValue]] = []
        var index: [MapKey: Int] = [:]
        for pair in rawQuery.split(whereSeparator: { $0 == "&" || $0 == ";" }) where !pair.isEmpty {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let k = Self.unescape(parts[0])
            let v = parts.count > 1 ? Self.unescape(parts[1]) : ""
            if let i = index[.string(k)] {
                values[i].append(.string(v))
            } else {
                index[.string(k)] = keys.count
                keys.append(.string(k))
                values.append([.string(v)])
            }
        }
        return .map(CELMap(keys: keys, values: values.map { .list(CELList($0)) }, index: index))
    }

    static func unescape(_ s: Substring) -> String {
        let b = Array(s.utf8)
        var out: [UInt8] = []
        var i = 0
        while i < b.count {
            if b[i] == UInt8(ascii: "%"), i + 2 < b.count, let h = hex(b[i + 1]), let l = hex(b[i + 2]) {
                out.append(h << 4 | l)
                i += 3
            } else {
                out.append(b[i] == UInt8(ascii: "+") ? UInt8(ascii: " ") : b[i])
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// An IPv4 (4 bytes) or IPv6 (16 bytes) address. As Kubernetes does, IPv4-mapped IPv6
/// addresses and zones are refused.
public struct IPAddress: Sendable, Hashable {
    var bytes: [UInt8]

    static func parse(_ s: String) -> Result<IPAddress, EvalError> {
        func fail(_ why: String) -> Result<IPAddress, EvalError> {
            .failure(EvalError("IP address parse error: '\(s)' \(why)"))
        }
        if s.contains("%") { return fail("has a zone, which is not allowed") }
        if s.contains(":") {
            guard let b = parse6(s) else { return fail("is not an IP address") }
            if b[0..<10].allSatisfy({ $0 == 0 }), b[10] == 0xFF, b[11] == 0xFF {
                return fail("is an IPv4-mapped IPv6 address, which is not allowed")
            }
            return .success(IPAddress(bytes: b))
        }
        guard let b = parse4(Substring(s)) else { return fail("is not an IP address") }
        return .success(IPAddress(bytes: b))
    }

    static func parse4(_ s: Substring) -> [UInt8]? {
        let parts = s.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var out: [UInt8] = []
        for p in parts {
            guard !p.isEmpty, p.count <= 3, p.allSatisfy({ $0.isASCII && $0.isNumber }),
                !(p.count > 1 && p.hasPrefix("0")),
                let v = UInt8(p)
            else { return nil }
            out.append(v)
        }
        return out
    }

    static func parse6(_ s: String) -> [UInt8]? {
        var head: [UInt16] = []
        var tail: [UInt16] = []
        var sawGap = false
        var text = Substring(s)
        var tailV4: [UInt8]?
        if let lastColon = text.lastIndex(of: ":"), text[text.index(after: lastColon)...].contains(".") {
            guard let v4 = parse4(text[text.index(after: lastColon)...]) else { return nil }
            tailV4 = v4
            text = text[...lastColon]
            if text.hasSuffix("::") {} else { text = text.dropLast() }
        }
        if text.hasPrefix("::") {
            sawGap = true
            text = text.dropFirst(2)
        } else if text.hasPrefix(":") {
            return nil
        }
        let groups = text.split(separator: ":", omittingEmptySubsequences: false)
        var i = 0
        for g in groups {
            i += 1
            if g.isEmpty {
                if i == groups.count, sawGap || text.isEmpty { continue }
                if sawGap { return nil }
                sawGap = true
                continue
            }
            guard g.count <= 4, g.allSatisfy(\.isHexDigit), let v = UInt16(g, radix: 16) else { return nil }
            if sawGap { tail.append(v) } else { head.append(v) }
        }
        if text.isEmpty, !sawGap, tailV4 == nil { return nil }
        let v4Groups = tailV4 == nil ? 0 : 2
        let total = head.count + tail.count + v4Groups
        if sawGap ? total > 7 : total != 8 { return nil }
        var words = head + [UInt16](repeating: 0, count: 8 - total) + tail
        if let v4 = tailV4 { words += [UInt16(v4[0]) << 8 | UInt16(v4[1]), UInt16(v4[2]) << 8 | UInt16(v4[3])] }
        return words.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }
    }

    /// Dotted quad, or RFC 5952 for IPv6 (the longest run of zero groups as `::`, lowercase).
    var text: String {
        if bytes.count == 4 { return bytes.map(String.init).joined(separator: ".") }
        let words = stride(from: 0, to: 16, by: 2).map { UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]) }
        var best = (start: -1, length: 0)
        var i = 0
        while i < 8 {
            if words[i] == 0 {
                var j = i
                while j < 8, words[j] == 0 { j += 1 }
                if j - i > best.length, j - i >= 2 { best = (i, j - i) }
                i = j
            } else {
                i += 1
            }
        }
        if best.start < 0 { return words.map { String($0, radix: 16) }.joined(separator: ":") }
        let left = words[..<best.start].map { String($0, radix: 16) }.joined(separator: ":")
        let right = words[(best.start + best.length)...].map { String($0, radix: 16) }.joined(separator: ":")
        return left + "::" + right
    }
}

/// An address with a prefix length: `10.0.0.0/8`, `2001:db8::/32`.
public struct CIDR: Sendable, Hashable {
    var address: IPAddress
    var prefix: Int

    static func parse(_ s: String) -> Result<CIDR, EvalError> {
        guard let slash = s.firstIndex(of: "/") else {
            return .failure(EvalError("network address parse error: '\(s)' has no prefix length"))
        }
        let ip: IPAddress
        switch IPAddress.parse(String(s[..<slash])) {
        case .success(let a): ip = a
        case .failure(let e): return .failure(e)
        }
        let p = s[s.index(after: slash)...]
        guard !p.isEmpty, p.allSatisfy({ $0.isASCII && $0.isNumber }), !(p.count > 1 && p.hasPrefix("0")),
            let n = Int(p),
            n <= ip.bytes.count * 8
        else { return .failure(EvalError("network address parse error: '\(s)' has an invalid prefix length")) }
        return .success(CIDR(address: ip, prefix: n))
    }

    var text: String { "\(address.text)/\(prefix)" }

    var masked: CIDR {
        var b = address.bytes
        for i in b.indices {
            let bits = max(0, min(8, prefix - i * 8))
            b[i] &= bits == 0 ? 0 : UInt8(truncatingIfNeeded: 0xFF << (8 - bits))
        }
        return CIDR(address: IPAddress(bytes: b), prefix: prefix)
    }

    func contains(_ ip: IPAddress) -> Bool {
        guard ip.bytes.count == address.bytes.count else { return false }
        return CIDR(address: ip, prefix: prefix).masked.address == masked.address
    }

    func contains(_ other: CIDR) -> Bool { other.prefix >= prefix && contains(other.address) }
}

/// A Kubernetes resource quantity (`500m`, `1.5Gi`, `2e3`), held exactly in units of 10⁻⁹
/// (finer digits round up, as Kubernetes rounds).
public struct Quantity: Sendable, Hashable {
    var nanos: Int128
    var text: String

    init(nanos: Int128) {
        self.nanos = nanos
        var units: [(String, Int128)] = [("", 1_000_000_000), ("m", 1_000_000), ("u", 1_000), ("n", 1)]
        if nanos == 0 { units = [("", 1)] }
        let (suffix, scale) = units.first { nanos % $0.1 == 0 }!
        text = String(nanos / scale) + suffix
    }

    init?(_ s: String) {
        text = s
        var b = Substring(s)
        var negative = false
        if b.first == "+" || b.first == "-" {
            negative = b.first == "-"
            b = b.dropFirst()
        }
        var digits: Int128 = 0
        var fraction = 0
        var seenDigit = false
        var seenPoint = false
        while let c = b.first, c == "." || (c.isASCII && c.isNumber) {
            b = b.dropFirst()
            if c == "." {
                if seenPoint { return nil }
                seenPoint = true
                continue
            }
            seenDigit = true
            guard digits < Int128(10).power(30) else { return nil }
            digits = digits * 10 + Int128(c.wholeNumberValue!)
            if seenPoint { fraction += 1 }
        }
        guard seenDigit else { return nil }
        var decimal = 0
        var binary = 0
        switch b {
        case "": break
        case "Ki": binary = 10
        case "Mi": binary = 20
        case "Gi": binary = 30
        case "Ti": binary = 40
        case "Pi": binary = 50
        case "Ei": binary = 60
        case "n": decimal = -9
        case "u": decimal = -6
        case "m": decimal = -3
        case "k": decimal = 3
        case "M": decimal = 6
        case "G": decimal = 9
        case "T": decimal = 12
        case "P": decimal = 15
        case "E": decimal = 18
        default:
            guard let e = b.first, e == "e" || e == "E", let x = Int(b.dropFirst()), abs(x) <= 40 else { return nil }
            decimal = x
        }
        var value = digits
        for _ in 0..<binary {
            let (r, o) = value.multipliedReportingOverflow(by: 2)
            if o { return nil }
            value = r
        }
        let shift = decimal + 9 - fraction
        if shift >= 0 {
            for _ in 0..<shift {
                let (r, o) = value.multipliedReportingOverflow(by: 10)
                if o { return nil }
                value = r
            }
        } else if -shift > 38 {
            value = value > 0 ? 1 : 0
        } else {
            let d = Int128(10).power(-shift)
            let (q, r) = value.quotientAndRemainder(dividingBy: d)
            value = q + (r > 0 ? 1 : 0)
        }
        nanos = negative ? -value : value
    }

    /// The value as an int, when it is whole and fits.
    var integer: Int64? {
        guard nanos % 1_000_000_000 == 0 else { return nil }
        return Int64(exactly: nanos / 1_000_000_000)
    }

    public static func == (a: Quantity, b: Quantity) -> Bool { a.nanos == b.nanos }
    public func hash(into h: inout Hasher) { h.combine(nanos) }
}

extension Int128 {
    fileprivate func power(_ n: Int) -> Int128 {
        var r: Int128 = 1
        for _ in 0..<n { r *= self }
        return r
    }
}

/// A semantic version (semver.org 2.0): `1.2.3-rc.1+build`.
public struct Semver: Sendable, Hashable {
    var major: Int64, minor: Int64, patch: Int64
    var prerelease: [Substring]
    var build: String
    var text: String

    /// `normalize` accepts what people write for versions: a leading `v`, a missing minor or
    /// patch (`v1.2` is `1.2.0`), leading zeros.
    init?(_ s: String, normalize: Bool) {
        var rest = Substring(s)
        if normalize, rest.first == "v" { rest = rest.dropFirst() }
        build = ""
        if let plus = rest.firstIndex(of: "+") {
            build = String(rest[rest.index(after: plus)...])
            rest = rest[..<plus]
            guard Self.validIdentifiers(build, numeric: false) else { return nil }
        }
        prerelease = []
        if let dash = rest.firstIndex(of: "-") {
            let pre = rest[rest.index(after: dash)...]
            guard Self.validIdentifiers(String(pre), numeric: true) else { return nil }
            prerelease = pre.split(separator: ".", omittingEmptySubsequences: false)
            rest = rest[..<dash]
        }
        var parts = rest.split(separator: ".", omittingEmptySubsequences: false)
        if normalize { while parts.count < 3 { parts.append("0") } }
        guard parts.count == 3 else { return nil }
        var numbers: [Int64] = []
        for p in parts {
            guard !p.isEmpty, p.allSatisfy({ $0.isASCII && $0.isNumber }),
                normalize || !(p.count > 1 && p.hasPrefix("0")),
                let v = Int64(p)
            else { return nil }
            numbers.append(v)
        }
        (major, minor, patch) = (numbers[0], numbers[1], numbers[2])
        text =
            "\(major).\(minor).\(patch)" + (prerelease.isEmpty ? "" : "-" + prerelease.joined(separator: "."))
            + (build.isEmpty ? "" : "+" + build)
    }

    private static func validIdentifiers(_ s: String, numeric: Bool) -> Bool {
        s.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { id in
            !id.isEmpty && id.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
                && !(numeric && id.count > 1 && id.hasPrefix("0") && id.allSatisfy(\.isNumber))
        }
    }

    /// -1, 0 or 1 by semver precedence (the build is ignored).
    func compare(_ o: Semver) -> Int {
        for (a, b) in [(major, o.major), (minor, o.minor), (patch, o.patch)] where a != b { return a < b ? -1 : 1 }
        if prerelease.isEmpty || o.prerelease.isEmpty {
            return prerelease.isEmpty == o.prerelease.isEmpty ? 0 : prerelease.isEmpty ? 1 : -1
        }
        for (a, b) in zip(prerelease, o.prerelease) where a != b {
            switch (Int64(a), Int64(b)) {
            case (let x?, let y?): return x < y ? -1 : 1
            case (_?, nil): return -1
            case (nil, _?): return 1
            default: return a.utf8.lexicographicallyPrecedes(b.utf8) ? -1 : 1
            }
        }
        return prerelease.count == o.prerelease.count ? 0 : prerelease.count < o.prerelease.count ? -1 : 1
    }

    public static func == (a: Semver, b: Semver) -> Bool { a.compare(b) == 0 }
    public func hash(into h: inout Hasher) {
        h.combine(major)
        h.combine(minor)
        h.combine(patch)
    }
}
