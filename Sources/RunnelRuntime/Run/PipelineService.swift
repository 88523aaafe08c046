public import Logging
public import RunnelConfig
public import RunnelCore
public import ServiceLifecycle
import UnixSignals

/// The pipeline as a `Service`: graceful shutdown (SIGTERM) asks the runner to stop reading and
/// commit what it has read.
public struct PipelineService: Service {
    public let runner: PipelineRunner
    public let result: Locked<RunSummary?>

    public init(runner: PipelineRunner) {
        self.runner = runner
        self.result = Locked(nil)
    }

    public func run() async throws {
        let control = runner.control
        let summary = await withGracefulShutdownHandler {
            await runner.run()
        } onGracefulShutdown: {
            control.requestStop()
        }
        result.withLock { $0 = summary }
    }
}

/// A component's background task (a connection pool) as a `Service`, stopped when the group shuts down.
struct BackgroundTaskService: Service {
    let task: any BackgroundTask
    func run() async throws {
        try await cancelWhenGracefulShutdown { try await task.run() }
    }
}

/// A service under a short name. ServiceLifecycle names each service by interpolating it
/// (`"\(service)"`); a struct without a description is then printed field by field through
/// reflection, which for the pipeline's service (its runner, the whole pipeline) cost about
/// 100 million instructions, ~30 ms, at the start of every run.
struct NamedService: Service, CustomStringConvertible {
    let service: any Service
    let description: String

    init(_ service: any Service, name: String) {
        self.service = service
        self.description = name
    }

    func run() async throws { try await service.run() }
}

/// Runs a loaded spec to completion inside a service group with signal handling.
public enum PipelineExecution {
    /// Runs the pipeline with the spec's background tasks; returns the run's summary.
    ///
    /// - Parameters:
    ///   - extraServices: services that run beside the pipeline (the HTTP endpoints).
    ///   - drainTimeout: after SIGTERM, how long the in-flight batch may take before the group cancels it.
    public static func run(
        spec: PipelineSpec, options: RunOptions, observer: any PipelineObserver, control: RunControl = RunControl(),
        extraServices: [any Service] = [], drainTimeout: Duration? = nil, logger: Logger
    ) async -> RunSummary {
        let runner = PipelineRunner(pipeline: spec.pipeline, options: options, observer: observer, control: control)
        let service = PipelineService(runner: runner)
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = spec.resources.backgroundTasks.map {
            .init(
                service: NamedService(BackgroundTaskService(task: $0), name: "background task \(type(of: $0))"),
                successTerminationBehavior: .ignore, failureTerminationBehavior: .ignore)
        }
        services += extraServices.map {
            .init(service: NamedService($0, name: "\(type(of: $0))"), successTerminationBehavior: .ignore, failureTerminationBehavior: .ignore)
        }
        services.append(
            .init(service: NamedService(service, name: "pipeline \(spec.pipeline.name)"), successTerminationBehavior: .gracefullyShutdownGroup))
        var config = ServiceGroupConfiguration(
            services: services, gracefulShutdownSignals: [.sigterm, .sigint], cancellationSignals: [], logger: logger)
        config.maximumGracefulShutdownDuration = drainTimeout
        let group = ServiceGroup(configuration: config)
        do {
            try await group.run()
        } catch {
            logger.error("service group stopped with an error", metadata: ["runnel.error": "\(error)"])
        }
        let summary = service.result.value
            ?? {
                var s = RunSummary(pipeline: spec.pipeline.name, runID: options.runID, mode: options.mode, dryRun: options.dryRun)
                s.status = "failed"
                s.error = "the run was cancelled before it finished (drain timeout exceeded)"
                s.errorCode = RunnelError.Code.cancelled.description
                s.exitCode = 1
                return s
            }()
        // A batch run stopped by a signal exits 1 (the runner decides it, so that its log line
        // and metrics say so too); see `PipelineRunner.run()`.
        return summary
    }
}
