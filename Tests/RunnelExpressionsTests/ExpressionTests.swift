import RunnelCore
import Testing

@testable import RunnelExpressions

/// Evaluates `source` over one record of `fields`.
private func eval(_ source: String, _ fields: [String] = [], _ values: [Value] = [], limit: Int = 100_000) throws -> CELValue {
    let e = try CELExpression(source, configuration: .init(costLimit: limit))
    return e.bind(Schema(fields)).evaluate(values)
}

private func errorMessage(_ v: CELValue) -> String? {
    if case .error(let e) = v { return e.message }
    return nil
}

struct ParserPositionTests {
    @Test func unknownFunctionPointsAtTheCall() {
        #expect {
            _ = try CELExpression("size(items) > 0 && sise(tags) > 1")
        } throws: { error in
            guard let e = error as? CompileError else { return false }
            return e.message.contains("unknown function 'sise'") && e.message.contains("did you mean 'size'")
                && e.line == 1 && e.column == 20
                && e.caretLine == "size(items) > 0 && sise(tags) > 1\n                   ^"
        }
    }

    @Test func columnsCountCharactersNotBytes() throws {
        do {
            _ = try CELExpression("'héllo' + = 1")
            Issue.record("parsed an invalid expression")
        } catch {
            #expect(error.column == 11)
            #expect(error.offset == 11)  // one more byte for é
            #expect(error.message.contains("'=' is not an operator"))
        }
    }

    @Test func secondLineOfAMultiLineExpression() throws {
        do {
            _ = try CELExpression("amount > 0 &&\n  status = 'paid'")
            Issue.record("parsed an invalid expression")
        } catch {
            #expect(error.line == 2)
            #expect(error.column == 10)
            #expect(error.caretLine == "  status = 'paid'\n         ^")
        }
    }

    @Test(arguments: [
        ("'abc", "unterminated string"), ("1 +", "ends too early"), ("(1 + 2", "expected ')'"),
        ("if > 1", "reserved word"), ("a.true", "keyword"), ("'\\q'", "invalid escape"),
        ("9223372036854775808", "out of range"), ("TestAllTypes{}", "message construction"),
        ("x.all(1, true)", "simple name"), ("has(x)", "has() takes one field selection"),
        ("'a'.matches('(')", "missing ')'"), ("1 + 'a'", "no operator '+' for (int, string)"),
        ("!5", "no operator '!'"), ("timestamp('2024-13-01T00:00:00Z')", "not an RFC 3339"),
        ("x.getHours('Mars/Olympus')", "unknown time zone"), ("size(1, 2)", "does not take 2 arguments"),
    ])
    func compileErrors(source: String, message: String) {
        do {
            _ = try CELExpression(source)
            Issue.record("\(source) compiled")
        } catch {
            #expect(error.message.contains(message), "\(source): \(error.message)")
        }
    }

    @Test func deepNestingIsAnErrorNotACrash() {
        let deep = String(repeating: "(", count: 50_000) + "1" + String(repeating: ")", count: 50_000)
        #expect(throws: CompileError.self) { try CELExpression(deep) }
        let negations = String(repeating: "!", count: 50_000) + "true"
        #expect(throws: CompileError.self) { try CELExpression(negations) }
    }

    @Test func unknownFieldsAreCompileErrorsWhenTheFieldsAreKnown() {
        let declared = Declarations(variables: ["amount": .double, "status": .string], isComplete: true)
        do {
            _ = try CELExpression("amount > 0.0 && stauts == 'paid'", declarations: declared)
            Issue.record("compiled")
        } catch {
            #expect(error.message.contains("unknown field 'stauts' (did you mean 'status'?)"))
            #expect(error.column == 17)
        }
        // Types known from earlier stages catch what must fail whatever the data.
        #expect(throws: CompileError.self) { try CELExpression("status * 2", declarations: declared) }
        // Unknown fields are left to run time when the field list is open.
        #expect(throws: Never.self) { try CELExpression("stauts == 'paid'") }
    }
}

struct EvaluationTests {
    let fields = ["amount", "discount", "status", "items", "ordered_at", "customer"]
    var record: [Value] {
        [
            .double(120.0), .double(0.25), .string("paid"), .array([.int(1), .int(2), .int(3)]),
            .timestamp(Timestamp(seconds: 1_234_567_890)),
            .object(Object(keys: ["name", "email"], values: [.string("Ada"), .null])),
        ]
    }

    @Test func derivedValuesOverRecordFields() throws {
        #expect(try eval("amount * (1.0 - discount)", fields, record).isDouble(90.0))
        #expect(try eval("record.amount > 100.0 && status in ['paid', 'shipped']", fields, record).isBool(true))
        #expect(try eval("size(items) == 3 && items.all(i, i > 0) && items.exists_one(i, i == 2)", fields, record).isBool(true))
        #expect(try eval("items.map(i, i * 10).filter(i, i > 10) == [20, 30]", fields, record).isBool(true))
        #expect(try eval("ordered_at.getDayOfWeek()", fields, record).isInt(5))
        #expect(try eval("customer.name.startsWith('A') && !has(customer.email) && has(customer.name)", fields, record).isBool(true))
        #expect(try eval("record.`status` == 'paid' && size(record) == 6", fields, record).isBool(true))
        #expect(try eval("has(record.discount) && !has(record.coupon)", fields, record).isBool(true))
        #expect(try eval("has(record.discount)", fields, [.null, .null]).isBool(false))
    }

    @Test func runtimeErrorsAreValuesWithAMessage() throws {
        #expect(errorMessage(try eval("coupon == 'X'", fields, record)) == "no such field 'coupon'")
        #expect(errorMessage(try eval("customer.phone", fields, record)) == "no such key: 'phone'")
        #expect(errorMessage(try eval("9223372036854775807 + 1")) == "integer overflow in 9223372036854775807 + 1")
        #expect(errorMessage(try eval("-9223372036854775808 / -1"))?.contains("overflow") == true)
        #expect(errorMessage(try eval("18446744073709551615u * 2u"))?.contains("overflow") == true)
        #expect(errorMessage(try eval("size(items) / 0", fields, record)) == "division by zero")
        #expect(errorMessage(try eval("5 % 0")) == "modulus by zero")
        #expect(errorMessage(try eval("status + 1", fields, record))?.contains("no matching overload for '+' applied to (string, int)") == true)
        #expect(errorMessage(try eval("items[3]", fields, record))?.contains("out of range") == true)
    }

    @Test func errorsAreAbsorbedCommutatively() throws {
        // Either side deciding the result wins over an error on the other side, in both orders.
        #expect(try eval("1 / 0 > 1 || true").isBool(true))
        #expect(try eval("true || 1 / 0 > 1").isBool(true))
        #expect(try eval("1 / 0 > 1 && false").isBool(false))
        #expect(try eval("false && 1 / 0 > 1").isBool(false))
        #expect(errorMessage(try eval("1 / 0 > 1 && true")) == "division by zero")
        #expect(errorMessage(try eval("false || 1 / 0 > 1")) == "division by zero")
        #expect(try eval("[0, 1].exists(x, 1 / x == 1)").isBool(true))
        #expect(try eval("[0, 1].all(x, 1 / x == 5)").isBool(false))
        #expect(errorMessage(try eval("[0, 1].all(x, 1 / x == 1)")) == "division by zero")
    }

    @Test func numbersCompareAcrossTypes() throws {
        #expect(try eval("1 == 1.0 && 1u == 1 && 2.5 > 2 && 3u < 3.5 && -1 < 0u").isBool(true))
        #expect(try eval("dyn(1) + 1.0").isError)  // no implicit conversion in arithmetic
        #expect(throws: CompileError.self) { try CELExpression("1 + 1.0") }
        #expect(try eval("{1: 'a'}[1u] == 'a' && 2.0 in [1, 2, 3]").isBool(true))
        #expect(try eval("0.0 / 0.0 == 0.0 / 0.0").isBool(false))
    }

    @Test func costLimitStopsRunawayMacrosAndIsNotAbsorbed() throws {
        let big = "[" + (0..<100).map(String.init).joined(separator: ",") + "]"
        let runaway = "\(big).all(a, \(big).all(b, \(big).all(c, a + b + c >= 0)))"
        let v = try eval(runaway, limit: 10_000)
        #expect(errorMessage(v) == "cost limit of 10000 exceeded (evaluation.cost_limit)")
        // An error from the cost limit ends the evaluation: `|| true` does not hide it.
        #expect(errorMessage(try eval("(\(runaway)) || true", limit: 10_000))?.contains("cost limit of 10000") == true)
        // The same expression over smaller data stays under the limit.
        #expect(try eval("[1, 2].all(a, [1, 2].all(b, a + b > 0))", limit: 10_000).isBool(true))
    }

    @Test func growingStringsAndListsCostByTheirSize() throws {
        // 40 doublings would need a terabyte; the cost of each concatenation grows with its length,
        // so the limit stops it at a few megabytes.
        let strings = "['ab']" + String(repeating: ".map(s, s + s)", count: 40)
        #expect(errorMessage(try eval(strings))?.contains("cost limit") == true)
        let lists = "[[1]]" + String(repeating: ".map(l, l + l)", count: 40)
        #expect(errorMessage(try eval(lists))?.contains("cost limit") == true)
        #expect(try eval("['ab']" + String(repeating: ".map(s, s + s)", count: 3) + " == ['abababababababab']").isBool(true))
    }

    @Test func timestampsAndDurations() throws {
        #expect(try eval("timestamp('2024-07-01T12:00:00Z').getHours('Europe/Paris')").isInt(14))
        #expect(try eval("timestamp('2024-01-15T12:00:00Z').getHours('Europe/Paris')").isInt(13))
        // Beyond the zone file's table the POSIX rule in its footer applies.
        #expect(try eval("timestamp('2190-07-01T12:00:00Z').getHours('America/New_York')").isInt(8))
        #expect(try eval("timestamp('2190-01-01T12:00:00Z').getHours('America/New_York')").isInt(7))
        #expect(try eval("timestamp('2024-03-01T00:10:00Z').getMinutes('+05:30')").isInt(40))
        #expect(try eval("string(timestamp('2024-01-01T00:00:00Z') + duration('1h30m'))").isString("2024-01-01T01:30:00Z"))
        #expect(try eval("string(duration('-1.5h'))").isString("-5400s"))
        #expect(try eval("duration('1m1ms') == duration('60.001s')").isBool(true))
        #expect(try eval("ordered_at + duration('24h') > ordered_at", fields, record).isBool(true))
        #expect(try eval("timestamp(dyn('2024-02-30T00:00:00Z'))").isError)
    }

    @Test func resultsConvertToRecordValues() throws {
        #expect(try eval("[1u, 2.5, 'x', null]").recordValue() == .array([.int(1), .double(2.5), .string("x"), .null]))
        #expect(try eval("{'a': 1, 2: b'hi'}").recordValue() == .object(Object(keys: ["a", "2"], values: [.int(1), .string("aGk=")])))
        #expect(try eval("timestamp('2024-01-01T00:00:00.123456789Z')").recordValue()
            == .timestamp(Timestamp(microseconds: 1_704_067_200_123_456)))
        #expect(throws: EvalError.self) { try eval("18446744073709551615u").recordValue() }
    }
}

struct RegexTests {
    @Test(arguments: [
        ("hubba", "ubb", true), ("hubba", "^ubb", false), ("grey", "^gr(a|e)y$", true), ("GREY", "(?i)grey", true),
        ("a1_b", #"^\w+$"#, true), ("a-b", #"^\w+$"#, false), ("x 42", #"\d{2}$"#, true), ("x 4", #"\d{2}$"#, false),
        ("abc", "[^a-b]", true), ("ab", "^[^a-b]+$", false), ("2024-05-01", #"^\d{4}-\d{2}-\d{2}$"#, true),
        ("ma\u{F1}ana", "a+\u{F1}+a+", true), ("foo.bar", #"foo\.bar"#, true), ("fooxbar", #"foo\.bar"#, false),
        ("word here", #"\bhere\b"#, true), ("nowhere", #"\bhere\b"#, false), ("line1\nline2", "(?m)^line2$", true),
        ("line1\nline2", "^line2$", false), ("AbC", "^[[:upper:]][[:lower:]][[:upper:]]$", true), ("", "", true),
        ("aaa", "^a{2,3}$", true), ("aaaa", "^a{2,3}$", false), ("a{", "a{", true),
    ])
    func matches(text: String, pattern: String, expected: Bool) throws {
        #expect(try CELRegex(pattern).matches(text) == expected, "\(pattern) on \(text)")
    }

    @Test func pathologicalPatternsRunInLinearTime() throws {
        // Exponential for a backtracking engine; one pass over the text here.
        let text = String(repeating: "a", count: 20_000)
        #expect(try CELRegex("(a*)*b").matches(text) == false)
        #expect(try CELRegex("(a|aa)+$").matches(text))
        #expect(try CELRegex("(x+x+)+y").matches(String(repeating: "x", count: 5_000)) == false)
    }

    @Test(arguments: [#"\pL"#, #"(?=a)"#, #"(a)\1"#, "a**", "[z-a]", "a{1001}", "(a{1000}){1000}", #"\q"#])
    func unsupportedOrInvalidPatterns(pattern: String) {
        #expect(throws: RegexError.self) { try CELRegex(pattern) }
    }
}

extension CELValue {
    var isError: Bool { if case .error = self { true } else { false } }
    func isBool(_ b: Bool) -> Bool { if case .bool(let x) = self { x == b } else { false } }
    func isInt(_ i: Int64) -> Bool { if case .int(let x) = self { x == i } else { false } }
    func isDouble(_ d: Double) -> Bool { if case .double(let x) = self { x == d } else { false } }
    func isString(_ s: String) -> Bool { if case .string(let x) = self { x == s } else { false } }
}

