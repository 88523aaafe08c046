#if Kafka
    import KafkaClient
    import RunnelCore
    import RunnelKafka
    import Synchronization
    import Testing

    /// Keeps the committed batches' events.
    final class CommittedBatches: PipelineObserver, Sendable {
        let events = Mutex<[BatchEvent]>([])
        func batchCommitted(_ event: BatchEvent) { events.withLock { $0.append(event) } }
    }

    struct TracePropagationTests {
        /// Kafka → Kafka with tracing on: the producers' `traceparent` headers become links of the
        /// batch span, and every message the sink writes carries the batch span's context.
        @Test func traceparentComesInAsLinksAndGoesOutAsTheBatchContext() async throws {
            let input = try await makeTopic("trace-in", partitions: 1)
            let output = try await makeTopic("trace-out", partitions: 1)
            let upstream = [TraceContext.newSpan(), TraceContext.newSpan()]
            let producer = try KafkaProducer(.init(client: testClient), logger: testLogger)
            // Two upstream traces, an invalid header (ignored), and messages without one. One
            // message per request: Tansu's high watermark then counts each (a batch run reads up
            // to it).
            for i in 0..<30 {
                let header: [(name: String, value: [UInt8])] =
                    i < 20 ? [("traceparent", Array(upstream[i % 2].traceparent.utf8))]
                    : i < 25 ? [("traceparent", Array("00-not-a-context-01".utf8))] : []
                try await producer.send([
                    KafkaOutgoingMessage(
                        topic: input, key: Array("k\(i)".utf8), value: Array("{\"n\":\(i)}".utf8), headers: header)
                ])
            }

            let batches = CommittedBatches()
            var options = RunOptions(mode: .batch)
            options.traceSampleRatio = 1
            let pipeline = Pipeline(
                name: uniqueName("trace"), extractor: KafkaExtractor(source(input, group: uniqueName("g")), logger: testLogger),
                loader: KafkaSink(KafkaSink.Configuration(topic: output), producer: producer),
                batching: BatchingPolicy(maxRecords: 1000, maxBytes: 1 << 20, maxLinger: .milliseconds(20)))
            let summary = await PipelineRunner(pipeline: pipeline, options: options, observer: batches).run()
            await producer.close()
            #expect(summary.exitCode == 0 && summary.loaded == 30, "\(summary.error ?? "") loaded \(summary.loaded)")

            let events = batches.events.withLock { $0 }
            let linked = Set(events.flatMap { $0.trace.links })
            #expect(linked == Set(upstream), "links: \(linked)")
            let contexts = Set(events.compactMap { $0.trace.context?.traceparent })
            #expect(contexts.count == events.count, "every batch has its own context")

            let consumer = try KafkaConsumer(.init(client: testClient, group: uniqueName("g")), logger: testLogger) { _ in [:] }
            try consumer.start(.names([output]))
            var got: [KafkaMessage] = []
            try await eventually("30 messages read back") {
                got += try await consumer.take(maxMessages: 30, waitingUpTo: .milliseconds(100))
                return got.count >= 30
            }
            await consumer.close()
            let sent = got.map { m in
                m.headers.first { $0.name == "traceparent" }.flatMap { $0.value.map { String(decoding: $0, as: UTF8.self) } }
            }
            #expect(sent.allSatisfy { $0 != nil && contexts.contains($0!) }, "\(Set(sent))")
        }
    }
#endif
