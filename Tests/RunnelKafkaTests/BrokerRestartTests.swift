#if Kafka
    import Foundation
    import KafkaClient
    import RunnelCore
    import RunnelKafka
    import Testing

    struct BrokerRestartTests {
        @Test func theWorkerRidesABrokerRestartOutAndNoStoredOffsetMovesBackwards() async throws {
            let broker = try OwnBroker(port: 19_120)
            defer { broker.stop() }
            var client = testClient
            client.brokers = [broker.brokers]
            let topic = uniqueName("restart")
            try await eventually("the broker answers") {
                (try? await KafkaAdmin(client, logger: testLogger).createTopic(topic, partitions: 1)) != nil
            }
            try await produce(topic, 0..<500, client: client)

            let target = try SQLiteTarget()
            let name = uniqueName("p")
            var c = source(topic, group: uniqueName("g"))
            c.client = client
            let control = RunControl()
            let runner = PipelineRunner(pipeline: target.pipeline(c, name: name), options: RunOptions(mode: .streaming), control: control)
            let run = Task { await runner.run() }
            try await eventually("500 loaded") { try target.count() == 500 }
            #expect(try target.storedOffsets(pipeline: name) == ["\(topic)/0": 500])

            // The broker dies and comes back empty (Tansu keeps nothing): the worker keeps
            // running, rejoins, starts the partition at its stored offset 500, and loads what is
            // written past it. The stored offset only moves forward.
            broker.kill()
            try broker.start()
            try await eventually("the broker answers again") {
                (try? await KafkaAdmin(client, logger: testLogger).createTopic(topic, partitions: 1)) != nil
            }
            try await produce(topic, 1_000..<1_800, client: client)
            // Nothing past offset 500 is lost: keys 1500..<1800 all arrive.
            try await eventually("the messages past offset 500 loaded", timeout: .seconds(90)) {
                try target.rows("SELECT count(*) FROM orders WHERE n >= 1500") == [["300"]]
            }
            control.requestStop()
            let summary = await run.value
            #expect(summary.exitCode == 0, "\(summary.error ?? "")")
            let stored = try target.storedOffsets(pipeline: name)["\(topic)/0"] ?? -1
            #expect(stored >= 800, "the stored offset moved backwards or stayed: \(stored)")
            // Whether the worker also replays the new history from offset 0 depends on timing: a
            // fetch at 500 that lands before the producer's writes finds the empty partition out
            // of range and starts again at the earliest offset (at least once: more rows, never
            // fewer). Seen here on 2026-12-06 with 1,300 rows; recorded, not hidden.
            let rows = try target.count()
            let range = try target.rows("SELECT min(n), max(n) FROM orders WHERE n >= 1000")
            withKnownIssue("a fetch before the new writes resets to the earliest offset", isIntermittent: true) {
                #expect(rows == 800)
                #expect(range == [["1500", "1799"]])
            }
        }
    }
#endif
