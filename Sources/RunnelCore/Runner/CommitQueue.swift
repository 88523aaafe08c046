import Synchronization

/// The hand-over from the producer task (read, stages) to the committer (load, commit): one slot.
///
/// Without grouping (batch runs) the producer waits until the committer has taken what it put
/// in the slot, so memory holds two batches: the one being committed and the one handed over.
///
/// With grouping (streaming runs into a target written by key), a batch that arrives while the
/// slot is still full is appended to the batch waiting there (`Batch.append`,
/// `BatchCommit.append`), up to the group's bounds: micro-batches that arrive faster than the
/// target commits — a transaction and an fsync each — are committed together, one transaction
/// for the group, and each is acknowledged after it (group commit). At low rates the slot is
/// empty whenever a batch arrives, so no batch waits for company and latency is unchanged.
/// Targets that append (part files, a topic, a webhook) are not grouped: their output is named
/// or keyed by the batch, and a replay must cut the input the same way.
///
/// Memory stays within two batches' bytes as without grouping: the producer goes on reading
/// while a group waits only when the group and the largest batch it may read next fit in one
/// batch's bytes together (`Grouping.leavesRoom`); otherwise it waits, as without grouping,
/// until the committer took the slot.
final class CommitQueue: Sendable {
    struct Grouping: Sendable {
        /// How many micro-batches' records a group may hold.
        static let maxBatches = 16
        /// The most records and input bytes a group may hold (the second: one batch's bytes).
        var maxRecords: Int
        var maxBytes: Int
        /// The most input bytes the producer's next batch may hold (`batching.max_bytes`).
        var nextBatchBytes: Int

        /// True when a group of `bytes` waiting in the slot and the next batch read meanwhile
        /// stay within `maxBytes` together, so the producer may read on instead of waiting.
        func leavesRoom(after bytes: Int) -> Bool { bytes <= maxBytes - nextBatchBytes }
    }

    typealias Item = (batch: Batch, commit: BatchCommit)

    private struct State: ~Copyable {
        var slot: Item?
        var end: Result<Void, any Error>?
        var consumer: CheckedContinuation<Void, Never>?
        var producer: CheckedContinuation<Void, Never>?
    }

    private let state = Mutex(State())
    let grouping: Grouping?

    init(grouping: Grouping?) { self.grouping = grouping }

    /// Hands `item` over: into the empty slot, or appended to the group waiting there; else
    /// waits for the committer to take the slot. Without grouping, returns once the committer
    /// has taken the item. Returns early when the task is cancelled (the run is stopping).
    func send(_ item: Item) async {
        var pending: Item? = item
        while let current = pending {
            let (placed, consumer) = state.withLock { s -> (Bool, CheckedContinuation<Void, Never>?) in
                if s.slot == nil {
                    s.slot = current
                    defer { s.consumer = nil }
                    return (true, s.consumer)
                }
                if let grouping, Self.append(current, to: &s.slot!, within: grouping) { return (true, nil) }
                return (false, nil)
            }
            consumer?.resume()
            if placed {
                pending = nil
            } else {
                await wait(.producer) { $0.slot == nil }
                if Task.isCancelled { return }
            }
        }
        let bounds = grouping
        let mayReadOn = state.withLock { s in
            guard let waiting = s.slot else { return true }
            guard let bounds else { return false }
            return bounds.leavesRoom(after: waiting.batch.byteCount)
        }
        if !mayReadOn { await wait(.producer) { $0.slot == nil } }
    }

    /// The producer is done: the committer takes what is in the slot, then ends.
    func finish() { end(.success(())) }

    /// The producer failed: the committer takes what is in the slot, then throws `error`.
    func fail(_ error: any Error) { end(.failure(error)) }

    /// The next batch (or group) to commit; nil once the producer finished and the slot is empty.
    func next() async throws -> Item? {
        while true {
            let (item, end, producer) = state.withLock {
                s -> (Item?, Result<Void, any Error>?, CheckedContinuation<Void, Never>?) in
                if let item = s.slot {
                    s.slot = nil
                    defer { s.producer = nil }
                    return (item, nil, s.producer)
                }
                return (nil, s.end, nil)
            }
            producer?.resume()
            if let item { return item }
            if let end {
                try end.get()
                return nil
            }
            try Task.checkCancellation()
            await wait(.consumer) { $0.slot != nil }
        }
    }

    private func end(_ result: Result<Void, any Error>) {
        let (consumer, producer) = state.withLock { s in
            s.end = s.end ?? result
            defer {
                s.consumer = nil
                s.producer = nil
            }
            return (s.consumer, s.producer)
        }
        consumer?.resume()
        producer?.resume()
    }

    private enum Side { case producer, consumer }

    /// Suspends one side until `ready` holds, the queue ended, or the task is cancelled.
    private func wait(_ side: Side, until ready: @escaping @Sendable (borrowing State) -> Bool) async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                let now = state.withLock { s -> Bool in
                    if ready(s) || s.end != nil || Task.isCancelled { return true }
                    switch side {
                    case .producer: s.producer = c
                    case .consumer: s.consumer = c
                    }
                    return false
                }
                if now { c.resume() }
            }
        } onCancel: {
            state.withLock { s -> CheckedContinuation<Void, Never>? in
                switch side {
                case .producer:
                    defer { s.producer = nil }
                    return s.producer
                case .consumer:
                    defer { s.consumer = nil }
                    return s.consumer
                }
            }?.resume()
        }
    }

    /// Appends `item` to the group `group` when both fit the bounds together and line up.
    private static func append(_ item: Item, to group: inout Item, within bounds: Grouping) -> Bool {
        guard group.batch.readCount + item.batch.readCount <= bounds.maxRecords,
            group.batch.byteCount + item.batch.byteCount <= bounds.maxBytes
        else { return false }
        guard group.batch.append(item.batch) else { return false }
        group.commit.append(item.commit)
        return true
    }
}
