#if Tracing
    import Logging
    import Metrics
    import RunnelCore
    import ServiceLifecycle
    import Synchronization

    /// Sends finished spans to an OTLP/HTTP endpoint from a background task.
    ///
    /// The pipeline only ever appends to a bounded queue: when it is full the spans are dropped
    /// and counted (`runnel_trace_spans_dropped_total{reason="queue_full"}`), so a slow or absent
    /// collector can neither block a batch nor grow memory. A request that fails is not retried
    /// (its spans are counted with `reason="export_failed"`) and is logged at warning once per run
    /// of failures; the pipeline's outcome never depends on it.
    final class TraceExporter: Sendable {
        let settings: TraceSettings
        let client: PlainHTTPClient
        let logger: Logger
        private let state = Mutex(State())

        private struct State {
            var queue: [Span] = []
            var failing = false
        }

        init(settings: TraceSettings, endpoint: PlainHTTPClient.Endpoint, logger: Logger) {
            self.settings = settings
            var client = PlainHTTPClient(endpoint: endpoint)
            client.timeout = settings.timeout
            self.client = client
            self.logger = logger
        }

        /// Queues spans; never waits.
        func enqueue(_ spans: [Span]) {
            guard !spans.isEmpty else { return }
            let dropped = state.withLock { (s: inout State) -> Int in
                let room = max(0, settings.maxQueue - s.queue.count)
                s.queue += spans.prefix(room)
                return spans.count - min(room, spans.count)
            }
            if dropped > 0 { count(dropped, reason: "queue_full") }
        }

        /// Sends everything queued, `maxBatch` spans per request. Returns whether every request
        /// was accepted.
        @discardableResult
        func flush() async -> Bool {
            var ok = true
            while true {
                let chunk = state.withLock { (s: inout State) -> [Span] in
                    let n = min(settings.maxBatch, s.queue.count)
                    defer { s.queue.removeFirst(n) }
                    return Array(s.queue.prefix(n))
                }
                if chunk.isEmpty { return ok }
                ok = await send(chunk) && ok
            }
        }

        private func send(_ spans: [Span]) async -> Bool {
            let body = OTLPJSON.request(spans, serviceName: settings.serviceName, resource: settings.resource)
            var problem: String?
            do {
                let r = try await client.send(
                    method: "POST", path: "", body: body, contentType: "application/json", headers: settings.headers)
                if !(200..<300).contains(r.status) {
                    problem = "the collector answered \(r.status): \(String(r.body.prefix(300)).trimmingWhitespace())"
                }
            } catch {
                problem = RunnelError.classify(error).description
            }
            let wasFailing = state.withLock { (s: inout State) -> Bool in
                defer { s.failing = problem != nil }
                return s.failing
            }
            if let problem {
                count(spans.count, reason: "export_failed")
                if !wasFailing {
                    logger.warning(
                        "trace export failed; spans are dropped and the pipeline goes on",
                        metadata: [
                            "runnel.otlp_endpoint": "\(client.endpoint)", "runnel.error": "\(problem)",
                            "runnel.spans": "\(spans.count)",
                        ])
                }
                return false
            }
            if wasFailing { logger.info("trace export works again", metadata: ["runnel.otlp_endpoint": "\(client.endpoint)"]) }
            return true
        }

        private func count(_ n: Int, reason: String) {
            Counter(label: "runnel_trace_spans_dropped_total", dimensions: [("reason", reason)]).increment(by: n)
        }
    }

    /// Sends the queue every `OTEL_BSP_SCHEDULE_DELAY` while the run lasts. The last spans (the
    /// last batch, the run span) are sent by the command after the run ends (`flush()`), so that
    /// they do not depend on the order in which the service group stops its services.
    struct TraceExportService: Service {
        let exporter: TraceExporter

        func run() async throws {
            await cancelWhenGracefulShutdown {
                while !Task.isCancelled {
                    do { try await Task.sleep(for: exporter.settings.scheduleDelay) } catch { return }
                    await exporter.flush()
                }
            }
        }
    }
#endif
