import Synchronization
import Testing
@testable import RunnelCore

/// The order a batch is committed in, from values alone (`CommitPlan`), and the runner executing it.
@Suite struct CommitPlanTests {
    private let position = CheckpointCommit.Entry(key: "p", checkpoint: Checkpoint("10"))

    @Test func theFirstBatchPreparesParksLoadsWithTheCheckpointInTheTransactionThenAcknowledges() throws {
        let plan = try CommitPlan(
            .init(
                records: 3, deadLetters: 2, hasDeadLetterQueue: true, checkpoints: [position], checkpointsInLoad: true,
                acknowledge: true))
        #expect(
            plan.steps == [
                .prepareLoad, .prepareDeadLetters, .writeDeadLetters(count: 2), .load(records: 3, checkpoints: [position]),
                .saveCheckpoints([position], onlyIfRefused: true), .acknowledge,
            ])
    }

    @Test func withoutASharedTransactionTheStoreSavesThePositionAfterTheLoad() throws {
        let plan = try CommitPlan(.init(records: 3, loadPrepared: true, checkpoints: [position], acknowledge: true))
        #expect(plan.steps == [.load(records: 3, checkpoints: []), .saveCheckpoints([position], onlyIfRefused: false), .acknowledge])
    }

    @Test func aBatchWhollyRejectedBeforeAnyLoadIsParkedAndItsPositionSavedByTheStore() throws {
        // No records yet: nothing to create the target from, so no load and no transaction.
        let plan = try CommitPlan(
            .init(records: 0, deadLetters: 1, hasDeadLetterQueue: true, checkpoints: [position], checkpointsInLoad: true))
        #expect(
            plan.steps == [.prepareDeadLetters, .writeDeadLetters(count: 1), .saveCheckpoints([position], onlyIfRefused: false)])
    }

    @Test func aPositionThatMovedWithoutRecordsIsWrittenInTheLoadsTransactionOnceTheTargetExists() throws {
        let plan = try CommitPlan(.init(records: 0, loadPrepared: true, checkpoints: [position], checkpointsInLoad: true))
        #expect(plan.steps == [.load(records: 0, checkpoints: [position]), .saveCheckpoints([position], onlyIfRefused: true)])
    }

    @Test func backfillsSaveNoPositionDryRunsDoNothingAndParkingNeedsAQueue() throws {
        #expect(try CommitPlan(.init(records: 2, loadPrepared: true)).steps == [.load(records: 2, checkpoints: [])])
        #expect(try CommitPlan(.init(records: 2, deadLetters: 1, checkpoints: [position], acknowledge: true, dryRun: true)).steps == [])
        #expect(throws: RunnelError.self) { try CommitPlan(.init(records: 2, deadLetters: 1, hasDeadLetterQueue: false)) }
    }

    @Test func aCommitsEntriesAreItsOwnPositionThenItsPartsInNameOrderWithTheirFences() {
        let commit = BatchCommit(
            checkpoint: Checkpoint("c"), parts: ["t/1": Checkpoint("7"), "t/0": Checkpoint("5")],
            partReplaces: ["t/1": .absent])
        #expect(
            commit.entries(pipeline: "p") == [
                .init(key: "p", checkpoint: Checkpoint("c")),
                .init(key: CheckpointCommit.key(pipeline: "p", part: "t/0"), checkpoint: Checkpoint("5")),
                .init(key: CheckpointCommit.key(pipeline: "p", part: "t/1"), checkpoint: Checkpoint("7"), replaces: .absent),
            ])
        #expect(BatchCommit().isEmpty)
        #expect(!commit.isEmpty)
    }

    // MARK: - The runner executing the plan

    /// What happened, in order, across the loader, the dead letter queue and the store.
    final class Journal: Sendable {
        let events = Mutex<[String]>([])
        func add(_ e: String) { events.withLock { $0.append(e) } }
        var all: [String] { events.withLock { $0 } }
    }

    /// A database whose loader and checkpoint store share transactions.
    final class Database: Sendable {}

    struct Store: CheckpointStore {
        let journal: Journal
        let database: Database
        func load(pipeline: String) async throws -> Checkpoint? { nil }
        func save(_ checkpoint: Checkpoint, pipeline: String) async throws { journal.add("store saves \(checkpoint)") }
        func reset(pipeline: String) async throws {}
        var transactionDomain: TransactionDomain? { TransactionDomain(database: database, checkpointTable: "c", description: "db") }
    }

    /// Refuses the records whose id is odd; writes the checkpoint in its transaction only when it refuses none.
    struct RefusingLoader: Loader {
        let journal: Journal
        let database: Database
        var target: String { "test" }
        var transactionDomain: TransactionDomain? { TransactionDomain(database: database, checkpointTable: "c", description: "db") }
        func load(_ batch: Batch, commit: CheckpointCommit?) async throws -> LoadOutcome {
            let refused = batch.records.filter { r in
                if case .int(let i) = r.values[0] { return i % 2 == 1 }
                return false
            }
            guard refused.isEmpty else {
                journal.add("load refuses \(refused.count)")
                return LoadOutcome(refused: refused.map { ($0.ordinal, RecordError(code: "http_422", message: "odd")) })
            }
            journal.add("load stores \(batch.records.count) with \(commit?.entries.map(\.checkpoint.position) ?? [])")
            return .stored
        }
    }

    struct JournalingQueue: DeadLetterQueue {
        let journal: Journal
        let inner = MemoryDeadLetterQueue()
        var target: String { "memory" }
        func write(_ letters: [DeadLetter]) async throws {
            journal.add("park \(letters.map(\.errorCode))")
            try await inner.write(letters)
        }
        func list(pipeline: String, limit: Int?) async throws -> [DeadLetter] { try await inner.list(pipeline: pipeline, limit: limit) }
        func remove(pipeline: String, keys: [String]) async throws { try await inner.remove(pipeline: pipeline, keys: keys) }
    }

    @Test func refusedRecordsAreParkedBeforeThePositionIsSavedAndACleanBatchCommitsInTheLoad() async throws {
        let journal = Journal()
        let database = Database()
        let pipeline = Pipeline(
            name: "p", extractor: MemoryExtractor(fields: ["id"], rows: [[2], [4], [5], [6]]),
            loader: RefusingLoader(journal: journal, database: database),
            checkpoints: Store(journal: journal, database: database), deadLetters: JournalingQueue(journal: journal),
            batching: BatchingPolicy(maxRecords: 2))
        #expect(pipeline.checkpointsInLoad)
        let summary = await PipelineRunner(pipeline: pipeline).run()
        #expect(summary.exitCode == 0, "\(summary.error ?? "")")
        #expect(
            journal.all == [
                // The first batch: both records stored, its position in the load's transaction.
                "load stores 2 with [\"2\"]",
                // The second: the loader refuses one and writes no position; the runner parks the
                // refused record, then the store saves the position.
                "load refuses 1", "park [\"http_422\"]", "store saves 4",
            ])
        #expect(summary.loaded == 3)
        #expect(summary.deadLettered == 1)
    }

    struct RejectAll: Validator {
        var name: String { "all" }
        func apply(to batch: inout Batch) throws {
            batch.updateRecords(stage: "validate") { (_: inout Record) throws(RecordError) in
                throw RecordError(code: "held", message: "held back")
            }
        }
    }

    @Test func aRedriveKeepsTheLettersWhoseRecordsTheTargetRefusesWithItsAnswer() async throws {
        let queue = MemoryDeadLetterQueue()
        let extractor = MemoryExtractor(fields: ["id"], rows: [[3], [4]])
        let parked = await PipelineRunner(
            pipeline: Pipeline(
                name: "p", extractor: extractor, validators: [RejectAll()], loader: MemoryLoader(key: ["id"]),
                deadLetters: queue, invalidRecords: .init(maxInvalidRatio: 1))
        ).run()
        #expect(parked.deadLettered == 2)

        let journal = Journal()
        let result = try await DeadLetterRedrive(
            pipeline: Pipeline(
                name: "p", extractor: extractor, loader: RefusingLoader(journal: journal, database: Database()),
                deadLetters: queue)
        ).run()
        #expect(result.loaded == 1)
        #expect(result.stillRejected == 1)
        let left = try await queue.list(pipeline: "p", limit: nil)
        #expect(left.map(\.record?.values) == [[3]])
        #expect(left.map(\.errorCode) == ["http_422"])
        #expect(left.map(\.stage) == ["load"])
        #expect(left.map(\.attempts) == [2])
    }
}
