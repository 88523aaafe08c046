public import ArgumentParser
import Logging
import RunnelConfig
import RunnelCore
import ServiceLifecycle

/// `runnel-stream`: the long-running streaming worker (a Deployment). Reads micro-batches until
/// SIGTERM/SIGINT, then stops reading, commits the in-flight batch and exits 0 within the drain
/// timeout.
public struct RunnelStream: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "runnel-stream",
        abstract: "Run a Runnel pipeline as a streaming worker.",
        discussion: """
            Exit codes: 0 stopped by SIGTERM/SIGINT after committing what it read; 1 failure or \
            drain timeout exceeded; 2 config or usage error; 3 data contract violated.
            """,
        version: Runnel.version,
        subcommands: [Run.self, RunnelBatch.Validate.self, CheckpointCommand.self, DeadLetterCommand.self, SchemaCommand.self]
    )

    public init() {}

    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Read and load micro-batches until stopped.",
            discussion: """
                Batches are flushed on batching.max_records, max_bytes or max_linger, whichever \
                comes first. With --http-port, serves /livez, /readyz and /metrics.
                """)

        @OptionGroup var options: SpecOptions

        @Option(help: "Serve /livez, /readyz and /metrics on this port (binaries built with the HTTP trait).")
        var httpPort: Int?

        @Option(
            help: ArgumentHelp(
                "After SIGTERM, how long the in-flight batch may take to commit (e.g. 20s); overrides stream.drain_timeout.",
                discussion: "Keep it below the pod's terminationGracePeriodSeconds."))
        var drainTimeout: String?

        @Flag(help: "Print the final summary as one JSON object.")
        var summaryJson = false

        func run() async throws {
            let drain = try drainTimeout.map { try parseDuration($0, flag: "--drain-timeout") }
            let (spec, baseLogger) = try options.load(registry: Runnel.registry)
            var runOptions = RunOptions(mode: .streaming)
            var logger = baseLogger
            logger[metadataKey: "runnel.run_id"] = "\(runOptions.runID)"
            let source = spec.pipeline.extractor as? any BacklogReporting
            if let consumer = source?.consumerName { logger[metadataKey: "runnel.consumer"] = "\(consumer)" }

            let control = RunControl()
            let health = HealthState(stallTimeout: spec.stream.stallTimeout, control: control, sourceReportsBacklog: source != nil)
            var extra: [any Service] = []
            if let source {
                extra.append(BacklogPoller(source: source, health: health, pipeline: spec.pipeline.name, logger: logger))
            }
            if let httpPort { extra.append(try HTTPEndpoints.service(port: httpPort, health: health, logger: logger)) }
            let tracing = RunTracing.configure(environment: .process, serviceName: "runnel-stream", logger: logger)
            runOptions.traceSampleRatio = tracing.sampleRatio
            extra += tracing.services
            let observer = ObserverGroup(
                [LoggingObserver(logger: logger), MetricsObserver(), HealthObserver(health: health)] + tracing.observers)
            let drainTimeout = drain ?? spec.stream.drainTimeout
            logger.info(
                "streaming worker starting",
                metadata: [
                    "runnel.target": "\(spec.pipeline.loader.target)", "runnel.drain_timeout": "\(drainTimeout)",
                    "runnel.http_port": "\(httpPort.map(String.init) ?? "none")",
                ])
            let summary = await PipelineExecution.run(
                spec: spec, options: runOptions, observer: observer, control: control, extraServices: extra,
                drainTimeout: drainTimeout, logger: logger)
            await tracing.flush()
            SummaryPrinter.print(summary, json: summaryJson)
            if summary.exitCode != 0 { throw ExitCode(summary.exitCode) }
        }
    }
}

/// `250ms`, `20s`, `5m`, `1h` or a number of seconds, for duration flags.
func parseDuration(_ text: String, flag: String) throws -> Duration {
    guard let d = Duration(text: text) else {
        throw RunnelError.config("\(flag) '\(text)' is not a duration such as 250ms, 20s or 5m")
    }
    return d
}
