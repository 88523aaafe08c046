public import RunnelCore
import Yams

#if canImport(Glibc)
    import Glibc
#endif

/// Settings only the streaming worker uses.
public struct StreamSettings: Sendable {
    /// How long SIGTERM waits for the in-flight batch before giving up. Keep it below the pod's
    /// `terminationGracePeriodSeconds`. Default 20 s.
    public var drainTimeout: Duration = .seconds(20)
    /// `/livez` fails when input is pending but nothing was committed for this long. Default 60 s.
    public var stallTimeout: Duration = .seconds(60)
    public init() {}
}

/// A pipeline spec read from YAML and turned into a `Pipeline`.
///
/// Every problem in the file is collected (unknown keys with the valid choices, wrong types,
/// missing settings, unknown component types), each located as `file:line:column`.
public struct PipelineSpec: Sendable {
    public var pipeline: Pipeline
    public var stream: StreamSettings
    /// `metrics:` (the batch run's push to a Pushgateway).
    public var metrics = MetricsSettings()
    public var resources: SharedResources
    public var file: String
    /// The `type` of each component section built (`load` → `sqlite`), for `validate`.
    public var types: [String: String]
    /// The `name:` of each transformer, where the spec gives one (`runnel-batch test ... until:`).
    public var stageNames: [String?] = []
    /// How a loader that creates its table from the batch's fields types the columns, for `validate`.
    public var columnTypes: String?
    /// `file:line:column` of the sections (`extract`, `transform[2]`, `validate`, `load`), for
    /// problems `validate` finds after the spec is built (in the input's data).
    public var locations: [String: String] = [:]
    /// Keys components read without declaring them (see `SpecProblems.undeclaredReads`); tests
    /// check it is empty for every shipped spec.
    public var undeclaredReads: [String] = []

    /// How the run commits, in words: whether the checkpoint is written in the load's
    /// transaction (effectively once) and which store holds the run lease. `validate` prints it.
    public var commitMode: [String] {
        var lines: [String] = []
        let p = pipeline
        if let store = types["checkpoint"] {
            if p.checkpointsInLoad {
                lines.append("checkpoint: \(store) (in the loader's transaction: effectively once)")
            } else {
                lines.append("checkpoint: \(store) (saved after each load: at least once, loads idempotent by key)")
            }
            lines.append(p.lease == nil ? "lease: none (concurrent runs are not prevented)" : "lease: held by the \(store) checkpoint store")
        } else if let kept = p.extractor.positionWithoutCheckpoint {
            lines.append("checkpoint: none needed — \(kept)")
        } else {
            lines.append("checkpoint: none (every run reads all input; loads idempotent by key)")
        }
        if let dl = types["dead_letter"] { lines.append("dead letters: \(dl)") }
        if let columnTypes { lines.append("load: " + columnTypes) }
        lines.append("memory window: \(p.memory)")
        return lines
    }

    /// Reads and builds the spec at `file`. Throws a config `RunnelError` listing every problem.
    public static func load(
        file: String, environment: Environment = .process, registry: ComponentRegistry
    ) throws(RunnelError) -> PipelineSpec {
        guard let bytes = LocalFile.read(file) else {
            throw RunnelError.config("cannot read spec '\(file)': \(String(cString: strerror(errno)))")
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw RunnelError.config("\(file): the spec is not valid UTF-8")
        }
        let directory = file.contains("/") ? String(file[..<file.lastIndex(of: "/")!]) : "."
        return try parse(yaml: text, file: file, directory: directory, environment: environment, registry: registry)
    }

    public static func parse(
        yaml: String, file: String, directory: String, environment: Environment, registry: ComponentRegistry
    ) throws(RunnelError) -> PipelineSpec {
        try parse(yaml: yaml, file: file, directory: directory, environment: environment, registry: registry, order: buildOrder)
    }

    /// The order component sections are built in. Nothing depends on it (a factory reads other
    /// sections through `ComponentContext.peer`); a test builds them in another order.
    static let buildOrder = ["extract", "transform", "validate", "load", "checkpoint", "dead_letter"]

    static func parse(
        yaml: String, file: String, directory: String, environment: Environment, registry: ComponentRegistry,
        order: [String]
    ) throws(RunnelError) -> PipelineSpec {

        let node: Node
        do {
            guard let n = try Yams.compose(yaml: yaml) else { throw RunnelError.config("\(file): the spec is empty") }
            node = n
        } catch let e as RunnelError {
            throw e
        } catch let YamlError.scanner(_, problem, mark, _), let YamlError.parser(_, problem, mark, _) {
            // libyaml's word for a tab in the indentation is "found character that cannot start
            // any token": name the cause where it is.
            if let tab = indentationTab(in: yaml), tab.line <= mark.line {
                throw RunnelError.config(
                    "\(file):\(tab.line):\(tab.column): YAML syntax error: a tab indents this line; YAML indentation must use spaces")
            }
            // `{password: ${PW}}`: inside a flow mapping `{` and `}` are YAML's own, so an
            // unquoted `${VAR}` breaks it. Say so: the parser's message names only a comma.
            let lines = yaml.split(separator: "\n", omittingEmptySubsequences: false)
            let line = mark.line >= 1 && mark.line <= lines.count ? lines[mark.line - 1] : ""
            let hint = line.contains("{") && line.contains("${")
                ? " (inside {…} quote a ${VAR}: \"${VAR}\")" : ""
            throw RunnelError.config("\(file):\(mark.line):\(mark.column): YAML syntax error: \(problem)\(hint)")
        } catch let YamlError.duplicatedKeysInMapping(duplicates, context) {
            // Yams puts the whole document in the context; name the key and both places.
            let key = duplicates.first ?? "?"
            let first = context.mark
            var again: (line: Int, column: Int)?
            let lines = yaml.split(separator: "\n", omittingEmptySubsequences: false)
            if first.line >= 1 {
                for (i, line) in lines.enumerated().dropFirst(first.line) {
                    let indent = line.prefix { $0 == " " }.count
                    if indent + 1 == first.column, line.dropFirst(indent).hasPrefix(key + ":") {
                        again = (i + 1, indent + 1)
                        break
                    }
                }
            }
            let at = again.map { "\($0.line):\($0.column)" } ?? "\(first.line):\(first.column)"
            throw RunnelError.config(
                "\(file):\(at): duplicate key '\(key)' (first at line \(first.line)); a YAML mapping holds each key once")
        } catch {
            throw RunnelError.config("\(file): YAML error: \(error)")
        }
        let problems = SpecProblems()
        let source = SpecSource(file: file, directory: directory, environment: environment, problems: problems)
        let spec = build(SpecNode(node: node, path: "", source: source), registry: registry, file: file, order: order)
        if let error = problems.error { throw error }
        guard var spec else { throw RunnelError.config("\(file): the spec could not be built") }
        spec.undeclaredReads = problems.undeclaredReads
        return spec
    }

    private static func build(_ root: SpecNode, registry: ComponentRegistry, file: String, order: [String]) -> PipelineSpec? {
        guard let top = SpecSection(root) else { return nil }
        top.declare(PipelineKeys.top)
        let memory = MemoryWindow(policy: buildMemory(top.node("memory")))
        let resources = SharedResources(memory: memory)
        let name = top.node("pipeline", required: true).flatMap { n -> String? in
            guard let s = n.string else { return nil }
            guard !s.isEmpty, s.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) }) else {
                n.problem("pipeline names may hold letters, digits, '-', '_' and '.', found '\(s)'")
                return nil
            }
            return s
        }
        _ = top.string("description")
        let pipelineName = name ?? "pipeline"
        var types: [String: String] = [:]

        func component<T>(
            _ key: String, _ kind: ComponentRegistry.Role, _ factories: [String: ComponentRegistry.Factory<T>], required: Bool
        ) -> T? {
            // `load.key_policy` is the runner's (KeyPolicy), read below, not the loader's.
            let ignoring: Set<String> = key == "load" ? ["type", "key_policy"] : ["type"]
            guard let n = top.node(key, required: required), let s = SpecSection(n, ignoring: ignoring) else { return nil }
            let built = registry.build(factories, kind: kind, section: s, role: key, resources: resources, pipeline: pipelineName, root: top)
            if built != nil, let type = s.peek("type")?.string { types[key] = type }
            return built
        }

        var extractor: (any Extractor)?
        var transformers: [any Transformer] = []
        var stageNames: [String?] = []
        var validation: (validators: [any Validator], policy: InvalidRecordPolicy) = ([], InvalidRecordPolicy())
        var loader: (any Loader)?
        var checkpoints: (any CheckpointStore)?
        var deadLetters: (any DeadLetterQueue)?
        for section in order {
            switch section {
            case "extract": extractor = component("extract", .extract, registry.extractors, required: true)
            case "transform":
                guard let list = top.node("transform")?.elements else { continue }
                for (i, element) in list.enumerated() {
                    // `name:` labels a stage for `runnel-batch test` and `tap`; every transformer takes it.
                    guard let s = SpecSection(element, ignoring: ["type", "name"]) else { continue }
                    let stageName: String? = s.peek("name")?.string
                    if let t = registry.build(
                        registry.transformers, kind: .transform, section: s, role: "transform[\(i)]", resources: resources,
                        pipeline: pipelineName, root: top)
                    {
                        transformers.append(t)
                        stageNames.append(stageName)
                    }
                }
            case "validate":
                validation = buildValidation(top.node("validate"), registry: registry, resources: resources, pipeline: pipelineName, root: top)
            case "load": loader = component("load", .load, registry.loaders, required: true)
            case "checkpoint": checkpoints = component("checkpoint", .checkpoint, registry.checkpointStores, required: false)
            case "dead_letter": deadLetters = component("dead_letter", .deadLetter, registry.deadLetterQueues, required: false)
            default: preconditionFailure("unknown section \(section) in the build order")
            }
        }
        let policy = validation.policy
        let policyNode = top.node("load").flatMap { SpecSection($0) }
        let keyPolicy = policyNode?.choice("key_policy", KeyPolicy.names).flatMap(KeyPolicy.init(name:)) ?? .lastWins
        if let n = policyNode?.node("key_policy"), loader?.key.isEmpty == true { n.problem("key_policy needs a loader that writes by key") }
        if policy.action == .deadLetter, deadLetters == nil, !top.has("dead_letter") {
            top.node.problem(
                "rejected records go to the dead letter queue (validate.on_invalid: dead_letter, the default) "
                    + "but there is no 'dead_letter' section; add one (e.g. {type: sqlite}) or set on_invalid to drop or fail")
        }
        let batching = buildBatching(top.node("batching"))
        let retry = buildRetry(top.node("retry"))
        var stream = StreamSettings()
        if let n = top.node("stream"), let s = SpecSection(n) {
            s.declare(PipelineKeys.stream)
            if let d = s.duration("drain_timeout") { stream.drainTimeout = d }
            if let d = s.duration("stall_timeout") { stream.stallTimeout = d }
            s.finish("stream")
        }
        let metrics = MetricsSettings.build(top.node("metrics"))
        top.finish("the spec")
        guard let name, let extractor, var loader else { return nil }
        // Resolved once, here: a loader that creates its table from the batch's fields types the
        // columns from what the stages declare (casts).
        var columnTypes: String?
        if let inferring = loader as? any InfersColumnTypes {
            if let (typed, description) = inferring.inferringColumnTypes(transformers.declaredFieldTypes) {
                loader = typed
                columnTypes = description
            }
        }
        let pipeline = Pipeline(
            name: name, extractor: extractor, transformers: transformers, validators: validation.validators, loader: loader,
            checkpoints: checkpoints, deadLetters: deadLetters, invalidRecords: policy, batching: batching, retry: retry,
            lease: checkpoints?.lease, keyPolicy: keyPolicy, memory: memory)
        var spec = PipelineSpec(pipeline: pipeline, stream: stream, resources: resources, file: file, types: types, stageNames: stageNames)
        spec.columnTypes = columnTypes
        spec.metrics = metrics
        func at(_ n: SpecNode?) -> String? { n?.node.mark.map { "\(file):\($0.line):\($0.column)" } }
        for key in ["extract", "validate", "load"] { spec.locations[key] = at(top.peek(key)) }
        for (i, element) in (top.peek("transform")?.elements ?? []).enumerated() { spec.locations["transform[\(i)]"] = at(element) }
        return spec
    }

    /// The first line whose indentation holds a tab, with the tab's 1-based column. YAML forbids
    /// tabs there, and libyaml's own message ("found character that cannot start any token")
    /// does not say so. Tabs inside values and after the indentation are fine.
    static func indentationTab(in yaml: String) -> (line: Int, column: Int)? {
        var line = 1
        var column = 1
        var inIndent = true
        for byte in yaml.utf8 {
            if byte == UInt8(ascii: "\n") {
                line += 1
                column = 1
                inIndent = true
                continue
            }
            if inIndent {
                if byte == UInt8(ascii: "\t") { return (line, column) }
                if byte != UInt8(ascii: " ") { inIndent = false }
            }
            column += 1
        }
        return nil
    }

    private static func buildBatching(_ node: SpecNode?) -> BatchingPolicy {
        var b = BatchingPolicy()
        guard let node, let s = SpecSection(node) else { return b }
        s.declare(PipelineKeys.batching)
        if let v = s.int("max_records", in: 1...Int.max) { b.maxRecords = v }
        if let v = s.bytes("max_bytes") { b.maxBytes = v }
        if let v = s.duration("max_linger") { b.maxLinger = v }
        s.finish("batching")
        return b
    }

    private static func buildMemory(_ node: SpecNode?) -> MemoryPolicy {
        var m = MemoryPolicy()
        guard let node, let s = SpecSection(node) else { return m }
        s.declare(PipelineKeys.memory)
        if let n = s.node("max_fraction"), let v = n.double {
            if v > 0, v <= 1 { m.maxFraction = v } else { n.problem("max_fraction must be above 0 and at most 1, such as 0.5") }
        }
        if let v = s.bytes("max_bytes") { m.maxBytes = v }
        s.finish("memory")
        return m
    }

    private static func buildRetry(_ node: SpecNode?) -> RetryPolicy {
        guard let node, let s = SpecSection(node) else { return .exponentialJitter() }
        s.declare(PipelineKeys.retry)
        let attempts = s.int("max_attempts", in: 1...Int.max) ?? 5
        let base = s.duration("base_delay") ?? .milliseconds(200)
        let cap = s.duration("max_delay") ?? .seconds(10)
        s.finish("retry")
        return .exponentialJitter(maxAttempts: attempts, baseDelay: base, maxDelay: cap)
    }

}
