public import Logging
import Metrics
public import RunnelCore
public import ServiceLifecycle

/// Asks the source for its backlog every `interval` and feeds `HealthState` and the
/// `runnel_source_pending{kind="pending"|"lag"}` gauge. A failed poll marks the source unreachable.
public struct BacklogPoller: Service {
    public let source: any BacklogReporting
    public let health: HealthState
    public let pipeline: String
    public let interval: Duration
    public let logger: Logger

    public init(source: any BacklogReporting, health: HealthState, pipeline: String, interval: Duration = .milliseconds(500), logger: Logger) {
        self.source = source
        self.health = health
        self.pipeline = pipeline
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        let pending = Gauge(label: "runnel_source_pending", dimensions: [("pipeline", pipeline), ("kind", "pending")])
        let lag = Gauge(label: "runnel_source_pending", dimensions: [("pipeline", pipeline), ("kind", "lag")])
        await cancelWhenGracefulShutdown {
            var reachable = true
            while !Task.isCancelled {
                do {
                    let b = try await source.backlog()
                    health.backlogPolled(b)
                    pending.record(b.pending)
                    lag.record(b.lag ?? 0)
                    if !reachable { logger.info("source reachable again") }
                    reachable = true
                } catch is CancellationError {
                    return
                } catch {
                    if Task.isCancelled { return }
                    health.backlogFailed(error)
                    if reachable { logger.warning("source unreachable", metadata: ["runnel.error": "\(error)"]) }
                    reachable = false
                }
                do { try await Task.sleep(for: interval) } catch { return }
            }
        }
    }
}

/// Makes the HTTP endpoints service (`/livez`, `/readyz`, `/metrics`). Binaries built with the
/// HTTP trait install one (`RunnelHTTP.install()`); without it, `--http-port` is a usage error.
public enum HealthEndpoints {
    public struct Context: Sendable {
        public var port: Int
        public var host: String
        public var health: HealthState
        public var logger: Logger
    }

    public typealias Factory = @Sendable (Context) -> any Service
    private static let current = Locked<Factory?>(nil)

    public static var factory: Factory? {
        get { current.value }
        set { current.withLock { $0 = newValue } }
    }

    /// The endpoints service for `port`, or a config error when this binary has none.
    static func service(port: Int, health: HealthState, logger: Logger) throws -> any Service {
        guard let factory else {
            throw RunnelError.config("--http-port needs the HTTP endpoints; this binary was built without the 'HTTP' trait")
        }
        guard (0...65_535).contains(port) else { throw RunnelError.config("--http-port \(port) is not a port number") }
        return factory(Context(port: port, host: "0.0.0.0", health: health, logger: logger))
    }
}
