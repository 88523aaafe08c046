public import Logging
import Metrics

/// Retries a connector makes inside its own client (an HTTP page, an S3 call), below the
/// runner's: they are counted in `runnel_request_retries_total{pipeline, connector, reason}` and
/// logged at warning, so a slow run can be told apart from a throttled one. `reason` is kept to
/// a small set (`http_429`, `http_503`, `connection`…) so that it stays a fit metric label.
public struct RequestRetries: Sendable {
    public let pipeline: String
    public let connector: String
    public let logger: Logger

    public init(pipeline: String, connector: String, logger: Logger) {
        self.pipeline = pipeline
        self.connector = connector
        self.logger = logger
    }

    /// Before the wait of a retry. `problem` and `target` must already be free of secrets.
    public func record(reason: String, problem: String, target: String, attempt: Int, delay: Duration) {
        Counter(
            label: "runnel_request_retries_total",
            dimensions: [("pipeline", pipeline), ("connector", connector), ("reason", reason)]
        ).increment()
        logger.warning(
            "request failed; retrying",
            metadata: [
                "runnel.pipeline": "\(pipeline)", "runnel.connector": "\(connector)", "runnel.reason": "\(reason)",
                "runnel.target": "\(target)", "runnel.error": "\(problem)",
                "runnel.attempt": "\(attempt)", "runnel.delay_ms": "\(delay.nanoseconds / 1_000_000)",
            ])
    }

    /// The label for an HTTP status or a failure without one.
    public static func reason(status: Int?) -> String { status.map { "http_\($0)" } ?? "connection" }
}
