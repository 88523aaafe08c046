/// What is known of an expression's variables before it runs: the fields earlier stages name,
/// with their types where a `cast` or the data made them known.
public struct Declarations: Sendable {
    /// Known names and their types (`dyn` when only the name is known).
    public var variables: [String: StaticType]
    /// True when `variables` lists every field: an unknown name is then a compile error. False
    /// when the records may carry fields nobody declared (a JSON Lines source): unknown names are
    /// left to run time, where a missing field is an error for that record.
    public var isComplete: Bool

    public init(variables: [String: StaticType] = [:], isComplete: Bool = false) {
        self.variables = variables
        self.isComplete = isComplete
    }
}

/// The types the checker reasons with; `dyn` is "not known until run time".
public enum StaticType: String, Sendable, Hashable {
    case dyn, null, bool, int, uint, double, string, bytes, list, map, timestamp, duration, type
    case optional
    case url, ip, cidr, quantity, semver

    var isNumber: Bool { self == .int || self == .uint || self == .double }
}

/// A conservative type check: it reports what must fail whatever the data (unknown functions,
/// wrong argument counts, `'a' + 1`, `!3`, an invalid regular expression literal, unknown fields
/// when the field list is complete) and lets everything that depends on the data through.
struct Checker {
    let source: String
    let declarations: Declarations
    var scopes: [String] = []

    init(source: String, declarations: Declarations) {
        self.source = source
        self.declarations = declarations
    }

    func fail(_ message: String, _ offset: Int) -> CompileError {
        CompileError(message, offset: offset, source: source)
    }

    mutating func check(_ e: Expr) throws(CompileError) {
        _ = try type(e)
    }

    private static func literalType(_ v: CELValue) -> StaticType {
        switch v {
        case .null: .null
        case .bool: .bool
        case .int: .int
        case .uint: .uint
        case .double: .double
        case .string: .string
        case .bytes: .bytes
        case .list: .list
        case .map: .map
        case .timestamp: .timestamp
        case .duration: .duration
        case .type: .type
        case .optional: .optional
        case .kube(let k):
            switch k {
            case .url: .url
            case .ip: .ip
            case .cidr: .cidr
            case .quantity: .quantity
            case .semver: .semver
            }
        case .error: .dyn
        }
    }

    mutating func type(_ e: Expr) throws(CompileError) -> StaticType {
        switch e.kind {
        case .literal(let v): return Self.literalType(v)
        case .identifier(let name, let rooted):
            if !rooted, scopes.contains(name) { return .dyn }
            return try global([name], at: e.offset)
        case .select(let operand, let field, let presence):
            if !presence, let names = qualifiedName(e) { return try global(names, at: e.offset) }
            let t = try type(operand)
            if t != .dyn, t != .map, t != .optional, !(presence && t == .null) {
                throw fail("\(t.rawValue) has no fields (.\(field) needs a map or record)", e.offset)
            }
            return presence ? .bool : .dyn
        case .list(let items):
            for i in items { _ = try type(i) }
            return .list
        case .map(let entries):
            for entry in entries {
                let k = try type(entry.key)
                if [.double, .null, .bytes, .list, .map, .timestamp, .duration, .type].contains(k) {
                    throw fail("a map key must be a string, int, uint or bool, not \(k.rawValue)", entry.key.offset)
                }
                _ = try type(entry.value)
            }
            return .map
        case .macro(let macro, let range, let variable, let body, let transform):
            let r = try type(range)
            if r != .dyn, r != .list, r != .map {
                throw fail("\(macro.rawValue)() needs a list or a map, not \(r.rawValue)", e.offset)
            }
            scopes.append(variable)
            defer { scopes.removeLast() }
            let b = try type(body)
            if let transform { _ = try type(transform) }
            let isPredicate = macro != .map || transform != nil
            if isPredicate, b != .dyn, b != .bool {
                throw fail("the condition of \(macro.rawValue)() must be a bool, not \(b.rawValue)", body.offset)
            }
            return macro == .map || macro == .filter ? .list : .bool
        case .call(let name, let target, let args):
            return try call(name, target: target, args: args, at: e.offset)
        case .fold(let fold, let range, let variables, let args):
            return try self.fold(fold, range: range, variables: variables, args: args, at: e.offset)
        }
    }

    private func qualifiedName(_ e: Expr) -> [String]? {
        switch e.kind {
        case .identifier(let name, let rooted):
            if !rooted, scopes.contains(name) { return nil }
            return [name]
        case .select(let operand, let field, presence: false):
            guard var names = qualifiedName(operand) else { return nil }
            names.append(field)
            return names
        default: return nil
        }
    }

    /// Resolves a dotted name the way the binder does and returns its type.
    private func global(_ names: [String], at offset: Int) throws(CompileError) -> StaticType {
        for k in stride(from: names.count, through: 1, by: -1) {
            let name = names[0..<k].joined(separator: ".")
            var t: StaticType?
            if let declared = declarations.variables[name] {
                t = declared
            } else if k == 2, names[0] == "record" {
                if let declared = declarations.variables[names[1]] {
                    t = declared
                } else if declarations.isComplete {
                    throw unknownField(names[1], at: offset)
                } else {
                    t = .dyn
                }
            } else if k == 1, name == "record" {
                t = .map
            } else if CELType.named[name] != nil {
                t = .type
            }
            guard let found = t else { continue }
            if k < names.count, found != .dyn, found != .map {
                throw fail("\(found.rawValue) has no fields (.\(names[k]) needs a map or record)", offset)
            }
            return k < names.count ? .dyn : found
        }
        if declarations.isComplete { throw unknownField(names[0], at: offset) }
        return .dyn
    }

    private func unknownField(_ name: String, at offset: Int) -> CompileError {
        let known = declarations.variables.keys.sorted()
        var message = "unknown field '\(name)'"
        if let guess = Suggestion.closest(to: name, in: known) { message += " (did you mean '\(guess)'?)" }
        if !known.isEmpty, known.count <= 30 { message += "; the records have: \(known.joined(separator: ", "))" }
        return fail(message, offset)
    }

    private mutating func call(_ name: String, target: Expr?, args: [Expr], at offset: Int) throws(CompileError) -> StaticType {
        var types: [StaticType] = []
        if let target { types.append(try type(target)) }
        for a in args { types.append(try type(a)) }
        let display = Op.display(name)
        func bad() -> CompileError {
            fail("no operator '\(display)' for (\(types.map(\.rawValue).joined(separator: ", ")))", offset)
        }
        switch name {
        case Op.and, Op.or, Op.not:
            for t in types where t != .dyn && t != .bool { throw bad() }
            return .bool
        case Op.conditional:
            if types[0] != .dyn, types[0] != .bool {
                throw fail("the condition of ?: must be a bool, not \(types[0].rawValue)", args[0].offset)
            }
            return types[1] == types[2] ? types[1] : .dyn
        case Op.negate:
            if ![.dyn, .int, .double, .duration].contains(types[0]) { throw bad() }
            return types[0]
        case Op.add, Op.subtract, Op.multiply, Op.divide, Op.modulo:
            guard types[0] != .dyn, types[1] != .dyn else { return .dyn }
            guard let r = Self.arithmetic(name, types[0], types[1]) else { throw bad() }
            return r
        case Op.equal, Op.notEqual: return .bool
        case Op.less, Op.lessEqual, Op.greater, Op.greaterEqual:
            let (a, b) = (types[0], types[1])
            guard a != .dyn, b != .dyn else { return .bool }
            let orderable: Set<StaticType> = [.int, .uint, .double, .string, .bytes, .bool, .timestamp, .duration]
            if !(a.isNumber && b.isNumber), a != b || !orderable.contains(a) { throw bad() }
            return .bool
        case Op.index:
            if ![.dyn, .list, .map, .optional].contains(types[0]) { throw bad() }
            return types[0] == .optional ? .optional : .dyn
        case Op.optionalIndex:
            if ![.dyn, .list, .map, .optional].contains(types[0]) { throw bad() }
            return .optional
        case Op.optionalSelect:
            if ![.dyn, .map, .optional].contains(types[0]) {
                throw fail("\(types[0].rawValue) has no fields (.?f needs a map, a record or an optional)", offset)
            }
            return .optional
        case Op.optionalEntry:
            if ![.dyn, .optional].contains(types[0]) {
                throw fail("an optional entry (?x) needs an optional value, not \(types[0].rawValue)", args[0].offset)
            }
            return .dyn
        case Op.in:
            if ![.dyn, .list, .map].contains(types[1]) { throw bad() }
            return .bool
        default:
            break
        }
        if let ext = Extension.resolve(name, receiver: target != nil) {
            return try extensionCall(ext, name: name, types: types, all: (target.map { [$0] } ?? []) + args, at: offset)
        }
        guard let builtin = Builtin.resolve(name, receiver: target != nil, arity: types.count) else {
            if Builtin.names.contains(name) || Extension.names.contains(name) {
                let style = target != nil ? "as a method" : "as a function"
                throw fail("\(name)() does not take \(args.count) argument\(args.count == 1 ? "" : "s") \(style)", offset)
            }
            var message = "unknown function '\(name)'"
            if let guess = Suggestion.closest(to: name, in: Array(Builtin.names.union(Extension.names))) {
                message += " (did you mean '\(guess)'?)"
            }
            throw fail(message, offset)
        }
        let all = (target.map { [$0] } ?? []) + args
        func expect(_ i: Int, _ allowed: [StaticType]) throws(CompileError) {
            let t = types[i]
            if t != .dyn, !allowed.contains(t) {
                throw fail("\(name)() does not accept \(t.rawValue) (it takes \(allowed.map(\.rawValue).joined(separator: " or ")))", all[i].offset)
            }
        }
        switch builtin {
        case .size:
            try expect(0, [.string, .bytes, .list, .map])
            return .int
        case .contains, .startsWith, .endsWith:
            try expect(0, [.string])
            try expect(1, [.string])
            return .bool
        case .matches:
            try expect(0, [.string])
            try expect(1, [.string])
            if case .literal(.string(let pattern)) = all[1].kind {
                do { _ = try CELRegex(pattern) } catch { throw fail(error.message, all[1].offset) }
            }
            return .bool
        case .toInt:
            try expect(0, [.int, .uint, .double, .string, .timestamp])
            return .int
        case .toUint:
            try expect(0, [.int, .uint, .double, .string])
            return .uint
        case .toDouble:
            try expect(0, [.int, .uint, .double, .string])
            return .double
        case .toString:
            try expect(0, [.string, .bool, .int, .uint, .double, .bytes, .timestamp, .duration, .type, .url, .ip, .cidr, .quantity, .semver])
            return .string
        case .toBool:
            try expect(0, [.bool, .string])
            return .bool
        case .toBytes:
            try expect(0, [.bytes, .string])
            return .bytes
        case .toTimestamp:
            try expect(0, [.timestamp, .string, .int])
            if case .literal(.string(let s)) = all[0].kind, CELTimestamp.parse(s) == nil {
                throw fail("'\(s)' is not an RFC 3339 timestamp (like 2024-05-01T12:00:00Z)", all[0].offset)
            }
            return .timestamp
        case .toDuration:
            try expect(0, [.duration, .string, .int])
            if case .literal(.string(let s)) = all[0].kind, CELDuration.parse(s) == nil {
                throw fail("'\(s)' is not a duration (like 1h30m, 2.5s, 250ms)", all[0].offset)
            }
            return .duration
        case .dyn: return .dyn
        case .type: return .type
        case .time(let accessor):
            let durationForms: Set<TimeAccessor> = [.getHours, .getMinutes, .getSeconds, .getMilliseconds]
            try expect(0, durationForms.contains(accessor) && types.count == 1 ? [.timestamp, .duration] : [.timestamp])
            if types.count == 2 {
                try expect(1, [.string])
                if case .literal(.string(let zone)) = all[1].kind, Zone.named(zone) == nil {
                    throw fail("unknown time zone '\(zone)' (an IANA name like Europe/Paris, UTC, or an offset like +05:30)", all[1].offset)
                }
            }
            return .int
        }
    }

    /// The result type of an arithmetic operator, nil when no overload exists (as at run time).
    static func arithmetic(_ op: String, _ a: StaticType, _ b: StaticType) -> StaticType? {
        switch (op, a, b) {
        case (_, .int, .int), (_, .uint, .uint): return a
        case (Op.modulo, .double, .double): return nil
        case (_, .double, .double): return .double
        case (Op.add, .string, .string), (Op.add, .bytes, .bytes), (Op.add, .list, .list): return a
        case (Op.add, .timestamp, .duration), (Op.add, .duration, .timestamp), (Op.subtract, .timestamp, .duration):
            return .timestamp
        case (Op.add, .duration, .duration), (Op.subtract, .duration, .duration), (Op.subtract, .timestamp, .timestamp):
            return .duration
        default: return nil
        }
    }
}

/// "Did you mean": the closest name by edit distance, when it is close enough to be a typo.
enum Suggestion {
    static func closest(to name: String, in candidates: [String]) -> String? {
        let a = Array(name.lowercased())
        var best: (String, Int)?
        for c in candidates {
            let d = distance(a, Array(c.lowercased()))
            if d <= max(1, a.count / 3), d < (best?.1 ?? Int.max) { best = (c, d) }
        }
        return best?.0
    }

    private static func distance(_ a: [Character], _ b: [Character]) -> Int {
        if a.isEmpty { return b.count }
        var row = Array(0...b.count)
        for i in 1...a.count {
            var prev = row[0]
            row[0] = i
            for j in stride(from: 1, through: b.count, by: 1) {
                let cur = row[j]
                row[j] = min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] == b[j - 1] ? 0 : 1))
                prev = cur
            }
        }
        return row[b.count]
    }
}
