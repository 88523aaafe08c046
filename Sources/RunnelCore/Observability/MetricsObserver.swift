import Metrics

/// Feeds swift-metrics with the metric names both binaries share (see README, "Metrics").
public struct MetricsObserver: PipelineObserver {
    public init() {}

    private func dims(_ run: RunInfo) -> [(String, String)] { [("pipeline", run.pipeline)] }

    public func runStarted(_ run: RunInfo) {
        // Touch the counters so they are exported as 0 before the first batch.
        Counter(label: "runnel_records_read_total", dimensions: dims(run)).increment(by: 0)
        Counter(label: "runnel_records_loaded_total", dimensions: dims(run)).increment(by: 0)
        Counter(label: "runnel_dead_letters_total", dimensions: dims(run)).increment(by: 0)
        Gauge(label: "runnel_memory_limit_bytes", dimensions: dims(run)).record(run.memoryLimit ?? 0)
        Gauge(label: "runnel_memory_window_bytes", dimensions: dims(run)).record(run.memoryWindow)
        Gauge(label: "runnel_inflight_bytes", dimensions: dims(run)).record(0)
    }

    public func batchCommitted(_ e: BatchEvent) {
        let d = dims(e.run)
        Counter(label: "runnel_records_read_total", dimensions: d).increment(by: e.read)
        Counter(label: "runnel_records_loaded_total", dimensions: d).increment(by: e.loaded)
        Counter(label: "runnel_records_filtered_total", dimensions: d).increment(by: e.filtered)
        Counter(label: "runnel_records_superseded_total", dimensions: d).increment(by: e.superseded)
        for (stage, n) in e.rejectedByStage {
            Counter(label: "runnel_records_rejected_total", dimensions: d + [("stage", stage)]).increment(by: n)
        }
        Counter(label: "runnel_dead_letters_total", dimensions: d).increment(by: e.deadLettered)
        // By rejection code, under a name of its own: a breakdown beside the total under one name
        // would double every `sum`, and a code's series appears only at its first dead letter
        // (`increase()` cannot see that one), so alerts stay on the total, touched at 0 at start.
        // The codes are the built-in ones (`cast_failed`, `required`, `malformed_row`, …) and the
        // `code:` of the spec's expression rules, so the label set is fixed by the binary and the
        // spec, never by the data. A code that is not a plain name is `other`.
        for (code, n) in e.deadLetteredByCode.sorted(by: { $0.key < $1.key }) {
            Counter(label: "runnel_dead_letters_by_code_total", dimensions: d + [("code", Self.codeLabel(code))])
                .increment(by: n)
        }
        Counter(label: "runnel_batches_total", dimensions: d).increment()
        Metrics.Timer(label: "runnel_batch_duration_seconds", dimensions: d, preferredDisplayUnit: .seconds)
            .recordNanoseconds(e.duration.nanoseconds)
        Recorder(label: "runnel_batch_records", dimensions: d, aggregate: true).record(e.read)
        Gauge(label: "runnel_last_commit_timestamp_seconds", dimensions: d).record(e.committedAt.secondsSinceEpoch)
        if !e.sourceTimes.isEmpty {
            let latency = Metrics.Timer(label: "runnel_end_to_end_latency_seconds", dimensions: d, preferredDisplayUnit: .seconds)
            for t in e.sourceTimes {
                latency.recordNanoseconds(max(0, (e.committedAt.microseconds - t.microseconds) * 1_000))
            }
        }
    }

    public func inflightChanged(_ run: RunInfo, bytes: Int) {
        Gauge(label: "runnel_inflight_bytes", dimensions: dims(run)).record(bytes)
    }

    /// `code` when it is a plain lower-case name of at most 64 characters, else `other`.
    static func codeLabel(_ code: String) -> String {
        let u = code.utf8
        guard (1...64).contains(u.count), let first = u.first, (0x61...0x7A).contains(first),
            u.allSatisfy({ (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) || $0 == 0x5F })
        else { return "other" }
        return code
    }

    public func supersededAtEnd(_ run: RunInfo, count: Int) {
        // runnel_records_loaded_total counted these with their batches; a counter cannot go back.
        Counter(label: "runnel_records_superseded_total", dimensions: dims(run)).increment(by: count)
    }

    public func retrying(_ run: RunInfo, operation: String, attempt: Int, error: RunnelError, delay: Duration) {
        Counter(label: "runnel_retries_total", dimensions: dims(run) + [("operation", operation)]).increment()
    }

    public func runFinished(_ run: RunInfo, summary: RunSummary) {
        Counter(label: "runnel_runs_total", dimensions: dims(run) + [("status", summary.status)]).increment()
    }
}

extension Duration {
    /// Whole nanoseconds, saturating.
    public var nanoseconds: Int64 {
        let (s, atto) = components
        return s.multipliedReportingOverflow(by: 1_000_000_000).partialValue + atto / 1_000_000_000
    }

    public var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}

extension Duration {
    /// `250ms`, `20s`, `5m`, `1h`, or a number of seconds; nil for anything else (or a negative).
    /// Used by the spec and by command-line flags, so both accept the same forms.
    public init?(text: String) {
        let s = text.trimmingWhitespace()
        for (suffix, scale) in [("ms", 0.001), ("s", 1.0), ("m", 60.0), ("h", 3600.0)] where s.hasSuffix(suffix) {
            guard let v = Double(s.dropLast(suffix.count)), v >= 0 else { return nil }
            self = .milliseconds(Int64(v * scale * 1000))
            return
        }
        guard let v = Double(s), v >= 0 else { return nil }
        self = .milliseconds(Int64(v * 1000))
    }
}
