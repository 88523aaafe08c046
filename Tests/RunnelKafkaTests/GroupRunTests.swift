#if Kafka
    import KafkaClient
    import RunnelCore
    import RunnelKafka
    import Testing

    struct GroupRunTests {
        /// Two workers of one group split the partitions; one stops mid-stream and the other
        /// takes its partitions over from the offsets stored in the target.
        @Test func twoWorkersSplitAndOneTakesOverWithoutLossOrOverlap() async throws {
            let topic = try await makeTopic("group", partitions: 4)
            let target = try SQLiteTarget()
            let name = uniqueName("p")
            let group = uniqueName("g")
            try await produce(topic, 0..<2_000)

            let controlA = RunControl()
            let controlB = RunControl()
            let a = PipelineRunner(pipeline: target.pipeline(source(topic, group: group), name: name), options: RunOptions(mode: .streaming), control: controlA)
            let b = PipelineRunner(pipeline: target.pipeline(source(topic, group: group), name: name), options: RunOptions(mode: .streaming), control: controlB)
            let runA = Task { await a.run() }
            let runB = Task { await b.run() }
            try await eventually("the first 2,000 loaded") { try target.count() == 2_000 }
            // More messages while B leaves: its in-flight batches are committed before its
            // partitions are handed to A, and A starts them at the stored offsets.
            let more = Task { try await produce(topic, 2_000..<6_000) }
            controlB.requestStop()
            let summaryB = await runB.value
            try await more.value
            try await eventually("every message loaded") { try target.count() == 6_000 }
            controlA.requestStop()
            let summaryA = await runA.value

            #expect(summaryA.exitCode == 0)
            #expect(summaryB.exitCode == 0)
            #expect(summaryA.read > 0 && summaryB.read > 0, "both workers had partitions")
            // Nothing read twice across the two workers, nothing missing.
            #expect(summaryA.read + summaryB.read == 6_000)
            #expect(try target.storedOffsets(pipeline: name).values.reduce(0, +) == 6_000)
            #expect(try target.rows("SELECT count(DISTINCT n) FROM orders") == [["6000"]])
        }
    }
#endif
