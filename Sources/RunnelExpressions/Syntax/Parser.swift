/// Recursive descent over CEL's grammar (langdef "Syntax"), expanding the macros as it goes.
struct Parser {
    /// Deeper nesting than this is refused, so that a hostile expression cannot exhaust the stack.
    static let maxDepth = 128

    private let tokens: [Token]
    private let source: String
    private var p = 0
    private var depth = 0

    static let reserved: Set<String> = [
        "as", "break", "const", "continue", "else", "for", "function", "if", "import", "let", "loop",
        "package", "namespace", "return", "var", "void", "while",
    ]

    static func parse(_ source: String) throws(CompileError) -> Expr {
        var parser = Parser(tokens: try Lexer.tokens(source), source: source)
        let e = try parser.expression()
        guard case .end = parser.current.kind else {
            throw parser.error("unexpected \(parser.describe(parser.current)) after the end of the expression")
        }
        return e
    }

    private init(tokens: [Token], source: String) {
        self.tokens = tokens
        self.source = source
    }

    private var current: Token { tokens[p] }

    private func error(_ message: String, at offset: Int? = nil) -> CompileError {
        CompileError(message, offset: offset ?? current.offset, source: source)
    }

    private func describe(_ t: Token) -> String {
        switch t.kind {
        case .identifier(let s): "'\(s)'"
        case .quotedIdentifier(let s): "`\(s)`"
        case .punct(let s): "'\(s)'"
        case .end: "end of expression"
        case .int, .uint, .double: "number"
        case .string: "string"
        case .bytes: "bytes"
        }
    }

    private func isPunct(_ s: String) -> Bool {
        if case .punct(let q) = current.kind { return q == s }
        return false
    }

    private func isKeyword(_ s: String) -> Bool {
        if case .identifier(let q) = current.kind { return q == s }
        return false
    }

    private mutating func expect(_ s: String, _ context: String) throws(CompileError) {
        guard isPunct(s) else { throw error("expected '\(s)' \(context), found \(describe(current))") }
        p += 1
    }

    private mutating func nest() throws(CompileError) {
        depth += 1
        if depth > Self.maxDepth { throw error("expression nested more than \(Self.maxDepth) levels deep") }
    }

    mutating func expression() throws(CompileError) -> Expr {
        try nest()
        defer { depth -= 1 }
        let condition = try binary(level: 0)
        guard isPunct("?") else { return condition }
        let at = current.offset
        p += 1
        let yes = try binary(level: 0)
        try expect(":", "in a conditional (a ? b : c)")
        let no = try expression()
        return Expr(kind: .call(Op.conditional, target: nil, args: [condition, yes, no]), offset: at)
    }

    /// Levels: 0 `||`, 1 `&&`, 2 relations, 3 `+ -`, 4 `* / %`.
    private static let levels: [[String]] = [["||"], ["&&"], ["==", "!=", "<", "<=", ">", ">=", "in"], ["+", "-"], ["*", "/", "%"]]

    private mutating func binary(level: Int) throws(CompileError) -> Expr {
        guard level < Self.levels.count else { return try unary() }
        var lhs = try binary(level: level + 1)
        while true {
            let op: String
            if case .punct(let s) = current.kind, Self.levels[level].contains(s) {
                op = s
            } else if level == 2, isKeyword("in") {
                op = "in"
            } else {
                return lhs
            }
            let at = current.offset
            p += 1
            try nest()
            let rhs = try binary(level: level + 1)
            depth -= 1
            let name: String
            switch op {
            case "||": name = Op.or
            case "&&": name = Op.and
            case "in": name = Op.in
            default: name = Op.binary[op]!
            }
            lhs = Expr(kind: .call(name, target: nil, args: [lhs, rhs]), offset: at)
        }
    }

    private mutating func unary() throws(CompileError) -> Expr {
        if isPunct("!") {
            let at = current.offset
            p += 1
            try nest()
            defer { depth -= 1 }
            let operand = try unary()
            return Expr(kind: .call(Op.not, target: nil, args: [operand]), offset: at)
        }
        if isPunct("-") {
            let at = current.offset
            p += 1
            // A negative literal is one token for CEL: fold it, so that the most negative int64 reads.
            if case .int(let v) = current.kind, !isMemberFollowing(at: p + 1) {
                p += 1
                guard v <= UInt64(Int64.max) + 1 else { throw error("integer literal out of range", at: at) }
                let n = v == UInt64(Int64.max) + 1 ? Int64.min : -Int64(v)
                return Expr(kind: .literal(.int(n)), offset: at)
            }
            if case .double(let v) = current.kind, !isMemberFollowing(at: p + 1) {
                p += 1
                return Expr(kind: .literal(.double(-v)), offset: at)
            }
            try nest()
            defer { depth -= 1 }
            let operand = try unary()
            return Expr(kind: .call(Op.negate, target: nil, args: [operand]), offset: at)
        }
        return try member()
    }

    /// True when the token at `index` continues a member expression (`-1.foo()` negates the call).
    private func isMemberFollowing(at index: Int) -> Bool {
        guard index < tokens.count, case .punct(let s) = tokens[index].kind else { return false }
        return s == "." || s == "["
    }

    private mutating func member() throws(CompileError) -> Expr {
        var e = try primary()
        var chain = 0
        while true {
            if isPunct(".") {
                let at = current.offset
                p += 1
                if isPunct("?") {
                    p += 1
                    let name = try selector()
                    let field = Expr(kind: .literal(.string(name)), offset: at)
                    e = Expr(kind: .call(Op.optionalSelect, target: nil, args: [e, field]), offset: at)
                    chain += 1
                    if chain > Self.maxDepth { throw error("more than \(Self.maxDepth) selections or calls in a row") }
                    continue
                }
                let name = try selector()
                if isPunct("(") {
                    let args = try arguments()
                    e = try receiverCall(name, target: e, args: args, at: at)
                } else {
                    e = Expr(kind: .select(e, name, presence: false), offset: at)
                }
            } else if isPunct("[") {
                let at = current.offset
                p += 1
                let optional = isPunct("?")
                if optional { p += 1 }
                let index = try expression()
                try expect("]", "after an index")
                e = Expr(kind: .call(optional ? Op.optionalIndex : Op.index, target: nil, args: [e, index]), offset: at)
            } else if isPunct("{"), case .identifier = tokens[p - 1].kind, isMessageName(e) {
                throw error("message construction (Type{field: value}) is not supported: Runnel has no protobuf message types")
            } else {
                return e
            }
            chain += 1
            if chain > Self.maxDepth { throw error("more than \(Self.maxDepth) selections or calls in a row") }
        }
    }

    private func isMessageName(_ e: Expr) -> Bool {
        switch e.kind {
        case .identifier: true
        case .select(let operand, _, presence: false): isMessageName(operand)
        default: false
        }
    }

    private mutating func selector() throws(CompileError) -> String {
        switch current.kind {
        case .identifier(let s):
            if s == "true" || s == "false" || s == "null" || s == "in" {
                throw error("'\(s)' is a keyword and cannot be a field name (quote it: `\(s)`)")
            }
            p += 1
            return s
        case .quotedIdentifier(let s):
            p += 1
            return s
        default:
            throw error("expected a field or method name after '.', found \(describe(current))")
        }
    }

    private mutating func arguments() throws(CompileError) -> [Expr] {
        try expect("(", "to start the arguments")
        var args: [Expr] = []
        if isPunct(")") {
            p += 1
            return args
        }
        while true {
            args.append(try expression())
            if isPunct(",") {
                p += 1
                continue
            }
            try expect(")", "after the arguments")
            return args
        }
    }

    private mutating func primary() throws(CompileError) -> Expr {
        let t = current
        switch t.kind {
        case .int(let v):
            p += 1
            guard v <= UInt64(Int64.max) else { throw error("integer literal out of range (int is 64-bit signed)", at: t.offset) }
            return Expr(kind: .literal(.int(Int64(v))), offset: t.offset)
        case .uint(let v):
            p += 1
            return Expr(kind: .literal(.uint(v)), offset: t.offset)
        case .double(let v):
            p += 1
            return Expr(kind: .literal(.double(v)), offset: t.offset)
        case .string(let s):
            p += 1
            return Expr(kind: .literal(.string(s)), offset: t.offset)
        case .bytes(let b):
            p += 1
            return Expr(kind: .literal(.bytes(b)), offset: t.offset)
        case .quotedIdentifier:
            throw error("a backquoted name is only allowed after '.'", at: t.offset)
        case .identifier(let name):
            p += 1
            switch name {
            case "true": return Expr(kind: .literal(.bool(true)), offset: t.offset)
            case "false": return Expr(kind: .literal(.bool(false)), offset: t.offset)
            case "null": return Expr(kind: .literal(.null), offset: t.offset)
            case "in": throw error("unexpected 'in'", at: t.offset)
            default: break
            }
            if Self.reserved.contains(name) { throw error("'\(name)' is a reserved word", at: t.offset) }
            if isPunct("(") {
                let args = try arguments()
                return try globalCall(name, args: args, at: t.offset)
            }
            return Expr(kind: .identifier(name, rooted: false), offset: t.offset)
        case .punct("."):
            p += 1
            guard case .identifier(let name) = current.kind, !Self.reserved.contains(name) else {
                throw error("expected a name after a leading '.'")
            }
            p += 1
            if isPunct("(") {
                let args = try arguments()
                return Expr(kind: .call(name, target: nil, args: args), offset: t.offset)
            }
            return Expr(kind: .identifier(name, rooted: true), offset: t.offset)
        case .punct("("):
            p += 1
            let e = try expression()
            try expect(")", "to close '('")
            return e
        case .punct("["):
            p += 1
            try nest()
            defer { depth -= 1 }
            var items: [Expr] = []
            while !isPunct("]") {
                if isPunct("?") {
                    let at = current.offset
                    p += 1
                    items.append(Expr(kind: .call(Op.optionalEntry, target: nil, args: [try expression()]), offset: at))
                } else {
                    items.append(try expression())
                }
                if isPunct(",") { p += 1 } else { break }
            }
            try expect("]", "to close the list")
            return Expr(kind: .list(items), offset: t.offset)
        case .punct("{"):
            p += 1
            try nest()
            defer { depth -= 1 }
            var entries: [(key: Expr, value: Expr)] = []
            while !isPunct("}") {
                let optionalAt = isPunct("?") ? current.offset : nil
                if optionalAt != nil { p += 1 }
                let k = try expression()
                try expect(":", "between a map key and its value")
                var v = try expression()
                if let optionalAt { v = Expr(kind: .call(Op.optionalEntry, target: nil, args: [v]), offset: optionalAt) }
                entries.append((k, v))
                if isPunct(",") { p += 1 } else { break }
            }
            try expect("}", "to close the map")
            return Expr(kind: .map(entries), offset: t.offset)
        case .end:
            throw error("the expression ends too early", at: t.offset)
        case .punct(let s):
            throw error("unexpected '\(s)'", at: t.offset)
        }
    }

    private mutating func globalCall(_ name: String, args: [Expr], at: Int) throws(CompileError) -> Expr {
        if name == "has" {
            guard args.count == 1, case .select(let operand, let field, presence: false) = args[0].kind else {
                throw error("has() takes one field selection, like has(order.discount)", at: at)
            }
            return Expr(kind: .select(operand, field, presence: true), offset: args[0].offset)
        }
        return Expr(kind: .call(name, target: nil, args: args), offset: at)
    }

    /// The namespaces of the extension libraries' global functions (`math.greatest(…)`).
    static let namespaces: Set<String> = ["math", "strings", "base64", "optional", "lists", "sets", "cel"]

    private func simpleName(_ e: Expr, of function: String) throws(CompileError) -> String {
        guard case .identifier(let v, rooted: false) = e.kind else {
            throw error("the variables of \(function)() must be simple names", at: e.offset)
        }
        return v
    }

    private mutating func receiverCall(_ name: String, target: Expr, args: [Expr], at: Int) throws(CompileError) -> Expr {
        if case .identifier(let ns, rooted: false) = target.kind {
            let qualified = ns + "." + name
            if qualified == Expr.Fold.bind.rawValue {
                guard args.count == 3 else { throw error("cel.bind() takes a name, a value and an expression", at: at) }
                let v = try simpleName(args[0], of: qualified)
                return Expr(kind: .fold(.bind, range: args[1], variables: [v], args: [args[2]]), offset: at)
            }
            if Self.namespaces.contains(ns) || qualified == "ip.isCanonical" {
                return Expr(kind: .call(qualified, target: nil, args: args), offset: at)
            }
        }
        if let fold = Expr.Fold(rawValue: name == "exists_one" && args.count == 3 ? "existsOne" : name) {
            let twoVariables: Bool
            switch fold {
            case .all, .exists, .existsOne: twoVariables = args.count == 3
            case .transformList, .transformMap, .transformMapEntry:
                guard args.count == 3 || args.count == 4 else {
                    throw error("\(name)() takes two names, an optional filter and a transform, like \(name)(k, v, v > 0, v * 2)", at: at)
                }
                twoVariables = true
            case .optMap, .optFlatMap, .sortBy: twoVariables = false
            case .bind: twoVariables = false
            }
            if twoVariables {
                let a = try simpleName(args[0], of: name)
                let b = try simpleName(args[1], of: name)
                if a == b { throw error("the two variables of \(name)() must have different names", at: args[1].offset) }
                return Expr(kind: .fold(fold, range: target, variables: [a, b], args: Array(args[2...])), offset: at)
            }
            if [.optMap, .optFlatMap, .sortBy].contains(fold) {
                guard args.count == 2 else { throw error("\(name)() takes a name and an expression, like \(name)(x, x + 1)", at: at) }
                let v = try simpleName(args[0], of: name)
                return Expr(kind: .fold(fold, range: target, variables: [v], args: [args[1]]), offset: at)
            }
        }
        if name == "existsOne", args.count == 2 {
            let v = try simpleName(args[0], of: name)
            return Expr(kind: .macro(.existsOne, range: target, variable: v, body: args[1], transform: nil), offset: at)
        }
        guard let macro = Expr.Macro(rawValue: name), args.count == 2 || (macro == .map && args.count == 3) else {
            return Expr(kind: .call(name, target: target, args: args), offset: at)
        }
        guard case .identifier(let variable, rooted: false) = args[0].kind else {
            throw error("the first argument of \(name)() must be a simple name", at: args[0].offset)
        }
        if args.count == 3 {
            // map(x, condition, transform): the filtering form.
            return Expr(kind: .macro(.map, range: target, variable: variable, body: args[1], transform: args[2]), offset: at)
        }
        if macro == .map {
            return Expr(kind: .macro(.map, range: target, variable: variable, body: args[1], transform: nil), offset: at)
        }
        return Expr(kind: .macro(macro, range: target, variable: variable, body: args[1], transform: nil), offset: at)
    }
}
