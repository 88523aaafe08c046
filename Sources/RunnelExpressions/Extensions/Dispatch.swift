/// Evaluation of the extension functions, after their arguments (errors already returned).
enum Extensions {
    static func noOverload(_ f: Extension, _ a: [CELValue]) -> CELValue {
        .error(EvalError("no such overload: \(f.name)(\(a.map { $0.type.name }.joined(separator: ", ")))"))
    }

    static func call(_ f: Extension, _ a: [CELValue], _ ctx: inout Evaluation) -> CELValue {
        // Work proportional to the size of what the function touches.
        var size = 0
        for v in a {
            switch v {
            case .string(let s): size += s.utf8.count / 16
            case .bytes(let b): size += b.count / 16
            case .list(let l): size += l.count
            case .map(let m): size += m.count
            default: break
            }
        }
        guard ctx.charge(1 + size) else { return ctx.costError }
        switch f {
        case .charAt, .indexOf, .lastIndexOf, .lowerAscii, .upperAscii, .replace, .split, .substring, .trim, .join,
            .reverse,
            .format, .quote:
            return strings(f, a, &ctx)
        case .greatest, .least, .ceil, .floor, .round, .trunc, .abs, .mathSign, .sqrt, .isInf, .isNaN, .isFinite,
            .bitAnd,
            .bitOr, .bitXor, .bitNot, .bitShiftLeft, .bitShiftRight:
            return MathFunctions.call(f, a)
        case .slice, .flatten, .distinct, .sort, .first, .last, .sum, .min, .max, .isSorted, .range, .setsContains,
            .setsEquivalent, .setsIntersects:
            return ListFunctions.call(f, a, &ctx)
        case .optionalOf: return .optional(a[0])
        case .optionalNone: return .optional(nil)
        case .optionalOfNonZero: return .optional(Optionals.isZero(a[0]) ? nil : a[0])
        case .hasValue:
            guard case .optional(let o) = a[0] else { return noOverload(f, a) }
            return .bool(o != nil)
        case .value:
            guard case .optional(let o) = a[0] else { return noOverload(f, a) }
            return o ?? .error(EvalError("optional.none() dereference"))
        case .or, .orValue:
            // Bound as Node.optionalOr (lazy); reached only through a dynamic path.
            guard case .optional(let o) = a[0] else { return noOverload(f, a) }
            if let o { return f == .or ? .optional(o) : o }
            return a[1]
        case .base64Encode:
            guard case .bytes(let b) = a[0] else { return noOverload(f, a) }
            return .string(Base64.encode(b))
        case .base64Decode:
            guard case .string(let s) = a[0] else { return noOverload(f, a) }
            return Base64.decode(s).map { .bytes($0) } ?? .error(EvalError("base64.decode: invalid base64 text"))
        case .find, .findAll:
            guard case .string(let p) = a[1] else { return noOverload(f, a) }
            guard ctx.charge(1 + p.utf8.count / 8) else { return ctx.costError }
            do { return find(f, a, try CELRegex(p), &ctx) } catch { return .error(EvalError(error.message)) }
        default:
            return Kube.call(f, a)
        }
    }

    /// `find`/`findAll`: the leftmost-first matches, costed by text size × pattern size.
    static func find(_ f: Extension, _ a: [CELValue], _ regex: CELRegex, _ ctx: inout Evaluation) -> CELValue {
        guard case .string(let s) = a[0], case .string = a[1] else { return noOverload(f, a) }
        var limit: Int64 = -1
        if a.count == 3 {
            guard case .int(let n) = a[2] else { return noOverload(f, a) }
            limit = n
        }
        guard ctx.charge(1 + (s.utf8.count * max(1, regex.program.count)) / 64) else { return ctx.costError }
        let found = regex.find(in: s, limit: f == .find ? 1 : limit)
        if f == .find { return .string(found.first ?? "") }
        return .list(CELList(found.map { .string($0) }))
    }

    private static func strings(_ f: Extension, _ a: [CELValue], _ ctx: inout Evaluation) -> CELValue {
        func int(_ i: Int) -> Int64? { if case .int(let v) = a[i] { v } else { nil } }
        func str(_ i: Int) -> String? { if case .string(let v) = a[i] { v } else { nil } }
        if case .list(let l) = a[0] {
            switch (f, a.count) {
            case (.join, 1): return StringFunctions.join(l, "")
            case (.join, 2): return str(1).map { StringFunctions.join(l, $0) } ?? noOverload(f, a)
            case (.reverse, 1): return .list(CELList(l.elements.reversed()))
            case (.indexOf, 2), (.lastIndexOf, 2):
                guard ctx.charge(l.count) else { return ctx.costError }
                let indices = f == .indexOf ? Array(0..<l.count) : (0..<l.count).reversed()
                for i in indices where Functions.equals(l[i], a[1]) { return .int(Int64(i)) }
                return .int(-1)
            default: return noOverload(f, a)
            }
        }
        guard let s = str(0) else { return noOverload(f, a) }
        switch (f, a.count) {
        case (.charAt, 2): return int(1).map { StringFunctions.charAt(s, $0) } ?? noOverload(f, a)
        case (.indexOf, 2), (.indexOf, 3), (.lastIndexOf, 2), (.lastIndexOf, 3):
            guard let sub = str(1) else { return noOverload(f, a) }
            var from: Int64?
            if a.count == 3 {
                guard let n = int(2) else { return noOverload(f, a) }
                from = n
            }
            return f == .indexOf
                ? StringFunctions.indexOf(s, sub, from: from) : StringFunctions.lastIndexOf(s, sub, from: from)
        case (.lowerAscii, 1): return .string(StringFunctions.ascii(s, upper: false))
        case (.upperAscii, 1): return .string(StringFunctions.ascii(s, upper: true))
        case (.replace, 3), (.replace, 4):
            guard let old = str(1), let new = str(2) else { return noOverload(f, a) }
            var limit: Int64 = -1
            if a.count == 4 {
                guard let n = int(3) else { return noOverload(f, a) }
                limit = n
            }
            // Charged before building: the result can be far longer than the inputs ('ab'.replace('', long)).
            let most = old.isEmpty ? s.unicodeScalars.count + 1 : s.utf8.count / old.utf8.count
            let replaced = limit < 0 ? most : min(most, Int(clamping: limit))
            guard ctx.charge((s.utf8.count + replaced * new.utf8.count) / 16) else { return ctx.costError }
            let r = StringFunctions.replace(s, old, new, limit: limit)
            return .string(r)
        case (.split, 2), (.split, 3):
            guard let sep = str(1) else { return noOverload(f, a) }
            var limit: Int64 = -1
            if a.count == 3 {
                guard let n = int(2) else { return noOverload(f, a) }
                limit = n
            }
            let parts = StringFunctions.split(s, sep, limit: limit)
            guard ctx.charge(parts.count) else { return ctx.costError }
            return .list(CELList(parts))
        case (.substring, 2), (.substring, 3):
            guard let start = int(1) else { return noOverload(f, a) }
            if a.count == 3 {
                guard let end = int(2) else { return noOverload(f, a) }
                return StringFunctions.substring(s, start, end)
            }
            return StringFunctions.substring(s, start, nil)
        case (.trim, 1): return .string(StringFunctions.trim(s))
        case (.reverse, 1): return .string(StringFunctions.reverse(s))
        case (.quote, 1): return .string(StringFunctions.quote(s))
        case (.format, 2):
            guard case .list(let l) = a[1] else { return noOverload(f, a) }
            return Format.apply(s, l, &ctx)
        default: return noOverload(f, a)
        }
    }

    // MARK: macros

    /// The extension macros over an evaluated range.
    static func fold(_ fold: Expr.Fold, _ range: CELValue, _ slot: Int, _ args: [Node], _ ctx: inout Evaluation)
        -> CELValue
    {
        if slot + 2 > ctx.locals.count {
            ctx.locals.append(contentsOf: repeatElement(.null, count: slot + 2 - ctx.locals.count))
        }
        switch fold {
        case .bind:
            ctx.locals[slot] = range
            return args[0].evaluate(&ctx)
        case .optMap, .optFlatMap:
            switch range {
            case .optional(nil): return range
            case .optional(let v?):
                ctx.locals[slot] = v
                let r = args[0].evaluate(&ctx)
                if fold == .optMap { return r.isError ? r : .optional(r) }
                if case .optional = r { return r }
                return r.isError ? r : .error(EvalError("optFlatMap() must make an optional, not \(r.type)"))
            case .error: return range
            default: return .error(EvalError("\(fold.rawValue)() needs an optional, not \(range.type)"))
            }
        case .sortBy:
            guard case .list(let l) = range else {
                return range.isError ? range : .error(EvalError("sortBy() needs a list, not \(range.type)"))
            }
            var keyed: [(key: CELValue, value: CELValue)] = []
            for i in 0..<l.count {
                guard ctx.charge() else { return ctx.costError }
                ctx.locals[slot] = l[i]
                let k = args[0].evaluate(&ctx)
                if k.isError { return k }
                keyed.append((k, l[i]))
            }
            switch ListFunctions.sorted(keyed.map(\.key), &ctx) {
            case .failure(let e): return .error(e)
            case .success(let order): return .list(CELList(order.map { keyed[$0].value }))
            }
        default: break
        }
        // Two-variable comprehensions: (index, value) over lists, (key, value) over maps.
        let pairs: [(CELValue, CELValue)]
        switch range {
        case .list(let l): pairs = (0..<l.count).map { (.int(Int64($0)), l[$0]) }
        case .map(let m): pairs = (0..<m.count).map { (m.key(at: $0), m.value(at: $0)) }
        case .error: return range
        default: return .error(EvalError("\(fold.rawValue)() needs a list or a map, not \(range.type)"))
        }
        var firstError: CELValue?
        var found = 0
        var list: [CELValue] = []
        var keys: [CELValue] = []
        var values: [CELValue] = []
        var index: [MapKey: Int] = [:]
        func put(_ k: CELValue, _ v: CELValue) -> CELValue? {
            guard let mk = MapKey(k) else { return .error(EvalError("unsupported map key type \(k.type)")) }
            guard index[mk] == nil else {
                return .error(EvalError("insert failed: key \(Functions.display(k)) already exists"))
            }
            index[mk] = keys.count
            keys.append(k)
            values.append(v)
            return nil
        }
        for (k, v) in pairs {
            guard ctx.charge() else { return ctx.costError }
            ctx.locals[slot] = k
            ctx.locals[slot + 1] = v
            switch fold {
            case .all, .exists:
                let r = args[0].evaluate(&ctx)
                if ctx.exceeded { return ctx.costError }
                let decisive = fold == .exists
                if case .bool(let b) = r {
                    if b == decisive { return .bool(decisive) }
                } else if firstError == nil {
                    firstError = r.isError ? r : Functions.noOverload(fold.rawValue, r)
                }
            case .existsOne:
                let r = args[0].evaluate(&ctx)
                guard case .bool(let b) = r else { return r.isError ? r : Functions.noOverload(fold.rawValue, r) }
                if b { found += 1 }
            default:
                if args.count == 2 {
                    let keep = args[0].evaluate(&ctx)
                    guard case .bool(let b) = keep else {
                        return keep.isError ? keep : Functions.noOverload(fold.rawValue, keep)
                    }
                    if !b { continue }
                }
                let r = args[args.count - 1].evaluate(&ctx)
                if r.isError { return r }
                switch fold {
                case .transformList: list.append(r)
                case .transformMap: if let e = put(k, r) { return e }
                default:
                    guard case .map(let entry) = r else {
                        return .error(EvalError("transformMapEntry() must make a map, not \(r.type)"))
                    }
                    for j in 0..<entry.count {
                        if let e = put(entry.key(at: j), entry.value(at: j)) { return e }
                    }
                }
            }
        }
        switch fold {
        case .all, .exists: return firstError ?? .bool(fold == .all)
        case .existsOne: return .bool(found == 1)
        case .transformList: return .list(CELList(list))
        default: return .map(CELMap(keys: keys, values: values, index: index))
        }
    }
}

/// The optional library: `a.?f`, `a[?k]`, and the zero values of `optional.ofNonZeroValue`.
enum Optionals {
    static func select(_ v: CELValue, _ field: String) -> CELValue {
        switch v {
        case .optional(nil): return v
        case .optional(let inner?):
            if case .map = inner { return select(inner, field) }
            return .error(EvalError("no such key: '\(field)' (.\(field) on an optional of \(inner.type))"))
        case .map(let m):
            guard let found = m.lookup(field: field) else { return .optional(nil) }
            // In records a missing key and a null are the same thing (batches fill gaps with null).
            if case .record = m.storage, case .null = found { return .optional(nil) }
            return .optional(found)
        case .error: return v
        default: return .error(EvalError("type '\(v.type)' does not support field selection (.?\(field))"))
        }
    }

    static func index(_ c: CELValue, _ k: CELValue) -> CELValue {
        if case .error = c { return c }
        if case .error = k { return k }
        switch c {
        case .optional(nil): return c
        case .optional(let inner?): return index(inner, k)
        case .list:
            let v = Functions.index(c, k)
            guard case .error = v else { return .optional(v) }
            switch k {
            case .int, .uint, .double: return .optional(nil)  // out of range (or not a whole number)
            default: return .error(EvalError("invalid list index of type \(k.type)"))
            }
        case .map(let m):
            guard let found = m.lookup(k) else { return .optional(nil) }
            return .optional(found)
        default: return Functions.noOverload("[?]", c, k)
        }
    }

    static func isZero(_ v: CELValue) -> Bool {
        switch v {
        case .null: return true
        case .bool(let b): return !b
        case .int(let i): return i == 0
        case .uint(let u): return u == 0
        case .double(let d): return d == 0
        case .string(let s): return s.isEmpty
        case .bytes(let b): return b.isEmpty
        case .list(let l): return l.count == 0
        case .map(let m): return m.count == 0
        case .duration(let d): return d.nanoseconds == 0
        case .timestamp(let t): return t.nanoseconds == 0
        case .optional(let o): return o == nil
        default: return false
        }
    }
}

extension Base64 {
    /// Standard alphabet; the padding may be left out. Nil when the text is not base64.
    static func decode(_ s: String) -> [UInt8]? {
        var values: [UInt8] = []
        var padding = 0
        for c in s.utf8 {
            let v: UInt8
            switch c {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): v = c - UInt8(ascii: "A")
            case UInt8(ascii: "a")...UInt8(ascii: "z"): v = c - UInt8(ascii: "a") + 26
            case UInt8(ascii: "0")...UInt8(ascii: "9"): v = c - UInt8(ascii: "0") + 52
            case UInt8(ascii: "+"): v = 62
            case UInt8(ascii: "/"): v = 63
            case UInt8(ascii: "="):
                padding += 1
                continue
            default: return nil
            }
            if padding > 0 { return nil }
            values.append(v)
        }
        if padding > 2 || values.count % 4 == 1 { return nil }
        if padding > 0, (values.count + padding) % 4 != 0 { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(values.count * 3 / 4)
        var i = 0
        while i < values.count {
            let n = min(4, values.count - i)
            var acc: UInt32 = 0
            for j in 0..<4 { acc = acc << 6 | (j < n ? UInt32(values[i + j]) : 0) }
            out.append(UInt8(acc >> 16 & 0xFF))
            if n > 2 { out.append(UInt8(acc >> 8 & 0xFF)) }
            if n > 3 { out.append(UInt8(acc & 0xFF)) }
            i += 4
        }
        return out
    }
}
