/// The checks of the extension libraries' functions and macros: argument counts and types
/// against the overloads in `Extension.signatures`, and the variables the macros bind.
extension Checker {
    mutating func fold(_ fold: Expr.Fold, range: Expr, variables: [String], args: [Expr], at offset: Int)
        throws(CompileError) -> StaticType
    {
        let r = try type(range)
        let name = fold.rawValue
        func need(_ allowed: [StaticType]) throws(CompileError) {
            if r != .dyn, !allowed.contains(r) {
                throw fail(
                    "\(name)() needs \(allowed.map(\.rawValue).joined(separator: " or ")), not \(r.rawValue)",
                    range.offset)
            }
        }
        switch fold {
        case .all, .exists, .existsOne, .transformList, .transformMap, .transformMapEntry: try need([.list, .map])
        case .optMap, .optFlatMap: try need([.optional])
        case .sortBy: try need([.list])
        case .bind: break
        }
        scopes.append(contentsOf: variables)
        defer { scopes.removeLast(variables.count) }
        var types: [StaticType] = []
        for a in args { types.append(try type(a)) }
        let predicate: Bool
        switch fold {
        case .all, .exists, .existsOne: predicate = true
        case .transformList, .transformMap, .transformMapEntry: predicate = args.count == 2
        default: predicate = false
        }
        if predicate, types[0] != .dyn, types[0] != .bool {
            throw fail("the condition of \(name)() must be a bool, not \(types[0].rawValue)", args[0].offset)
        }
        switch fold {
        case .all, .exists, .existsOne: return .bool
        case .transformList: return .list
        case .transformMap: return .map
        case .transformMapEntry:
            if let t = types.last, t != .dyn, t != .map {
                throw fail("transformMapEntry() must make a map (like {k: v}), not \(t.rawValue)", args.last!.offset)
            }
            return .map
        case .optMap: return .optional
        case .optFlatMap:
            if types[0] != .dyn, types[0] != .optional {
                throw fail("optFlatMap() must make an optional, not \(types[0].rawValue)", args[0].offset)
            }
            return .optional
        case .sortBy: return .list
        case .bind: return types[0]
        }
    }

    /// Checks a call of an extension function against its overloads; returns the result type.
    func extensionCall(_ ext: Extension, name: String, types: [StaticType], all: [Expr], at offset: Int)
        throws(CompileError) -> StaticType
    {
        let overloads = Extension.signatures[ext.key] ?? []
        let receiver = ext.isMethod
        let sameArity = overloads.filter { $0.accepts(arity: types.count) }
        let shown = receiver ? "a method" : "a function"
        guard !sameArity.isEmpty else {
            let forms = overloads.map(\.display).joined(separator: ", ")
            let count = types.count - (receiver ? 1 : 0)
            throw fail(
                "\(name)() does not take \(count) argument\(count == 1 ? "" : "s") as \(shown) (it is \(forms))", offset
            )
        }
        var results: Set<StaticType> = []
        for o in sameArity where o.matches(types) { results.insert(o.result) }
        if results.isEmpty {
            // Point at the first argument no overload of this arity accepts.
            for i in types.indices where types[i] != .dyn {
                if !sameArity.contains(where: { $0.parameter(i).contains(types[i]) || $0.parameter(i).contains(.dyn) })
                {
                    let allowed = Set(sameArity.flatMap { $0.parameter(i) }).map(\.rawValue).sorted().joined(
                        separator: " or ")
                    if receiver, i == 0 {
                        throw fail(
                            "\(name)() cannot be called on \(types[i].rawValue) (only on \(allowed))", all[i].offset)
                    }
                    throw fail("\(name)() does not accept \(types[i].rawValue) (it takes \(allowed))", all[i].offset)
                }
            }
            throw fail(
                "no overload of \(name)() for (\(types.map(\.rawValue).joined(separator: ", "))); it is \(sameArity.map(\.display).joined(separator: ", "))",
                offset)
        }
        try Extension.checkConstants(ext, all, fail: fail)
        return results.count == 1 ? results.first! : .dyn
    }
}

/// One overload of an extension function: `string.charAt(int) -> string`.
struct Signature: Sendable {
    /// Allowed types per position (the receiver first for methods); `dyn` accepts anything.
    var parameters: [[StaticType]]
    /// Any number (at least one) of arguments of the last parameter's types.
    var variadic: Bool
    var result: StaticType
    var display: String

    func accepts(arity: Int) -> Bool { variadic ? arity >= parameters.count : arity == parameters.count }
    func parameter(_ i: Int) -> [StaticType] { parameters[min(i, parameters.count - 1)] }
    func matches(_ types: [StaticType]) -> Bool {
        types.indices.allSatisfy { i in
            types[i] == .dyn || parameter(i).contains(.dyn) || parameter(i).contains(types[i])
        }
    }

    /// Reads `"string.charAt(int) string"`, `"math.greatest(int|uint|double...) dyn"`; a method
    /// is written `receiver#name(…)`.
    init(_ text: String) {
        display = text
        let open = text.firstIndex(of: "(")!
        let close = text.lastIndex(of: ")")!
        let head = text[..<open]
        var params = text[text.index(after: open)..<close].split(separator: ",").map { String($0).trimmingSpaces }
        if let hash = head.firstIndex(of: "#") { params.insert(String(head[..<hash]), at: 0) }
        variadic = params.last?.hasSuffix("...") ?? false
        if variadic { params[params.count - 1] = String(params[params.count - 1].dropLast(3)) }
        parameters = params.map { p in p.split(separator: "|").map { StaticType(rawValue: String($0))! } }
        result = StaticType(rawValue: String(text[text.index(after: close)...]).trimmingSpaces)!
        display = text.replacingHash
    }
}

extension String {
    fileprivate var trimmingSpaces: String {
        var s = Substring(self)
        while s.first == " " { s.removeFirst() }
        while s.last == " " { s.removeLast() }
        return String(s)
    }
    fileprivate var replacingHash: String {
        guard let hash = firstIndex(of: "#") else { return self }
        return String(self[..<hash]) + "." + String(self[index(after: hash)...])
    }
}
