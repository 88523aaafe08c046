import RunnelCore

/// The standard functions: size, the string tests, conversions, time accessors, and the macros.
extension Functions {
    static func call(_ f: Builtin, _ a: [CELValue], _ ctx: inout Evaluation) -> CELValue {
        switch f {
        case .size:
            switch a[0] {
            case .string(let s):
                guard ctx.charge(1 + s.utf8.count / 64) else { return ctx.costError }
                return .int(Int64(s.unicodeScalars.count))
            case .bytes(let b): return .int(Int64(b.count))
            case .list(let l): return .int(Int64(l.count))
            case .map(let m): return .int(Int64(m.count))
            default: return noOverload("size", a[0])
            }
        case .contains, .startsWith, .endsWith:
            guard case .string(let s) = a[0], case .string(let t) = a[1] else { return noOverload("\(f)", a[0], a[1]) }
            guard ctx.charge(1 + s.utf8.count / 16) else { return ctx.costError }
            let (x, y) = (s.utf8, t.utf8)
            switch f {
            case .startsWith: return .bool(x.starts(with: y))
            case .endsWith: return .bool(x.reversed().starts(with: y.reversed()))
            default: return .bool(t.isEmpty || Self.find(Array(y), in: Array(x)))
            }
        case .matches:
            guard case .string(let s) = a[0], case .string(let pattern) = a[1] else { return noOverload("matches", a[0], a[1]) }
            guard ctx.charge(1 + (s.utf8.count + pattern.utf8.count) / 8) else { return ctx.costError }
            do {
                return .bool(try CELRegex(pattern).matches(s))
            } catch {
                return .error(EvalError(error.message))
            }
        case .dyn: return a[0]
        case .type: return .type(a[0].type)
        case .toInt: return Conversions.int(a[0])
        case .toUint: return Conversions.uint(a[0])
        case .toDouble: return Conversions.double(a[0])
        case .toString: return Conversions.string(a[0])
        case .toBool: return Conversions.bool(a[0])
        case .toBytes: return Conversions.bytes(a[0])
        case .toTimestamp: return Conversions.timestamp(a[0])
        case .toDuration: return Conversions.duration(a[0])
        case .time(let accessor): return TimeFunctions.apply(accessor, a)
        }
    }

    /// Substring search over UTF-8 bytes (valid UTF-8 cannot match in the middle of a character).
    static func find(_ needle: [UInt8], in hay: [UInt8]) -> Bool {
        guard needle.count <= hay.count else { return false }
        let first = needle[0]
        var i = 0
        while i + needle.count <= hay.count {
            if hay[i] == first, hay[i..<(i + needle.count)].elementsEqual(needle) { return true }
            i += 1
        }
        return false
    }

    /// all / exists / exists_one / map / filter over a list's elements or a map's keys.
    static func comprehension(
        _ kind: Expr.Macro, _ range: CELValue, _ slot: Int, _ body: Node, _ transform: Node?, _ ctx: inout Evaluation
    ) -> CELValue {
        let items: [CELValue]
        switch range {
        case .list(let l): items = l.elements
        case .map(let m): items = m.keys
        case .error: return range
        default: return .error(EvalError("\(kind.rawValue)() needs a list or a map, not \(range.type)"))
        }
        if slot >= ctx.locals.count { ctx.locals.append(contentsOf: repeatElement(.null, count: slot + 1 - ctx.locals.count)) }
        var firstError: CELValue?
        var found = 0
        var out: [CELValue] = []
        for item in items {
            guard ctx.charge() else { return ctx.costError }
            ctx.locals[slot] = item
            let v = body.evaluate(&ctx)
            if ctx.exceeded { return ctx.costError }
            switch kind {
            case .all, .exists:
                // A deciding element wins over errors in the others (CEL's commutative && and ||).
                let decisive = kind == .exists
                if case .bool(let b) = v {
                    if b == decisive { return .bool(decisive) }
                } else if firstError == nil {
                    firstError = v.isError ? v : noOverload(kind.rawValue, v)
                }
            case .existsOne:
                guard case .bool(let b) = v else { return v.isError ? v : noOverload(kind.rawValue, v) }
                if b { found += 1 }
            case .filter:
                guard case .bool(let b) = v else { return v.isError ? v : noOverload(kind.rawValue, v) }
                if b { out.append(item) }
            case .map:
                if let transform {
                    guard case .bool(let b) = v else { return v.isError ? v : noOverload(kind.rawValue, v) }
                    guard b else { continue }
                    let t = transform.evaluate(&ctx)
                    if t.isError { return t }
                    out.append(t)
                } else {
                    if v.isError { return v }
                    out.append(v)
                }
            }
        }
        switch kind {
        case .all, .exists: return firstError ?? .bool(kind == .all)
        case .existsOne: return .bool(found == 1)
        case .filter, .map: return .list(CELList(out))
        }
    }
}

/// The conversion functions `int() uint() double() string() bool() bytes() timestamp() duration()`.
enum Conversions {
    static func int(_ v: CELValue) -> CELValue {
        switch v {
        case .int: return v
        case .uint(let u): return u <= UInt64(Int64.max) ? .int(Int64(u)) : Functions.rangeError("int")
        case .double(let d):
            // (minInt, maxInt), exclusive: both ends do not round-trip reliably through double.
            guard d > -9.223372036854775808e18, d < 9.223372036854775807e18 else { return Functions.rangeError("int") }
            return .int(Int64(d))
        case .string(let s): return Int64(s).map { .int($0) } ?? .error(EvalError("cannot convert '\(s)' to int"))
        case .timestamp(let t): return .int(t.split.seconds)
        default: return Functions.noOverload("int", v)
        }
    }

    static func uint(_ v: CELValue) -> CELValue {
        switch v {
        case .uint: return v
        case .int(let i): return i >= 0 ? .uint(UInt64(i)) : Functions.rangeError("uint")
        case .double(let d):
            guard d > -1, d < 1.8446744073709551616e19 else { return Functions.rangeError("uint") }
            return .uint(UInt64(d))
        case .string(let s): return UInt64(s).map { .uint($0) } ?? .error(EvalError("cannot convert '\(s)' to uint"))
        default: return Functions.noOverload("uint", v)
        }
    }

    static func double(_ v: CELValue) -> CELValue {
        switch v {
        case .double: return v
        case .int(let i): return .double(Swift.Double(i))
        case .uint(let u): return .double(Swift.Double(u))
        case .string(let s):
            guard !s.isEmpty, !s.hasPrefix("0x"), let d = Swift.Double(s) else {
                return .error(EvalError("cannot convert '\(s)' to double"))
            }
            return .double(d)
        default: return Functions.noOverload("double", v)
        }
    }

    static func string(_ v: CELValue) -> CELValue {
        switch v {
        case .string: return v
        case .bool(let b): return .string(b ? "true" : "false")
        case .int(let i): return .string(String(i))
        case .uint(let u): return .string(String(u))
        case .double(let d): return .string(CELText.double(d))
        case .bytes(let b):
            guard let s = String(validating: b, as: UTF8.self) else { return .error(EvalError("invalid UTF-8 in bytes")) }
            return .string(s)
        case .timestamp(let t): return .string(t.text)
        case .duration(let d): return .string(d.text)
        case .type(let t): return .string(t.name)
        case .kube(let k): return .string(k.text)
        default: return Functions.noOverload("string", v)
        }
    }

    static func bool(_ v: CELValue) -> CELValue {
        switch v {
        case .bool: return v
        case .string(let s):
            switch s {
            case "1", "t", "true", "TRUE", "True": return .bool(true)
            case "0", "f", "false", "FALSE", "False": return .bool(false)
            default: return .error(EvalError("cannot convert '\(s)' to bool"))
            }
        default: return Functions.noOverload("bool", v)
        }
    }

    static func bytes(_ v: CELValue) -> CELValue {
        switch v {
        case .bytes: return v
        case .string(let s): return .bytes(Array(s.utf8))
        default: return Functions.noOverload("bytes", v)
        }
    }

    static func timestamp(_ v: CELValue) -> CELValue {
        switch v {
        case .timestamp: return v
        case .string(let s):
            return CELTimestamp.parse(s).map { .timestamp($0) }
                ?? .error(EvalError("cannot convert '\(s)' to timestamp (RFC 3339, in range 0001-01-01 to 9999-12-31)"))
        case .int(let i):
            return CELTimestamp(nanoseconds: Int128(i) * 1_000_000_000).map { .timestamp($0) } ?? Functions.rangeError("timestamp")
        default: return Functions.noOverload("timestamp", v)
        }
    }

    static func duration(_ v: CELValue) -> CELValue {
        switch v {
        case .duration: return v
        case .string(let s):
            return CELDuration.parse(s).map { .duration($0) }
                ?? .error(EvalError("cannot convert '\(s)' to duration (like '1h30m', '2.5s', '250ms'; range about ±292 years)"))
        case .int(let i):
            // Seconds, as for timestamp(int).
            return CELDuration(nanoseconds: Int128(i) * 1_000_000_000).map { .duration($0) } ?? Functions.rangeError("duration")
        default: return Functions.noOverload("duration", v)
        }
    }
}

/// The timestamp accessors (in UTC or a named zone) and the duration conversions of the same names.
enum TimeFunctions {
    static func apply(_ f: TimeAccessor, _ a: [CELValue]) -> CELValue {
        switch a[0] {
        case .timestamp(let t):
            var zone = Zone.utc
            if a.count == 2 {
                guard case .string(let name) = a[1] else { return Functions.noOverload(f.rawValue, a[0], a[1]) }
                guard let z = Zone.named(name) else { return .error(EvalError("unknown time zone '\(name)'")) }
                zone = z
            }
            let (secs, nanos) = t.split
            let local = secs + zone.offset(at: secs)
            var (days, secOfDay) = local.quotientAndRemainder(dividingBy: 86_400)
            if secOfDay < 0 {
                secOfDay += 86_400
                days -= 1
            }
            let (y, m, d) = CivilDate.fromDays(days)
            switch f {
            case .getFullYear: return .int(y)
            case .getMonth: return .int(Int64(m - 1))
            case .getDate: return .int(Int64(d))
            case .getDayOfMonth: return .int(Int64(d - 1))
            case .getDayOfWeek: return .int(((days % 7) + 11) % 7)  // 1970-01-01 was a Thursday
            case .getDayOfYear: return .int(days - CivilDate.days(year: y, month: 1, day: 1))
            case .getHours: return .int(secOfDay / 3600)
            case .getMinutes: return .int(secOfDay / 60 % 60)
            case .getSeconds: return .int(secOfDay % 60)
            case .getMilliseconds: return .int(nanos / 1_000_000)
            }
        case .duration(let d):
            guard a.count == 1 else { return Functions.noOverload(f.rawValue, a[0], a[1]) }
            let n = d.nanoseconds
            switch f {
            case .getHours: return .int(Int64(n / 3_600_000_000_000))
            case .getMinutes: return .int(Int64(n / 60_000_000_000))
            case .getSeconds: return .int(Int64(n / 1_000_000_000))
            case .getMilliseconds: return .int(Int64(n % 1_000_000_000 / 1_000_000))
            default: return Functions.noOverload(f.rawValue, a[0])
            }
        default:
            return Functions.noOverload(f.rawValue, a[0])
        }
    }
}
