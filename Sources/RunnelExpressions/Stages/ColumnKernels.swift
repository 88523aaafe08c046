public import RunnelCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// An expression compiled, for one batch, into loops over its columns: one loop per operator over
/// the rows of the selection, on typed payloads (int64, double, bool, string bytes), with no
/// `CELValue` or `Value` per row.
///
/// A kernel is exact where it answers and says where it does not: each lane carries a `known`
/// flag per row, false wherever CEL's answer is not a plain value of the lane's type (a null
/// field, an integer overflow, a division by zero, non-ASCII strings whose bytes differ, a `&&`
/// whose sides did not decide). Those rows — and every row of an expression that does not compile
/// (comprehensions, lists and maps built per row, functions, mixed columns) — are evaluated by the
/// row evaluator, which makes CEL's error values, absorption and messages. So the kernels never
/// have to reproduce an error, only to recognize that one could occur.
///
/// `&&` and `||` evaluate both sides over the whole selection (branch-free loops; CEL is pure, and
/// absorption is commutative: `false && error` and `error && false` are both false). The cost
/// limit holds because an expression compiles only when its most expensive row, every node and
/// every constant list member counted, is within the limit.
indirect enum ColumnKernel {
    case column(Int, Lane.Kind)
    case constant(Lane.Kind, Int64)
    case text(String)
    case presence(Int?)
    case and(ColumnKernel, ColumnKernel)
    case or(ColumnKernel, ColumnKernel)
    case not(ColumnKernel)
    case negate(ColumnKernel)
    case arithmetic(Arithmetic, ColumnKernel, ColumnKernel)
    case comparison(Comparison, ColumnKernel, ColumnKernel)
    /// `x in [constants]`: the constants of the element's type (others never equal it).
    case member(ColumnKernel, numbers: [CELValue], texts: [String], bools: [Bool])
    case conditional(ColumnKernel, ColumnKernel, ColumnKernel)

    /// The lane type the kernel yields.
    var kind: Lane.Kind {
        switch self {
        case .column(_, let k), .constant(let k, _): k
        case .text: .string
        case .presence, .and, .or, .not, .comparison, .member: .bool
        case .negate(let a): a.kind
        case .arithmetic(_, let a, let b): a.kind == .double || b.kind == .double ? .double : a.kind
        case .conditional(_, let a, _): a.kind
        }
    }
}

/// The values of one kernel for the rows of a selection (position j is `rows[j]`).
struct Lane {
    enum Kind { case int, double, bool, timestamp, string }

    let kind: Kind
    /// int, double (bit pattern), bool (0/1), timestamp (µs); empty for strings.
    var fixed: [Int64]
    /// Empty when every row is known; else per row: does the lane hold CEL's value there.
    var known: [Bool]
    /// Strings: the column they are read from, or one constant for every row.
    var textColumn: Int = -1
    var constantText: [UInt8] = []

    func isKnown(_ j: Int) -> Bool { known.isEmpty || known[j] }
}

extension ColumnKernel {
    /// Compiles a bound expression for columns of these kinds, or nil when some part of it has no
    /// kernel (the row evaluator then takes the whole expression).
    static func compile(_ node: Node, columns: [Column], costLimit: Int) -> ColumnKernel? {
        guard node.maximumCost <= costLimit else { return nil }
        return build(node, columns)
    }

    private static func build(_ node: Node, _ columns: [Column]) -> ColumnKernel? {
        switch node {
        case .field(let i):
            guard i < columns.count else { return nil }
            switch columns[i].kind {
            case .int: return .column(i, .int)
            case .double: return .column(i, .double)
            case .bool: return .column(i, .bool)
            case .timestamp: return .column(i, .timestamp)
            case .string: return .column(i, .string)
            case .null, .mixed: return nil
            }
        case .literal(let v):
            switch v {
            case .int(let i): return .constant(.int, i)
            case .double(let d): return .constant(.double, Int64(bitPattern: d.bitPattern))
            case .bool(let b): return .constant(.bool, b ? 1 : 0)
            case .string(let s): return .text(s)
            default: return nil
            }
        case .fieldPresence(let i):
            return .presence(i)
        case .and(let a, let b):
            guard let x = build(a, columns), let y = build(b, columns), x.kind == .bool, y.kind == .bool else { return nil }
            return .and(x, y)
        case .or(let a, let b):
            guard let x = build(a, columns), let y = build(b, columns), x.kind == .bool, y.kind == .bool else { return nil }
            return .or(x, y)
        case .not(let a):
            guard let x = build(a, columns), x.kind == .bool else { return nil }
            return .not(x)
        case .negate(let a):
            guard let x = build(a, columns), x.kind == .int || x.kind == .double else { return nil }
            return .negate(x)
        case .arithmetic(let op, let a, let b):
            guard let x = build(a, columns), let y = build(b, columns), x.kind == y.kind else { return nil }
            // int with int (overflow and zero divisors left to the row evaluator), double with double
            // (IEEE, as CEL: no modulo). Mixed int/double is an error in CEL: the row path makes it.
            switch x.kind {
            case .int: return .arithmetic(op, x, y)
            case .double where op != .modulo: return .arithmetic(op, x, y)
            default: return nil
            }
        case .comparison(let op, let a, let b):
            guard let x = build(a, columns), let y = build(b, columns) else { return nil }
            switch (x.kind, y.kind) {
            case (.int, .int), (.double, .double), (.int, .double), (.double, .int), (.string, .string), (.timestamp, .timestamp):
                return .comparison(op, x, y)
            case (.bool, .bool) where op == .equal || op == .notEqual:
                return .comparison(op, x, y)
            default: return nil
            }
        case .contains(let element, .literal(.list(let list))):
            guard let x = build(element, columns) else { return nil }
            var numbers: [CELValue] = []
            var texts: [String] = []
            var bools: [Bool] = []
            for i in 0..<list.count {
                switch list[i] {
                case .int, .double: numbers.append(list[i])
                case .string(let s): texts.append(s)
                case .bool(let b): bools.append(b)
                // Other constants never equal a plain value; a nested list or map might: row path.
                case .null, .bytes, .timestamp, .duration, .type, .uint: break
                default: return nil
                }
            }
            guard x.kind != .timestamp else { return nil }
            return .member(x, numbers: numbers, texts: texts, bools: bools)
        case .conditional(let c, let a, let b):
            guard let k = build(c, columns), k.kind == .bool, let x = build(a, columns), let y = build(b, columns),
                x.kind == y.kind, x.kind != .string
            else { return nil }
            return .conditional(k, x, y)
        default:
            return nil
        }
    }
}

extension Node {
    /// The most the row evaluator can charge for this expression on any row: one per node, and a
    /// constant list's members for `in`. Nil-free upper bound for the nodes kernels take; nodes
    /// they do not take never reach a kernel, so their cost here only needs to be finite.
    var maximumCost: Int {
        switch self {
        case .literal, .field, .variable, .record, .local, .missing, .fieldPresence, .invalidCall: return 1
        case .and(let a, let b), .or(let a, let b), .arithmetic(_, let a, let b), .comparison(_, let a, let b):
            return 1 + a.maximumCost + b.maximumCost
        case .contains(let e, .literal(.list(let l))): return 2 + e.maximumCost + l.count
        case .not(let a), .negate(let a): return 1 + a.maximumCost
        case .conditional(let c, let a, let b): return 1 + c.maximumCost + max(a.maximumCost, b.maximumCost)
        default: return Int.max / 4
        }
    }
}

/// Runs kernels over a batch's columns for the rows of a selection.
struct KernelRun {
    let columns: [Column]
    let rows: [Int]

    func evaluate(_ k: ColumnKernel) -> Lane {
        let m = rows.count
        switch k {
        case .column(let i, let kind):
            let c = columns[i]
            if kind == .string {
                var lane = Lane(kind: .string, fixed: [], known: [])
                lane.textColumn = i
                if !c.validity.isEmpty { lane.known = rows.map { c.validity[$0] } }
                return lane
            }
            let fixed = c.fixed
            let values = [Int64](unsafeUninitializedCapacity: m) { out, n in
                fixed.withUnsafeBufferPointer { f in
                    for j in 0..<m { out[j] = f[rows[j]] }
                }
                n = m
            }
            return Lane(kind: kind, fixed: values, known: c.validity.isEmpty ? [] : rows.map { c.validity[$0] })
        case .constant(let kind, let bits):
            return Lane(kind: kind, fixed: [Int64](repeating: bits, count: m), known: [])
        case .text(let s):
            var lane = Lane(kind: .string, fixed: [], known: [])
            lane.constantText = Array(s.utf8)
            return lane
        case .presence(let i):
            guard let i, i < columns.count else { return Lane(kind: .bool, fixed: [Int64](repeating: 0, count: m), known: []) }
            let c = columns[i]
            return Lane(kind: .bool, fixed: rows.map { c.isNull($0) ? 0 : 1 }, known: [])
        case .and(let a, let b), .or(let a, let b):
            let isAnd: Bool
            if case .and = k { isAnd = true } else { isAnd = false }
            return logical(evaluate(a), evaluate(b), isAnd: isAnd)
        case .not(let a):
            var x = evaluate(a)
            for j in 0..<m { x.fixed[j] ^= 1 }
            return x
        case .negate(let a):
            var x = evaluate(a)
            if x.kind == .double {
                for j in 0..<m { x.fixed[j] ^= Int64.min }  // the sign bit
            } else {
                for j in 0..<m {
                    if x.fixed[j] == .min { x.markUnknown(j, count: m) } else { x.fixed[j] = -x.fixed[j] }
                }
            }
            return x
        case .arithmetic(let op, let a, let b):
            return arithmetic(op, evaluate(a), evaluate(b))
        case .comparison(let op, let a, let b):
            return compare(op, evaluate(a), evaluate(b))
        case .member(let e, let numbers, let texts, let bools):
            return member(evaluate(e), numbers: numbers, texts: texts, bools: bools)
        case .conditional(let c, let a, let b):
            let cond = evaluate(c)
            let x = evaluate(a)
            let y = evaluate(b)
            var out = Lane(kind: x.kind, fixed: [Int64](repeating: 0, count: m), known: [])
            for j in 0..<m {
                let pick = cond.fixed[j] != 0
                out.fixed[j] = pick ? x.fixed[j] : y.fixed[j]
                if !(cond.isKnown(j) && (pick ? x.isKnown(j) : y.isKnown(j))) { out.markUnknown(j, count: m) }
            }
            return out
        }
    }

    private func logical(_ x: Lane, _ y: Lane, isAnd: Bool) -> Lane {
        let m = rows.count
        var out = Lane(kind: .bool, fixed: [Int64](repeating: 0, count: m), known: [])
        // The value that decides alone: false for &&, true for ||.
        let decisive: Int64 = isAnd ? 0 : 1
        for j in 0..<m {
            let a = x.fixed[j]
            let b = y.fixed[j]
            let ka = x.isKnown(j)
            let kb = y.isKnown(j)
            if (ka && a == decisive) || (kb && b == decisive) {
                out.fixed[j] = decisive
            } else if ka && kb {
                out.fixed[j] = 1 - decisive
            } else {
                out.markUnknown(j, count: m)
            }
        }
        return out
    }

    private func arithmetic(_ op: Arithmetic, _ x: Lane, _ y: Lane) -> Lane {
        let m = rows.count
        var out = Lane(kind: x.kind, fixed: [Int64](repeating: 0, count: m), known: Self.both(x, y, m))
        if x.kind == .double {
            x.fixed.withUnsafeBufferPointer { a in
                y.fixed.withUnsafeBufferPointer { b in
                    out.fixed.withUnsafeMutableBufferPointer { o in
                        for j in 0..<m {
                            let p = Double(bitPattern: UInt64(bitPattern: a[j]))
                            let q = Double(bitPattern: UInt64(bitPattern: b[j]))
                            let r: Double
                            switch op {
                            case .add: r = p + q
                            case .subtract: r = p - q
                            case .multiply: r = p * q
                            case .divide: r = p / q
                            case .modulo: r = .nan  // not compiled
                            }
                            o[j] = Int64(bitPattern: r.bitPattern)
                        }
                    }
                }
            }
            return out
        }
        for j in 0..<m {
            let a = x.fixed[j]
            let b = y.fixed[j]
            let r: (partialValue: Int64, overflow: Bool)
            switch op {
            case .add: r = a.addingReportingOverflow(b)
            case .subtract: r = a.subtractingReportingOverflow(b)
            case .multiply: r = a.multipliedReportingOverflow(by: b)
            case .divide: r = b == 0 ? (0, true) : a.dividedReportingOverflow(by: b)
            case .modulo: r = b == 0 ? (0, true) : a.remainderReportingOverflow(dividingBy: b)
            }
            if r.overflow { out.markUnknown(j, count: m) } else { out.fixed[j] = r.partialValue }
        }
        return out
    }

    private func compare(_ op: Comparison, _ x: Lane, _ y: Lane) -> Lane {
        let m = rows.count
        var out = Lane(kind: .bool, fixed: [Int64](repeating: 0, count: m), known: Self.both(x, y, m))
        switch (x.kind, y.kind) {
        case (.string, .string):
            withTexts(x, y) { j, a, b in
                let order: Int
                if a.count == b.count && (a.count == 0 || memcmp(a.baseAddress!, b.baseAddress!, a.count) == 0) {
                    order = 0
                } else if Self.isASCII(a) && Self.isASCII(b) {
                    order = a.lexicographicallyPrecedes(b) ? -1 : 1
                } else if op == .equal || op == .notEqual {
                    order = 1  // CEL's string equality is by bytes
                } else {
                    // Different bytes that Swift may still call equal (canonical equivalence): the
                    // row evaluator decides.
                    out.markUnknown(j, count: m)
                    return
                }
                out.fixed[j] = Self.holds(op, order) ? 1 : 0
            }
        case (.double, _), (_, .double):
            for j in 0..<m {
                let a = x.kind == .double ? Double(bitPattern: UInt64(bitPattern: x.fixed[j])) : Double(x.fixed[j])
                let b = y.kind == .double ? Double(bitPattern: UInt64(bitPattern: y.fixed[j])) : Double(y.fixed[j])
                let r: Bool
                switch op {
                case .equal: r = a == b
                case .notEqual: r = a != b
                case .less: r = a < b
                case .lessEqual: r = a <= b
                case .greater: r = a > b
                case .greaterEqual: r = a >= b
                }
                out.fixed[j] = r ? 1 : 0
            }
        default:
            for j in 0..<m {
                let a = x.fixed[j]
                let b = y.fixed[j]
                out.fixed[j] = Self.holds(op, a < b ? -1 : a > b ? 1 : 0) ? 1 : 0
            }
        }
        return out
    }

    private func member(_ x: Lane, numbers: [CELValue], texts: [String], bools: [Bool]) -> Lane {
        let m = rows.count
        var out = Lane(kind: .bool, fixed: [Int64](repeating: 0, count: m), known: x.known)
        switch x.kind {
        case .string:
            let constants = texts.map { Array($0.utf8) }
            withText(x) { j, a in
                for c in constants where c.count == a.count {
                    if c.withUnsafeBufferPointer({ a.count == 0 || memcmp($0.baseAddress!, a.baseAddress!, a.count) == 0 }) {
                        out.fixed[j] = 1
                        return
                    }
                }
            }
        case .int, .double:
            for j in 0..<m {
                let found = numbers.contains { n in
                    switch (x.kind, n) {
                    case (.int, .int(let b)): return x.fixed[j] == b
                    case (.int, .double(let b)): return Double(x.fixed[j]) == b
                    case (.double, .int(let b)): return Double(bitPattern: UInt64(bitPattern: x.fixed[j])) == Double(b)
                    case (.double, .double(let b)): return Double(bitPattern: UInt64(bitPattern: x.fixed[j])) == b
                    default: return false
                    }
                }
                out.fixed[j] = found ? 1 : 0
            }
        case .bool:
            for j in 0..<m { out.fixed[j] = bools.contains(x.fixed[j] != 0) ? 1 : 0 }
        case .timestamp:
            for j in 0..<m { out.markUnknown(j, count: m) }
        }
        return out
    }

    // MARK: strings

    /// Calls `body` with the bytes of each known row of a string lane.
    private func withText(_ x: Lane, _ body: (Int, UnsafeBufferPointer<UInt8>) -> Void) {
        if x.textColumn < 0 {
            x.constantText.withUnsafeBufferPointer { c in
                for j in 0..<rows.count where x.isKnown(j) { body(j, c) }
            }
            return
        }
        let c = columns[x.textColumn]
        c.bytes.withUnsafeBufferPointer { all in
            for j in 0..<rows.count where x.isKnown(j) {
                let r = rows[j]
                body(j, UnsafeBufferPointer(rebasing: all[c.offsets[r]..<c.offsets[r + 1]]))
            }
        }
    }

    private func withTexts(_ x: Lane, _ y: Lane, _ body: (Int, UnsafeBufferPointer<UInt8>, UnsafeBufferPointer<UInt8>) -> Void) {
        // Constants on either side are the common case (`country == 'US'`); two columns are rarer.
        if y.textColumn < 0 {
            y.constantText.withUnsafeBufferPointer { b in withText(x) { j, a in if y.isKnown(j) { body(j, a, b) } } }
        } else if x.textColumn < 0 {
            x.constantText.withUnsafeBufferPointer { a in withText(y) { j, b in if x.isKnown(j) { body(j, a, b) } } }
        } else {
            let c = columns[y.textColumn]
            c.bytes.withUnsafeBufferPointer { all in
                withText(x) { j, a in
                    guard y.isKnown(j) else { return }
                    let r = rows[j]
                    body(j, a, UnsafeBufferPointer(rebasing: all[c.offsets[r]..<c.offsets[r + 1]]))
                }
            }
        }
    }

    private static func isASCII(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
        var high: UInt8 = 0
        for c in b { high |= c }
        return high < 0x80
    }

    private static func holds(_ op: Comparison, _ order: Int) -> Bool {
        switch op {
        case .equal: order == 0
        case .notEqual: order != 0
        case .less: order < 0
        case .lessEqual: order <= 0
        case .greater: order > 0
        case .greaterEqual: order >= 0
        }
    }

    /// Known where both lanes are.
    private static func both(_ x: Lane, _ y: Lane, _ m: Int) -> [Bool] {
        if x.known.isEmpty { return y.known }
        if y.known.isEmpty { return x.known }
        return (0..<m).map { x.known[$0] && y.known[$0] }
    }
}

extension Lane {
    mutating func markUnknown(_ j: Int, count: Int) {
        if known.isEmpty { known = [Bool](repeating: true, count: count) }
        known[j] = false
    }
}
