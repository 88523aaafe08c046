public import Logging
public import RunnelCore
public import ServiceLifecycle

#if HTTP
    import RunnelHTTP
#endif

/// The `/livez`, `/readyz` and `/metrics` endpoints, when this binary has them: the one place
/// where the `HTTP` trait reaches the commands. Without it, `--http-port` is a config error.
public enum HTTPEndpoints {
    /// Routes swift-metrics into the registry `/metrics` exports. Called once, before any metric
    /// is made (a metric made earlier would stay with the no-op backend).
    static func bootstrapMetrics() {
        #if HTTP
            HealthServer.bootstrapMetrics()
        #endif
    }

    /// Every metric of the process as Prometheus text (what `/metrics` serves), for the metrics
    /// push; nil when this binary has no Prometheus registry (built without the `HTTP` trait).
    static var exposition: (@Sendable () -> [UInt8])? {
        #if HTTP
            return { HealthServer.exposition() }
        #else
            return nil
        #endif
    }

    /// The endpoints service on `port`, or a config error when this binary has none.
    static func service(port: Int, health: HealthState, logger: Logger) throws -> any Service {
        guard (0...65_535).contains(port) else { throw RunnelError.config("--http-port \(port) is not a port number") }
        #if HTTP
            return HealthServer.make(.init(port: port, host: "0.0.0.0", health: health, logger: logger))
        #else
            throw RunnelError.config("--http-port needs the HTTP endpoints; this binary was built without the 'HTTP' trait")
        #endif
    }
}
