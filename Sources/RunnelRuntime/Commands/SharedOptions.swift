public import ArgumentParser
public import Logging
public import RunnelConfig
import RunnelCore

/// The spec argument and logging flags every subcommand takes.
public struct SpecOptions: ParsableArguments {
    @Argument(help: "The pipeline spec (YAML).")
    public var spec: String

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    public var logLevel: String = "info"

    @Flag(help: "Log JSON lines even on a terminal.")
    public var jsonLogs = false

    public init() {}

    /// Sets up logging and reads the spec; a spec problem is a config error (exit 2).
    public func load(registry: ComponentRegistry) throws -> (PipelineSpec, Logger) {
        guard let level = Logger.Level(rawValue: logLevel) else {
            throw RunnelError.config("--log-level '\(logLevel)' is not one of trace, debug, info, notice, warning, error, critical")
        }
        LoggingSetup.bootstrap(level: level, json: jsonLogs ? true : nil)
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

    func window(environment: Environment) -> Window? {
        let from = self.from ?? nonEmpty(environment["RUNNEL_FROM"])
        let to = self.to ?? nonEmpty(environment["RUNNEL_TO"])
        return from == nil && to == nil ? nil : Window(from: from, to: to)
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
