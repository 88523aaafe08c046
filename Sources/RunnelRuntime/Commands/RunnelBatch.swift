public import ArgumentParser
import Logging
import RunnelConfig
import RunnelCore
import ServiceLifecycle

/// `runnel-batch`: runs a pipeline once, to the end of its input (a CronJob or a backfill Job).
public struct RunnelBatch: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "runnel-batch",
        abstract: "Run a Runnel pipeline once, as a batch job.",
        discussion: """
            Exit codes: 0 done; 1 transient failure (safe to retry); 2 config or usage error; \
            3 data contract violated; 4 another run holds the lease.
            """,
        version: Runnel.version,
        subcommands: [
            Run.self, Validate.self, Test.self, Tap.self, CheckpointCommand.self, DeadLetterCommand.self, SchemaCommand.self,
        ]
    )

    public init() {}

    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Run the pipeline to the end of its input.")

        @OptionGroup var options: SpecOptions
        @OptionGroup var window: WindowOptions

        @Option(help: "Stop after this many records.")
        var limit: Int?

        @Flag(help: "Load the source's consistent snapshot instead of its changes (postgres_cdc; with --shard I/N, one share of it).")
        var snapshot = false

        @Flag(help: "Run everything but the load and the commit, and report what would be written.")
        var dryRun = false

        @Flag(help: "Print the final summary as one JSON object.")
        var summaryJson = false

        @Flag(inversion: .prefixedNo, help: "Show a live progress line on a terminal.")
        var progress = true

        @Option(help: "Serve /livez, /readyz and /metrics on this port while the run lasts (binaries built with the HTTP trait).")
        var httpPort: Int?

        func run() async throws {
            let (spec, logger) = try options.load(registry: Runnel.registry)
            let env = Environment.process
            var runOptions = RunOptions(
                mode: .batch, window: try window.window(environment: env, bounds: spec.pipeline.extractor.windowBounds), shard: try window.shard(environment: env),
                limit: limit, dryRun: dryRun)
            runOptions.snapshot = snapshot
            var observers: [any PipelineObserver] = [LoggingObserver(logger: logger), MetricsObserver()]
            if progress, StandardError.isTerminal, !summaryJson { observers.append(ProgressObserver()) }
            let control = RunControl()
            var extra: [any Service] = []
            if let httpPort {
                let health = HealthState(stallTimeout: spec.stream.stallTimeout, control: control, sourceReportsBacklog: false)
                observers.append(HealthObserver(health: health))
                extra.append(try HTTPEndpoints.service(port: httpPort, health: health, logger: logger))
            }
            // A Pushgateway push (spec `metrics.push` or RUNNEL_METRICS_PUSH_URL): every interval
            // while the run lasts, and once at its end whatever the outcome.
            let push = try MetricsPush.configured(spec: spec, environment: env, shard: runOptions.shard, logger: logger)
            if let push, let interval = push.settings.interval {
                extra.append(PeriodicMetricsPush(push: push, interval: interval))
            }
            // Traces (the Tracing trait, from the OTEL_* variables): a span tree per batch.
            let tracing = RunTracing.configure(environment: env, serviceName: "runnel-batch", logger: logger)
            runOptions.traceSampleRatio = tracing.sampleRatio
            observers += tracing.observers
            extra += tracing.services
            let summary = await PipelineExecution.run(
                spec: spec, options: runOptions, observer: ObserverGroup(observers), control: control,
                extraServices: extra, logger: logger)
            await tracing.flush()
            if let push { await push.finish(summary) }
            SummaryPrinter.print(summary, json: summaryJson)
            if summary.exitCode != 0 { throw ExitCode(summary.exitCode) }
        }
    }

    struct Validate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check a spec: every problem is listed with file:line:column; exit 0 or 2.")

        @OptionGroup var options: SpecOptions

        func run() async throws {
            let (spec, _) = try options.load(registry: Runnel.registry)
            let p = spec.pipeline
            // The input itself, where that needs no server: files, their fields, formats.
            let input = try await withBackgroundTasks(spec) { try await spec.checkInput() }
            guard input.problems.isEmpty else {
                throw RunnelError.config(input.problems.joined(separator: "\n"))
            }
            print("\(options.spec): ok — pipeline \(p.name): \(p.transformers.count) transformers, \(p.validators.count) validation rules, load to \(p.loader.target)")
            for line in spec.commitMode + input.lines { print("  " + line) }
        }
    }
}
