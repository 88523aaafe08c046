public import RunnelConfig
import RunnelCore

extension ComponentRegistry {
    /// The expression stages: `{type: filter, expr}` (beside the `all`/`any` form), `{type: map,
    /// fields, drop}`, `{type: reject_if, expr, code, message}`, validation rules `{expr, code,
    /// message}`; every expression takes `cost_limit` too. A compile error is a spec problem at
    /// the expression's own position in the file, with a caret under it.
    public mutating func registerExpressions() {
        let fieldFilter = transformers["filter"]
        registerTransformer("filter", keys: ExpressionKeys.filter) { ctx in
            guard ctx.section.has("expr") else { return try fieldFilter?(ctx) }
            let s = ctx.section
            guard let e = s.expression("expr", required: true) else { return nil }
            return ExpressionFilter(e, name: "filter")
        }
        registerTransformer("map", keys: ExpressionKeys.map) { ctx in
            let s = ctx.section
            guard let entries = s.node("fields", required: true)?.entries else { return nil }
            var fields: [(name: String, expression: CELExpression)] = []
            let limit = s.costLimit()
            for (name, node) in entries {
                if let e = node.expression(costLimit: limit) { fields.append((name, e)) }
            }
            let drop = s.strings("drop") ?? []
            guard fields.count == entries.count else { return nil }
            return ExpressionMap(fields: fields, drop: drop)
        }
        registerTransformer("reject_if", keys: ExpressionKeys.rejectIf) { ctx in
            let s = ctx.section
            let e = s.expression("expr", required: true)
            let code = s.string("code", required: true)
            let message = s.string("message")
            guard let e, let code else { return nil }
            return RejectIf(e, code: code, message: message)
        }
        registerValidationRule(key: "expr", keys: ExpressionKeys.rule) { ctx in
            let s = ctx.section
            let e = s.expression("expr", required: true)
            let code = s.string("code", required: true)
            let message = s.string("message")
            guard let e, let code else { return nil }
            return ExpressionRule(e, code: code, message: message)
        }
    }
}

extension SpecSection {
    /// `cost_limit:`, when given.
    func costLimit() -> Int? {
        guard let n = node("cost_limit"), let v = n.int else { return nil }
        guard v >= 1 else {
            n.problem("cost_limit must be at least 1")
            return nil
        }
        return v
    }

    func expression(_ key: String, required: Bool) -> CELExpression? {
        let limit = costLimit()
        return node(key, required: required)?.expression(costLimit: limit)
    }
}

extension SpecNode {
    /// The scalar compiled as an expression; a compile error is reported at its position in the file.
    func expression(costLimit: Int?) -> CELExpression? {
        guard let text = string else { return nil }
        var configuration = CELExpression.Configuration()
        if let costLimit { configuration.costLimit = costLimit }
        do {
            return try CELExpression(text, configuration: configuration)
        } catch {
            let caret = error.caretLine.split(separator: "\n", omittingEmptySubsequences: false).map { "      " + $0 }
            problem(error.message + "\n" + caret.joined(separator: "\n"), textLine: error.line, textColumn: error.column)
            return nil
        }
    }
}
