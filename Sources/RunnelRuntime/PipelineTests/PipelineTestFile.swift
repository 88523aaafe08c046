import RunnelConfig
import RunnelCore
import RunnelExpressions
import Yams

#if canImport(Glibc)
    import Glibc
#endif

/// One unit test of a pipeline's stages, read from `NAME.test.yaml`:
///
///     tests:
///       - name: paid orders get a total
///         input:                      # records inline (YAML or JSON objects) ...
///           - {order_id: 1, amount: 100.0, discount: 0.1, status: paid}
///         # input_file: data/sample.jsonl   ... or a file of CSV or JSON lines
///         until: totals               # run up to this stage (its name: or index); all stages by default
///         expect:
///           output: [{order_id: 1, total: 90.0}]
///           fields: subset            # exact (default): records equal; subset: listed fields only
///           rejected: [{record: 2, code: expression_error}]   # record: 1-based input position
///           filtered: 0
///           conditions: ["output.total > 0.0"]                # CEL, true for every output record
struct PipelineTestCase {
    var name: String
    /// `file:line` of the test, for failure messages.
    var location: String
    var input: InputRecords
    /// Index of the last transformer to run; nil runs every transformer and the validators.
    var until: StageSelector?
    var expectedOutput: [Object]?
    var subset = false
    var expectedRejections: [(record: Int, code: String?)]?
    var expectedFiltered: Int?
    var conditions: [(source: String, expression: CELExpression)] = []

    enum InputRecords {
        case inline([Object])
        case file(String)
    }

    enum StageSelector {
        case index(Int)
        case name(String)
    }
}

enum PipelineTestFile {
    /// Reads a test file; every problem is collected and thrown as one config error (exit 2).
    static func load(_ file: String) throws(RunnelError) -> [PipelineTestCase] {
        guard let bytes = LocalFile.read(file) else { throw RunnelError.config("cannot read test file '\(file)'") }
        let text = String(decoding: bytes, as: UTF8.self)
        let root: Node
        do {
            guard let n = try Yams.compose(yaml: text) else { throw RunnelError.config("\(file): the test file is empty") }
            root = n
        } catch let e as RunnelError {
            throw e
        } catch let YamlError.scanner(_, problem, mark, _), let YamlError.parser(_, problem, mark, _) {
            throw RunnelError.config("\(file):\(mark.line):\(mark.column): YAML syntax error: \(problem)")
        } catch {
            throw RunnelError.config("\(file): YAML error: \(error)")
        }
        let directory = file.contains("/") ? String(file[..<file.lastIndex(of: "/")!]) : "."
        let problems = SpecProblems()
        let source = SpecSource(file: file, directory: directory, environment: .process, problems: problems)
        var cases: [PipelineTestCase] = []
        if let top = SpecSection(SpecNode(node: root, path: "", source: source)) {
            for element in top.node("tests", required: true)?.elements ?? [] {
                if let c = testCase(element) { cases.append(c) }
            }
            top.finish("the test file")
        }
        if let error = problems.error { throw error }
        if cases.isEmpty { throw RunnelError.config("\(file): no tests") }
        return cases
    }

    private static func testCase(_ node: SpecNode) -> PipelineTestCase? {
        guard let s = SpecSection(node) else { return nil }
        let name = s.string("name", required: true)
        let location = "\(node.source.file):\(node.node.mark?.line ?? 0)"
        var input: PipelineTestCase.InputRecords?
        if let records = s.node("input") {
            input = records.elements.map { list in .inline(list.compactMap(object)) }
        }
        if let file = s.path("input_file") {
            if input != nil { s.node.problem("give either 'input' or 'input_file', not both") }
            input = .file(file)
        }
        if input == nil, !s.has("input") { s.node.problem("missing 'input' (records inline) or 'input_file' (a CSV or JSON Lines file)") }
        var until: PipelineTestCase.StageSelector?
        if let u = s.node("until"), let text = u.string {
            until = Int(text).map { .index($0) } ?? .name(text)
        }
        var c = PipelineTestCase(name: name ?? "?", location: location, input: input ?? .inline([]), until: until)
        if let e = s.node("expect", required: true), let expect = SpecSection(e) {
            if let out = expect.node("output")?.elements { c.expectedOutput = out.compactMap(object) }
            if let f = expect.choice("fields", ["exact", "subset"]) { c.subset = f == "subset" }
            if let rejected = expect.node("rejected")?.elements {
                c.expectedRejections = rejected.compactMap { r in
                    guard let rs = SpecSection(r) else { return nil }
                    defer { rs.finish("rejected record") }
                    guard let n = rs.int("record", required: true) else { return nil }
                    return (n, rs.string("code"))
                }
            }
            c.expectedFiltered = expect.int("filtered")
            for cond in expect.node("conditions")?.elements ?? [] {
                guard let text = cond.string else { continue }
                do {
                    c.conditions.append((text, try CELExpression(text)))
                } catch {
                    let caret = error.caretLine.split(separator: "\n", omittingEmptySubsequences: false).map { "      " + $0 }
                    cond.problem(error.message + "\n" + caret.joined(separator: "\n"), textLine: error.line, textColumn: error.column)
                }
            }
            expect.finish("expect")
        }
        s.finish("test")
        guard name != nil else { return nil }
        return c
    }

    private static func object(_ node: SpecNode) -> Object? {
        guard case .object(let o)? = node.value else {
            node.problem("expected a record (a mapping of field names to values)")
            return nil
        }
        return o
    }
}
