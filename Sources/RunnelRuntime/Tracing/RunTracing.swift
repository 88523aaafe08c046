import Logging
import RunnelConfig
import RunnelCore
import ServiceLifecycle

/// What a command adds to a run for traces: an observer that makes the spans, a service that
/// sends them while the run lasts, the sampling ratio for the runner, and the final flush.
///
/// Built only with the `Tracing` trait (the image has it; the quickstart build does not). Without
/// the trait an `OTEL_EXPORTER_OTLP_*ENDPOINT` in the environment is reported once at warning,
/// so that nobody waits for spans this binary cannot send.
struct RunTracing: Sendable {
    var observers: [any PipelineObserver] = []
    var services: [any Service] = []
    /// For `RunOptions.traceSampleRatio`: nil when tracing is off.
    var sampleRatio: Double?
    private var flushing: (@Sendable () async -> Void)?

    static let off = RunTracing()

    /// Sends what is left; call once the run has ended.
    func flush() async { await flushing?() }

    static func configure(environment: Environment, serviceName: String, logger: Logger) -> RunTracing {
        let (settings, warnings) = TraceSettings.from(environment, defaultServiceName: serviceName)
        for w in warnings { logger.warning("tracing setting ignored", metadata: ["runnel.problem": "\(w)"]) }
        guard let settings else { return .off }
        #if Tracing
            guard let endpoint = PlainHTTPClient.Endpoint(url: settings.url) else {
                logger.warning(
                    """
                    traces are not exported: the OTLP endpoint must be http://host[:port][/path] (https is not \
                    supported: send to the collector's in-cluster Service)
                    """,
                    metadata: ["runnel.otlp_endpoint": "\(settings.url)"])
                return .off
            }
            let exporter = TraceExporter(settings: settings, endpoint: endpoint, logger: logger)
            var t = RunTracing()
            t.observers = [TracingObserver(exporter: exporter)]
            t.services = [TraceExportService(exporter: exporter)]
            t.sampleRatio = settings.sampleRatio
            t.flushing = { await exporter.flush() }
            return t
        #else
            logger.warning(
                """
                traces are not exported: this binary was built without the 'Tracing' trait \
                (the image has it; build with --traits Tracing or --enable-all-traits)
                """,
                metadata: ["runnel.otlp_endpoint": "\(settings.url)"])
            return .off
        #endif
    }
}
