import RunnelTesting
import Synchronization
import Testing
@testable import RunnelCore

/// Group commit: in a streaming run into a keyed target, micro-batches that arrive while the
/// target commits the previous one are committed together, each acknowledged after the group.
@Suite struct GroupCommitTests {
    /// A one-shot event a task can wait for.
    final class Signal: Sendable {
        private let state = Mutex<(fired: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))
        func fire() {
            let waiters = state.withLock { s in
                s.fired = true
                defer { s.waiters = [] }
                return s.waiters
            }
            for w in waiters { w.resume() }
        }
        func wait() async {
            await withCheckedContinuation { c in
                let now = state.withLock { s in
                    if s.fired { return true }
                    s.waiters.append(c)
                    return false
                }
                if now { c.resume() }
            }
        }
    }

    final class Journal: Sendable {
        let events = Mutex<[String]>([])
        func add(_ e: String) { events.withLock { $0.append(e) } }
        var all: [String] { events.withLock { $0 } }
    }

    struct Ack: Acknowledgement {
        let id: Int
        let journal: Journal
        func acknowledge() async throws { journal.add("ack \(id)") }
    }

    /// Five micro-batches of two records; the second is read only once the first load began,
    /// and the input ends (releasing that load) after the fifth.
    final class Reader: BatchReader, @unchecked Sendable {
        let journal: Journal
        let loadBegan: Signal
        let inputEnded: Signal
        var next = 0
        init(journal: Journal, loadBegan: Signal, inputEnded: Signal) {
            self.journal = journal
            self.loadBegan = loadBegan
            self.inputEnded = inputEnded
        }
        func read() async throws -> ReadResult {
            guard next < 5 else {
                inputEnded.fire()
                return .end
            }
            if next == 1 { await loadBegan.wait() }
            let i = next
            next += 1
            // The union schema of self-describing records grows: the fourth batch adds a field.
            let fields = i >= 3 ? ["id", "n", "note"] : ["id", "n"]
            let rows: [[Value]] = (0..<2).map { j in
                let id = Value.int(Int64(i * 2 + j))
                return i >= 3 ? [id, .int(Int64(i)), .string("late")] : [id, .int(Int64(i))]
            }
            var batch = Batch(
                schema: Schema(fields), rows: rows, origins: (0..<2).map { Origin(source: "s", id: "\(i)-\($0)") })
            if i == 2 { batch.reject(ordinal: 1, stage: "extract", error: RecordError(code: "malformed", message: "bad")) }
            if i == 2 { batch.records.removeLast() }
            return .batch(batch, BatchCommit(checkpoint: Checkpoint("\(i + 1)"), acknowledgement: Ack(id: i, journal: journal)))
        }
    }

    struct Extractor: RunnelCore.Extractor {
        let reader: Reader
        func open(_ request: ExtractRequest) async throws -> any BatchReader { reader }
    }

    /// Stores by key; the first load waits until the input has ended.
    struct Loader: RunnelCore.Loader {
        let journal: Journal
        let loadBegan: Signal
        let inputEnded: Signal
        let inner = MemoryLoader(key: ["id"])
        var target: String { "test" }
        var key: [String] { ["id"] }
        func load(_ batch: Batch, commit: CheckpointCommit?) async throws -> LoadOutcome {
            let first = journal.all.isEmpty
            journal.add("load \(batch.records.count) of \(batch.readCount), fields \(batch.schema.count)")
            if first {
                loadBegan.fire()
                await inputEnded.wait()
            }
            return try await inner.load(batch, commit: commit)
        }
    }

    @Test func microBatchesThatWaitedForTheTargetCommitAsOneGroupAndEachIsAcknowledgedAfterIt() async throws {
        let journal = Journal()
        let loadBegan = Signal()
        let inputEnded = Signal()
        let loader = Loader(journal: journal, loadBegan: loadBegan, inputEnded: inputEnded)
        let store = MemoryCheckpointStore()
        let queue = MemoryDeadLetterQueue()
        let pipeline = Pipeline(
            name: "g", extractor: Extractor(reader: Reader(journal: journal, loadBegan: loadBegan, inputEnded: inputEnded)),
            loader: loader, checkpoints: store, deadLetters: queue)
        let summary = await PipelineRunner(pipeline: pipeline, options: RunOptions(mode: .streaming)).run()
        #expect(summary.exitCode == 0, "\(summary.error ?? "")")
        // Batches 1–4 arrived while the first load ran: one load, the schema the widest of them,
        // then each batch's acknowledgement in reading order. An acknowledgement may still be in
        // flight when the next load begins (it overlaps the load), but each follows its load.
        let events = journal.all
        #expect(events.filter { $0.hasPrefix("load") } == ["load 2 of 2, fields 2", "load 7 of 8, fields 3"])
        #expect(events.filter { $0.hasPrefix("ack") } == ["ack 0", "ack 1", "ack 2", "ack 3", "ack 4"])
        #expect(events.firstIndex(of: "ack 0")! > events.firstIndex(of: "load 2 of 2, fields 2")!)
        #expect(events.firstIndex(of: "ack 1")! > events.firstIndex(of: "load 7 of 8, fields 3")!)
        #expect(summary.batches == 2)
        #expect(summary.read == 10 && summary.loaded == 9 && summary.deadLettered == 1)
        #expect(try await store.load(pipeline: "g") == Checkpoint("5"))
        // The rejected record is the second of batch 2 (ordinal 1 there, 5 in the group), parked as read.
        let letters = try await queue.list(pipeline: "g", limit: nil)
        #expect(letters.map(\.origin.id) == ["2-1"])
        // In the group, records of the narrower batches have the added field as null.
        let rows = loader.inner.rows
        #expect(rows.count == 9)
        #expect(rows.first { $0["id"] == .int(2) }?["note"] == .null)
        #expect(rows.first { $0["id"] == .int(7) }?["note"] == .string("late"))
    }

    @Test func theProducerReadsOnOnlyWhileTheWaitingGroupAndItsNextBatchFitInOneBatchsBytes() {
        // Memory stays within two batches: the one being committed, and the group waiting
        // together with the batch the producer reads meanwhile.
        let grouping = CommitQueue.Grouping(maxRecords: 1_600, maxBytes: 64 << 20, nextBatchBytes: 8 << 20)
        #expect(grouping.leavesRoom(after: 56 << 20))
        #expect(!grouping.leavesRoom(after: (56 << 20) + 1))
        // Micro-batches as large as a batch are never read ahead of a waiting one.
        let whole = CommitQueue.Grouping(maxRecords: 1_600, maxBytes: 64 << 20, nextBatchBytes: 64 << 20)
        #expect(whole.leavesRoom(after: 0))
        #expect(!whole.leavesRoom(after: 1))
    }

    @Test func aGroupAppendsOrdinalsRejectionsAndCommitsInOrderAndRefusesAnotherSchema() {
        func batch(_ fields: [String], _ n: Int, from: Int) -> Batch {
            Batch(
                schema: Schema(fields), rows: (0..<n).map { i in fields.map { _ in Value.int(Int64(from + i)) } },
                origins: (0..<n).map { Origin(source: "s", line: from + $0) })
        }
        var group = batch(["a"], 2, from: 0)
        var second = batch(["a", "b"], 2, from: 2)
        second.reject(ordinal: 0, stage: "validate", error: RecordError(code: "x", message: "x"))
        second.records.removeFirst()
        let appended = group.append(second)
        #expect(appended)
        #expect(group.schema.fields == ["a", "b"])
        #expect(group.records.map(\.ordinal) == [0, 1, 3])
        #expect(group.records.map(\.values) == [[0, .null], [1, .null], [3, 3]])
        #expect(group.rejections.map(\.ordinal) == [2])
        #expect(group.origin(at: 2).line == 2)
        let other = group.append(batch(["c"], 1, from: 4))
        #expect(!other, "a schema that is not an extension is not grouped")
        #expect(group.readCount == 4)

        var commit = BatchCommit(parts: ["p0": Checkpoint("5")], partReplaces: ["p0": .absent])
        commit.append(BatchCommit(parts: ["p0": Checkpoint("9"), "p1": Checkpoint("2")], partReplaces: ["p0": .position(Checkpoint("5")), "p1": .absent]))
        #expect(commit.parts == ["p0": Checkpoint("9"), "p1": Checkpoint("2")])
        #expect(commit.partReplaces == ["p0": .absent, "p1": .absent], "the group was read from the first batch's positions")
    }

    /// Batches by column group as batches by row do: the same records, sources as read, raw
    /// text, rejections and times; columns of differing kinds, missing fields and unreadable rows.
    @Test func columnarBatchesGroupAsRowBatchesDo() {
        var rng = SeededGenerator(seed: 5)
        func value(_ kind: Int) -> Value {
            if rng.below(5) == 0 { return .null }
            switch kind {
            case 0: return .int(Int64(rng.below(1_000)))
            case 1: return .string(["", "a", "é😀", "long text past sixteen bytes"][rng.below(4)])
            case 2: return .double(Double(rng.below(1_000)) / 8)
            default: return [Value.int(1), .string("x"), .array([1])][rng.below(3)]  // kinds vary by batch
            }
        }
        func pair(_ fields: [String], from: Int) -> (rows: Batch, columns: Batch) {
            let n = 1 + rng.below(6)
            let rows = (0..<n).map { _ in fields.indices.map { value($0) } }
            let origins = (0..<n).map { Origin(source: "s", line: from + $0) }
            let unreadable: Set<Int> = rng.below(2) == 0 ? [rng.below(n)] : []
            let raws = Dictionary(uniqueKeysWithValues: unreadable.map { ($0, "raw \(from + $0)") })
            var columns = Batch(
                schema: Schema(fields), columns: fields.indices.map { i in Column(rows.indices.map { unreadable.contains($0) ? Value.null : rows[$0][i] }) },
                origins: origins, raws: raws, unreadable: unreadable)
            var byRow = columns
            byRow.makeRows()
            byRow.sources = columns.sources
            for row in unreadable {
                columns.reject(ordinal: row, stage: "extract", error: RecordError(code: "malformed_line", message: "bad"))
                byRow.reject(ordinal: row, stage: "extract", error: RecordError(code: "malformed_line", message: "bad"))
            }
            columns.sourceTimes = (0..<n).map { Timestamp(seconds: Int64(from + $0)) }
            byRow.sourceTimes = columns.sourceTimes
            return (byRow, columns)
        }
        for _ in 0..<200 {
            var fields = ["id"]
            var (rowGroup, columnGroup) = pair(fields, from: 0)
            var read = rowGroup.readCount
            for _ in 0..<(1 + rng.below(4)) {
                if rng.below(2) == 0 { fields.append("f\(fields.count)") }  // a field first seen later
                let (rows, columns) = pair(fields, from: read)
                read += rows.readCount
                #expect(rowGroup.append(rows) && columnGroup.append(columns))
            }
            #expect(columnGroup.columnar != nil, "a group of columnar batches stays columnar")
            #expect(columnGroup.schema.fields == rowGroup.schema.fields)
            #expect(columnGroup.records.map(\.values) == rowGroup.records.map(\.values))
            #expect(columnGroup.records.map(\.ordinal) == rowGroup.records.map(\.ordinal))
            #expect(columnGroup.sources.map(\.raw) == rowGroup.sources.map(\.raw))
            #expect(columnGroup.sources.map { $0.values.filter { !$0.isNull } } == rowGroup.sources.map { $0.values.filter { !$0.isNull } })
            #expect(columnGroup.rejections.map(\.ordinal) == rowGroup.rejections.map(\.ordinal))
            #expect(columnGroup.sourceTimes == rowGroup.sourceTimes)
        }
    }
}
