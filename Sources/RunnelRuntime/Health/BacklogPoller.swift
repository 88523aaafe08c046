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
