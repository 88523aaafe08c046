#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// cel-go's strings library. Indexes count Unicode code points, as `size()` does.
enum StringFunctions {
    static func outOfRange(_ i: Int64) -> CELValue { .error(EvalError("index out of range: \(i)")) }

    static func charAt(_ s: String, _ i: Int64) -> CELValue {
        let scalars = Array(s.unicodeScalars)
        guard i >= 0, i <= scalars.count else { return outOfRange(i) }
        return .string(i == scalars.count ? "" : String(scalars[Int(i)]))
    }

    static func indexOf(_ s: String, _ sub: String, from: Int64?) -> CELValue {
        let h = Array(s.unicodeScalars)
        let n = Array(sub.unicodeScalars)
        let start = from ?? 0
        guard start >= 0, start <= h.count else { return outOfRange(start) }
        if n.isEmpty { return .int(start) }
        var i = Int(start)
        while i + n.count <= h.count {
            if h[i] == n[0], h[i..<(i + n.count)].elementsEqual(n) { return .int(Int64(i)) }
            i += 1
        }
        return .int(-1)
    }

    static func lastIndexOf(_ s: String, _ sub: String, from: Int64?) -> CELValue {
        let h = Array(s.unicodeScalars)
        let n = Array(sub.unicodeScalars)
        let last = from ?? Int64(h.count)
        guard last >= 0, last <= h.count else { return outOfRange(last) }
        if n.isEmpty { return .int(last) }
        var i = min(Int(last), h.count - n.count)
        while i >= 0 {
            if h[i] == n[0], h[i..<(i + n.count)].elementsEqual(n) { return .int(Int64(i)) }
            i -= 1
        }
        return .int(-1)
    }

    static func ascii(_ s: String, upper: Bool) -> String {
        var bytes = Array(s.utf8)
        for i in bytes.indices {
            let b = bytes[i]
            if upper, b >= 0x61, b <= 0x7A {
                bytes[i] = b - 32
            } else if !upper, b >= 0x41, b <= 0x5A {
                bytes[i] = b + 32
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Replaces the first `limit` occurrences (all when negative); an empty `old` matches
    /// before every character and at the end, as Go's strings.Replace does.
    static func replace(_ s: String, _ old: String, _ new: String, limit: Int64) -> String {
        if limit == 0 { return s }
        let h = Array(s.unicodeScalars)
        let o = Array(old.unicodeScalars)
        var out = String.UnicodeScalarView()
        var done: Int64 = 0
        var i = 0
        if o.isEmpty {
            while true {
                if limit < 0 || done < limit {
                    out.append(contentsOf: new.unicodeScalars)
                    done += 1
                }
                guard i < h.count else { break }
                out.append(h[i])
                i += 1
            }
            return String(out)
        }
        while i < h.count {
            if limit < 0 || done < limit, i + o.count <= h.count, h[i] == o[0], h[i..<(i + o.count)].elementsEqual(o) {
                out.append(contentsOf: new.unicodeScalars)
                i += o.count
                done += 1
            } else {
                out.append(h[i])
                i += 1
            }
        }
        return String(out)
    }

    /// At most `limit` parts (all when negative, none when 0), as Go's strings.SplitN.
    static func split(_ s: String, _ sep: String, limit: Int64) -> [CELValue] {
        if limit == 0 { return [] }
        if limit == 1 { return [.string(s)] }
        let h = Array(s.unicodeScalars)
        let p = Array(sep.unicodeScalars)
        var parts: [CELValue] = []
        var start = 0
        var i = 0
        func full() -> Bool { limit > 0 && Int64(parts.count) == limit - 1 }
        if p.isEmpty {
            while i < h.count, !full() {
                parts.append(.string(String(String.UnicodeScalarView(h[i...i]))))
                i += 1
            }
            if i < h.count { parts.append(.string(String(String.UnicodeScalarView(h[i...])))) }
            return parts
        }
        while i + p.count <= h.count, !full() {
            if h[i] == p[0], h[i..<(i + p.count)].elementsEqual(p) {
                parts.append(.string(String(String.UnicodeScalarView(h[start..<i]))))
                i += p.count
                start = i
            } else {
                i += 1
            }
        }
        parts.append(.string(String(String.UnicodeScalarView(h[start...]))))
        return parts
    }

    static func substring(_ s: String, _ start: Int64, _ end: Int64?) -> CELValue {
        let h = Array(s.unicodeScalars)
        guard start >= 0, start <= h.count else { return outOfRange(start) }
        let e = end ?? Int64(h.count)
        guard e >= 0, e <= h.count else { return outOfRange(e) }
        guard start <= e else { return .error(EvalError("invalid substring range. start: \(start), end: \(e)")) }
        return .string(String(String.UnicodeScalarView(h[Int(start)..<Int(e)])))
    }

    /// Unicode white space (Go's unicode.IsSpace): what `trim()` removes at both ends.
    static func isSpace(_ c: Unicode.Scalar) -> Bool {
        switch c.value {
        case 0x09...0x0D, 0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000: true
        default: false
        }
    }

    static func trim(_ s: String) -> String {
        let h = Array(s.unicodeScalars)
        var a = 0
        var b = h.count
        while a < b, isSpace(h[a]) { a += 1 }
        while b > a, isSpace(h[b - 1]) { b -= 1 }
        return String(String.UnicodeScalarView(h[a..<b]))
    }

    static func join(_ l: CELList, _ sep: String) -> CELValue {
        var out = ""
        for i in 0..<l.count {
            guard case .string(let s) = l[i] else {
                return .error(EvalError("join() needs a list of strings, found \(l[i].type)"))
            }
            if i > 0 { out += sep }
            out += s
        }
        return .string(out)
    }

    static func reverse(_ s: String) -> String { String(String.UnicodeScalarView(s.unicodeScalars.reversed())) }

    /// A double-quoted literal with escapes, as cel-go's strings.quote.
    static func quote(_ s: String) -> String {
        var out = "\""
        for c in s.unicodeScalars {
            switch c {
            case "\u{07}": out += "\\a"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{0B}": out += "\\v"
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            default:
                if c.value < 0x20 || c.value == 0x7F {
                    out += "\\x" + hex(c.value, 2)
                } else if !isPrintable(c) {
                    out += c.value < 0x10000 ? "\\u" + hex(c.value, 4) : "\\U" + hex(c.value, 8)
                } else {
                    out.unicodeScalars.append(c)
                }
            }
        }
        return out + "\""
    }

    /// Letters, marks, numbers, punctuation, symbols and the ASCII space, as Go's strconv.IsPrint.
    static func isPrintable(_ c: Unicode.Scalar) -> Bool {
        if c == " " { return true }
        switch c.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter, .nonspacingMark,
            .spacingMark, .enclosingMark, .decimalNumber, .letterNumber, .otherNumber, .connectorPunctuation,
            .dashPunctuation, .openPunctuation, .closePunctuation, .initialPunctuation, .finalPunctuation,
            .otherPunctuation, .mathSymbol, .currencySymbol, .modifierSymbol, .otherSymbol:
            return true
        default:
            return false
        }
    }

    static func hex(_ v: UInt32, _ width: Int) -> String {
        let s = String(v, radix: 16)
        return String(repeating: "0", count: max(0, width - s.count)) + s
    }
}

/// `format()`: `%s %d %f %e %x %X %o %b` and `%%`, with a precision for `%f` and `%e` (`%.2f`).
enum Format {
    /// A problem with the clauses of a constant format string, found when compiling.
    static func check(_ f: String) -> String? {
        var it = Array(f.unicodeScalars)[...]
        while let c = it.popFirst() {
            guard c == "%" else { continue }
            var clause = it
            if clause.first == "." {
                clause.removeFirst()
                while let d = clause.first, d.properties.numericType != nil, d.isASCII { clause.removeFirst() }
            }
            guard let verb = clause.popFirst() else {
                return "could not parse formatting clause: the format ends with '%'"
            }
            if !"%sdfexXob".unicodeScalars.contains(verb) {
                return
                    "could not parse formatting clause: unrecognized formatting clause \"\(verb)\" (use %s %d %f %e %x %X %o %b or %%)"
            }
            it = clause
        }
        return nil
    }

    /// How many values a (valid) format string takes: its clauses other than `%%`.
    static func clauseCount(_ f: String) -> Int {
        var n = 0
        var it = Array(f.unicodeScalars)[...]
        while let c = it.popFirst() {
            guard c == "%" else { continue }
            if it.first == "." {
                it.removeFirst()
                while let d = it.first, d.properties.numericType != nil, d.isASCII { it.removeFirst() }
            }
            if let verb = it.popFirst(), verb != "%" { n += 1 }
        }
        return n
    }

    static func apply(_ f: String, _ args: CELList, _ ctx: inout Evaluation) -> CELValue {
        let scalars = Array(f.unicodeScalars)
        var out = ""
        var i = 0
        var next = 0
        while i < scalars.count {
            let c = scalars[i]
            i += 1
            guard c == "%" else {
                out.unicodeScalars.append(c)
                continue
            }
            var precision: Int?
            if i < scalars.count, scalars[i] == "." {
                i += 1
                var p = 0
                while i < scalars.count, let d = Int(String(scalars[i])), scalars[i].isASCII {
                    p = min(p * 10 + d, 1000)
                    i += 1
                }
                precision = p
            }
            guard i < scalars.count else {
                return .error(EvalError("could not parse formatting clause: the format ends with '%'"))
            }
            let verb = scalars[i]
            i += 1
            if verb == "%" {
                out += "%"
                continue
            }
            guard "sdfexXob".unicodeScalars.contains(verb) else {
                return .error(
                    EvalError("could not parse formatting clause: unrecognized formatting clause \"\(verb)\""))
            }
            guard next < args.count else { return .error(EvalError("index \(next) out of range")) }
            let arg = args[next]
            next += 1
            let piece: Result<String, EvalError>
            switch verb {
            case "s": piece = string(arg, &ctx)
            case "d": piece = decimal(arg)
            case "f": piece = fixed(arg, precision ?? 6, "f", "fixed-point")
            case "e": piece = fixed(arg, precision ?? 6, "e", "scientific")
            case "x", "X": piece = hex(arg, upper: verb == "X")
            case "o": piece = radix(arg, 8, "octal clause can only be used on integers")
            default: piece = radix(arg, 2, "only integers and bools can be formatted as binary")
            }
            switch piece {
            case .success(let s):
                guard ctx.charge(1 + s.utf8.count / 16) else { return ctx.costError }
                out += s
            case .failure(let e): return .error(e)
            }
        }
        return .string(out)
    }

    private static func failure(_ what: String, _ v: CELValue) -> Result<String, EvalError> {
        .failure(EvalError("error during formatting: \(what), was given \(v.type.name)"))
    }

    private static func special(_ d: Double) -> String? {
        if d.isNaN { return "NaN" }
        if d.isInfinite { return d > 0 ? "Infinity" : "-Infinity" }
        return nil
    }

    /// `%s`: strings as they are, other values as CEL text without quotes.
    static func string(_ v: CELValue, _ ctx: inout Evaluation) -> Result<String, EvalError> {
        switch v {
        case .string(let s): return .success(s)
        case .bytes(let b): return .success(String(decoding: b, as: UTF8.self))
        case .bool(let b): return .success(b ? "true" : "false")
        case .int(let i): return .success(String(i))
        case .uint(let u): return .success(String(u))
        case .double(let d): return .success(special(d) ?? plain(d))
        case .null: return .success("null")
        case .type(let t): return .success(t.name)
        case .timestamp(let t): return .success(t.text)
        case .duration(let d): return .success(d.text)
        case .kube(let k): return .success(k.text)
        case .list(let l):
            guard ctx.charge(l.count) else { return .failure(EvalError("cost limit exceeded")) }
            var parts: [String] = []
            for i in 0..<l.count {
                switch string(l[i], &ctx) {
                case .success(let s): parts.append(s)
                case .failure(let e): return .failure(e)
                }
            }
            return .success("[" + parts.joined(separator: ", ") + "]")
        case .map(let m):
            guard ctx.charge(m.count) else { return .failure(EvalError("cost limit exceeded")) }
            var entries: [(String, String)] = []
            for i in 0..<m.count {
                guard case .success(let k) = string(m.key(at: i), &ctx) else { return string(m.key(at: i), &ctx) }
                switch string(m.value(at: i), &ctx) {
                case .success(let s): entries.append((k, s))
                case .failure(let e): return .failure(e)
                }
            }
            entries.sort { $0.0.utf8.lexicographicallyPrecedes($1.0.utf8) }
            return .success("{" + entries.map { "\($0.0): \($0.1)" }.joined(separator: ", ") + "}")
        default:
            return failure(
                "string clause can only be used on strings, bools, bytes, ints, doubles, maps, lists, types, durations, and timestamps",
                v)
        }
    }

    /// Shortest round-tripping digits, without an exponent (`1e+20` is `100000000000000000000`).
    static func plain(_ d: Double) -> String {
        let s = d.description
        guard let e = s.firstIndex(where: { $0 == "e" || $0 == "E" }) else {
            return s.hasSuffix(".0") ? String(s.dropLast(2)) : s
        }
        let exponent = Int(s[s.index(after: e)...])!
        var mantissa = String(s[..<e])
        let negative = mantissa.hasPrefix("-")
        if negative { mantissa.removeFirst() }
        let parts = mantissa.split(separator: ".", omittingEmptySubsequences: false)
        let intPart = String(parts[0])
        let frac = parts.count > 1 ? String(parts[1]) : ""
        var digits = intPart + frac
        var point = intPart.count + exponent
        if point <= 0 {
            digits = String(repeating: "0", count: 1 - point) + digits
            point = 1
        } else if point > digits.count {
            digits += String(repeating: "0", count: point - digits.count)
        }
        var head = String(digits.prefix(point))
        var tail = String(digits.dropFirst(point))
        while tail.hasSuffix("0") { tail.removeLast() }
        while head.count > 1, head.hasPrefix("0") { head.removeFirst() }
        return (negative ? "-" : "") + head + (tail.isEmpty ? "" : "." + tail)
    }

    private static func decimal(_ v: CELValue) -> Result<String, EvalError> {
        switch v {
        case .int(let i): return .success(String(i))
        case .uint(let u): return .success(String(u))
        case .double(let d) where d.isNaN || d.isInfinite: return .success(special(d)!)
        default: return failure("decimal clause can only be used on integers", v)
        }
    }

    private static func fixed(_ v: CELValue, _ precision: Int, _ style: String, _ name: String) -> Result<
        String, EvalError
    > {
        let d: Double
        switch v {
        case .double(let x): d = x
        case .int(let i): d = Double(i)
        case .uint(let u): d = Double(u)
        default: return failure("\(name) clause can only be used on doubles", v)
        }
        if let s = special(d) { return .success(s) }
        return .success(printf(d, precision: precision, style: style))
    }

    /// C's printf is exact (the decimal expansion of the double, rounded half to even), as Go's strconv is.
    static func printf(_ d: Double, precision: Int, style: String) -> String {
        let format = "%.*" + style
        var buffer = [CChar](repeating: 0, count: 512 + precision)
        let n = withVaList([Int32(precision), d]) { vsnprintf(&buffer, buffer.count, format, $0) }
        guard n >= 0 else { return String(d) }
        if Int(n) >= buffer.count {
            buffer = [CChar](repeating: 0, count: Int(n) + 1)
            _ = withVaList([Int32(precision), d]) { vsnprintf(&buffer, buffer.count, format, $0) }
        }
        return String(decoding: buffer.prefix(Int(n)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    private static func hex(_ v: CELValue, upper: Bool) -> Result<String, EvalError> {
        var s: String
        switch v {
        case .int(let i): s = (i < 0 ? "-" : "") + String(i.magnitude, radix: 16)
        case .uint(let u): s = String(u, radix: 16)
        case .string(let t): s = t.utf8.map { StringFunctions.hex(UInt32($0), 2) }.joined()
        case .bytes(let b): s = b.map { StringFunctions.hex(UInt32($0), 2) }.joined()
        default: return failure("only integers, byte buffers, and strings can be formatted as hex", v)
        }
        if upper { s = s.uppercased() }
        return .success(s)
    }

    private static func radix(_ v: CELValue, _ r: Int, _ what: String) -> Result<String, EvalError> {
        switch v {
        case .int(let i): return .success((i < 0 ? "-" : "") + String(i.magnitude, radix: r))
        case .uint(let u): return .success(String(u, radix: r))
        case .bool(let b) where r == 2: return .success(b ? "1" : "0")
        default: return failure(what, v)
        }
    }
}
