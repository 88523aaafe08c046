/// CEL's operators: arithmetic with overflow errors, heterogeneous equality, ordering across
/// numeric types, indexing and membership.
enum Functions {
    static func noOverload(_ name: String, _ args: CELValue...) -> CELValue {
        .error(EvalError("no matching overload for '\(name)' applied to (\(args.map { $0.type.name }.joined(separator: ", ")))"))
    }

    static func rangeError(_ what: String) -> CELValue { .error(EvalError("\(what) out of range")) }

    static func overflow(_ what: String) -> CELValue { .error(EvalError("integer overflow in \(what)")) }

    /// `&&`/`||` once neither side decided the result: both true (or both false) gives that; an
    /// error on either side is the result; anything else is not a bool.
    static func combineLogical(_ x: CELValue, _ y: CELValue, _ op: String, _ ctx: inout Evaluation) -> CELValue {
        if case .bool = x, case .bool = y { return x }
        if case .error = x { return x }
        if case .error = y { return y }
        return noOverload(op, x, y)
    }

    static func select(_ v: CELValue, _ field: String) -> CELValue {
        switch v {
        case .map(let m):
            return m.lookup(field: field) ?? .error(EvalError("no such key: '\(field)'"))
        case .optional: return Optionals.select(v, field)
        case .error: return v
        default: return .error(EvalError("type '\(v.type)' does not support field selection (.\(field))"))
        }
    }

    static func presence(_ v: CELValue, _ field: String) -> CELValue {
        switch v {
        case .map(let m):
            guard let found = m.lookup(field: field) else { return .bool(false) }
            // In records a missing key and a null are the same thing (batches fill gaps with null).
            if case .map(let inner) = v, case .record = inner.storage, case .null = found { return .bool(false) }
            return .bool(true)
        case .null: return .bool(false)
        case .optional(let o): return o.map { presence($0, field) } ?? .bool(false)
        case .error: return v
        default: return .error(EvalError("has() needs a map or record, not \(v.type) (.\(field))"))
        }
    }

    // MARK: arithmetic

    static func arithmetic(_ op: Arithmetic, _ x: CELValue, _ y: CELValue, _ ctx: inout Evaluation) -> CELValue {
        if case .error = x { return x }
        if case .error = y { return y }
        switch (x, y) {
        case (.int(let a), .int(let b)): return intOp(op, a, b)
        case (.uint(let a), .uint(let b)): return uintOp(op, a, b)
        case (.double(let a), .double(let b)):
            switch op {
            case .add: return .double(a + b)
            case .subtract: return .double(a - b)
            case .multiply: return .double(a * b)
            case .divide: return .double(a / b)
            case .modulo: return noOverload(op.symbol, x, y)
            }
        case (.string(let a), .string(let b)) where op == .add:
            guard ctx.charge(1 + (a.utf8.count + b.utf8.count) / 16) else { return ctx.costError }
            return .string(a + b)
        case (.bytes(let a), .bytes(let b)) where op == .add:
            guard ctx.charge(1 + (a.count + b.count) / 16) else { return ctx.costError }
            return .bytes(a + b)
        case (.list(let a), .list(let b)) where op == .add:
            guard ctx.charge(1 + a.count + b.count) else { return ctx.costError }
            return .list(CELList(a.elements + b.elements))
        case (.timestamp(let t), .duration(let d)) where op == .add || op == .subtract:
            let n = op == .add ? t.nanoseconds + d.nanoseconds : t.nanoseconds - d.nanoseconds
            return CELTimestamp(nanoseconds: n).map { .timestamp($0) } ?? rangeError("timestamp")
        case (.duration(let d), .timestamp(let t)) where op == .add:
            return CELTimestamp(nanoseconds: t.nanoseconds + d.nanoseconds).map { .timestamp($0) } ?? rangeError("timestamp")
        case (.duration(let a), .duration(let b)) where op == .add || op == .subtract:
            let n = op == .add ? a.nanoseconds + b.nanoseconds : a.nanoseconds - b.nanoseconds
            return CELDuration(nanoseconds: n).map { .duration($0) } ?? rangeError("duration")
        case (.timestamp(let a), .timestamp(let b)) where op == .subtract:
            return CELDuration(nanoseconds: a.nanoseconds - b.nanoseconds).map { .duration($0) } ?? rangeError("duration")
        default:
            return noOverload(op.symbol, x, y)
        }
    }

    private static func intOp(_ op: Arithmetic, _ a: Int64, _ b: Int64) -> CELValue {
        let r: (partialValue: Int64, overflow: Bool)
        switch op {
        case .add: r = a.addingReportingOverflow(b)
        case .subtract: r = a.subtractingReportingOverflow(b)
        case .multiply: r = a.multipliedReportingOverflow(by: b)
        case .divide:
            if b == 0 { return .error(EvalError("division by zero")) }
            r = a.dividedReportingOverflow(by: b)
        case .modulo:
            if b == 0 { return .error(EvalError("modulus by zero")) }
            r = a.remainderReportingOverflow(dividingBy: b)
        }
        return r.overflow ? overflow("\(a) \(op.symbol) \(b)") : .int(r.partialValue)
    }

    private static func uintOp(_ op: Arithmetic, _ a: UInt64, _ b: UInt64) -> CELValue {
        let r: (partialValue: UInt64, overflow: Bool)
        switch op {
        case .add: r = a.addingReportingOverflow(b)
        case .subtract: r = a.subtractingReportingOverflow(b)
        case .multiply: r = a.multipliedReportingOverflow(by: b)
        case .divide:
            if b == 0 { return .error(EvalError("division by zero")) }
            r = (a / b, false)
        case .modulo:
            if b == 0 { return .error(EvalError("modulus by zero")) }
            r = (a % b, false)
        }
        return r.overflow ? overflow("\(a)u \(op.symbol) \(b)u") : .uint(r.partialValue)
    }

    // MARK: comparison

    enum Order { case less, same, greater }

    static func compare(_ op: Comparison, _ x: CELValue, _ y: CELValue, _ ctx: inout Evaluation) -> CELValue {
        if case .error = x { return x }
        if case .error = y { return y }
        switch op {
        case .equal: return .bool(equals(x, y))
        case .notEqual: return .bool(!equals(x, y))
        default: break
        }
        guard let order = order(x, y) else {
            // NaN is unordered: every ordering is false. Anything else without an order is an error.
            if isNaNComparison(x, y) { return .bool(false) }
            return noOverload(op.symbol, x, y)
        }
        switch op {
        case .less: return .bool(order == .less)
        case .lessEqual: return .bool(order != .greater)
        case .greater: return .bool(order == .greater)
        case .greaterEqual: return .bool(order != .less)
        case .equal, .notEqual: return .bool(false)  // handled above
        }
    }

    private static func isNaNComparison(_ x: CELValue, _ y: CELValue) -> Bool {
        func nan(_ v: CELValue) -> Bool { if case .double(let d) = v { return d.isNaN } else { return false } }
        func numeric(_ v: CELValue) -> Bool {
            switch v {
            case .int, .uint, .double: true
            default: false
            }
        }
        return (nan(x) || nan(y)) && numeric(x) && numeric(y)
    }

    /// The order of two values of orderable types; numbers compare across int, uint and double
    /// (int and uint exactly; against a double, as doubles). Nil when unordered (different types, NaN).
    static func order(_ x: CELValue, _ y: CELValue) -> Order? {
        switch (x, y) {
        case (.int(let a), .int(let b)): return cmp(a, b)
        case (.uint(let a), .uint(let b)): return cmp(a, b)
        case (.double(let a), .double(let b)): return a.isNaN || b.isNaN ? nil : cmp(a, b)
        case (.int(let a), .uint(let b)): return a < 0 ? .less : cmp(UInt64(a), b)
        case (.uint(let a), .int(let b)): return b < 0 ? .greater : cmp(a, UInt64(b))
        case (.int(let a), .double(let b)): return compareInt(a, b)
        case (.double(let a), .int(let b)): return compareInt(b, a).map(flip)
        case (.uint(let a), .double(let b)): return compareUInt(a, b)
        case (.double(let a), .uint(let b)): return compareUInt(b, a).map(flip)
        case (.string(let a), .string(let b)):
            // Byte order of UTF-8 is code point order, as CEL specifies (not Swift's String order).
            return a == b ? .same : (a.utf8.lexicographicallyPrecedes(b.utf8) ? .less : .greater)
        case (.bytes(let a), .bytes(let b)): return a == b ? .same : (a.lexicographicallyPrecedes(b) ? .less : .greater)
        case (.bool(let a), .bool(let b)): return a == b ? .same : (!a ? .less : .greater)
        case (.timestamp(let a), .timestamp(let b)): return cmp(a, b)
        case (.duration(let a), .duration(let b)): return cmp(a, b)
        default: return nil
        }
    }

    private static func flip(_ o: Order) -> Order { o == .less ? .greater : o == .greater ? .less : .same }

    private static func cmp<T: Comparable>(_ a: T, _ b: T) -> Order { a < b ? .less : a > b ? .greater : .same }

    /// int and uint against double compare as doubles, as CEL's conformance cases require
    /// (`dyn(9223372036854775807) < 9223372036854775808.0` is false: the int rounds up).
    private static func compareInt(_ a: Int64, _ d: Double) -> Order? {
        d.isNaN ? nil : cmp(Double(a), d)
    }

    private static func compareUInt(_ a: UInt64, _ d: Double) -> Order? {
        d.isNaN ? nil : cmp(Double(a), d)
    }

    /// Heterogeneous equality: numbers on one number line, lists and maps element by element,
    /// values of different types unequal (never an error).
    static func equals(_ x: CELValue, _ y: CELValue) -> Bool {
        switch (x, y) {
        case (.null, .null): return true
        case (.int, _), (.uint, _), (.double, _):
            return order(x, y) == .same
        case (.string(let a), .string(let b)): return a.utf8.elementsEqual(b.utf8)
        case (.bytes(let a), .bytes(let b)): return a == b
        case (.bool(let a), .bool(let b)): return a == b
        case (.timestamp(let a), .timestamp(let b)): return a == b
        case (.duration(let a), .duration(let b)): return a == b
        case (.type(let a), .type(let b)): return a == b
        case (.list(let a), .list(let b)):
            guard a.count == b.count else { return false }
            for i in 0..<a.count where !equals(a[i], b[i]) { return false }
            return true
        case (.map(let a), .map(let b)):
            guard a.count == b.count else { return false }
            for i in 0..<a.count {
                guard let other = b.lookup(a.key(at: i)), equals(a.value(at: i), other) else { return false }
            }
            return true
        case (.optional(let a), .optional(let b)):
            switch (a, b) {
            case (nil, nil): return true
            case (let a?, let b?): return equals(a, b)
            default: return false
            }
        case (.kube(let a), .kube(let b)): return a == b
        default: return false
        }
    }

    // MARK: collections

    static func index(_ c: CELValue, _ k: CELValue) -> CELValue {
        if case .error = c { return c }
        if case .error = k { return k }
        switch c {
        case .list(let l):
            let i: Int64
            switch k {
            case .int(let v): i = v
            case .uint(let v): i = v > UInt64(Int64.max) ? -1 : Int64(v)
            case .double(let d) where d.rounded(.towardZero) == d && abs(d) < 9e18: i = Int64(d)
            default: return .error(EvalError("invalid list index of type \(k.type)"))
            }
            guard i >= 0, i < l.count else { return .error(EvalError("index \(i) out of range (list of \(l.count))")) }
            return l[Int(i)]
        case .map(let m):
            return m.lookup(k) ?? .error(EvalError("no such key: \(Functions.display(k))"))
        case .optional: return Optionals.index(c, k)
        default:
            return noOverload("[]", c, k)
        }
    }

    static func membership(_ e: CELValue, _ c: CELValue, _ ctx: inout Evaluation) -> CELValue {
        if case .error = e { return e }
        switch c {
        case .list(let l):
            guard ctx.charge(l.count) else { return ctx.costError }
            for i in 0..<l.count where equals(e, l[i]) { return .bool(true) }
            return .bool(false)
        case .map(let m):
            return .bool(m.lookup(e) != nil)
        case .error: return c
        default: return noOverload("in", e, c)
        }
    }

    static func makeMap(_ entries: [(key: Node, value: Node)], _ ctx: inout Evaluation) -> CELValue {
        var keys: [CELValue] = []
        var values: [CELValue] = []
        var index: [MapKey: Int] = [:]
        for entry in entries {
            let k = entry.key.evaluate(&ctx)
            if case .error = k { return k }
            var v = entry.value.evaluate(&ctx)
            if case .error = v { return v }
            if case .optionalElement = entry.value {
                guard case .optional(let o) = v else {
                    return .error(EvalError("an optional map entry (?k: v) needs an optional value, not \(v.type)"))
                }
                guard let o else { continue }
                v = o
            }
            guard let mk = MapKey(k) else { return .error(EvalError("unsupported map key type \(k.type)")) }
            guard index[mk] == nil else { return .error(EvalError("repeated map key \(display(k))")) }
            index[mk] = keys.count
            keys.append(k)
            values.append(v)
        }
        return .map(CELMap(keys: keys, values: values, index: index))
    }

    /// A short rendering for messages.
    static func display(_ v: CELValue) -> String {
        switch v {
        case .string(let s): "'\(s)'"
        case .uint(let u): "\(u)u"
        default: CELText.describe(v)
        }
    }
}
