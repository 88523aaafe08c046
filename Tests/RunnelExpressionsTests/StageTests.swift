import RunnelCore
import Testing

@testable import RunnelExpressions

private func batch(_ fields: [String], _ rows: [[Value]]) -> Batch {
    Batch(schema: Schema(fields), rows: rows, origins: rows.indices.map { Origin(source: "orders.jsonl", line: $0 + 1) })
}

private let orders = batch(
    ["id", "amount", "discount", "status"],
    [
        [1, 100.0, 0.1, "paid"], [2, 50.0, 0.0, "refunded"], [3, 80.0, nil, "paid"], [4, -5.0, 0.0, "refunded"],
        [5, -1.0, 0.0, "paid"],
    ])

struct ExpressionStageTests {
    @Test func filterKeepsTrueRejectsErrorsFiltersTheRest() throws {
        var b = orders
        // discount is null on record 3: `null > 0.0` has no overload, an error for that record only.
        try ExpressionFilter(try CELExpression("status == 'paid' && amount * (1.0 - discount) > 0.0")).apply(to: &b)
        #expect(b.records.map { $0.values[0] } == [1])
        #expect(b.rejections.map(\.ordinal) == [2])
        #expect(b.rejections.first?.error.code == "expression_error")
        #expect(b.rejections.first?.error.message.contains("no matching overload for '-' applied to (double, null_type)") == true)
        // read 5 = 1 kept + 1 rejected + 3 filtered, as the runner counts them.
        #expect(b.readCount - b.rejections.count - b.records.count == 3)
    }

    @Test func mapSetsFieldsInOrderEachSeeingTheOnesBefore() throws {
        var b = batch(["id", "amount", "discount", "note"], [[1, 100.0, 0.25, "x"], [2, 10.0, 0.0, "y"], [3, 1.0, "bad", "z"]])
        let map = ExpressionMap(
            fields: [
                ("total", try CELExpression("amount * (1.0 - discount)")),
                ("big", try CELExpression("total > 50.0")),
                ("amount", try CELExpression("int(amount)")),
            ], drop: ["note", "discount"])
        try map.apply(to: &b)
        #expect(b.schema.fields == ["id", "amount", "total", "big"])
        #expect(b.records.map(\.values) == [[1, 100, 75.0, true], [2, 10, 10.0, false]])
        let rejected = try #require(b.rejections.first)
        #expect(rejected.ordinal == 2 && rejected.error.code == "expression_error" && rejected.error.field == "total")
        #expect(rejected.error.message.hasPrefix("expr `amount * (1.0 - discount)`: no matching overload"))
    }

    @Test func rejectIfAndRulesRejectWithTheirCodes() throws {
        var b = orders
        try RejectIf(try CELExpression("amount < 0.0 && status != 'refunded'"), code: "negative_paid").apply(to: &b)
        #expect(b.rejections.map(\.ordinal) == [4])
        #expect(b.rejections.first?.error.code == "negative_paid")
        let rule = ExpressionRule(
            try CELExpression("amount >= 0.0 || status == 'refunded'"), code: "refund_negative", message: "only refunds go negative")
        try rule.apply(to: &b)
        #expect(b.records.map { $0.values[0] } == [1, 2, 3, 4])
        var c = batch(["amount", "status"], [[-2.0, "paid"], ["n/a", "paid"]])
        try rule.apply(to: &c)
        #expect(c.rejections.map(\.error.code) == ["refund_negative", "expression_error"])
        #expect(c.rejections.first?.error.message == "only refunds go negative")
    }

    @Test func bindsOncePerSchemaAndFollowsSchemaChanges() throws {
        let e = try CELExpression("b + 1")
        var first = batch(["a", "b"], [[1, 2]])
        var second = batch(["b", "a"], [[10, 20]])
        let map = ExpressionMap(fields: [("c", e)])
        try map.apply(to: &first)
        try map.apply(to: &second)
        #expect(first.records[0].values == [1, 2, 3])
        #expect(second.records[0].values == [10, 20, 11])
    }
}
