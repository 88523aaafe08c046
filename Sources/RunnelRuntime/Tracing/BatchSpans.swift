#if Tracing
    import RunnelCore

    /// The span tree of a batch, made from what the runner recorded on it:
    ///
    ///     runnel.batch                     (root of the batch's own trace; links: the run span and
    ///     ├── runnel.read                   the contexts the input arrived with)
    ///     ├── runnel.transform <name> …    (one per transformer)
    ///     ├── runnel.validate <name> …     (one per validator)
    ///     ├── runnel.dead_letters          (when the batch had rejects to park)
    ///     ├── runnel.load
    ///     └── runnel.commit                (checkpoint store, load transaction or acknowledgement)
    enum BatchSpans {
        static func committed(_ e: BatchEvent) -> [Span] {
            guard let context = e.trace.context, context.sampled else { return [] }
            let start = e.trace.startedAt ?? e.trace.steps.first?.start ?? e.committedAt
            var root = Span(context: context, name: "runnel.batch", start: start, end: e.committedAt)
            common(&root, e.run, sequence: e.sequence, trace: e.trace)
            root.set("runnel.records.read", e.read)
            root.set("runnel.records.loaded", e.loaded)
            root.set("runnel.records.filtered", e.filtered)
            root.set("runnel.records.rejected", e.rejectedByStage.values.reduce(0, +))
            root.set("runnel.records.dead_lettered", e.deadLettered)
            root.set("runnel.records.dropped", e.dropped)
            root.set("runnel.records.superseded", e.superseded)
            root.set("runnel.position", e.checkpoint?.position)
            return [root] + children(of: context, e.trace.steps)
        }

        static func failed(_ f: BatchFailure, at end: Timestamp) -> [Span] {
            guard let context = f.trace.context, context.sampled else { return [] }
            let start = f.trace.startedAt ?? f.trace.steps.first?.start ?? end
            var root = Span(context: context, name: "runnel.batch", start: start, end: end)
            common(&root, f.run, sequence: f.sequence, trace: f.trace)
            root.set("runnel.records.read", f.read)
            root.set("runnel.error.code", f.error.code.description)
            root.status = .error(f.error.description)
            var steps = f.trace.steps
            if var open = f.trace.open {
                open.end = end
                open.error = f.error.description
                steps.append(open)
            }
            return [root] + children(of: context, steps)
        }

        static func run(_ run: RunInfo, summary: RunSummary, start: Timestamp, end: Timestamp) -> Span? {
            guard let context = run.trace, context.sampled else { return nil }
            var span = Span(context: context, name: "runnel.run", start: start, end: end)
            span.set("runnel.pipeline", run.pipeline)
            span.set("runnel.run_id", run.runID)
            span.set("runnel.mode", run.mode.rawValue)
            span.set("runnel.dry_run", run.dryRun)
            span.set("runnel.batches", summary.batches)
            span.set("runnel.records.read", summary.read)
            span.set("runnel.records.loaded", summary.loaded)
            span.set("runnel.records.rejected", summary.rejected)
            span.set("runnel.records.dead_lettered", summary.deadLettered)
            span.set("runnel.exit_code", Int(summary.exitCode))
            span.set("runnel.position", summary.checkpoint)
            if summary.exitCode != 0 { span.status = .error(summary.error ?? summary.status) }
            return span
        }

        private static func common(_ root: inout Span, _ run: RunInfo, sequence: Int, trace: BatchTrace) {
            root.set("runnel.pipeline", run.pipeline)
            root.set("runnel.run_id", run.runID)
            root.set("runnel.mode", run.mode.rawValue)
            root.set("runnel.batch", sequence)
            // The run's span first, then the input's contexts.
            root.links = (run.trace.map { [$0] } ?? []) + trace.links
            if trace.linksDropped > 0 { root.set("runnel.links_dropped", trace.linksDropped) }
        }

        private static func children(of parent: TraceContext, _ steps: [BatchTrace.Step]) -> [Span] {
            steps.map { step in
                let name = step.kind == .transform || step.kind == .validate
                    ? "runnel.\(step.kind.rawValue) \(step.name ?? "")" : "runnel.\(step.kind.rawValue)"
                var span = Span(
                    context: .newSpan(in: parent), parentSpanID: parent.spanID, name: name, start: step.start, end: step.end)
                span.set("runnel.step", step.kind.rawValue)
                if step.kind == .commit { span.set("runnel.commit.method", step.name) } else { span.set("runnel.stage", step.name) }
                span.set("runnel.records.in", step.records)
                span.set("runnel.records.out", step.recordsOut)
                if let error = step.error { span.status = .error(error) }
                return span
            }
        }
    }
#endif
