/// An expression with its names resolved for one set of variables (a batch's schema): what the
/// evaluator walks. Building it costs a pass over the tree; evaluating it never looks a name up.
indirect enum Node: Sendable {
    case literal(CELValue)
    /// A record field by position.
    case field(Int)
    /// A variable by position (bindings given as CEL values, for tests and the conformance suite).
    case variable(Int)
    /// The whole record, as a map (`record`).
    case record
    /// A comprehension variable, by nesting depth.
    case local(Int)
    /// A name that resolves to nothing in this schema: an error when evaluated, absent for `has()`.
    case missing(String)
    case select(Node, String)
    case presence(Node, String)
    /// `has(record.f)` / `has(f)` on a top-level field: false when the schema lacks it or it is null.
    case fieldPresence(Int?)
    case and(Node, Node)
    case or(Node, Node)
    case not(Node)
    case negate(Node)
    case conditional(Node, Node, Node)
    case arithmetic(Arithmetic, Node, Node)
    case comparison(Comparison, Node, Node)
    case index(Node, Node)
    case contains(element: Node, collection: Node)
    case list([Node])
    case map([(key: Node, value: Node)])
    case call(Builtin, [Node])
    /// `matches` with a constant pattern, compiled once.
    case matchesConstant(Node, CELRegex)
    case macro(Expr.Macro, range: Node, slot: Int, body: Node, transform: Node?)
    /// A function that does not exist or is called with the wrong arguments: an error when evaluated.
    case invalidCall(String)
    /// An extension library function, arguments evaluated first (errors propagate).
    case ext(Extension, [Node])
    /// `find`/`findAll` with a constant pattern, compiled once (as Kubernetes does).
    case findConstant(Extension, [Node], CELRegex)
    /// An extension macro; its variables take the local slots `slot`, `slot + 1`.
    case fold(Expr.Fold, range: Node, slot: Int, args: [Node])
    case optionalSelect(Node, String)
    case optionalIndex(Node, Node)
    /// `?x` in a list or map literal: left out when `x` is none.
    case optionalElement(Node)
    /// `a.or(b)` / `a.orValue(b)`: `b` is evaluated only when `a` is none.
    case optionalOr(Node, Node, orValue: Bool)
}

enum Arithmetic: Sendable {
    case add, subtract, multiply, divide, modulo
    var symbol: String {
        switch self {
        case .add: "+"
        case .subtract: "-"
        case .multiply: "*"
        case .divide: "/"
        case .modulo: "%"
        }
    }
}

enum Comparison: Sendable {
    case equal, notEqual, less, lessEqual, greater, greaterEqual
    var symbol: String {
        switch self {
        case .equal: "=="
        case .notEqual: "!="
        case .less: "<"
        case .lessEqual: "<="
        case .greater: ">"
        case .greaterEqual: ">="
        }
    }
}

/// The standard functions, resolved by name and argument count when binding.
enum Builtin: Sendable, Hashable {
    case size, contains, startsWith, endsWith, matches
    case toInt, toUint, toDouble, toString, toBool, toBytes, toTimestamp, toDuration, dyn, type
    case time(TimeAccessor)

    /// Receiver-style and global-style names and their argument counts (the receiver counted).
    static func resolve(_ name: String, receiver: Bool, arity: Int) -> Builtin? {
        switch (name, receiver, arity) {
        case ("size", _, 1): return .size
        case ("contains", true, 2): return .contains
        case ("startsWith", true, 2): return .startsWith
        case ("endsWith", true, 2): return .endsWith
        case ("matches", _, 2): return .matches
        case ("int", false, 1): return .toInt
        case ("uint", false, 1): return .toUint
        case ("double", false, 1): return .toDouble
        case ("string", false, 1): return .toString
        case ("bool", false, 1): return .toBool
        case ("bytes", false, 1): return .toBytes
        case ("timestamp", false, 1): return .toTimestamp
        case ("duration", false, 1): return .toDuration
        case ("dyn", false, 1): return .dyn
        case ("type", false, 1): return .type
        default:
            if receiver, arity == 1 || arity == 2, let t = TimeAccessor(rawValue: name) { return .time(t) }
            return nil
        }
    }

    /// Every name, for "did you mean" and the checker.
    static let names: Set<String> = Set([
        "size", "contains", "startsWith", "endsWith", "matches", "int", "uint", "double", "string", "bool",
        "bytes", "timestamp", "duration", "dyn", "type",
    ]).union(TimeAccessor.allCases.map(\.rawValue))
}

enum TimeAccessor: String, Sendable, CaseIterable {
    case getFullYear, getMonth, getDate, getDayOfMonth, getDayOfWeek, getDayOfYear
    case getHours, getMinutes, getSeconds, getMilliseconds
}
