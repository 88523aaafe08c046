import RunnelConfig
import RunnelCore
import RunnelExpressions
import RunnelFiles

/// Runs the tests of a test file against a spec's stages. No extractor, loader, checkpoint store or
/// dead letter queue is opened: the input comes from the test, the output is compared in memory.
struct PipelineTestRunner {
    let spec: PipelineSpec

    struct Outcome {
        var passed = 0
        var failed = 0
        /// What a reader needs per failing test: the test, the record, expected against actual.
        var report: [String] = []
    }

    func run(_ cases: [PipelineTestCase]) async throws -> Outcome {
        var outcome = Outcome()
        for c in cases {
            let problems = try await check(c)
            if problems.isEmpty {
                outcome.passed += 1
                outcome.report.append("ok    \(c.name)")
            } else {
                outcome.failed += 1
                outcome.report.append("FAIL  \(c.name) (\(c.location))\n" + problems.map { "      " + $0 }.joined(separator: "\n"))
            }
        }
        return outcome
    }

    /// The transformers a test runs (up to `until`), and whether the validators run too.
    func stages(_ c: PipelineTestCase) throws(RunnelError) -> (transformers: [any Transformer], validate: Bool) {
        let all = spec.pipeline.transformers
        guard let until = c.until else { return (all, true) }
        let last: Int
        switch until {
        case .index(let i):
            guard all.indices.contains(i) else {
                throw RunnelError.config("\(c.location): until: \(i) is not a stage (the spec has transform[0]...transform[\(all.count - 1)])")
            }
            last = i
        case .name(let name):
            guard let i = spec.stageNames.firstIndex(of: name) else {
                let named = spec.stageNames.compactMap { $0 }
                throw RunnelError.config(
                    "\(c.location): until: no stage named '\(name)' (named stages: \(named.isEmpty ? "none; add name: to a transformer" : named.joined(separator: ", ")))")
            }
            last = i
        }
        return (Array(all[...last]), false)
    }

    private func check(_ c: PipelineTestCase) async throws -> [String] {
        var batch = try await inputBatch(c)
        let (transformers, validate) = try stages(c)
        for t in transformers { try t.apply(to: &batch) }
        if validate { for v in spec.pipeline.validators { try v.apply(to: &batch) } }

        var problems: [String] = []
        let outputs = batch.records.map { $0.object(batch.schema) }
        if let expected = c.expectedOutput {
            if expected.count != outputs.count {
                problems.append("output: expected \(expected.count) records, got \(outputs.count)")
            }
            for (i, want) in expected.enumerated() where i < outputs.count {
                let diff = RecordDiff.fields(expected: want, actual: outputs[i], subset: c.subset)
                if !diff.isEmpty {
                    problems.append("output[\(i)] (input record \(batch.records[i].ordinal + 1)):")
                    problems += diff.map { "  " + $0 }
                }
            }
            for i in expected.count..<max(expected.count, outputs.count) {
                problems.append("output[\(i)]: unexpected record \(JSONText.encode(.object(outputs[i])))")
            }
        }
        if let expected = c.expectedRejections {
            let actual = batch.rejections.map { (record: $0.ordinal + 1, code: $0.error.code, message: $0.error.message) }
            for want in expected {
                guard let got = actual.first(where: { $0.record == want.record }) else {
                    problems.append("rejected: expected input record \(want.record)\(want.code.map { " (\($0))" } ?? ""), but it was not rejected")
                    continue
                }
                if let code = want.code, code != got.code {
                    problems.append("rejected: input record \(want.record): expected code \(code), got \(got.code) (\(got.message))")
                }
            }
            for got in actual where !expected.contains(where: { $0.record == got.record }) {
                problems.append("rejected: input record \(got.record) was rejected unexpectedly: \(got.code): \(got.message)")
            }
        }
        if let want = c.expectedFiltered {
            let filtered = batch.readCount - batch.rejections.count - batch.records.count
            if want != filtered { problems.append("filtered: expected \(want), got \(filtered)") }
        }
        for condition in c.conditions {
            let bound = condition.expression.bind(variables: ["output"])
            for (i, record) in outputs.enumerated() {
                let result = bound.evaluate(variables: [CELValue(.object(record))])
                if case .bool(true) = result { continue }
                let why = if case .error(let e) = result { "failed: \(e.message)" } else { "is \(result)" }
                problems.append("condition `\(condition.source)` \(why) for output[\(i)] \(JSONText.encode(.object(record)))")
            }
        }
        return problems
    }

    /// The test's input as one batch: inline records (fields in first-seen order), or a whole file.
    private func inputBatch(_ c: PipelineTestCase) async throws -> Batch {
        switch c.input {
        case .inline(let objects):
            var fields: [String] = []
            var seen: Set<String> = []
            for o in objects { for k in o.keys where seen.insert(k).inserted { fields.append(k) } }
            let schema = Schema(fields)
            let rows = objects.map { o in fields.map { o[$0] ?? .null } }
            return Batch(schema: schema, rows: rows, origins: rows.indices.map { Origin(source: c.location, line: $0 + 1) })
        case .file(let path):
            let extractor: any Extractor =
                path.hasSuffix(".csv") || path.hasSuffix(".csv.gz")
                ? CSVExtractor(.init(path: path)) : JSONLinesExtractor(.init(path: path))
            var request = ExtractRequest()
            request.batching.maxRecords = 1_000_000
            let reader = try await extractor.open(request)
            let first = try await reader.nextBatch()?.batch
            let more = try await reader.nextBatch()
            await reader.close()
            guard let batch = first else { return Batch(schema: Schema([]), rows: [], origins: []) }
            if more != nil {
                throw RunnelError.config("\(c.location): input_file \(path) is larger than one batch; tests take small samples")
            }
            return batch
        }
    }
}

/// Field-level differences between an expected and an actual record.
enum RecordDiff {
    static func fields(expected: Object, actual: Object, subset: Bool) -> [String] {
        var out: [String] = []
        for (k, want) in zip(expected.keys, expected.values) {
            guard let got = actual[k] else {
                out.append("\(k): expected \(show(want)), but the record has no such field")
                continue
            }
            if !same(want, got) { out.append("\(k): expected \(show(want)), got \(show(got))") }
        }
        if !subset {
            for k in actual.keys where expected[k] == nil {
                out.append("\(k): not expected, got \(show(actual[k]!)) (use fields: subset to check only the listed fields)")
            }
        }
        return out
    }

    private static func show(_ v: Value) -> String {
        if case .timestamp(let t) = v { return t.iso8601 }
        return JSONText.encode(v)
    }

    /// Equality as a test reader means it: ints and doubles by value, doubles to 1e-9 relative
    /// (`100 * (1 - 0.1)` is 90.00000000000001), timestamps against their ISO 8601 text.
    static func same(_ a: Value, _ b: Value) -> Bool {
        switch (a, b) {
        case (.int, .double), (.double, .int), (.double, .double):
            let (x, y) = (a.numeric!, b.numeric!)
            return x == y || abs(x - y) <= 1e-9 * max(abs(x), abs(y))
        case (.string(let s), .timestamp(let t)), (.timestamp(let t), .string(let s)):
            return s == t.iso8601 || s == t.iso8601FixedWidth
        case (.array(let x), .array(let y)):
            return x.count == y.count && zip(x, y).allSatisfy { same($0, $1) }
        case (.object(let x), .object(let y)):
            return x.count == y.count && zip(x.keys, x.values).allSatisfy { k, v in y[k].map { same(v, $0) } ?? false }
        default:
            return a == b
        }
    }
}
