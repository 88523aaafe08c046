import Testing
import RunnelTesting
@testable import RunnelCore

/// Fails the loader's first `failures` calls with `error`.
private func failing(_ failures: Int, _ error: RunnelError) -> @Sendable (Int) throws -> Void {
    { attempt in if attempt <= failures { throw error } }
}

private let instantRetry = RetryPolicy(maxAttempts: 4, baseDelay: .milliseconds(10), maxDelay: .seconds(1), sleep: { _ in })

private func rows(_ n: Int) -> [[Value]] { (1...n).map { [.int(Int64($0)), .string("r\($0)")] } }

private struct RejectOdd: Validator {
    var name: String { "odd" }
    func apply(to batch: inout Batch) throws {
        let p = batch.schema.index(of: "id")!
        batch.updateRecords(stage: "validate") { (r: inout Record) throws(RecordError) in
            if case .int(let i) = r.values[p], i % 2 == 1 { throw RecordError(code: "odd", message: "is odd", field: "id") }
        }
    }
}

@Suite struct RunnerTests {
    @Test func loadsEverythingAndCommitsTheLastPosition() async throws {
        let store = MemoryCheckpointStore()
        let loader = MemoryLoader(key: ["id"])
        let pipeline = Pipeline(
            name: "p", extractor: MemoryExtractor(fields: ["id", "name"], rows: rows(10)), loader: loader,
            checkpoints: store, batching: .init(maxRecords: 3))
        let summary = await PipelineRunner(pipeline: pipeline).run()
        #expect(summary.exitCode == 0)
        #expect(summary.read == 10 && summary.loaded == 10 && summary.batches == 4)
        #expect(loader.rows.count == 10)
        #expect(store.saved.map(\.position) == ["3", "6", "9", "10"])
    }

    @Test func resumesFromTheCheckpointWithoutReadingAgain() async throws {
        let store = MemoryCheckpointStore(["p": Checkpoint("6")])
        let loader = MemoryLoader(key: ["id"])
        let pipeline = Pipeline(
            name: "p", extractor: MemoryExtractor(fields: ["id", "name"], rows: rows(10)), loader: loader, checkpoints: store)
        let summary = await PipelineRunner(pipeline: pipeline).run()
        #expect(summary.read == 4)
        #expect(loader.rows.map { $0["id"] } == [7, 8, 9, 10].map { Value.int($0) })
    }

    @Test func aFailedLoadCommitsNothing() async throws {
        let store = MemoryCheckpointStore()
        let loader = MemoryLoader(key: ["id"], beforeLoad: failing(100, RunnelError.failure("disk full")))
        let pipeline = Pipeline(
            name: "p", extractor: MemoryExtractor(fields: ["id", "name"], rows: rows(5)), loader: loader, checkpoints: store,
            retry: instantRetry)
        let summary = await PipelineRunner(pipeline: pipeline).run()
        #expect(summary.exitCode == 1)
        #expect(summary.error?.contains("disk full") == true)
        #expect(store.saved.isEmpty)
        #expect(loader.loadCalls == 1, "a non-transient failure is not retried")
    }

    @Test func transientFailuresAreRetriedThenSucceed() async throws {
        let store = MemoryCheckpointStore()
        let loader = MemoryLoader(key: ["id"], beforeLoad: failing(2, RunnelError.transient("connection reset")))
        let pipeline = Pipeline(
            name: "p", extractor: MemoryExtractor(fields: ["id", "name"], rows: rows(5)), loader: loader, checkpoints: store,
            retry: instantRetry)
        let summary = await PipelineRunner(pipeline: pipeline).run()
        #expect(summary.exitCode == 0)
        #expect(loader.loadCalls == 3)
        #expect(loader.rows.count == 5)
        #expect(store.saved.map(\.position) == ["5"])
    }

    @Test func exhaustedRetriesExitOneWithoutCommitting() async throws {
        let store = MemoryCheckpointStore()
        let loader = MemoryLoader(key: ["id"], beforeLoad: failing(100, RunnelError.transient("connection refused")))
        let pipeline = Pipeline(
            name: "p", extractor: MemoryExtractor(fields: ["id", "name"], rows: rows(5)), loader: loader, checkpoints: store,
            retry: instantRetry)
        let summary = await PipelineRunner(pipeline: pipeline).run()
        #expect(summary.exitCode == 1)
        #expect(summary.errorCode == "transient")
        #expect(loader.loadCalls == 4)
        #expect(store.saved.isEmpty)
    }

    @Test func backoffGrowsAndStaysUnderTheCap() {
        let policy = RetryPolicy(maxAttempts: 10, baseDelay: .milliseconds(100), maxDelay: .seconds(2), random: { 0.999 })
        let delays = (1...8).map { policy.delay(beforeRetry: $0) }
        #expect(delays[0] < .milliseconds(100) && delays[1] > .milliseconds(150))
        #expect(delays.allSatisfy { $0 <= .seconds(2) })
        #expect(delays[7] > .milliseconds(1900))
    }

    @Test func rejectedRecordsReachTheDeadLetterQueueWithTheirEnvelope() async throws {
        let dlq = MemoryDeadLetterQueue()
        let loader = MemoryLoader(key: ["id"])
        let pipeline = Pipeline(
            name: "p", extractor: MemoryExtractor(fields: ["id", "name"], rows: rows(6), source: "in.csv"),
            validators: [RejectOdd()], loader: loader, deadLetters: dlq)
        let summary = await PipelineRunner(pipeline: pipeline, options: RunOptions(runID: "run-1")).run()
        #expect(summary.loaded == 3 && summary.deadLettered == 3)
        let letters = try await dlq.list(pipeline: "p", limit: nil)
        #expect(letters.map(\.origin.description) == ["in.csv:1", "in.csv:3", "in.csv:5"])
        #expect(letters[0].stage == "validate" && letters[0].errorCode == "odd" && letters[0].field == "id")
        #expect(letters[0].record == Object(keys: ["id", "name"], values: [1, "r1"]))
        #expect(letters[0].runID == "run-1" && letters[0].pipeline == "p")
    }

    @Test func onInvalidFailStopsWithTheContractExitCodeAndCommitsNothing() async throws {
        let store = MemoryCheckpointStore()
        let loader = MemoryLoader(key: ["id"])
        let pipeline = Pipeline(
            name: "p", extractor: MemoryExtractor(fields: ["id", "name"], rows: rows(4)), validators: [RejectOdd()],
            loader: loader, checkpoints: store, invalidRecords: .init(action: .fail))
        let summary = await PipelineRunner(pipeline: pipeline).run()
        #expect(summary.exitCode == 3)
        #expect(summary.error?.contains("memory:1") == true)
        #expect(loader.rows.isEmpty && store.saved.isEmpty)
    }

    @Test func exceedingTheInvalidRatioStopsAfterTheLastGoodBatch() async throws {
        // Batches of 4: the first holds ids 2,4,6,8 (all even, valid); the second 1,3,5,7 (all odd).
        let data: [[Value]] = [2, 4, 6, 8, 1, 3, 5, 7].map { [.int($0), "x"] }
        let store = MemoryCheckpointStore()
        let loader = MemoryLoader(key: ["id"])
        let pipeline = Pipeline(
            name: "p", extractor: MemoryExtractor(fields: ["id", "name"], rows: data), validators: [RejectOdd()],
            loader: loader, checkpoints: store, deadLetters: MemoryDeadLetterQueue(),
            invalidRecords: .init(action: .deadLetter, maxInvalidRatio: 0.25), batching: .init(maxRecords: 4))
        let summary = await PipelineRunner(pipeline: pipeline).run()
        #expect(summary.exitCode == 3)
        #expect(summary.error?.contains("max_invalid_ratio") == true)
        #expect(store.saved.map(\.position) == ["4"])
        #expect(loader.rows.count == 4)
    }

    @Test func aSharedStoreGetsTheCheckpointInsideTheLoad() async throws {
        let store = MemoryCheckpointStore()
        let loader = MemoryLoader(key: ["id"], transactionalStore: store)
        let pipeline = Pipeline(
            name: "p", extractor: MemoryExtractor(fields: ["id", "name"], rows: rows(4)), loader: loader, checkpoints: store,
            batching: .init(maxRecords: 2))
        let summary = await PipelineRunner(pipeline: pipeline).run()
        #expect(summary.exitCode == 0)
        #expect(store.saved.map(\.position) == ["2", "4"], "each checkpoint written once, by the loader")
    }

    @Test func aWindowedRunNeitherReadsNorMovesTheCheckpoint() async throws {
        let store = MemoryCheckpointStore(["p": Checkpoint("8")])
        let loader = MemoryLoader(key: ["id"])
        let pipeline = Pipeline(
            name: "p", extractor: MemoryExtractor(fields: ["id", "name"], rows: rows(10)), loader: loader, checkpoints: store)
        let summary = await PipelineRunner(pipeline: pipeline, options: RunOptions(window: Window(from: "a", to: "b"))).run()
        #expect(summary.read == 10)
        #expect(store.saved.isEmpty)
        #expect(try await store.load(pipeline: "p") == Checkpoint("8"))
    }

    @Test func aDryRunWritesNothing() async throws {
        let store = MemoryCheckpointStore()
        let dlq = MemoryDeadLetterQueue()
        let loader = MemoryLoader(key: ["id"])
        let pipeline = Pipeline(
            name: "p", extractor: MemoryExtractor(fields: ["id", "name"], rows: rows(6)), validators: [RejectOdd()],
            loader: loader, checkpoints: store, deadLetters: dlq)
        let summary = await PipelineRunner(pipeline: pipeline, options: RunOptions(dryRun: true)).run()
        // Nothing is written: the rejects are counted, not "dead-lettered".
        #expect(summary.loaded == 3 && summary.rejected == 3 && summary.deadLettered == 0 && summary.dryRun)
        #expect(loader.loadCalls == 0 && store.saved.isEmpty && dlq.count == 0)
    }

    @Test func aHeldLeaseExitsFourWithoutTouchingData() async throws {
        struct Held: RunLease {
            func acquire(pipeline: String, scope: String) async throws -> any LeaseHandle {
                throw RunnelError(.leaseHeld, "another run holds the lease of \(pipeline) (\(scope))")
            }
        }
        let loader = MemoryLoader(key: ["id"])
        var pipeline = Pipeline(name: "p", extractor: MemoryExtractor(fields: ["id", "name"], rows: rows(3)), loader: loader)
        pipeline.lease = Held()
        let summary = await PipelineRunner(pipeline: pipeline).run()
        #expect(summary.exitCode == 4)
        #expect(loader.loadCalls == 0)
    }

    @Test func redriveLoadsWhatNowPassesAndKeepsTheRest() async throws {
        let dlq = MemoryDeadLetterQueue()
        let loader = MemoryLoader(key: ["id"])
        var pipeline = Pipeline(
            name: "p", extractor: MemoryExtractor(fields: ["id", "name"], rows: rows(6)), validators: [RejectOdd()],
            loader: loader, deadLetters: dlq)
        _ = await PipelineRunner(pipeline: pipeline).run()
        #expect(dlq.count == 3)
        // "Fix" the rule so that 1 and 3 pass but 5 still fails.
        struct RejectFive: Validator {
            var name: String { "five" }
            func apply(to batch: inout Batch) throws {
                batch.updateRecords(stage: "validate") { (r: inout Record) throws(RecordError) in
                    if r.values[0] == .int(5) { throw RecordError(code: "five", message: "is five", field: "id") }
                }
            }
        }
        pipeline.validators = [RejectFive()]
        let result = try await DeadLetterRedrive(pipeline: pipeline).run()
        #expect(result.examined == 3 && result.loaded == 2 && result.stillRejected == 1)
        #expect(loader.rows.count == 5)
        let left = try await dlq.list(pipeline: "p", limit: nil)
        #expect(left.count == 1 && left[0].errorCode == "five" && left[0].attempts == 2)
    }
}

/// `key_policy`: records of one run that share the loader's key.
@Suite struct KeyPolicyTests {
    /// 2,000 rows over 14 carriers, each row numbered.
    private let carriers = (0..<2_000).map { i -> [Value] in [.string("C\(i % 14)"), .int(Int64(i))] }

    private func run(_ policy: KeyPolicy, mode: RunOptions.Mode = .batch, queue: MemoryDeadLetterQueue? = nil)
        async -> (RunSummary, MemoryLoader)
    {
        let loader = MemoryLoader(key: ["carrier"])
        let pipeline = Pipeline(
            name: "p", extractor: MemoryExtractor(fields: ["carrier", "n"], rows: carriers), loader: loader,
            deadLetters: queue, batching: .init(maxRecords: 300), keyPolicy: policy)
        return (await PipelineRunner(pipeline: pipeline, options: RunOptions(mode: mode)).run(), loader)
    }

    @Test func lastWinsCountsTheSupersededRecordsApartFromTheLoadedOnes() async {
        let (summary, loader) = await run(.lastWins)
        #expect(summary.exitCode == 0)
        #expect(summary.loaded == 14 && summary.superseded == 1_986 && summary.filtered == 0)
        #expect(loader.rows.count == 14)
        #expect(loader.rows.first { $0["carrier"] == "C0" }?["n"] == .int(1_988), "the last record of C0 won")
    }

    @Test func firstWinsKeepsTheFirstRecordOfEachKey() async {
        let (summary, loader) = await run(.firstWins)
        #expect(summary.loaded == 14 && summary.superseded == 1_986 && summary.filtered == 0)
        #expect(loader.rows.first { $0["carrier"] == "C0" }?["n"] == .int(0))
    }

    @Test func rejectParksEveryLaterRecordOfAKeyAsDuplicateKey() async throws {
        let queue = MemoryDeadLetterQueue()
        let (summary, loader) = await run(.reject, queue: queue)
        #expect(summary.loaded == 14 && summary.rejected == 1_986 && summary.deadLettered == 1_986 && summary.superseded == 0)
        #expect(loader.rows.count == 14)
        let letters = try await queue.list(pipeline: "p", limit: nil)
        #expect(letters.count == 1_986 && letters.allSatisfy { $0.errorCode == "duplicate_key" })
        #expect(letters.first?.message.contains("carrier=C0") == true)
    }

    @Test func aRunPastItsKeyMemorySpillsAndStillCountsEveryDuplicate() async {
        // 30,000 rows over keys drawn from 5,000 (some never), in memory 100 keys at a time:
        // many spills, and most duplicates meet their key's first record on disk.
        var rng = SeededGenerator(seed: 11)
        let rows = (0..<30_000).map { i -> [Value] in [.string("K\(rng.next() % 5_000)"), .int(Int64(i))] }
        let distinct = Set(rows.map { $0[0] }).count
        let lastN = Dictionary(rows.map { ($0[0], $0[1]) }, uniquingKeysWith: { _, b in b })
        let loader = MemoryLoader(key: ["carrier"])
        let pipeline = Pipeline(
            name: "p", extractor: MemoryExtractor(fields: ["carrier", "n"], rows: rows), loader: loader,
            batching: .init(maxRecords: 300))
        var options = RunOptions()
        options.keyMemoryBudget = 1_600
        let summary = await PipelineRunner(pipeline: pipeline, options: options).run()
        #expect(summary.exitCode == 0)
        #expect(summary.loaded == distinct && summary.superseded == 30_000 - distinct, "\(summary.loaded) loaded, \(distinct) keys")
        #expect(loader.rows.count == distinct)
        #expect(loader.rows.allSatisfy { lastN[$0["carrier"]!] == $0["n"] }, "the last record of each key won")
    }

    @Test func aStreamingRunLooksForDuplicatesWithinEachBatch() async {
        // A stream's run never ends: the key set is per batch, so memory stays bounded.
        let (summary, _) = await run(.lastWins, mode: .streaming)
        #expect(summary.superseded == 2_000 - 14 * 7, "7 batches of up to 300 rows, 14 keys in each")
    }
}

/// The key set's own contract: every hash once, whatever the count.
@Suite struct KeyHashSetTests {
    @Test func insertsEachHashOnceThroughManyGrowths() {
        var set = KeyHashSet()
        var rng = SeededGenerator(seed: 7)
        var hashes: [UInt64] = (0..<200_000).map { _ in rng.next() }
        hashes += [0, 1, 0]
        var fresh = 0
        for h in hashes where set.insert(h) { fresh += 1 }
        #expect(fresh == Set(hashes.map { $0 == 0 ? 1 : $0 }).count)
        #expect(hashes.prefix(1_000).allSatisfy { !set.insert($0) })
    }
}

/// A key of one integer field is hashed by its value (`KeyHash.int`), however a batch holds it:
/// an int column, a mixed column (a batch where the field also held a string), rows. A key seen
/// in one layout must be a duplicate in the others, and an integer must not match its text.
@Suite struct IntegerKeyTests {
    private func origins(_ n: Int) -> [Origin] { (0..<n).map { Origin(source: "t", line: $0 + 1) } }

    @Test func anIntegerKeyIsOneKeyInEveryLayout() throws {
        let tracker = KeyTracker(policy: .lastWins, key: ["id"], perBatch: false)
        let schema = Schema(["id"])
        var ints = Batch(schema: schema, columns: [Column([.int(1), .int(2), .int(3), .int(2)])], origins: origins(4))
        try tracker.apply(to: &ints)
        #expect(ints.superseded == 1, "2 twice in one int column")
        var mixed = Batch(schema: schema, columns: [Column([.int(3), .string("1"), .int(4), .null])], origins: origins(4))
        #expect(mixed.columnar?.columns[0].kind == .mixed)
        try tracker.apply(to: &mixed)
        #expect(mixed.superseded == 1, "3 seen in the int column; the text \"1\" is not the integer 1")
        var rows = Batch(schema: schema, rows: [[.int(4)], [.int(5)], [.string("1")], [.int(1)]], origins: origins(4))
        try tracker.apply(to: &rows)
        #expect(rows.superseded == 3, "4 (mixed column), \"1\" (mixed column) and 1 (int column) seen before")
    }
}
