/// Runs a pipeline: pull batches, transform, validate, park rejects, load, then commit.
///
/// The commit of a batch's position (checkpoint or broker acknowledgement) happens only after
/// the loader and the dead letter queue have durably accepted the batch. Extraction and the
/// record stages run one batch ahead of loading in a second task, so parsing and casting use one
/// core while the store uses the other; memory stays bounded by two batches' bytes (a group of
/// micro-batches committed together counts as one batch: see `CommitQueue`).
public struct PipelineRunner: Sendable {
    public let pipeline: Pipeline
    public let options: RunOptions
    public let observer: any PipelineObserver
    public let control: RunControl
    /// The run's span context when tracing is on (`RunOptions.traceSampleRatio`).
    let runTrace: TraceContext?

    public init(
        pipeline: Pipeline, options: RunOptions = .init(), observer: any PipelineObserver = ObserverGroup([]),
        control: RunControl = RunControl()
    ) {
        self.pipeline = pipeline
        self.options = options
        self.observer = observer
        self.control = control
        self.runTrace = options.traceSampleRatio.map { TraceContext.newTrace(sampleRatio: $0) }
    }

    var info: RunInfo {
        RunInfo(
            pipeline: pipeline.name, runID: options.runID, mode: options.mode, dryRun: options.dryRun,
            memoryLimit: pipeline.memory.limit, memoryWindow: pipeline.memory.bytes, trace: runTrace)
    }

    /// Runs to the end (batch mode), until stopped (streaming), or until a failure; never throws.
    /// A failure is reported in the summary with its exit code.
    public func run() async -> RunSummary {
        let clock = ContinuousClock()
        let started = clock.now
        var summary = RunSummary(
            pipeline: pipeline.name, runID: options.runID, mode: options.mode, dryRun: options.dryRun)
        summary.target = pipeline.loader.target
        summary.keyPolicy = pipeline.keyPolicy.description
        summary.deadLetterTarget = pipeline.deadLetters?.target
        summary.window = options.window
        summary.shard = options.shard
        observer.runStarted(info)
        do {
            try await execute(&summary)
            try judge(summary)
        } catch {
            let e = RunnelError.classify(error)
            summary.status = "failed"
            summary.error = e.description
            summary.errorCode = e.code.description
            summary.exitCode = e.code.exitCode
        }
        // Decided here, before the observers hear of the end, so that the log line, the
        // metrics and the summary carry the exit code the process ends with.
        if options.mode == .batch, control.isStopRequested, summary.status == "ok" {
            summary.status = "failed"
            summary.error = "stopped by a signal before the input was exhausted; the next run resumes from the checkpoint"
            summary.errorCode = RunnelError.Code.cancelled.description
            summary.exitCode = RunnelError.Code.cancelled.exitCode
        }
        summary.durationSeconds = (clock.now - started).seconds
        observer.runFinished(info, summary: summary)
        return summary
    }

    /// A batch run that read records and rejected every one of them did nothing useful: it fails
    /// with the data-contract exit code (its dead letters are stored) unless the spec accepts it
    /// by setting `validate.max_invalid_ratio` (1 accepts any share; below 1 the ratio decides).
    private func judge(_ summary: RunSummary) throws(RunnelError) {
        guard options.mode == .batch, pipeline.invalidRecords.maxInvalidRatio == nil,
            summary.read > 0, summary.rejected == summary.read
        else { return }
        let parked = options.dryRun ? "" : summary.deadLettered > 0 ? " (dead-lettered \(summary.deadLettered))" : " (dropped)"
        throw RunnelError(
            .dataContract,
            "every record read (\(summary.read)) was rejected\(parked) and nothing was loaded; "
                + "set validate.max_invalid_ratio: 1 to accept runs whose every record is rejected")
    }

    /// Incremental runs read and move the checkpoint; windowed runs (backfills) do neither.
    private var incremental: Bool { options.window == nil }

    /// The name the run's checkpoints are kept under: the pipeline's, or for a snapshot its own
    /// per shard, so that a snapshot neither moves nor reads the stream's position.
    var checkpointName: String {
        guard options.snapshot else { return pipeline.name }
        return "\(pipeline.name) snapshot" + (options.shard.map { " \($0)" } ?? "")
    }

    private func execute(_ summary: inout RunSummary) async throws {
        guard let lease = pipeline.lease, !options.dryRun else { return try await executeHoldingLease(&summary) }
        let handle = try await lease.acquire(pipeline: pipeline.name, scope: leaseScope)
        do {
            try await executeHoldingLease(&summary)
        } catch {
            await handle.release()
            throw error
        }
        await handle.release()
    }

    /// `incremental` for scheduled runs; the window and shard for backfills, so backfills of
    /// different windows run in parallel while two runs of the same one cannot.
    var leaseScope: String {
        if options.snapshot { return "snapshot" + (options.shard.map { " shard \($0)" } ?? "") }
        guard let window = options.window else { return "incremental" }
        return "window \(window)" + (options.shard.map { " shard \($0)" } ?? "")
    }

    private func executeHoldingLease(_ summary: inout RunSummary) async throws {
        var checkpoint: Checkpoint?
        if incremental, let store = pipeline.checkpoints {
            checkpoint = try await retrying("load checkpoint") { try await store.load(pipeline: checkpointName) }
        }
        summary.checkpoint = checkpoint?.position
        var batching = pipeline.batching
        batching.maxBytes = min(batching.maxBytes, pipeline.memory.batchBytes)
        var request = ExtractRequest(
            checkpoint: checkpoint, window: options.window, batching: batching, shard: options.shard,
            limit: options.limit, follow: options.mode == .streaming)
        request.maxRecordBytes = pipeline.memory.recordBytes
        request.pipeline = checkpointName
        if incremental { request.checkpoints = pipeline.checkpoints }
        let opened = request

        // Streaming runs into a target written by key commit the micro-batches that waited for
        // the previous commit as one group (see `CommitQueue`): at most 16 micro-batches, so
        // that a stalled target holds back reading (the source's lag shows it) instead of
        // absorbing the backlog into one huge group.
        let grouping =
            options.mode == .streaming && !pipeline.loader.key.isEmpty
            ? CommitQueue.Grouping(
                maxRecords: batching.maxRecords.multipliedReportingOverflow(by: CommitQueue.Grouping.maxBatches).partialValue,
                maxBytes: pipeline.memory.batchBytes, nextBatchBytes: batching.maxBytes)
            : nil
        let batches = CommitQueue(grouping: grouping)
        let inflight = InflightBytes()
        try await withThrowingTaskGroup(of: Int.self) { group in
            group.addTask { await produce(opened, into: batches, inflight: inflight) }
            var committer = Committer(runner: self, inflight: inflight)
            do {
                while let (batch, commit) = try await batches.next() {
                    try await committer.commit(batch, commit, summary: &summary)
                }
                try await committer.settleAcknowledgement()
            } catch {
                // What was committed is still acknowledged (or redelivered: nothing is lost).
                try? await committer.settleAcknowledgement()
                throw error
            }
            // The producer has finished the channel, so its count of late duplicates is ready.
            if let late = try await group.next(), late > 0 {
                summary.loaded -= late
                summary.superseded += late
                observer.supersededAtEnd(info, count: late)
            }
            if !options.dryRun, committer.prepared {
                try await retrying("finish load") { try await pipeline.loader.finish() }
            }
            group.cancelAll()
        }
    }

    /// Reads batches and runs the record stages, one batch ahead of the committer. Returns, once
    /// the input ended, the superseded records only the end of the run could count (`KeyTracker`).
    private func produce(
        _ request: ExtractRequest, into batches: CommitQueue, inflight: InflightBytes
    ) async -> Int {
        let reader: any BatchReader
        do {
            reader = try await retrying("open extractor") {
                guard options.snapshot else { return try await pipeline.extractor.open(request) }
                guard let source = pipeline.extractor as? any SnapshotSource else {
                    throw RunnelError.config("--snapshot needs a source that has one (postgres_cdc); this pipeline's has none")
                }
                guard options.window == nil else { throw RunnelError.config("--snapshot reads everything: give no --from/--to") }
                return try await source.openSnapshot(request)
            }
        } catch {
            batches.fail(error)
            return 0
        }
        let key = pipeline.loader.key
        let keys = key.isEmpty
            ? nil
            : KeyTracker(
                policy: pipeline.keyPolicy, key: key, perBatch: options.mode == .streaming,
                memoryBudget: min(options.keyMemoryBudget, pipeline.memory.keyBytes))
        do {
            let traceRatio = options.traceSampleRatio
            reading: while !control.isStopRequested, !Task.isCancelled {
                let readStarted: Timestamp? = traceRatio != nil ? .now : nil
                var batch: Batch
                let commit: BatchCommit
                switch try await retrying("extract", { try await reader.read() }) {
                case .end: break reading
                // The linger time passed without input: nothing to load, count or commit, and
                // the loop condition notices a stop request.
                case .idle: continue
                case .batch(let b, let c):
                    // An empty batch with nothing to commit is an idle read too.
                    if b.readCount == 0, c.isEmpty { continue }
                    (batch, commit) = (b, c)
                }
                if let traceRatio {
                    // A trace per batch: a streaming worker runs for weeks, and a batch is the unit
                    // that is read, stored and committed together. Batch spans link to the run's.
                    batch.trace.context = TraceContext.newTrace(sampleRatio: traceRatio)
                    batch.trace.startedAt = readStarted
                    batch.trace.step(.read, since: readStarted, records: batch.readCount, recordsOut: batch.recordCount)
                }
                // A batch whose every record was rejected while reading (a micro-batch holding one
                // malformed entry) has nothing to transform, and may lack the fields stages name.
                if batch.recordCount > 0 { try applyStages(to: &batch) }
                // On this side, one batch ahead of the loads, so that hashing keys costs the
                // loader nothing; batches are committed in the order they pass here.
                try keys?.apply(to: &batch)
                if !pipeline.loader.readsColumns { batch.makeRows() }
                observer.inflightChanged(info, bytes: inflight.add(batch.byteCount))
                await batches.send((batch, commit))
            }
            await reader.close()
            let late = try keys?.reconcile() ?? 0
            batches.finish()
            return late
        } catch {
            await reader.close()
            batches.fail(error)
            return 0
        }
    }

    /// Runs the transformers, then the validators, over a batch.
    public func applyStages(to batch: inout Batch) throws {
        for t in pipeline.transformers {
            if !t.readsColumns { batch.makeRows() }
            let started = batch.trace.clock
            let before = batch.recordCount
            do { try t.apply(to: &batch) } catch { throw RunnelError.classify(error).adding(context: "transform \(t.name)") }
            batch.trace.step(.transform, name: t.name, since: started, records: before, recordsOut: batch.recordCount)
        }
        for v in pipeline.validators {
            if !v.readsColumns { batch.makeRows() }
            let started = batch.trace.clock
            let before = batch.recordCount
            do { try v.apply(to: &batch) } catch { throw RunnelError.classify(error).adding(context: "validate \(v.name)") }
            batch.trace.step(.validate, name: v.name, since: started, records: before, recordsOut: batch.recordCount)
        }
    }

    /// Runs `body` under the pipeline's retry policy, reporting retries, and names the operation in the error.
    func retrying<T>(_ operation: String, _ body: () async throws -> T) async throws -> T {
        do {
            return try await pipeline.retry.run(body) { attempt, error, delay in
                observer.retrying(info, operation: operation, attempt: attempt, error: error, delay: delay)
            }
        } catch {
            let e = RunnelError.classify(error)
            if e.code == .cancelled { throw e }
            throw e.context.isEmpty ? e.adding(context: operation) : e
        }
    }
}

/// The consumer half of a run: decides what happens to rejects, loads, commits, and counts.
struct Committer {
    let runner: PipelineRunner
    let inflight: InflightBytes
    var prepared = false
    private var deadLettersPrepared = false
    private let clock = ContinuousClock()
    /// The last committed batch's acknowledgement, still in flight: the next batch's load goes
    /// ahead meanwhile, so the broker's round trip overlaps the target's work instead of adding
    /// to it. Acknowledgements still go one at a time, in commit order, each after its batch's
    /// commit: the next one waits for this one, and the run waits for the last.
    private var acknowledging: Task<Void, any Error>?

    /// Resolved once per run, not per batch.
    private let checkpointsInLoad: Bool

    init(runner: PipelineRunner, inflight: InflightBytes) {
        self.runner = runner
        self.inflight = inflight
        self.checkpointsInLoad = runner.pipeline.checkpointsInLoad
    }

    private var pipeline: Pipeline { runner.pipeline }
    private var options: RunOptions { runner.options }

    mutating func commit(_ batch: Batch, _ commit: BatchCommit, summary: inout RunSummary) async throws {
        var batch = batch
        do {
            try await store(&batch, commit, summary: &summary)
        } catch {
            // The step that was running is left open in the trace: the tracer ends it here.
            runner.observer.batchFailed(
                BatchFailure(
                    run: runner.info, sequence: summary.batches + 1, read: batch.readCount,
                    error: RunnelError.classify(error), trace: batch.trace))
            throw error
        }
    }

    private mutating func store(_ batch: inout Batch, _ commit: BatchCommit, summary: inout RunSummary) async throws {
        let started = clock.now
        let policy = pipeline.invalidRecords
        let rejectedByStages = batch.rejections.count
        summary.tally(batch)

        if rejectedByStages > 0, policy.action == .fail {
            let r = batch.rejections[0]
            countUncommitted(batch, into: &summary)
            throw RunnelError(
                .dataContract,
                "\(batch.origin(at: r.ordinal)): rejected by \(r.stage): \(r.error) (on_invalid: fail)")
        }
        if let maxRatio = policy.maxInvalidRatio {
            let read = summary.read + batch.readCount
            let invalid = summary.rejected + rejectedByStages
            if read > 0, Double(invalid) / Double(read) > maxRatio {
                let ratio = (Double(invalid) / Double(read) * 10_000).rounded() / 10_000
                countUncommitted(batch, into: &summary)
                throw RunnelError(
                    .dataContract,
                    "\(invalid) of \(read) records invalid (ratio \(ratio)) exceeds max_invalid_ratio \(maxRatio); "
                        + "this batch was not committed (its rejects are not dead-lettered), earlier batches were")
            }
        }

        let letters = policy.action == .deadLetter && !options.dryRun ? deadLetters(for: batch) : []
        let store = runner.options.window == nil ? pipeline.checkpoints : nil
        let plan = try CommitPlan(
            CommitPlan.Facts(
                records: batch.recordCount, deadLetters: letters.count, hasDeadLetterQueue: pipeline.deadLetters != nil,
                loadPrepared: prepared, deadLettersPrepared: deadLettersPrepared,
                checkpoints: store == nil ? [] : commit.entries(pipeline: runner.checkpointName), checkpointsInLoad: checkpointsInLoad,
                acknowledge: commit.acknowledgement != nil, dryRun: options.dryRun))
        try await execute(plan, batch: &batch, letters: letters, store: store, acknowledgement: commit.acknowledgement)

        let rejected = batch.rejections.count
        var byStage: [String: Int] = [:]
        for r in batch.rejections { byStage[r.stage, default: 0] += 1 }
        var byCode: [String: Int] = [:]
        let loaded = batch.recordCount - batch.supersededWritten
        let filtered = batch.readCount - rejected - loaded - batch.superseded
        summary.read += batch.readCount
        summary.loaded += loaded
        summary.superseded += batch.superseded
        summary.rejected += rejected
        summary.filtered += filtered
        summary.batches += 1
        // A dry run writes no dead letter: its rejects are counted as rejected only.
        let parked = policy.action == .deadLetter && !options.dryRun ? rejected : 0
        if parked > 0 { for r in batch.rejections { byCode[r.error.code, default: 0] += 1 } }
        summary.deadLettered += parked
        if policy.action != .deadLetter { summary.dropped += rejected }
        if let c = commit.checkpoint, runner.options.window == nil { summary.checkpoint = c.position }

        var loadedTimes: [Timestamp] = []
        if !batch.sourceTimes.isEmpty {
            loadedTimes = batch.ordinals.compactMap { $0 < batch.sourceTimes.count ? batch.sourceTimes[$0] : nil }
        }
        let inflightAtCommit = inflight.remove(batch.byteCount)
        runner.observer.batchCommitted(
            BatchEvent(
                run: runner.info, sequence: summary.batches, read: batch.readCount, loaded: loaded,
                filtered: filtered, superseded: batch.superseded, rejectedByStage: byStage,
                deadLettered: parked,
                dropped: policy.action == .deadLetter ? 0 : rejected, duration: clock.now - started,
                committedAt: .now, checkpoint: commit.checkpoint, progress: batch.progress, totals: summary,
                sourceTimes: loadedTimes, inflightBytes: inflightAtCommit, deadLetteredByCode: byCode,
                trace: batch.trace))
        runner.observer.inflightChanged(runner.info, bytes: inflightAtCommit - batch.byteCount)
    }

    /// Runs a commit plan's steps. A loader's refused records are parked before any position is
    /// saved, as the plan's `saveCheckpoints(onlyIfRefused:)` step expects.
    private mutating func execute(
        _ plan: CommitPlan, batch: inout Batch, letters: [DeadLetter], store: (any CheckpointStore)?,
        acknowledgement: (any Acknowledgement)?
    ) async throws {
        guard !plan.steps.isEmpty else { return }
        var refused = false
        // How the position was committed, for the commit span: in the load's transaction, by
        // the checkpoint store, by a broker acknowledgement.
        var how: [String] = []
        var commitStart: Timestamp?
        var commitBegun = false
        func beginCommit(_ batch: inout Batch) {
            guard !commitBegun else { return }
            commitStart = batch.trace.begin(.commit)
            commitBegun = true
        }
        for step in plan.steps {
            switch step {
            case .prepareLoad:
                let schema = batch.schema
                try await runner.retrying("prepare load") { try await pipeline.loader.prepare(schema: schema) }
                prepared = true
            case .prepareDeadLetters:
                guard let queue = pipeline.deadLetters else { continue }
                try await runner.retrying("prepare dead letters") { try await queue.prepare() }
                deadLettersPrepared = true
            case .writeDeadLetters:
                guard let queue = pipeline.deadLetters else { continue }
                // Idempotent by source position: a replay after a crash here parks nothing twice.
                let s = batch.trace.begin(.deadLetters, records: letters.count)
                try await runner.retrying("write dead letters") { try await queue.write(letters) }
                batch.trace.step(.deadLetters, since: s, records: letters.count)
            case .load(let records, let checkpoints):
                let s = batch.trace.begin(.load, records: records)
                let commit = checkpoints.isEmpty ? nil : CheckpointCommit(entries: checkpoints)
                let outcome = try await runner.retrying("load") { [batch] in try await pipeline.loader.load(batch, commit: commit) }
                batch.trace.step(.load, since: s, records: records, recordsOut: records - outcome.refused.count)
                if !outcome.refused.isEmpty {
                    refused = true
                    try await park(outcome, of: &batch)
                } else if !checkpoints.isEmpty {
                    how.append("load_transaction")
                }
            case .saveCheckpoints(let entries, let onlyIfRefused):
                beginCommit(&batch)
                guard let store, !onlyIfRefused || refused else { continue }
                for entry in entries {
                    try await runner.retrying("save checkpoint") { try await store.save(entry.checkpoint, pipeline: entry.key) }
                }
                how.append("checkpoint_store")
            case .acknowledge:
                beginCommit(&batch)
                guard let acknowledgement else { continue }
                try await settleAcknowledgement()
                let runner = self.runner
                acknowledging = Task { try await runner.retrying("acknowledge") { try await acknowledgement.acknowledge() } }
                how.append("acknowledge")
            }
        }
        beginCommit(&batch)
        batch.trace.step(.commit, name: how.isEmpty ? "none" : how.joined(separator: "+"), since: commitStart)
    }

    /// Waits for the acknowledgement in flight, if any; throws its failure.
    mutating func settleAcknowledgement() async throws {
        guard let task = acknowledging else { return }
        acknowledging = nil
        try await task.value
    }

    /// Counts a batch the run stops on without committing it: what was read and rejected is
    /// said in the summary, and the records that passed are `uncommitted`, so the counts add up.
    private func countUncommitted(_ batch: Batch, into summary: inout RunSummary) {
        let rejected = batch.rejections.count
        let passed = batch.recordCount
        summary.read += batch.readCount
        summary.rejected += rejected
        summary.uncommitted += passed
        summary.filtered += batch.readCount - rejected - passed
        runner.observer.inflightChanged(runner.info, bytes: inflight.discard(batch.byteCount))
    }

    /// Moves the records a loader refused into the batch's rejections and handles them per
    /// `on_invalid`, as if a validator had rejected them.
    private func park(_ refusal: LoadOutcome, of batch: inout Batch) async throws {
        let stage = "load"
        let refused = Dictionary(refusal.refused.map { ($0.ordinal, $0.error) }, uniquingKeysWith: { a, _ in a })
        var added: [Rejection] = []
        for record in batch.records {
            if let error = refused[record.ordinal] { added.append(Rejection(ordinal: record.ordinal, stage: stage, error: error)) }
        }
        batch.records.removeAll { refused[$0.ordinal] != nil }
        batch.rejections += added
        guard let first = added.first else { return }
        switch pipeline.invalidRecords.action {
        case .fail:
            throw RunnelError(
                .dataContract,
                "\(batch.origin(at: first.ordinal)): refused by the target: \(first.error) (on_invalid: fail)")
        case .drop:
            return
        case .deadLetter:
            guard let queue = pipeline.deadLetters else {
                throw RunnelError.config("on_invalid is dead_letter but the pipeline has no dead_letter queue")
            }
            var only = batch
            only.rejections = added
            let letters = deadLetters(for: only)
            let s = batch.trace.begin(.deadLetters, records: letters.count)
            try await runner.retrying("write dead letters") { try await queue.write(letters) }
            batch.trace.step(.deadLetters, since: s, records: letters.count)
        }
    }

    private func deadLetters(for batch: Batch) -> [DeadLetter] {
        let now = Timestamp.now
        return batch.rejections.map { r in
            let source = batch.source(at: r.ordinal)
            let record = source.values.isEmpty ? nil : Object(keys: Array(batch.sourceSchema.fields.prefix(source.values.count)), values: Array(source.values.prefix(batch.sourceSchema.count)))
            return DeadLetter(
                pipeline: pipeline.name, runID: options.runID, stage: r.stage, errorCode: r.error.code,
                message: r.error.message, field: r.error.field, attempts: 1, origin: source.origin, record: record,
                raw: source.raw, time: now)
        }
    }
}
