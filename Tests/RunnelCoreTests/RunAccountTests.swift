import Synchronization
import Testing
@testable import RunnelCore

/// Rejects odd ids (code `odd`, field `id`) and filters out ids divisible by 5.
private struct OddAndFives: Transformer {
    var name: String { "odd" }
    func apply(to batch: inout Batch) throws {
        let p = batch.schema.index(of: "id")!
        batch.updateRecords(stage: "transform:odd") { (r: inout Record) throws(RecordError) in
            if case .int(let i) = r.values[p], i % 2 == 1 { throw RecordError(code: "odd", message: "\(i) is odd", field: "id") }
        }
        batch.filterRecords { r in
            if case .int(let i) = r.values[p] { return i % 5 != 0 }
            return true
        }
    }
}

/// Keeps every event a run reports.
private final class Recorder: PipelineObserver, Sendable {
    let events = Mutex<[BatchEvent]>([])
    let finished = Mutex<[RunSummary]>([])
    func batchCommitted(_ event: BatchEvent) { events.withLock { $0.append(event) } }
    func runFinished(_ run: RunInfo, summary: RunSummary) { finished.withLock { $0.append(summary) } }
}

private func addsUp(_ s: RunSummary) -> Bool {
    s.read == s.loaded + s.superseded + s.filtered + s.rejected + s.uncommitted
}

/// What a run says about itself — summary, per-batch totals, the finished event — adds up and
/// names why it failed.
@Suite struct RunAccountTests {
    @Test func everyReportOfARunAddsUp() async throws {
        // ids 1...20, and 2 again (superseded): 10 odd rejected, 2 of the evens filtered (10, 20).
        let rows: [[Value]] = (1...20).map { [.int(Int64($0)), .string("r\($0)")] } + [[2, "again"]]
        let recorder = Recorder()
        let pipeline = Pipeline(
            name: "p", extractor: MemoryExtractor(fields: ["id", "name"], rows: rows), transformers: [OddAndFives()],
            loader: MemoryLoader(key: ["id"]), deadLetters: MemoryDeadLetterQueue(), batching: .init(maxRecords: 4))
        let summary = await PipelineRunner(pipeline: pipeline, observer: recorder).run()
        #expect(summary.exitCode == 0)
        #expect(summary.read == 21 && summary.rejected == 10 && summary.filtered == 2 && summary.superseded == 1 && summary.loaded == 8)
        #expect(addsUp(summary))
        let events = recorder.events.withLock { $0 }
        #expect(!events.isEmpty)
        for e in events {
            #expect(addsUp(e.totals), "\(e.totals)")
            #expect(e.read == e.loaded + e.superseded + e.filtered + e.rejectedByStage.values.reduce(0, +))
        }
        #expect(recorder.finished.withLock { $0 } == [summary])
        let top = try #require(summary.topRejections.first)
        #expect(top.code == "odd" && top.count == 10 && top.field == "id" && top.value == "1" && top.stage == "transform:odd")
        #expect(top.origin == "memory:1")
    }

    /// It said `read 0 · rejected 0` beside "4 of 4 records invalid", and no reason.
    @Test func aRunStoppedByTheInvalidRatioCountsWhatItReadAndSaysWhy() async throws {
        let rows: [[Value]] = [1, 3, 5, 7].map { [.int($0), "x"] }
        let dlq = MemoryDeadLetterQueue()
        let pipeline = Pipeline(
            name: "p", extractor: MemoryExtractor(fields: ["id", "name"], rows: rows), transformers: [OddAndFives()],
            loader: MemoryLoader(key: ["id"]), deadLetters: dlq, invalidRecords: .init(action: .deadLetter, maxInvalidRatio: 0.5))
        let summary = await PipelineRunner(pipeline: pipeline).run()
        #expect(summary.exitCode == 3)
        #expect(summary.read == 4 && summary.rejected == 4 && summary.deadLettered == 0 && summary.loaded == 0)
        #expect(addsUp(summary))
        #expect(summary.topRejections.map(\.code) == ["odd"])
        #expect(summary.topRejections.first?.example == "1 is odd")
        #expect(dlq.count == 0)
    }

    @Test func aRunThatRejectsEveryRecordFailsUnlessTheSpecAcceptsIt() async throws {
        let rows: [[Value]] = [1, 3, 5, 7].map { [.int($0), "x"] }
        func run(_ ratio: Double?) async -> (RunSummary, MemoryDeadLetterQueue) {
            let dlq = MemoryDeadLetterQueue()
            let pipeline = Pipeline(
                name: "p", extractor: MemoryExtractor(fields: ["id", "name"], rows: rows), transformers: [OddAndFives()],
                loader: MemoryLoader(key: ["id"]), deadLetters: dlq, invalidRecords: .init(action: .deadLetter, maxInvalidRatio: ratio))
            return (await PipelineRunner(pipeline: pipeline).run(), dlq)
        }
        let (failed, parked) = await run(nil)
        #expect(failed.exitCode == 3 && failed.status == "failed")
        #expect(failed.error?.contains("every record read (4) was rejected") == true, "\(failed.error ?? "")")
        #expect(failed.error?.contains("max_invalid_ratio: 1") == true)
        #expect(failed.deadLettered == 4 && parked.count == 4, "the dead letters are stored all the same")
        let (accepted, _) = await run(1)
        #expect(accepted.exitCode == 0)
        // An empty run is not a failed one.
        let empty = await PipelineRunner(
            pipeline: Pipeline(name: "p", extractor: MemoryExtractor(fields: ["id"], rows: []), loader: MemoryLoader(key: ["id"]))
        ).run()
        #expect(empty.exitCode == 0)
    }

    /// The `run finished` log line said exit code 0 at level info while the process exited 1.
    @Test func aBatchRunStoppedByASignalReportsExitOneToItsObservers() async throws {
        let recorder = Recorder()
        let control = RunControl()
        control.requestStop()
        let pipeline = Pipeline(
            name: "p", extractor: MemoryExtractor(fields: ["id", "name"], rows: [[2, "x"]]), loader: MemoryLoader(key: ["id"]))
        let summary = await PipelineRunner(pipeline: pipeline, observer: recorder, control: control).run()
        #expect(summary.exitCode == 1 && summary.status == "failed")
        #expect(recorder.finished.withLock { $0 }.map(\.exitCode) == [1])
        // A streaming worker stopped by a signal is done, not failed.
        let stream = await PipelineRunner(
            pipeline: pipeline, options: RunOptions(mode: .streaming), observer: recorder, control: control
        ).run()
        #expect(stream.exitCode == 0)
    }

    static let badWindows: [(String?, String?, String)] = [
        ("June 1", nil, "--from 'June 1' is not a time or a number"),
        ("xyz", nil, "--from 'xyz' is not a time or a number"),
        ("2013-06-02", "2013-06-01", "--from '2013-06-02' is not before --to '2013-06-01'"),
        ("2013-06-01", "2013-06-01", "is not before"),
        ("2013-06-01", "5", "are not of one kind"),
        (nil, "soon", "--to 'soon' is not"),
    ]

    @Test(arguments: Self.badWindows)
    func aWindowThatDoesNotParseOrIsEmptyIsAUsageError(from: String?, to: String?, message: String) throws {
        #expect {
            try Window(from: from, to: to).checked(as: .timeOrNumber)
        } throws: { error in
            guard let e = error as? RunnelError else { return false }
            return e.code.exitCode == 2 && e.description.contains(message)
        }
    }

    @Test func windowsThatParseAreKept() throws {
        for (from, to) in [("2013-06-01", "2013-06-02"), ("2013-06-01T10:00:00Z", nil), ("100", "200.5"), (nil, "2013-06-01 10:00:00+02:00")] {
            let w = try Window(from: from, to: to).checked(as: .timeOrNumber)
            #expect(w == Window(from: from, to: to))
        }
        #expect(throws: RunnelError.self) { try Window(from: "100", to: nil).checked(as: .time) }
        #expect(try Window(from: "orders/2026-11", to: "orders/2026-12").checked(as: .text) == Window(from: "orders/2026-11", to: "orders/2026-12"))
        #expect(throws: RunnelError.self) { try Window(from: "b", to: "a").checked(as: .text) }
    }
}
