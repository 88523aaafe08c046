/// How to commit a batch once it is stored: the positions to save and the broker
/// acknowledgement to send. A reader returns it beside the batch (`ReadResult`), so the batch
/// holds only what was read and what the stages made of it, and a new kind of source (change
/// data capture, parallel loads) adds to this value rather than to `Batch`.
public struct BatchCommit: Sendable {
    /// The position reading resumes from after this batch, saved once the batch is stored.
    public var checkpoint: Checkpoint?
    /// Positions of the parts of the source this batch came from (a Kafka partition's next
    /// offset), by part name, saved under `CheckpointCommit.key(pipeline:part:)` — in the
    /// loader's transaction where the loader writes the checkpoints.
    public var parts: [String: Checkpoint]
    /// What each part's stored position must still be for this batch to be written (the
    /// position it was read from): a worker whose part was taken over meanwhile is fenced off
    /// instead of moving the part's position backwards. Checked in the loader's transaction.
    public var partReplaces: [String: StoredPosition]
    /// Sent after the batch is stored (a broker's ack); nil for sources without acknowledgements.
    public var acknowledgement: (any Acknowledgement)?

    public init(
        checkpoint: Checkpoint? = nil, parts: [String: Checkpoint] = [:], partReplaces: [String: StoredPosition] = [:],
        acknowledgement: (any Acknowledgement)? = nil
    ) {
        self.checkpoint = checkpoint
        self.parts = parts
        self.partReplaces = partReplaces
        self.acknowledgement = acknowledgement
    }

    /// Nothing to save and nothing to acknowledge.
    public var isEmpty: Bool { checkpoint == nil && parts.isEmpty && acknowledgement == nil }

    /// The checkpoint store entries of this commit under `pipeline`: its own position first,
    /// then each part's in name order (a stable order, so transactions take locks alike).
    public func entries(pipeline: String) -> [CheckpointCommit.Entry] {
        var entries: [CheckpointCommit.Entry] = []
        if let checkpoint { entries.append(.init(key: pipeline, checkpoint: checkpoint)) }
        for part in parts.keys.sorted() {
            entries.append(
                .init(
                    key: CheckpointCommit.key(pipeline: pipeline, part: part), checkpoint: parts[part]!,
                    replaces: partReplaces[part]))
        }
        return entries
    }
}

/// What one `BatchReader.read()` returns.
public enum ReadResult: Sendable {
    /// Records read (possibly none, when only the position moved) and how to commit them.
    case batch(Batch, BatchCommit)
    /// A streaming reader's linger time passed without input: nothing to load or commit; the
    /// runner asks again (and notices a stop request meanwhile).
    case idle
    /// The input is exhausted (batch mode), or the reader was closed.
    case end

    /// A batch with its commit, for the common reader's return.
    public static func batch(_ batch: Batch, checkpoint: Checkpoint?) -> ReadResult {
        .batch(batch, BatchCommit(checkpoint: checkpoint))
    }

    /// The batch read, or nil for `idle` and `end` (for tests and previews).
    public var batch: Batch? {
        if case .batch(let b, _) = self { return b }
        return nil
    }
}

/// What a loader did with a batch. Records a target refuses for reasons of the records
/// themselves (a webhook answering 422) are `refused`: nothing a retry can fix. The runner
/// treats them like records a validator rejected — dead letter, drop or fail per `on_invalid` —
/// and then commits the batch's position.
///
/// A loader that refuses records must not have stored them (the others it has stored), and must
/// not have written the checkpoints of its transaction: the runner saves them after it has parked
/// the refused records, so that a crash in between reads the batch again instead of losing them.
public struct LoadOutcome: Sendable {
    /// The refused records, by `Record.ordinal`, each with the reason (the target's answer).
    public var refused: [(ordinal: Int, error: RecordError)]

    public init(refused: [(ordinal: Int, error: RecordError)] = []) { self.refused = refused }

    /// Every record stored (and the checkpoints given, in the load's transaction).
    public static let stored = LoadOutcome()
}

extension BatchReader {
    /// The next batch with its commit, waiting through idle reads; nil at the end. For previews,
    /// tests and tools that read without a runner (the runner itself handles `.idle` to notice
    /// stop requests).
    public func nextBatch() async throws -> (batch: Batch, commit: BatchCommit)? {
        while true {
            switch try await read() {
            case .batch(let b, let c): return (b, c)
            case .idle: continue
            case .end: return nil
            }
        }
    }
}
