public import Logging

/// Logs run start, each committed batch (at debug), retries (warning) and the end of the run.
/// Metadata keys are namespaced (`runnel.pipeline`, `runnel.run_id`, `runnel.batch`).
public struct LoggingObserver: PipelineObserver {
    public var logger: Logger

    public init(logger: Logger) { self.logger = logger }

    private func meta(_ run: RunInfo) -> Logger.Metadata {
        ["runnel.pipeline": "\(run.pipeline)", "runnel.run_id": "\(run.runID)", "runnel.mode": "\(run.mode.rawValue)"]
    }

    public func runStarted(_ run: RunInfo) {
        logger.info("run started", metadata: meta(run).merging(["runnel.dry_run": "\(run.dryRun)"]) { $1 })
    }

    public func batchCommitted(_ e: BatchEvent) {
        var m = meta(e.run)
        m["runnel.batch"] = "\(e.sequence)"
        m["runnel.read"] = "\(e.read)"
        m["runnel.loaded"] = "\(e.loaded)"
        m["runnel.superseded"] = "\(e.superseded)"
        m["runnel.filtered"] = "\(e.filtered)"
        m["runnel.rejected"] = "\(e.rejectedByStage.values.reduce(0, +))"
        m["runnel.duration_ms"] = "\(e.duration.nanoseconds / 1_000_000)"
        if let c = e.checkpoint { m["runnel.checkpoint"] = "\(c.position)" }
        logger.debug("batch committed", metadata: m)
    }

    public func retrying(_ run: RunInfo, operation: String, attempt: Int, error: RunnelError, delay: Duration) {
        var m = meta(run)
        m["runnel.operation"] = "\(operation)"
        m["runnel.attempt"] = "\(attempt)"
        m["runnel.retry_in_ms"] = "\(delay.nanoseconds / 1_000_000)"
        m["runnel.error"] = "\(error.description)"
        logger.warning("transient failure, retrying", metadata: m)
    }

    public func runFinished(_ run: RunInfo, summary s: RunSummary) {
        var m = meta(run)
        m["runnel.read"] = "\(s.read)"
        m["runnel.loaded"] = "\(s.loaded)"
        m["runnel.superseded"] = "\(s.superseded)"
        m["runnel.filtered"] = "\(s.filtered)"
        m["runnel.rejected"] = "\(s.rejected)"
        if s.uncommitted > 0 { m["runnel.uncommitted"] = "\(s.uncommitted)" }
        m["runnel.dead_lettered"] = "\(s.deadLettered)"
        if let w = s.window { m["runnel.window"] = "\(w)" }
        if let top = s.topRejections.first { m["runnel.top_rejection"] = "\(top.line)" }
        m["runnel.duration_s"] = "\(s.durationSeconds)"
        m["runnel.exit_code"] = "\(s.exitCode)"
        if let e = s.error {
            m["runnel.error"] = "\(e)"
            logger.error("run failed", metadata: m)
        } else {
            logger.info("run finished", metadata: m)
        }
    }
}
