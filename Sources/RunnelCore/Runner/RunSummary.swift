/// What a run did, printed at the end and as JSON with `--summary-json`.
public struct RunSummary: Sendable, Codable, Hashable {
    public var pipeline: String
    public var runID: String
    public var mode: RunOptions.Mode
    public var dryRun: Bool
    /// Records read from the source, including those that could not be parsed.
    public var read: Int = 0
    /// Records written to the target (or that would be, in a dry run).
    public var loaded: Int = 0
    /// Records rejected by the extractor, a transformer or a validator.
    public var rejected: Int = 0
    public var deadLettered: Int = 0
    /// Rejected records left out because `on_invalid` is `drop`.
    public var dropped: Int = 0
    /// Records a `filter` transformer left out (not an error).
    public var filtered: Int = 0
    /// Records that passed every stage in a batch the run stopped on (`max_invalid_ratio`,
    /// `on_invalid: fail`), so neither loaded nor rejected: their batch was not committed.
    /// With it, `read = loaded + superseded + filtered + rejected + uncommitted` in every run.
    public var uncommitted: Int = 0
    /// The most frequent rejections of the run (stage, code, field), most frequent first, each
    /// with one example, so that a failed run says why from its summary alone.
    public var topRejections: [RejectionTally] = []
    /// The backfill window `[from, to)` and shard, when the run had one.
    public var window: Window?
    public var shard: Shard?
    /// Records whose key another record of the run had, so the target holds one row for them
    /// (`key_policy`; not counted in `loaded`).
    public var superseded: Int = 0
    /// The run's `key_policy`, which says which record of a key won.
    public var keyPolicy: String = KeyPolicy.lastWins.description
    public var batches: Int = 0
    public var durationSeconds: Double = 0
    /// The last committed checkpoint.
    public var checkpoint: String?
    /// Where records went, where rejects went.
    public var target: String = ""
    public var deadLetterTarget: String?
    /// "ok" or "failed".
    public var status: String = "ok"
    public var error: String?
    public var errorCode: String?
    public var exitCode: Int32 = 0

    public init(pipeline: String, runID: String, mode: RunOptions.Mode, dryRun: Bool) {
        self.pipeline = pipeline
        self.runID = runID
        self.mode = mode
        self.dryRun = dryRun
    }

    public var recordsPerSecond: Double { durationSeconds > 0 ? Double(read) / durationSeconds : 0 }

    /// How many distinct (stage, code, field) tallies a summary keeps, and how many it shows.
    static let tallyLimit = 64
    public static let shownRejections = 5

    /// Counts a batch's rejections into `topRejections`.
    public mutating func tally(_ batch: Batch) {
        guard !batch.rejections.isEmpty else { return }
        for r in batch.rejections {
            if let i = topRejections.firstIndex(where: { $0.code == r.error.code && $0.stage == r.stage && $0.field == r.error.field }) {
                topRejections[i].count += 1
                continue
            }
            guard topRejections.count < Self.tallyLimit else { continue }
            var value: String?
            // One record as read (`source(at:)`), not every record (`sources` materializes a
            // columnar batch's input whole).
            let readable = r.ordinal < batch.readCount
            let source = readable ? batch.source(at: r.ordinal) : nil
            if let field = r.error.field, let source,
                let i = batch.sourceSchema.fields.firstIndex(of: field), i < source.values.count
            {
                let v = source.values[i]
                value = v.isNull ? "null" : String(v.text.prefix(80))
            }
            topRejections.append(
                RejectionTally(
                    stage: r.stage, code: r.error.code, field: r.error.field, count: 1, value: value,
                    example: String(r.error.message.prefix(200)), origin: source.map { "\($0.origin)" }))
        }
        topRejections.sort { $0.count > $1.count }
    }

    enum CodingKeys: String, CodingKey {
        case uncommitted, topRejections = "top_rejections", windowFrom = "window_from", windowTo = "window_to", shard
        case pipeline, runID = "run_id", mode, dryRun = "dry_run", read, loaded, rejected
        case deadLettered = "dead_lettered", dropped, filtered, superseded, keyPolicy = "key_policy", batches, durationSeconds = "duration_seconds"
        case checkpoint, target, deadLetterTarget = "dead_letter_target", status, error, errorCode = "error_code"
        case exitCode = "exit_code", recordsPerSecond = "records_per_second"
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(pipeline, forKey: .pipeline)
        try c.encode(runID, forKey: .runID)
        try c.encode(mode, forKey: .mode)
        try c.encode(dryRun, forKey: .dryRun)
        try c.encode(read, forKey: .read)
        try c.encode(loaded, forKey: .loaded)
        try c.encode(rejected, forKey: .rejected)
        try c.encode(deadLettered, forKey: .deadLettered)
        try c.encode(dropped, forKey: .dropped)
        try c.encode(filtered, forKey: .filtered)
        try c.encode(superseded, forKey: .superseded)
        try c.encode(uncommitted, forKey: .uncommitted)
        try c.encode(topRejections, forKey: .topRejections)
        try c.encodeIfPresent(window?.from, forKey: .windowFrom)
        try c.encodeIfPresent(window?.to, forKey: .windowTo)
        try c.encodeIfPresent(shard?.description, forKey: .shard)
        try c.encode(keyPolicy, forKey: .keyPolicy)
        try c.encode(batches, forKey: .batches)
        try c.encode(durationSeconds, forKey: .durationSeconds)
        try c.encode(recordsPerSecond, forKey: .recordsPerSecond)
        try c.encodeIfPresent(checkpoint, forKey: .checkpoint)
        try c.encode(target, forKey: .target)
        try c.encodeIfPresent(deadLetterTarget, forKey: .deadLetterTarget)
        try c.encode(status, forKey: .status)
        try c.encodeIfPresent(error, forKey: .error)
        try c.encodeIfPresent(errorCode, forKey: .errorCode)
        try c.encode(exitCode, forKey: .exitCode)
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        pipeline = try c.decode(String.self, forKey: .pipeline)
        runID = try c.decode(String.self, forKey: .runID)
        mode = try c.decode(RunOptions.Mode.self, forKey: .mode)
        dryRun = try c.decode(Bool.self, forKey: .dryRun)
        read = try c.decode(Int.self, forKey: .read)
        loaded = try c.decode(Int.self, forKey: .loaded)
        rejected = try c.decode(Int.self, forKey: .rejected)
        deadLettered = try c.decode(Int.self, forKey: .deadLettered)
        dropped = try c.decode(Int.self, forKey: .dropped)
        filtered = try c.decode(Int.self, forKey: .filtered)
        superseded = try c.decodeIfPresent(Int.self, forKey: .superseded) ?? 0
        uncommitted = try c.decodeIfPresent(Int.self, forKey: .uncommitted) ?? 0
        topRejections = try c.decodeIfPresent([RejectionTally].self, forKey: .topRejections) ?? []
        let from = try c.decodeIfPresent(String.self, forKey: .windowFrom)
        let to = try c.decodeIfPresent(String.self, forKey: .windowTo)
        window = from == nil && to == nil ? nil : Window(from: from, to: to)
        if let text = try c.decodeIfPresent(String.self, forKey: .shard) {
            let parts = text.split(separator: "/").compactMap { Int($0) }
            shard = parts.count == 2 ? Shard(index: parts[0], count: parts[1]) : nil
        }
        keyPolicy = try c.decodeIfPresent(String.self, forKey: .keyPolicy) ?? KeyPolicy.lastWins.description
        batches = try c.decode(Int.self, forKey: .batches)
        durationSeconds = try c.decode(Double.self, forKey: .durationSeconds)
        checkpoint = try c.decodeIfPresent(String.self, forKey: .checkpoint)
        target = try c.decode(String.self, forKey: .target)
        deadLetterTarget = try c.decodeIfPresent(String.self, forKey: .deadLetterTarget)
        status = try c.decode(String.self, forKey: .status)
        error = try c.decodeIfPresent(String.self, forKey: .error)
        errorCode = try c.decodeIfPresent(String.self, forKey: .errorCode)
        exitCode = try c.decode(Int32.self, forKey: .exitCode)
    }
}

/// How often one kind of rejection happened in a run, with one example.
public struct RejectionTally: Sendable, Codable, Hashable {
    /// `extract`, `transform:cast`, `validate`, `load`.
    public var stage: String
    public var code: String
    public var field: String?
    public var count: Int
    /// The field's value in the first such record, as read (nil when the field was not read).
    public var value: String?
    /// The first such record's error message.
    public var example: String
    /// Where the first such record came from (file and line, entry id).
    public var origin: String?

    public init(stage: String, code: String, field: String?, count: Int, value: String?, example: String, origin: String?) {
        self.stage = stage
        self.code = code
        self.field = field
        self.count = count
        self.value = value
        self.example = example
        self.origin = origin
    }

    /// `cast_failed ×5,000 at transform:cast, field time_hour, e.g. '2013-01-01 10:00:00' (cannot cast …)`.
    public var line: String {
        let digits = String(count)
        var grouped = ""
        for (i, c) in digits.enumerated() {
            if i > 0, (digits.count - i) % 3 == 0 { grouped.append(",") }
            grouped.append(c)
        }
        var s = "\(code) ×\(grouped) at \(stage)"
        if let field { s += ", field \(field)" }
        if let value { s += ", e.g. '\(value)'" }
        s += ": \(example)"
        if let origin { s += " (\(origin))" }
        return s
    }
}
