/// When a batch is complete: whichever limit is reached first.
public struct BatchingPolicy: Sendable, Hashable {
    /// Records per batch. Default 5,000 (batch); streaming specs use 10–100.
    public var maxRecords: Int
    /// Input bytes per batch. Default 8 MiB.
    public var maxBytes: Int
    /// How long a streaming extractor waits to fill a batch before flushing it. Default 100 ms.
    public var maxLinger: Duration

    public init(maxRecords: Int = 5_000, maxBytes: Int = 8 << 20, maxLinger: Duration = .milliseconds(100)) {
        self.maxRecords = maxRecords
        self.maxBytes = maxBytes
        self.maxLinger = maxLinger
    }
}

/// What to do with a record that fails a transformer or validator, or cannot be read.
public struct InvalidRecordPolicy: Sendable, Hashable {
    public enum Action: String, Sendable, Hashable, CaseIterable {
        /// Park it in the dead letter queue (the default).
        case deadLetter = "dead_letter"
        /// Count it and leave it out.
        case drop
        /// Stop the run with the data-contract exit code.
        case fail
    }

    public var action: Action
    /// The largest share of invalid records (over the run so far) the run accepts; above it, the
    /// run fails with the data-contract exit code without committing the batch that crossed it.
    public var maxInvalidRatio: Double?

    public init(action: Action = .deadLetter, maxInvalidRatio: Double? = nil) {
        self.action = action
        self.maxInvalidRatio = maxInvalidRatio
    }
}
