import Hummingbird
public import Logging
import Metrics
public import Prometheus
public import RunnelCore
public import ServiceLifecycle
import Synchronization

/// `/livez`, `/readyz` and `/metrics` for both binaries, on hummingbird.
///
/// `bootstrapMetrics()` points swift-metrics at a Prometheus registry (once per process);
/// `make(_:)` builds the endpoints as a service for the run's service group.
public enum HealthServer {
    public struct Context: Sendable {
        public var port: Int
        public var host: String
        public var health: HealthState
        public var logger: Logger
        public init(port: Int, host: String, health: HealthState, logger: Logger) {
            self.port = port
            self.host = host
            self.health = health
            self.logger = logger
        }
    }

    private static let installed = Mutex(false)

    /// The registry `/metrics` exports; every swift-metrics metric of the process lands here.
    public static let registry = PrometheusCollectorRegistry()

    public static func bootstrapMetrics() {
        let first = installed.withLock { done in
            defer { done = true }
            return !done
        }
        guard first else { return }
        var factory = PrometheusMetricsFactory(registry: registry)
        // Micro-batches hold 1–100 records, batch runs up to 50,000: the default value buckets
        // (5…10,000) would put every streaming batch in the first two.
        factory.valueHistogramBuckets["runnel_batch_records"] = [1, 5, 10, 25, 50, 100, 250, 500, 1_000, 5_000, 10_000, 50_000]
        factory.durationHistogramBuckets["runnel_end_to_end_latency_seconds"] = [
            .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
            .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2_500), .seconds(5),
            .seconds(10), .seconds(30), .seconds(60),
        ]
        factory.durationHistogramBuckets["runnel_batch_duration_seconds"] = [
            .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
            .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2_500), .seconds(5),
            .seconds(10), .seconds(30), .seconds(60),
        ]
        MetricsSystem.bootstrap(factory)
    }

    /// Every metric of the process as Prometheus text with `# HELP` lines: what `/metrics`
    /// serves and what the metrics push sends.
    public static func exposition() -> [UInt8] { MetricHelp.annotate(registry.emitToBuffer()) }

    /// The endpoints as a hummingbird application (a `Service`).
    public static func make(_ context: Context) -> some Service {
        let router = Router()
        let health = context.health
        router.get("livez") { _, _ -> Response in
            text(health.liveness())
        }
        router.get("readyz") { _, _ -> Response in
            text(health.readiness())
        }
        router.get("metrics") { _, _ -> Response in
            let bytes = exposition()
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
        }
        let logger = context.logger
        return Application(
            router: router, configuration: .init(address: .hostname(context.host, port: context.port), serverName: "runnel"),
            logger: logger)
    }

    private static func text(_ check: HealthState.Check) -> Response {
        Response(
            status: check.ok ? .ok : .serviceUnavailable, headers: [.contentType: "text/plain; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(string: check.detail + "\n")))
    }
}
