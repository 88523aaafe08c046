public import RunnelCore

/// The contract every loader keeps: loading the same batch twice leaves the target as loading it
/// once does, and an older version never overwrites a newer one.
public enum LoaderConformance {
    /// Loads `batch`, reads the target, loads `batch` again, reads again, and compares.
    /// `readTarget` returns the target's rows in a stable order.
    public static func isIdempotent(
        _ loader: any Loader, batch: Batch, readTarget: () async throws -> [[Value]]
    ) async throws {
        try await loader.prepare(schema: batch.schema)
        try await loader.load(batch, commit: nil)
        let once = try await readTarget()
        try await loader.load(batch, commit: nil)
        let twice = try await readTarget()
        try await loader.finish()
        try require(once == twice, "loading the same batch twice changed the target: \(once.count) rows, then \(twice.count)")
        try require(!once.isEmpty || batch.records.isEmpty, "the target is empty after a load")
    }

    /// The contract of a loader that writes checkpoints in its own transaction (`store` shares
    /// its domain): a part position guarded by `replaces` is compared in the transaction. A batch
    /// read from a position another worker has moved since is fenced off — nothing of it
    /// written, the position left where the other worker put it — and a batch whose own position
    /// is already stored (its earlier attempt committed, the reply was lost) is not written again.
    /// `batch` must hold at least one record; `readTarget` returns the target's rows.
    public static func fencesMovedPositions(
        _ loader: any Loader, store: any CheckpointStore, batch: Batch, pipeline: String = "conformance-fence",
        readTarget: () async throws -> [[Value]]
    ) async throws {
        let key = CheckpointCommit.key(pipeline: pipeline, part: "orders/0")
        try await store.reset(pipeline: pipeline)
        try await loader.prepare(schema: batch.schema)
        let before = try await readTarget()
        // Another worker moved the part to 120 while this batch (read from 40, ending at 80) was in flight.
        try await store.save(Checkpoint("120"), pipeline: key)
        let stale = CheckpointCommit(entries: [.init(key: key, checkpoint: Checkpoint("80"), replaces: .position(Checkpoint("40")))])
        do {
            try await loader.load(batch, commit: stale)
            throw ConformanceFailure("a batch read from a position another worker moved was loaded")
        } catch let e as RunnelError {
            try require(e.code == .fenced, "a moved position failed the load with \(e.code), not fenced: \(e)")
        }
        try require(try await readTarget() == before, "a fenced batch wrote rows")
        try require(try await store.load(pipeline: key) == Checkpoint("120"), "a fenced batch moved the position")
        // Where none was stored, `absent` is the precondition.
        try await store.reset(pipeline: pipeline)
        let first = CheckpointCommit(entries: [.init(key: key, checkpoint: Checkpoint("80"), replaces: .absent)])
        try await loader.load(batch, commit: first)
        let loaded = try await readTarget()
        try require(loaded != before, "a batch whose position was as read wrote no rows")
        try require(try await store.load(pipeline: key) == Checkpoint("80"), "a batch whose position was as read did not store it")
        // The same load again (its reply lost): already stored, nothing changes, no error.
        try await loader.load(batch, commit: first)
        try require(try await readTarget() == loaded, "a load already stored was written again")
        try await store.reset(pipeline: pipeline)
    }
}

/// The contract every checkpoint store keeps.
public enum CheckpointStoreConformance {
    public static func roundTrips(_ store: any CheckpointStore, pipeline: String = "conformance") async throws {
        try await store.reset(pipeline: pipeline)
        try require(try await store.load(pipeline: pipeline) == nil, "a reset store returns a checkpoint")
        try await store.save(Checkpoint("{\"a\":1}"), pipeline: pipeline)
        try await store.save(Checkpoint("{\"a\":2}"), pipeline: pipeline)
        try require(try await store.load(pipeline: pipeline) == Checkpoint("{\"a\":2}"), "the last save is not what loads")
        try await store.save(Checkpoint("other"), pipeline: pipeline + "-other")
        try require(try await store.load(pipeline: pipeline) == Checkpoint("{\"a\":2}"), "pipelines share checkpoints")
        // Parts (Kafka partitions) are kept under their own keys, which hold a '/': reset forgets
        // them with the pipeline's own position, and only that pipeline's.
        let part = CheckpointCommit.key(pipeline: pipeline, part: "orders.v1/7")
        let otherPart = CheckpointCommit.key(pipeline: pipeline + "-other", part: "orders.v1/7")
        try await store.save(Checkpoint("42"), pipeline: part)
        try await store.save(Checkpoint("43"), pipeline: otherPart)
        try require(try await store.load(pipeline: part) == Checkpoint("42"), "a part's checkpoint does not load")
        try await store.reset(pipeline: pipeline)
        try require(try await store.load(pipeline: pipeline) == nil, "reset did not forget the checkpoint")
        try require(try await store.load(pipeline: part) == nil, "reset did not forget the checkpoint of a part")
        try require(try await store.load(pipeline: otherPart) == Checkpoint("43"), "reset forgot another pipeline's part")
        try require(try await store.load(pipeline: pipeline + "-other") == Checkpoint("other"), "reset forgot another pipeline")
        try await store.reset(pipeline: pipeline + "-other")
        try require(try await store.load(pipeline: otherPart) == nil, "reset did not forget the checkpoint of a part")
    }
}

/// The contract every dead letter queue keeps: writes are idempotent by source position.
public enum DeadLetterQueueConformance {
    public static func isIdempotent(_ queue: any DeadLetterQueue, pipeline: String = "conformance") async throws {
        let letters = (1...3).map { i in
            DeadLetter(
                pipeline: pipeline, runID: "r1", stage: "validate", errorCode: "min", message: "below min", field: "amount",
                origin: Origin(source: "in.csv", line: i), record: Object(keys: ["amount"], values: [.int(-1)]), raw: nil,
                time: Timestamp(seconds: 1_700_000_000))
        }
        try await queue.remove(pipeline: pipeline, keys: letters.map(\.key))
        try await queue.write(letters)
        try await queue.write(letters)
        let listed = try await queue.list(pipeline: pipeline, limit: nil)
        try require(listed.count == 3, "writing the same 3 letters twice left \(listed.count)")
        try require(listed.first?.record == letters[0].record, "the record did not round-trip")
        try require(listed.first?.origin == letters[0].origin, "the origin did not round-trip")
        try await queue.remove(pipeline: pipeline, keys: [letters[1].key])
        try require(try await queue.list(pipeline: pipeline, limit: nil).count == 2, "remove did not remove")
        try await queue.remove(pipeline: pipeline, keys: letters.map(\.key))
    }
}
