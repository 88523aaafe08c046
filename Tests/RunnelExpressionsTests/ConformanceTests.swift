import Foundation
import Testing

@testable import RunnelExpressions

/// CEL's "simple" conformance cases (`../shared/testdata/cel-spec/tests/*.textproto`), every case
/// that needs no protobuf message types. Prints `passed / failed / skipped` per file with the
/// skip reasons, and holds the targets of issues #9 and #22.
struct ConformanceTests {
    /// `<package root>/../shared/testdata/cel-spec/tests`, where CI lays it, or
    /// `$RUNNEL_TESTDATA/cel-spec/tests` (a checkout elsewhere, such as a git worktree).
    static let directory: String = {
        if let root = ProcessInfo.processInfo.environment["RUNNEL_TESTDATA"], !root.isEmpty {
            return URL(fileURLWithPath: root).appendingPathComponent("cel-spec/tests").standardizedFileURL.path
        }
        return URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("../shared/testdata/cel-spec/tests").standardizedFileURL.path
    }()

    static let mustPassAll = [
        "basic", "comparisons", "logic", "integer_math", "fp_math", "string", "lists", "macros", "conversions", "fields",
        // The extension libraries (issue #22).
        "string_ext", "math_ext", "optionals", "encoders_ext", "bindings_ext",
    ]

    @Test func conformanceSuite() throws {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: Self.directory) else {
            print("CEL conformance: skipped — no folder \(Self.directory) (the cel-spec test data is laid beside the checkout in CI)")
            return
        }
        let files = names.filter { $0.hasSuffix(".textproto") }.sorted()
        #expect(!files.isEmpty)
        var table: [String] = ["file               passed  failed  skipped"]
        var skipReasons: [String: Int] = [:]
        var results: [String: FileResult] = [:]
        for file in files {
            let text = try String(contentsOfFile: Self.directory + "/" + file, encoding: .utf8)
            let root = try TextProtoReader.parse(text)
            var r = FileResult()
            for section in root.messages("section") {
                for test in section.messages("test") {
                    let name = "\(section.string("name") ?? "")/\(test.string("name") ?? "")"
                    switch Self.run(test) {
                    case .passed: r.passed += 1
                    case .failed(let why):
                        r.failed += 1
                        r.failures.append("\(name): \(why)")
                    case .skipped(let why):
                        r.skipped += 1
                        skipReasons[why, default: 0] += 1
                    }
                }
            }
            let base = String(file.dropLast(".textproto".count))
            results[base] = r
            table.append(
                base.padding(toLength: 18, withPad: " ", startingAt: 0) + " "
                    + String(r.passed).leftPad(6) + "  " + String(r.failed).leftPad(6) + "  " + String(r.skipped).leftPad(7))
        }
        print("CEL conformance (\(Self.directory)):\n" + table.joined(separator: "\n"))
        print("skipped, by reason:\n" + skipReasons.sorted { $0.value > $1.value }.map { "  \($0.value)  \($0.key)" }.joined(separator: "\n"))
        for (file, r) in results.sorted(by: { $0.key < $1.key }) where !r.failures.isEmpty {
            print("failures in \(file):\n  " + r.failures.joined(separator: "\n  "))
        }
        for file in Self.mustPassAll {
            let r = try #require(results[file], "missing conformance file \(file)")
            #expect(r.failed == 0, "\(file): \(r.failures.joined(separator: "; "))")
            #expect(r.passed > 0, "\(file): nothing ran")
        }
        let ts = try #require(results["timestamps"])
        #expect(Double(ts.passed) >= 0.9 * Double(ts.passed + ts.failed), "timestamps: \(ts.failures)")
    }

    struct FileResult {
        var passed = 0, failed = 0, skipped = 0
        var failures: [String] = []
    }

    enum Outcome {
        case passed
        case failed(String)
        case skipped(String)
    }

    static func run(_ test: TextMessage) -> Outcome {
        guard let source = test.string("expr") else { return .skipped("no expression") }
        if let c = test.string("container"), !c.isEmpty { return .skipped("needs a protobuf container (message types)") }
        if test.token("disable_macros") == "true" { return .skipped("disable_macros (macros are always on)") }
        if test.token("check_only") == "true" { return .skipped("check_only (type deduction output)") }
        if source.range(of: #"[A-Za-z_][A-Za-z0-9_.]*\s*\{"#, options: .regularExpression) != nil {
            return .skipped("constructs protobuf messages")
        }
        if source.contains("google.protobuf."), !source.contains("google.protobuf.Timestamp"), !source.contains("google.protobuf.Duration") {
            return .skipped("protobuf wrapper or Any types")
        }
        for name in ["typed_result", "unknown", "any_unknowns", "any_eval_errors"] where test.first(name) != nil {
            return .skipped("\(name) result matcher")
        }

        // Declarations for the checker, bindings for the evaluator.
        var declarations = Declarations(isComplete: true)
        for decl in test.messages("type_env") {
            guard let name = decl.string("name") else { continue }
            guard let ident = decl.message("ident") else { return .skipped("function declarations") }
            guard let t = staticType(ident.message("type")) else { return .skipped("message-typed variables") }
            declarations.variables[name] = t
        }
        var names: [String] = []
        var values: [CELValue] = []
        for binding in test.messages("bindings") {
            guard let key = binding.string("key"), let v = binding.message("value")?.message("value") else { continue }
            guard let value = celValue(v) else { return .skipped("message-valued bindings") }
            names.append(key)
            values.append(value)
            if declarations.variables[key] == nil { declarations.variables[key] = .dyn }
        }
        let check = test.token("disable_check") != "true"
        let expectsError = test.first("eval_error") != nil
        let expected: CELValue?
        if let v = test.message("value") {
            guard let e = celValue(v) else { return .skipped("message-valued results") }
            expected = e
        } else if expectsError {
            expected = nil
        } else {
            // simple.proto: "An unspecified result defaults to a matcher for the true boolean value."
            expected = .bool(true)
        }

        let expression: CELExpression
        do {
            expression = try CELExpression(
                source, declarations: check ? declarations : Declarations(), configuration: .init(typeCheck: check))
        } catch {
            // An error found before running still is an error (a checker that catches it early is fine).
            return expectsError ? .passed : .failed("compile error: \(error)")
        }
        let result = expression.bind(variables: names).evaluate(variables: values)
        if expectsError {
            if case .error = result { return .passed }
            return .failed("expected an error, got \(CELText.describe(result))")
        }
        if let expected, same(result, expected) { return .passed }
        return .failed("expected \(CELText.describe(expected!)), got \(CELText.describe(result))")
    }

    /// Strict equality for the expected results: same types (1 is not 1u), NaN equal to NaN.
    static func same(_ a: CELValue, _ b: CELValue) -> Bool {
        switch (a, b) {
        case (.double(let x), .double(let y)): return x == y || (x.isNaN && y.isNaN)
        case (.list(let x), .list(let y)):
            return x.count == y.count && (0..<x.count).allSatisfy { same(x[$0], y[$0]) }
        case (.map(let x), .map(let y)):
            guard x.count == y.count else { return false }
            return (0..<x.count).allSatisfy { i in
                (0..<y.count).contains { j in same(x.key(at: i), y.key(at: j)) && same(x.value(at: i), y.value(at: j)) }
            }
        case (.error, _), (_, .error): return false
        default:
            return a.type == b.type && Functions.equals(a, b)
        }
    }

    static func staticType(_ t: TextMessage?) -> StaticType? {
        guard let t else { return .dyn }
        if let p = t.token("primitive") {
            return ["INT64": .int, "UINT64": .uint, "DOUBLE": .double, "STRING": .string, "BOOL": .bool, "BYTES": .bytes][p] ?? .dyn
        }
        if t.first("map_type") != nil { return .map }
        if t.first("list_type") != nil { return .list }
        if let w = t.token("well_known") { return ["DURATION": .duration, "TIMESTAMP": .timestamp][w] ?? .dyn }
        if let m = t.string("message_type") {
            return ["google.protobuf.Duration": .duration, "google.protobuf.Timestamp": .timestamp][m]
        }
        if t.first("null") != nil { return .null }
        return .dyn
    }

    /// A `cel.expr.Value` message as a CEL value; nil for protobuf messages other than Timestamp/Duration.
    static func celValue(_ v: TextMessage) -> CELValue? {
        guard let (name, value) = v.fields.first else { return nil }
        func token() -> String? { if case .token(let t) = value { t } else { nil } }
        switch name {
        case "null_value": return .null
        case "bool_value": return .bool(token() == "true")
        case "int64_value": return token().flatMap { Int64($0) }.map { .int($0) }
        case "uint64_value": return token().flatMap { UInt64($0) }.map { .uint($0) }
        case "double_value":
            guard let t = token() else { return nil }
            return Double(t).map { .double($0) }
        case "string_value": return .string(v.string(name) ?? "")
        case "bytes_value": return .bytes(v.bytes(name) ?? [])
        case "type_value": return .type(CELType(v.string(name) ?? ""))
        case "list_value":
            guard case .message(let m) = value else { return nil }
            var items: [CELValue] = []
            for item in m.messages("values") {
                guard let c = celValue(item) else { return nil }
                items.append(c)
            }
            return .list(CELList(items))
        case "map_value":
            guard case .message(let m) = value else { return nil }
            var keys: [CELValue] = [], values: [CELValue] = [], index: [MapKey: Int] = [:]
            for entry in m.messages("entries") {
                guard let k = entry.message("key").flatMap(celValue), let val = entry.message("value").flatMap(celValue),
                    let mk = MapKey(k)
                else { return nil }
                index[mk] = keys.count
                keys.append(k)
                values.append(val)
            }
            return .map(CELMap(keys: keys, values: values, index: index))
        case "object_value":
            guard case .message(let m) = value, let (any, body) = m.fields.first, case .message(let fields) = body else { return nil }
            let seconds = Int128(fields.token("seconds").flatMap { Int64($0) } ?? 0)
            let nanos = Int128(fields.token("nanos").flatMap { Int64($0) } ?? 0)
            let total = seconds * 1_000_000_000 + nanos
            if any.hasSuffix("google.protobuf.Duration]") { return CELDuration(nanoseconds: total).map { .duration($0) } }
            if any.hasSuffix("google.protobuf.Timestamp]") { return CELTimestamp(nanoseconds: total).map { .timestamp($0) } }
            return nil
        default: return nil
        }
    }
}

extension String {
    fileprivate func leftPad(_ n: Int) -> String { count >= n ? self : String(repeating: " ", count: n - count) + self }
}
