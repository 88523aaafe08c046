public import ArgumentParser
public import Logging
public import RunnelConfig
import RunnelCore

/// The logging flags every subcommand takes (`--log-level`, `--json-logs`).
public struct LoggingOptions: ParsableArguments {
    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical (env RUNNEL_LOG_LEVEL; default info).")
    public var logLevel: String?

    @Flag(help: "Log JSON lines even on a terminal.")
    public var jsonLogs = false

    public init() {}

    /// Sets up logging for the process (once; a second call keeps the first setup). Without
    /// `--log-level`, `RUNNEL_LOG_LEVEL` from the environment (a chart's `env:`) sets the level.
    public func bootstrap(environment: Environment = .process) throws {
        let fromEnvironment = environment["RUNNEL_LOG_LEVEL"].flatMap { $0.isEmpty ? nil : $0 }
        let text = logLevel ?? fromEnvironment ?? "info"
        guard let level = Logger.Level(rawValue: text.lowercased()) else {
            let source = logLevel != nil ? "--log-level" : "RUNNEL_LOG_LEVEL"
            throw RunnelError.config("\(source) '\(text)' is not one of trace, debug, info, notice, warning, error, critical")
        }
        LoggingSetup.bootstrap(level: level, json: jsonLogs ? true : nil)
    }
}

/// The spec argument and logging flags every subcommand takes.
public struct SpecOptions: ParsableArguments {
    @Argument(help: "The pipeline spec (YAML).")
    public var spec: String

    @OptionGroup public var logging: LoggingOptions

    public init() {}

    /// Sets up logging and reads the spec; a spec problem is a config error (exit 2).
    public func load(registry: ComponentRegistry) throws -> (PipelineSpec, Logger) {
        try logging.bootstrap()
        let spec = try PipelineSpec.load(file: spec, registry: registry)
        var logger = Logger(label: "runnel")
        logger[metadataKey: "runnel.pipeline"] = "\(spec.pipeline.name)"
        return (spec, logger)
    }
}

/// A window and shard from flags, or else from the environment an Indexed Job and
/// `kubectl create job --from=cronjob/…` + `kubectl set env` give a pod.
struct WindowOptions: ParsableArguments {
    @Option(help: "Start of the backfill window, inclusive (env RUNNEL_FROM).")
    var from: String?

    @Option(help: "End of the backfill window, exclusive (env RUNNEL_TO).")
    var to: String?

    @Option(help: "Shard I/N of the work, 0-based (env JOB_COMPLETION_INDEX and RUNNEL_SHARD_COUNT).")
    var shard: String?

    /// The window, checked against what the extractor's cursor holds: a bound that does not
    /// parse, or `from >= to`, is a usage error (exit 2) naming the flag or variable it came from.
    func window(environment: Environment, bounds: WindowBoundKind) throws(RunnelError) -> Window? {
        let fromName = self.from != nil ? "--from" : "RUNNEL_FROM"
        let toName = self.to != nil ? "--to" : "RUNNEL_TO"
        let from = self.from ?? nonEmpty(environment["RUNNEL_FROM"])
        let to = self.to ?? nonEmpty(environment["RUNNEL_TO"])
        guard from != nil || to != nil else { return nil }
        return try Window(from: from, to: to).checked(as: bounds, fromName: fromName, toName: toName)
    }

    func shard(environment: Environment) throws -> Shard? {
        if let shard {
            let parts = shard.split(separator: "/")
            guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]), n >= 1, (0..<n).contains(i) else {
                throw RunnelError.config("--shard '\(shard)' must be I/N with 0 <= I < N")
            }
            return Shard(index: i, count: n)
        }
        guard let countText = nonEmpty(environment["RUNNEL_SHARD_COUNT"]) else { return nil }
        guard let n = Int(countText), n >= 1 else { throw RunnelError.config("RUNNEL_SHARD_COUNT '\(countText)' must be a whole number >= 1") }
        let indexText = nonEmpty(environment["JOB_COMPLETION_INDEX"]) ?? "0"
        guard let i = Int(indexText), (0..<n).contains(i) else {
            throw RunnelError.config("JOB_COMPLETION_INDEX '\(indexText)' must be in 0..<\(n)")
        }
        return Shard(index: i, count: n)
    }

    private func nonEmpty(_ s: String?) -> String? { s.flatMap { $0.isEmpty ? nil : $0 } }
}
