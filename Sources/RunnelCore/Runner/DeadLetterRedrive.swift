/// Sends a pipeline's dead letters through its stages and loader again, after a fix (a
/// corrected spec, a loosened rule, a repaired upstream). Letters whose record now passes are
/// loaded and leave the queue; the others stay, with the new error and one more attempt.
public struct DeadLetterRedrive: Sendable {
    public let pipeline: Pipeline
    public let runID: String

    public init(pipeline: Pipeline, runID: String = RunOptions.makeRunID()) {
        self.pipeline = pipeline
        self.runID = runID
    }

    public struct Result: Sendable, Hashable, Codable {
        public var examined = 0
        /// Loaded into the target and removed from the queue.
        public var loaded = 0
        /// Left out by a filter this time, so removed from the queue without loading.
        public var filtered = 0
        /// Still rejected; kept with the new error.
        public var stillRejected = 0
    }

    public func run(dryRun: Bool = false) async throws -> Result {
        guard let queue = pipeline.deadLetters else {
            throw RunnelError.config("the pipeline has no dead_letter queue to redrive")
        }
        let letters = try await queue.list(pipeline: pipeline.name, limit: nil)
        var result = Result()
        result.examined = letters.count
        guard !letters.isEmpty else { return result }

        // Rebuild each letter's record: as read, or parsed again from its raw input.
        var groups: [[String]: [(DeadLetter, [Value])]] = [:]
        var failed: [DeadLetter] = []
        for letter in letters {
            if let record = letter.record {
                groups[record.keys, default: []].append((letter, record.values))
                continue
            }
            do {
                if let raw = letter.raw, let (schema, values) = try pipeline.extractor.reparse(raw: raw, origin: letter.origin) {
                    groups[schema.fields, default: []].append((letter, values))
                } else {
                    failed.append(again(letter, RecordError(code: letter.errorCode, message: "no record or raw input to redrive")))
                }
            } catch {
                failed.append(again(letter, error))
            }
        }

        let runner = PipelineRunner(pipeline: pipeline, options: RunOptions(runID: runID))
        var passed: [String] = []
        var prepared = false
        for (fields, members) in groups.sorted(by: { $0.key.joined() < $1.key.joined() }) {
            var batch = Batch(schema: Schema(fields), rows: members.map(\.1), origins: members.map(\.0.origin))
            try runner.applyStages(to: &batch)
            for r in batch.rejections {
                failed.append(again(members[r.ordinal].0, r.error, stage: r.stage))
            }
            var refused: [Int: RecordError] = [:]
            if !dryRun, !batch.records.isEmpty {
                if !prepared {
                    try await pipeline.loader.prepare(schema: batch.schema)
                    prepared = true
                }
                let outcome = try await runner.retrying("load") { [batch] in try await pipeline.loader.load(batch, commit: nil) }
                // Records the target refused (a webhook's 422) stay in the queue with its answer.
                for r in outcome.refused where refused[r.ordinal] == nil { refused[r.ordinal] = r.error }
            }
            let loadedOrdinals = Set(batch.records.map(\.ordinal))
            let rejectedOrdinals = Set(batch.rejections.map(\.ordinal))
            for (i, member) in members.enumerated() where !rejectedOrdinals.contains(i) {
                if let error = refused[i] {
                    failed.append(again(member.0, error, stage: "load"))
                    continue
                }
                passed.append(member.0.key)
                if loadedOrdinals.contains(i) { result.loaded += 1 } else { result.filtered += 1 }
            }
        }
        result.stillRejected = failed.count
        if !dryRun {
            // Loaded first, then removed: a crash in between leaves the letter to be redriven
            // again, and the idempotent load makes that harmless.
            if prepared { try await pipeline.loader.finish() }
            try await queue.remove(pipeline: pipeline.name, keys: passed)
            try await queue.write(failed)
        }
        return result
    }

    private func again(_ letter: DeadLetter, _ error: RecordError, stage: String? = nil) -> DeadLetter {
        var l = letter
        l.attempts += 1
        l.errorCode = error.code
        l.message = error.message
        l.field = error.field
        l.stage = stage ?? l.stage
        l.runID = runID
        l.time = .now
        return l
    }
}
