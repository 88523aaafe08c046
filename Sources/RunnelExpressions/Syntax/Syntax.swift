/// A parsed expression node and the byte offset of the token it came from (for error positions).
struct Expr: Sendable {
    indirect enum Kind: Sendable {
        case literal(CELValue)
        /// A simple name; `rooted` for a leading dot (`.x`: resolve in the root scope only).
        case identifier(String, rooted: Bool)
        /// `operand.field`; `presence` for the `has(operand.field)` macro.
        case select(Expr, String, presence: Bool)
        /// A function or operator (`_+_`, `_[_]`, `!_`...), with its receiver for `a.f(b)`.
        case call(String, target: Expr?, args: [Expr])
        case list([Expr])
        case map([(key: Expr, value: Expr)])
        /// The comprehension macros over a list's elements or a map's keys.
        case macro(Macro, range: Expr, variable: String, body: Expr, transform: Expr?)
        /// The extension macros that bind one or two variables: two-variable comprehensions,
        /// `transformList/Map/MapEntry`, `optMap`, `optFlatMap`, `sortBy`, `cel.bind`.
        case fold(Fold, range: Expr, variables: [String], args: [Expr])
    }

    /// The extension macros. `args` holds the expressions after the variables: the body, or a
    /// filter then the transform.
    enum Fold: String, Sendable {
        case all, exists, existsOne
        case transformList, transformMap, transformMapEntry
        case optMap, optFlatMap, sortBy
        case bind = "cel.bind"
    }

    enum Macro: String, Sendable {
        case all, exists
        case existsOne = "exists_one"
        case map, filter
    }

    var kind: Kind
    var offset: Int
}

/// Operator names, as CEL spells them in its function table.
enum Op {
    static let and = "_&&_", or = "_||_", not = "!_", negate = "-_", conditional = "_?_:_"
    static let index = "_[_]", `in` = "@in"
    /// `a.?f` and `a[?k]` (optional selection and index), and the `?` of an optional list
    /// element or map entry (`[?x]`, `{?'k': x}`: the entry is left out when `x` is none).
    static let optionalSelect = "_?._", optionalIndex = "_[?_]", optionalEntry = "?_"
    static let add = "_+_", subtract = "_-_", multiply = "_*_", divide = "_/_", modulo = "_%_"
    static let equal = "_==_", notEqual = "_!=_"
    static let less = "_<_", lessEqual = "_<=_", greater = "_>_", greaterEqual = "_>=_"

    static let binary: [String: String] = [
        "+": add, "-": subtract, "*": multiply, "/": divide, "%": modulo,
        "==": equal, "!=": notEqual, "<": less, "<=": lessEqual, ">": greater, ">=": greaterEqual,
    ]

    /// How an operator reads in an error message.
    static func display(_ name: String) -> String {
        switch name {
        case and: "&&"
        case or: "||"
        case not: "!"
        case negate: "-"
        case conditional: "?:"
        case index: "[]"
        case optionalSelect: ".?"
        case optionalIndex: "[?]"
        case optionalEntry: "?"
        case `in`: "in"
        default:
            if name.hasPrefix("_"), name.hasSuffix("_"), name.count > 2 { String(name.dropFirst().dropLast()) } else { name }
        }
    }
}
