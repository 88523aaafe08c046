/// Resolves the names of a parsed expression against a set of variables, producing the tree
/// the evaluator walks.
///
/// Name resolution follows CEL: comprehension variables first (innermost first), then the
/// longest dotted prefix that names a variable (`a.b.c` is the variable `a.b.c` if there is one,
/// else field `c` of `a.b`, else `b.c` of `a`), then `record` (the whole record), then type names.
struct Binder {
    enum Slot {
        case field(Int)
        case variable(Int)
    }
    /// The slot of a variable name, nil when there is none.
    let resolve: (String) -> Slot?
    private var scopes: [String] = []
    private(set) var maxLocals = 0

    init(resolve: @escaping (String) -> Slot?) { self.resolve = resolve }

    mutating func bind(_ e: Expr) -> Node {
        switch e.kind {
        case .literal(let v): return .literal(v)
        case .identifier(let name, let rooted):
            if !rooted, let slot = scopes.lastIndex(of: name) { return .local(slot) }
            return global([name])
        case .select(let operand, let field, let presence):
            if presence {
                if let names = qualifiedName(operand) {
                    // has(record.f) for a top-level field, or has(f.g) on a named variable.
                    if names == ["record"], resolve("record") == nil {
                        if case .field(let i)? = resolve(field) { return .fieldPresence(i) }
                        return .fieldPresence(nil)
                    }
                }
                return .presence(bind(operand), field)
            }
            if let names = qualifiedName(e) { return global(names) }
            return .select(bind(operand), field)
        case .call(let name, let target, let args):
            return call(name, target: target, args: args, offset: e.offset)
        case .list(let items):
            let nodes = items.map { bind($0) }
            // A list of constants is built once, not per record (`status in ['paid', 'shipped']`).
            let constants = nodes.compactMap { n -> CELValue? in if case .literal(let v) = n { v } else { nil } }
            return constants.count == nodes.count ? .literal(.list(CELList(constants))) : .list(nodes)
        case .map(let entries):
            let nodes = entries.map { (key: bind($0.key), value: bind($0.value)) }
            let allConstant = nodes.allSatisfy { if case .literal = $0.key, case .literal = $0.value { true } else { false } }
            if allConstant {
                // Evaluated once; a bad key stays an error value, reported when the expression runs.
                var ctx = Evaluation(record: [], fields: [], variables: [], locals: [], limit: Int.max)
                return .literal(Functions.makeMap(nodes, &ctx))
            }
            return .map(nodes)
        case .macro(let macro, let range, let variable, let body, let transform):
            let r = bind(range)
            let slot = scopes.count
            scopes.append(variable)
            maxLocals = max(maxLocals, scopes.count)
            let b = bind(body)
            let t = transform.map { bind($0) }
            scopes.removeLast()
            return .macro(macro, range: r, slot: slot, body: b, transform: t)
        case .fold(let fold, let range, let variables, let args):
            let r = bind(range)
            let slot = scopes.count
            scopes.append(contentsOf: variables)
            maxLocals = max(maxLocals, scopes.count)
            let a = args.map { bind($0) }
            scopes.removeLast(variables.count)
            return .fold(fold, range: r, slot: slot, args: a)
        }
    }

    /// The dotted name of a selection chain on a global identifier, or nil.
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

    /// The longest prefix of `names` that is a variable, the rest applied as field selections.
    private func global(_ names: [String]) -> Node {
        for k in stride(from: names.count, through: 1, by: -1) {
            let name = names[0..<k].joined(separator: ".")
            var node: Node
            if let slot = resolve(name) {
                switch slot {
                case .field(let i): node = .field(i)
                case .variable(let i): node = .variable(i)
                }
            } else if k == 2, names[0] == "record", case .field(let i)? = resolve(names[1]) {
                node = .field(i)
            } else if k == 1, name == "record" {
                node = .record
            } else if k == 2, names[0] == "record" {
                node = .missing(names[1])
            } else if let t = CELType.named[name] {
                node = .literal(.type(t))
            } else {
                continue
            }
            for f in names[k...] { node = .select(node, f) }
            return node
        }
        var node = Node.missing(names[0])
        for f in names.dropFirst() { node = .select(node, f) }
        return node
    }

    private mutating func call(_ name: String, target: Expr?, args: [Expr], offset: Int) -> Node {
        func two() -> (Node, Node) { (bind(args[0]), bind(args[1])) }
        switch name {
        case Op.and: let (a, b) = two(); return .and(a, b)
        case Op.or: let (a, b) = two(); return .or(a, b)
        case Op.not: return .not(bind(args[0]))
        case Op.negate: return .negate(bind(args[0]))
        case Op.conditional: return .conditional(bind(args[0]), bind(args[1]), bind(args[2]))
        case Op.index: let (a, b) = two(); return .index(a, b)
        case Op.in: let (a, b) = two(); return .contains(element: a, collection: b)
        case Op.add: let (a, b) = two(); return .arithmetic(.add, a, b)
        case Op.subtract: let (a, b) = two(); return .arithmetic(.subtract, a, b)
        case Op.multiply: let (a, b) = two(); return .arithmetic(.multiply, a, b)
        case Op.divide: let (a, b) = two(); return .arithmetic(.divide, a, b)
        case Op.modulo: let (a, b) = two(); return .arithmetic(.modulo, a, b)
        case Op.equal: let (a, b) = two(); return .comparison(.equal, a, b)
        case Op.notEqual: let (a, b) = two(); return .comparison(.notEqual, a, b)
        case Op.less: let (a, b) = two(); return .comparison(.less, a, b)
        case Op.lessEqual: let (a, b) = two(); return .comparison(.lessEqual, a, b)
        case Op.greater: let (a, b) = two(); return .comparison(.greater, a, b)
        case Op.greaterEqual: let (a, b) = two(); return .comparison(.greaterEqual, a, b)
        case Op.optionalIndex: let (a, b) = two(); return .optionalIndex(a, b)
        case Op.optionalEntry: return .optionalElement(bind(args[0]))
        case Op.optionalSelect:
            guard case .literal(.string(let field)) = args[1].kind else { return .invalidCall("invalid .? selection") }
            return .optionalSelect(bind(args[0]), field)
        default: break
        }
        let all = (target.map { [$0] } ?? []) + args
        if let ext = Extension.resolve(name, receiver: target != nil) {
            guard let overloads = Extension.signatures[ext.key], overloads.contains(where: { $0.accepts(arity: all.count) }) else {
                return .invalidCall("no matching overload for \(name)() with \(args.count) argument\(args.count == 1 ? "" : "s")")
            }
            if ext == .or || ext == .orValue { return .optionalOr(bind(all[0]), bind(all[1]), orValue: ext == .orValue) }
            if ext == .find || ext == .findAll, case .literal(.string(let pattern)) = all[1].kind, let regex = try? CELRegex(pattern) {
                return .findConstant(ext, all.map { bind($0) }, regex)
            }
            return .ext(ext, all.map { bind($0) })
        }
        guard let builtin = Builtin.resolve(name, receiver: target != nil, arity: all.count) else {
            if Builtin.names.contains(name) {
                return .invalidCall("no matching overload for \(name)() with \(args.count) argument\(args.count == 1 ? "" : "s")")
            }
            return .invalidCall("unbound function '\(name)'")
        }
        if builtin == .matches, case .literal(.string(let pattern)) = all[1].kind, let regex = try? CELRegex(pattern) {
            return .matchesConstant(bind(all[0]), regex)
        }
        return .call(builtin, all.map { bind($0) })
    }
}
