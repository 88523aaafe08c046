#if Tracing
    import RunnelCore
    import Synchronization

    /// Turns the runner's events into spans and queues them for export: the one place where
    /// tracing hangs onto the run (no connector makes spans).
    final class TracingObserver: PipelineObserver, Sendable {
        let exporter: TraceExporter
        private let startedAt = Mutex<Timestamp?>(nil)

        init(exporter: TraceExporter) { self.exporter = exporter }

        func runStarted(_ run: RunInfo) { startedAt.withLock { $0 = .now } }

        func batchCommitted(_ event: BatchEvent) { exporter.enqueue(BatchSpans.committed(event)) }

        func batchFailed(_ event: BatchFailure) { exporter.enqueue(BatchSpans.failed(event, at: .now)) }

        func runFinished(_ run: RunInfo, summary: RunSummary) {
            let end = Timestamp.now
            let start = startedAt.withLock { $0 } ?? end
            if let span = BatchSpans.run(run, summary: summary, start: start, end: end) { exporter.enqueue([span]) }
        }
    }
#endif
