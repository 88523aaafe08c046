#if Kafka
    import KafkaClient
    import RunnelCore
    import RunnelKafka
    import Testing

    struct SinkTests {
        @Test func whatTheSinkProducedReadsBackAsTheInput() async throws {
            let topic = try await makeTopic("sink", partitions: 3)
            let rows: [[Value]] = (0..<500).map { [.int(Int64($0)), .string("name \($0)"), .string($0 % 2 == 0 ? "web" : "app")] }
            let producer = try KafkaProducer(.init(client: testClient), logger: testLogger)
            var c = KafkaSink.Configuration(topic: topic)
            c.key = ["id"]
            c.headers = ["source"]
            let pipeline = Pipeline(
                name: uniqueName("sink"),
                extractor: MemoryExtractor(fields: ["id", "name", "source"], rows: rows),
                loader: KafkaSink(c, producer: producer))
            let summary = await PipelineRunner(pipeline: pipeline).run()
            await producer.close()
            #expect(summary.exitCode == 0)
            #expect(summary.loaded == 500)

            let consumer = try KafkaConsumer(.init(client: testClient, group: uniqueName("g")), logger: testLogger) { _ in [:] }
            try consumer.start(.names([topic]))
            var got: [KafkaMessage] = []
            try await eventually("500 messages read back") {
                got += try await consumer.take(maxMessages: 500, waitingUpTo: .milliseconds(100))
                return got.count >= 500
            }
            await consumer.close()
            #expect(got.count == 500)
            var seen: Set<Int> = []
            for m in got {
                let value = try JSONText.parse(m.value ?? [])
                guard case .object(let o) = value, case .int(let id)? = o["id"] else {
                    Issue.record("not a record: \(String(decoding: m.value ?? [], as: UTF8.self))")
                    continue
                }
                seen.insert(Int(id))
                #expect(o["name"] == .string("name \(id)"))
                #expect(m.key == Array("\(id)".utf8))
                #expect(m.headers.map(\.name) == ["source"])
                #expect(m.headers.first?.value == Array((id % 2 == 0 ? "web" : "app").utf8))
            }
            #expect(seen == Set(0..<500))
        }
    }
#endif
