public import RunnelCore

/// Texts of values, for `string()` and messages.
enum CELText {
    /// Shortest round-tripping digits; whole numbers without `.0` (`string(100.0)` is `100`).
    static func double(_ d: Double) -> String {
        if d.isNaN { return "NaN" }
        if d.isInfinite { return d > 0 ? "+Inf" : "-Inf" }
        var s = d.description
        if s.hasSuffix(".0") { s.removeLast(2) }
        return s
    }

    /// A CEL-like rendering: `1`, `2u`, `'a'`, `b'..'`, `[1, 2]`, `{'k': 1}`.
    static func describe(_ v: CELValue) -> String {
        switch v {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .uint(let u): return "\(u)u"
        case .double(let d):
            let s = double(d)
            return s.contains(".") || s.contains("e") || s.contains("n") || s.contains("I") ? s : s + ".0"
        case .string(let s): return "'" + s.split(separator: "'", omittingEmptySubsequences: false).joined(separator: "\\'") + "'"
        case .bytes(let b): return "b'" + b.map { $0 >= 0x20 && $0 < 0x7F && $0 != 0x27 && $0 != 0x5C ? String(UnicodeScalar($0)) : "\\x" + hex($0) }.joined() + "'"
        case .list(let l): return "[" + (0..<l.count).map { describe(l[$0]) }.joined(separator: ", ") + "]"
        case .map(let m): return "{" + (0..<m.count).map { describe(m.key(at: $0)) + ": " + describe(m.value(at: $0)) }.joined(separator: ", ") + "}"
        case .timestamp(let t): return "timestamp('\(t.text)')"
        case .duration(let d): return "duration('\(d.text)')"
        case .type(let t): return t.name
        case .optional(let o): return o.map { "optional.of(\(describe($0)))" } ?? "optional.none()"
        case .kube(let k): return "\(k.type.name)('\(k.text)')"
        case .error(let e): return "error(\(e.message))"
        }
    }

    private static func hex(_ b: UInt8) -> String {
        let digits = Array("0123456789abcdef")
        return String([digits[Int(b >> 4)], digits[Int(b & 15)]])
    }
}

extension CELValue {
    /// The value as a record field.
    ///
    /// int, double, bool, string, null, timestamp (truncated to microseconds), lists and maps map
    /// directly; uint becomes int (an error above `Int64.max`); bytes become base64 text;
    /// durations their CEL text (`90s`); types their name; map keys their text.
    public func recordValue() throws(EvalError) -> Value {
        switch self {
        case .null: return .null
        case .bool(let b): return .bool(b)
        case .int(let i): return .int(i)
        case .uint(let u):
            guard u <= UInt64(Int64.max) else { throw EvalError("uint \(u) does not fit a record's int (64-bit signed)") }
            return .int(Int64(u))
        case .double(let d): return .double(d)
        case .string(let s): return .string(s)
        case .bytes(let b): return .string(Base64.encode(b))
        case .timestamp(let t): return .timestamp(t.runnel)
        case .duration(let d): return .string(d.text)
        case .type(let t): return .string(t.name)
        case .optional(let o): return try o?.recordValue() ?? .null
        case .kube(let k): return .string(k.text)
        case .list(let l):
            if case .record(let values) = l.storage { return .array(values) }
            var out: [Value] = []
            out.reserveCapacity(l.count)
            for i in 0..<l.count { out.append(try l[i].recordValue()) }
            return .array(out)
        case .map(let m):
            if case .record(let o) = m.storage { return .object(o) }
            var o = Object()
            for i in 0..<m.count {
                let key: String
                switch m.key(at: i) {
                case .string(let s): key = s
                case let k: key = CELText.describe(k)
                }
                o.set(key, try m.value(at: i).recordValue())
            }
            return .object(o)
        case .error(let e): throw e
        }
    }
}

enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    static func encode(_ b: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((b.count + 2) / 3 * 4)
        var i = 0
        while i < b.count {
            let n = min(3, b.count - i)
            let v = UInt32(b[i]) << 16 | (n > 1 ? UInt32(b[i + 1]) << 8 : 0) | (n > 2 ? UInt32(b[i + 2]) : 0)
            out.append(alphabet[Int(v >> 18 & 63)])
            out.append(alphabet[Int(v >> 12 & 63)])
            out.append(n > 1 ? alphabet[Int(v >> 6 & 63)] : UInt8(ascii: "="))
            out.append(n > 2 ? alphabet[Int(v & 63)] : UInt8(ascii: "="))
            i += 3
        }
        return String(decoding: out, as: UTF8.self)
    }
}

extension CELValue: CustomStringConvertible {
    /// A CEL-like rendering: `1`, `2u`, `'a'`, `[1, 2]`, `{'k': 1}`, `timestamp('...')`.
    public var description: String { CELText.describe(self) }
}
