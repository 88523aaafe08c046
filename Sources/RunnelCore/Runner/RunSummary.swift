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

    enum CodingKeys: String, CodingKey {
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
