/// cel-go's math library.
enum MathFunctions {
    static func call(_ f: Extension, _ a: [CELValue]) -> CELValue {
        func bad() -> CELValue { Extensions.noOverload(f, a) }
        switch f {
        case .greatest, .least:
            var items = a
            if a.count == 1, case .list(let l) = a[0] {
                items = l.elements
                guard !items.isEmpty else { return .error(EvalError("\(f.name)(): the list is empty")) }
            }
            var best: CELValue?
            for v in items {
                switch v {
                case .int, .uint, .double: break
                default: return bad()
                }
                guard let b = best else {
                    best = v
                    continue
                }
                // NaN is never the greatest nor the least unless it is alone.
                if case .double(let d) = b, d.isNaN {
                    best = v
                    continue
                }
                if let o = Functions.order(v, b), o == (f == .greatest ? .greater : .less) { best = v }
            }
            return best ?? bad()
        case .ceil, .floor, .round, .trunc:
            guard case .double(let d) = a[0] else { return bad() }
            switch f {
            case .ceil: return .double(d.rounded(.up))
            case .floor: return .double(d.rounded(.down))
            case .round: return .double(d.rounded(.toNearestOrAwayFromZero))
            default: return .double(d.rounded(.towardZero))
            }
        case .abs:
            switch a[0] {
            case .int(let i):
                return i == Int64.min ? .error(EvalError("integer overflow in math.abs(\(i))")) : .int(Swift.abs(i))
            case .uint: return a[0]
            case .double(let d): return .double(Swift.abs(d))
            default: return bad()
            }
        case .mathSign:
            switch a[0] {
            case .int(let i): return .int(i.signum())
            case .uint(let u): return .uint(u == 0 ? 0 : 1)
            case .double(let d): return .double(d.isNaN ? d : d > 0 ? 1 : d < 0 ? -1 : 0)
            default: return bad()
            }
        case .sqrt:
            switch a[0] {
            case .int(let i): return .double(Double(i).squareRoot())
            case .uint(let u): return .double(Double(u).squareRoot())
            case .double(let d): return .double(d.squareRoot())
            default: return bad()
            }
        case .isInf, .isNaN, .isFinite:
            guard case .double(let d) = a[0] else { return bad() }
            return .bool(f == .isInf ? d.isInfinite : f == .isNaN ? d.isNaN : d.isFinite)
        case .bitAnd, .bitOr, .bitXor:
            switch (a[0], a[1]) {
            case (.int(let x), .int(let y)): return .int(f == .bitAnd ? x & y : f == .bitOr ? x | y : x ^ y)
            case (.uint(let x), .uint(let y)): return .uint(f == .bitAnd ? x & y : f == .bitOr ? x | y : x ^ y)
            default: return bad()
            }
        case .bitNot:
            switch a[0] {
            case .int(let x): return .int(~x)
            case .uint(let x): return .uint(~x)
            default: return bad()
            }
        case .bitShiftLeft, .bitShiftRight:
            guard case .int(let n) = a[1] else { return bad() }
            guard n >= 0 else {
                return .error(
                    EvalError("math.\(f == .bitShiftLeft ? "bitShiftLeft" : "bitShiftRight"): negative offset \(n)"))
            }
            // Shifts of 64 or more give 0; right shifts of ints are logical, as in cel-go.
            switch a[0] {
            case .int(let x):
                let u = UInt64(bitPattern: x)
                guard n < 64 else { return .int(0) }
                return .int(Int64(bitPattern: f == .bitShiftLeft ? u << UInt64(n) : u >> UInt64(n)))
            case .uint(let u):
                guard n < 64 else { return .uint(0) }
                return .uint(f == .bitShiftLeft ? u << UInt64(n) : u >> UInt64(n))
            default: return bad()
            }
        default: return bad()
        }
    }
}

/// cel-go's lists and sets libraries and the Kubernetes list functions.
enum ListFunctions {
    static func call(_ f: Extension, _ a: [CELValue], _ ctx: inout Evaluation) -> CELValue {
        func bad() -> CELValue { Extensions.noOverload(f, a) }
        if f == .range {
            guard case .int(let n) = a[0] else { return bad() }
            guard n >= 0 else { return .list(CELList([])) }
            guard ctx.charge(Int(min(n, Int64(Int.max / 2)))) else { return ctx.costError }
            return .list(CELList((0..<n).map { .int($0) }))
        }
        guard case .list(let l) = a[0] else { return bad() }
        switch f {
        case .setsContains, .setsEquivalent, .setsIntersects:
            guard case .list(let m) = a[1] else { return bad() }
            guard ctx.charge(l.count * m.count / 4) else { return ctx.costError }
            let x = l.elements
            let y = m.elements
            func contains(_ c: [CELValue], _ all: [CELValue]) -> Bool {
                all.allSatisfy { e in c.contains { Functions.equals($0, e) } }
            }
            switch f {
            case .setsContains: return .bool(contains(x, y))
            case .setsEquivalent: return .bool(contains(x, y) && contains(y, x))
            default: return .bool(y.contains { e in x.contains { Functions.equals($0, e) } })
            }
        case .slice:
            guard case .int(let s) = a[1], case .int(let e) = a[2] else { return bad() }
            guard s >= 0, e >= 0 else {
                return .error(EvalError("cannot slice(\(s), \(e)), negative indexes not supported"))
            }
            guard s <= e else {
                return .error(
                    EvalError("cannot slice(\(s), \(e)), start index must be less than or equal to end index"))
            }
            guard e <= l.count else { return .error(EvalError("cannot slice(\(s), \(e)), list is length \(l.count)")) }
            return .list(CELList(Array(l.elements[Int(s)..<Int(e)])))
        case .flatten:
            var depth: Int64 = 1
            if a.count == 2 {
                guard case .int(let d) = a[1] else { return bad() }
                guard d >= 0 else { return .error(EvalError("flatten(): level must be non-negative")) }
                depth = d
            }
            var out: [CELValue] = []
            func add(_ v: CELValue, _ level: Int64) -> Bool {
                guard ctx.charge() else { return false }
                if level > 0, case .list(let inner) = v {
                    for i in 0..<inner.count where !add(inner[i], level - 1) { return false }
                } else {
                    out.append(v)
                }
                return true
            }
            for i in 0..<l.count where !add(l[i], depth) { return ctx.costError }
            return .list(CELList(out))
        case .distinct:
            var out: [CELValue] = []
            var seen: Set<MapKey> = []
            for v in l.elements {
                if let k = hashKey(v) {
                    if seen.insert(k).inserted { out.append(v) }
                } else {
                    guard ctx.charge(out.count / 8) else { return ctx.costError }
                    if !out.contains(where: { Functions.equals($0, v) }) { out.append(v) }
                }
            }
            return .list(CELList(out))
        case .sort:
            let items = l.elements
            switch sorted(items, &ctx) {
            case .failure(let e): return .error(e)
            case .success(let order): return .list(CELList(order.map { items[$0] }))
            }
        case .isSorted:
            let items = l.elements
            for i in items.indices.dropFirst() {
                guard let o = Functions.order(items[i - 1], items[i]) else {
                    return incomparable(items[i - 1], items[i])
                }
                if o == .greater { return .bool(false) }
            }
            return .bool(true)
        case .first: return .optional(l.count > 0 ? l[0] : nil)
        case .last: return .optional(l.count > 0 ? l[l.count - 1] : nil)
        case .sum:
            guard l.count > 0 else { return .int(0) }
            var total = l[0]
            switch total {
            case .int, .uint, .double, .duration: break
            default: return .error(EvalError("sum() needs a list of numbers or durations, found \(total.type)"))
            }
            for i in 1..<l.count {
                let v = l[i]
                guard v.type == total.type else {
                    return .error(EvalError("sum() needs elements of one type: \(total.type) and \(v.type)"))
                }
                total = Functions.arithmetic(.add, total, v, &ctx)
                if total.isError { return total }
            }
            return total
        case .min, .max:
            guard l.count > 0 else { return .error(EvalError("\(f.name)() of an empty list")) }
            var best = l[0]
            for i in 1..<l.count {
                let v = l[i]
                guard let o = Functions.order(v, best) else { return incomparable(best, v) }
                if o == (f == .max ? .greater : .less) { best = v }
            }
            return best
        default: return bad()
        }
    }

    static func incomparable(_ x: CELValue, _ y: CELValue) -> CELValue {
        .error(EvalError("list elements are not comparable: \(x.type) and \(y.type)"))
    }

    /// A hashable identity for values that are equal exactly when their keys are (numbers on one line).
    static func hashKey(_ v: CELValue) -> MapKey? {
        switch v {
        case .double: return MapKey.lookup(v)
        case .bool, .int, .uint, .string: return MapKey(v)
        default: return nil
        }
    }

    /// A stable sort's order of `keys`; an error when two keys have no order (different types).
    static func sorted(_ keys: [CELValue], _ ctx: inout Evaluation) -> Result<[Int], EvalError> {
        var n = 1
        while (1 << n) < keys.count { n += 1 }
        guard ctx.charge(keys.count * n) else {
            return .failure(EvalError("cost limit of \(ctx.limit) exceeded (evaluation.cost_limit)"))
        }
        if let first = keys.first {
            for k in keys where Functions.order(first, k) == nil {
                return .failure(EvalError("sort: list elements are not comparable: \(first.type) and \(k.type)"))
            }
        }
        let order = keys.indices.sorted { i, j in
            let o = Functions.order(keys[i], keys[j])
            return o == .less || (o == .same && i < j)
        }
        return .success(order)
    }
}
