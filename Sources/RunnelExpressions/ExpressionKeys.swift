import RunnelConfig

/// The declared keys of the expression stages (see `registerExpressions`).
enum ExpressionKeys {
    static let costLimit = ConfigKey.int(
        "cost_limit", default: "100000", "Most evaluation steps per record before it is rejected.")
    static let filter = ComponentKeys(
        "Keeps the records that meet a condition: a CEL `expr`, or field conditions.",
        [.string("expr", "A CEL expression; records where it is true are kept."), costLimit]
            + ComponentRegistry.filterConditionKeys)
    static let map = ComponentKeys(
        "Sets fields to the values of CEL expressions.",
        [
            .map("fields", of: .string, required: true, "Field: CEL expression."),
            .strings("drop", "Fields removed afterwards."),
            costLimit,
        ])
    static let rejectIf = ComponentKeys(
        "Rejects (to the dead letter queue) the records where a CEL expression is true.",
        [
            .string("expr", required: true, "A CEL expression."),
            .string("code", required: true, "The reason code dead letters carry."),
            .string("message", "The reason in words."),
            costLimit,
        ])
    static let rule = ComponentKeys(
        "A CEL expression every valid record meets.",
        [
            .string("expr", required: true, "A CEL expression that is true for a valid record."),
            .string("code", required: true, "The reason code dead letters carry."),
            .string("message", "The reason in words."),
            costLimit,
        ])
}
