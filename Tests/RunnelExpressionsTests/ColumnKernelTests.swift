import RunnelCore
import Testing

@testable import RunnelExpressions

/// Column kernels must give CEL's value wherever they claim to know it, and leave every other row
/// (errors, nulls, overflow, strings Swift and bytes disagree on) to the row evaluator; a filter
/// and a map over columns must keep, reject and derive exactly what they do over rows.
@Suite struct ColumnKernelTests {
    static let fields = ["i", "j", "d", "e", "s", "t", "b", "ts", "ts2"]

    /// Values chosen for the edges: overflow, NaN, signed zero, infinities, 2^53 + 1 (not a double),
    /// canonically equivalent strings with different bytes, empty strings, nulls everywhere.
    static let pools: [[Value]] = [
        [0, 1, -1, 7, .int(.max), .int(.min), .int(9_007_199_254_740_993), nil, 42, 2],
        [0, 2, -3, .int(.max), nil, 7, -1, 5],
        [0.0, -0.0, 1.5, .double(.nan), .double(.infinity), -2.5, 1e300, nil, 7.0, 2.0, 9_007_199_254_740_992.0],
        [1.0, 0.0, -0.0, .double(-.infinity), 2.5, nil, 0.1],
        ["", "a", "US", "us", "é", "e\u{301}", "zz", nil, "paid", "shipped", "Zoë"],
        ["US", "a", "", "é", nil, "b", "e\u{301}"],
        [true, false, nil],
        [.timestamp(Timestamp(microseconds: 0)), .timestamp(Timestamp(microseconds: 5)), nil],
        [.timestamp(Timestamp(microseconds: 5)), .timestamp(Timestamp(microseconds: -1))],
    ]

    static let expressions: [String] = {
        var out: [String] = []
        let pairs = [("i", "j"), ("i", "d"), ("d", "e"), ("d", "2.0"), ("i", "1"), ("2", "i"), ("s", "t"), ("s", "'US'"), ("'é'", "s"), ("ts", "ts2")]
        for (a, b) in pairs {
            for op in ["==", "!=", "<", "<=", ">", ">="] { out.append("\(a) \(op) \(b)") }
        }
        out += ["b == true", "b != false", "i + j", "i - j", "i * j", "i / j", "i % j", "d + e", "d - e", "d * (1.0 - e)", "d / e", "-i", "-d"]
        out += [
            "(i > j) && (s == 'US')", "(d > 1.0) || (s in ['paid', 'shipped'])", "!(b == true)", "has(record.i)", "has(record.s) && s != ''",
            "i in [1, 7, 2.0]", "d in [1.5, 7, 'x']", "s in ['a', 'é', 3]", "b in [true]", "i > 0 ? i : j", "d > 0.0 ? d : e",
            "b == true ? 1 : 2", "(i + j > 5) && (d * e < 10.0 || s != t)", "i / j > 1 || d > 1.0", "!(i / j == 0) && b == true",
            "s", "i > 5 ? 1 : 2", "i + 1", "d + 1.0 > e",
        ]
        return out
    }()

    static func columns(rows n: Int) -> [Column] {
        pools.enumerated().map { (c, pool) in
            Column((0..<n).map { r in pool[(r * (c + 3) + c) % pool.count] })
        }
    }

    static func same(_ kernel: Value, _ row: CELValue) -> Bool {
        guard let v = try? row.recordValue() else { return false }
        if case .double(let a) = kernel, case .double(let b) = v { return a.bitPattern == b.bitPattern || (a.isNaN && b.isNaN) }
        return kernel == v
    }

    @Test func kernelsAgreeWithTheRowEvaluatorWhereverTheyAnswer() throws {
        let n = 200
        let columns = Self.columns(rows: n)
        let schema = Schema(Self.fields)
        let rows = Array(0..<n)
        var answered = 0
        var compiled = 0
        for source in Self.expressions {
            let expression = try CELExpression(source)
            let eval = ColumnEvaluation(expression, schema: schema)
            guard let lane = eval.lane(columns: columns, rows: rows) else { continue }
            compiled += 1
            for r in rows where lane.isKnown(r) {
                answered += 1
                var output = ColumnBuilder()
                ExpressionMap.append(lane, r, row: r, from: columns, to: &output)
                let kernel = output.finish().value(0)
                let row = eval.bound.evaluate(columns.map { $0.value(r) })
                #expect(Self.same(kernel, row), "\(source) on row \(r): kernel \(kernel), row evaluator \(row)")
            }
        }
        // Not vacuous: nearly every expression compiles, and most rows are answered by kernels.
        #expect(compiled >= Self.expressions.count - 2, "\(compiled) of \(Self.expressions.count) compiled")
        #expect(answered > Self.expressions.count * n / 2, "kernels answered \(answered) rows")
    }

    @Test func filterAndMapOverColumnsMatchTheRowPath() throws {
        let n = 200
        let origins = (0..<n).map { Origin(source: "in.jsonl", line: $0 + 1) }
        for source in Self.expressions {
            let expression = try CELExpression(source)
            let mapStage = ExpressionMap(fields: [("x", expression), ("y", try CELExpression("x == x")), ("i", try CELExpression("1"))])
            var byColumns = Batch(schema: Schema(Self.fields), columns: Self.columns(rows: n), origins: origins)
            var byRows = byColumns
            byRows.makeRows()
            try mapStage.apply(to: &byColumns)
            try mapStage.apply(to: &byRows)
            #expect(byColumns.schema == byRows.schema)
            #expect(byColumns.records.map(\.values).description == byRows.records.map(\.values).description, "map \(source)")
            #expect(byColumns.rejections.map { "\($0.ordinal) \($0.error.message)" } == byRows.rejections.map { "\($0.ordinal) \($0.error.message)" }, "map \(source)")

            guard (try? CELExpression("(\(source)) == true")) != nil else { continue }
            let filter = ExpressionFilter(expression)
            var fc = Batch(schema: Schema(Self.fields), columns: Self.columns(rows: n), origins: origins)
            var fr = fc
            fr.makeRows()
            try filter.apply(to: &fc)
            try filter.apply(to: &fr)
            #expect(fc.records.map(\.ordinal) == fr.records.map(\.ordinal), "filter \(source)")
            #expect(fc.rejections.map { "\($0.ordinal) \($0.error.message)" } == fr.rejections.map { "\($0.ordinal) \($0.error.message)" }, "filter \(source)")
        }
    }
}
