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
    public var resources: SharedResources
    public var file: String

    /// Reads and builds the spec at `file`. Throws a config `RunnelError` listing every problem.
    public static func load(
        file: String, environment: Environment = .process, registry: ComponentRegistry = .standard
    ) throws(RunnelError) -> PipelineSpec {
        guard let bytes = readFile(file) else {
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
        let node: Node
        do {
            guard let n = try Yams.compose(yaml: yaml) else { throw RunnelError.config("\(file): the spec is empty") }
            node = n
        } catch let e as RunnelError {
            throw e
        } catch let YamlError.scanner(_, problem, mark, _), let YamlError.parser(_, problem, mark, _) {
            throw RunnelError.config("\(file):\(mark.line):\(mark.column): YAML syntax error: \(problem)")
        } catch {
            throw RunnelError.config("\(file): YAML error: \(error)")
        }
        let problems = SpecProblems()
        let source = SpecSource(file: file, directory: directory, environment: environment, problems: problems)
        let spec = build(SpecNode(node: node, path: "", source: source), registry: registry, file: file)
        if let error = problems.error { throw error }
        guard let spec else { throw RunnelError.config("\(file): the spec could not be built") }
        return spec
    }

    private static func build(_ root: SpecNode, registry: ComponentRegistry, file: String) -> PipelineSpec? {
        guard let top = SpecSection(root) else { return nil }
        let resources = SharedResources()
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

        func component<T>(_ key: String, _ factories: [String: ComponentRegistry.Factory<T>], required: Bool) -> T? {
            // `load.key_policy` is the runner's (KeyPolicy), read below, not the loader's.
            let ignoring: Set<String> = key == "load" ? ["type", "key_policy"] : ["type"]
            guard let n = top.node(key, required: required), let s = SpecSection(n, ignoring: ignoring) else { return nil }
            return registry.build(factories, section: s, role: key, resources: resources, pipeline: pipelineName)
        }

        let extractor = component("extract", registry.extractors, required: true)
        var transformers: [any Transformer] = []
        if let list = top.node("transform")?.elements {
            for (i, element) in list.enumerated() {
                guard let s = SpecSection(element, ignoring: ["type"]) else { continue }
                if let t = registry.build(registry.transformers, section: s, role: "transform[\(i)]", resources: resources, pipeline: pipelineName) {
                    transformers.append(t)
                }
            }
        }
        let (validators, policy) = buildValidation(top.node("validate"))
        // The loader first: a sqlite checkpoint or dead letter table without a path uses its file.
        let loader = component("load", registry.loaders, required: true)
        let policyNode = top.node("load").flatMap { SpecSection($0) }
        let keyPolicy = policyNode?.choice("key_policy", KeyPolicy.names).flatMap(KeyPolicy.init(name:)) ?? .lastWins
        if let n = policyNode?.node("key_policy"), loader?.key.isEmpty == true { n.problem("key_policy needs a loader that writes by key") }
        let checkpoints = component("checkpoint", registry.checkpointStores, required: false)
        let deadLetters = component("dead_letter", registry.deadLetterQueues, required: false)
        if policy.action == .deadLetter, deadLetters == nil, !top.has("dead_letter") {
            top.node.problem(
                "rejected records go to the dead letter queue (validate.on_invalid: dead_letter, the default) "
                    + "but there is no 'dead_letter' section; add one (e.g. {type: sqlite}) or set on_invalid to drop or fail")
        }
        let batching = buildBatching(top.node("batching"))
        let retry = buildRetry(top.node("retry"))
        var stream = StreamSettings()
        if let n = top.node("stream"), let s = SpecSection(n) {
            if let d = s.duration("drain_timeout") { stream.drainTimeout = d }
            if let d = s.duration("stall_timeout") { stream.stallTimeout = d }
            s.finish("stream")
        }
        top.finish("the spec")
        guard let name, let extractor, let loader else { return nil }
        let pipeline = Pipeline(
            name: name, extractor: extractor, transformers: transformers, validators: validators, loader: loader,
            checkpoints: checkpoints, deadLetters: deadLetters, invalidRecords: policy, batching: batching, retry: retry,
            lease: checkpoints?.lease, keyPolicy: keyPolicy)
        return PipelineSpec(pipeline: pipeline, stream: stream, resources: resources, file: file)
    }

    private static func buildBatching(_ node: SpecNode?) -> BatchingPolicy {
        var b = BatchingPolicy()
        guard let node, let s = SpecSection(node) else { return b }
        if let n = s.node("max_records"), let v = n.int {
            if v > 0 { b.maxRecords = v } else { n.problem("must be at least 1") }
        }
        if let v = s.bytes("max_bytes") { b.maxBytes = v }
        if let v = s.duration("max_linger") { b.maxLinger = v }
        s.finish("batching")
        return b
    }

    private static func buildRetry(_ node: SpecNode?) -> RetryPolicy {
        guard let node, let s = SpecSection(node) else { return .exponentialJitter() }
        var attempts = 5
        if let n = s.node("max_attempts"), let v = n.int {
            if v >= 1 { attempts = v } else { n.problem("must be at least 1") }
        }
        let base = s.duration("base_delay") ?? .milliseconds(200)
        let cap = s.duration("max_delay") ?? .seconds(10)
        s.finish("retry")
        return .exponentialJitter(maxAttempts: attempts, baseDelay: base, maxDelay: cap)
    }

    private static func readFile(_ path: String) -> [UInt8]? {
        guard let f = fopen(path, "rb") else { return nil }
        defer { fclose(f) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = fread(&chunk, 1, chunk.count, f)
            if n > 0 { out.append(contentsOf: chunk[0..<n]) }
            if n < chunk.count { break }
        }
        return ferror(f) == 0 ? out : nil
    }
}
