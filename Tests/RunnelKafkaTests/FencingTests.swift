#if Kafka
    import Foundation
    import KafkaClient
    import RunnelCore
    import RunnelKafka
    import RunnelSQLite
    import Testing

    /// A worker whose loader is slower than `revoke_timeout` loses a partition while a batch of
    /// it is in flight. The partition's next owner loads from the stored offsets and moves them
    /// on; when the slow load finally runs, it must neither write its rows nor move the stored
    /// offset back. It is fenced: its transaction finds another position than the one its batch
    /// was read from, rolls back, and the worker stops with `fenced` (exit 1) for a restart.
    struct FencingTests {
        @Test func aBatchOvertakenByThePartitionsNextOwnerIsFencedOffAndMovesNoOffsetBack() async throws {
            let topic = try await makeTopic("fence", partitions: 2)
            let target = try SQLiteTarget()
            let name = uniqueName("p")
            let group = uniqueName("g")
            try await produce(topic, 0..<200)

            // A reads every message into one batch and its load waits at the gate.
            var slow = source(topic, group: group)
            slow.revokeTimeout = .milliseconds(200)
            let gate = Gate()
            // Exactly the 200 messages, however slowly they are fetched: the held batch spans
            // both partitions, so whichever one B is given has a batch of A's in flight.
            var pipelineA = target.pipeline(slow, name: name, maxRecords: 200)
            pipelineA.loader = GatedLoader(inner: pipelineA.loader, gate: gate)
            pipelineA.batching.maxLinger = .seconds(60)
            let controlA = RunControl()
            let a = PipelineRunner(pipeline: pipelineA, options: RunOptions(mode: .streaming), control: controlA)
            let endedA = Finished()
            let runA = Task {
                let summary = await a.run()
                endedA.set()
                return summary
            }
            try await eventually("A's first load is held at the gate") { gate.waiting > 0 }
            #expect(((try? target.storedOffsets(pipeline: name)) ?? [:]).isEmpty)

            // B joins: A's revoke of one partition times out and B loads that partition.
            let controlB = RunControl()
            let b = PipelineRunner(
                pipeline: target.pipeline(source(topic, group: group), name: name), options: RunOptions(mode: .streaming),
                control: controlB)
            let runB = Task { await b.run() }
            try await eventually("B stored the offset of the partition it took over") {
                ((try? target.storedOffsets(pipeline: name)) ?? [:]).count == 1
            }
            let taken = try target.storedOffsets(pipeline: name)
            let part = taken.keys.first!
            // B moves that partition on, past where A's batch ends.
            try await produce(topic, 200..<400)
            try await eventually("B loaded past A's batch") { try target.storedOffsets(pipeline: name)[part]! > taken[part]! }
            let before = try target.storedOffsets(pipeline: name)

            gate.open()
            // A fenced worker stops by itself; one that was not goes on streaming.
            let stoppedByItself = (try? await eventually("A stops", timeout: .seconds(30)) { endedA.isSet }) != nil
            controlA.requestStop()
            let summaryA = await runA.value
            // Whether A is fenced depends on its held batch holding the partition B took, which the
            // group's assignment decides and this test does not control: seen once in a fresh-clone
            // CI rehearsal, A's held batch was of its other partition, it committed and went on.
            // The safety property, that no offset moves back and the target ends exact, is
            // checked strictly below either way.
            withKnownIssue("A's held batch may be of the partition it kept, and is then not fenced", isIntermittent: true) {
                #expect(stoppedByItself)
                #expect(summaryA.exitCode == 1)
                #expect(summaryA.errorCode == "fenced", "\(summaryA.error ?? "")")
            }
            // A's batch of the partition B took was not written: B's position stands (without
            // the fence, A's commit would set it back to where A's batch ends).
            #expect(try target.storedOffsets(pipeline: name)[part]! >= before[part]!)

            // A left the group: B takes its partition over and the target ends exact.
            try await eventually("every message loaded") { try target.count() == 400 }
            controlB.requestStop()
            let summaryB = await runB.value
            #expect(summaryB.exitCode == 0)
            #expect(try target.storedOffsets(pipeline: name).values.reduce(0, +) == 400)
            #expect(try target.rows("SELECT count(DISTINCT n), min(n), max(n) FROM orders") == [["400", "0", "399"]])
        }
    }

    /// Holds every load until `open()`; a loader slower than the rebalance.
    struct GatedLoader: Loader {
        let inner: any Loader
        let gate: Gate
        func prepare(schema: Schema?) async throws { try await inner.prepare(schema: schema) }
        func load(_ batch: Batch, commit: CheckpointCommit?) async throws -> LoadOutcome {
            await gate.pass()
            return try await inner.load(batch, commit: commit)
        }
        var transactionDomain: TransactionDomain? { inner.transactionDomain }
        func finish() async throws { try await inner.finish() }
        var target: String { inner.target }
        var key: [String] { inner.key }
    }

    /// `@unchecked Sendable`: behind its lock.
    final class Gate: @unchecked Sendable {
        private let lock = NSLock()
        private var isOpen = false
        private var waiters: [CheckedContinuation<Void, Never>] = []

        var waiting: Int { lock.withLock { waiters.count } }

        func pass() async {
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                let go = lock.withLock { () -> Bool in
                    if isOpen { return true }
                    waiters.append(c)
                    return false
                }
                if go { c.resume() }
            }
        }

        func open() {
            let all = lock.withLock { () -> [CheckedContinuation<Void, Never>] in
                isOpen = true
                defer { waiters = [] }
                return waiters
            }
            for c in all { c.resume() }
        }
    }
#endif
