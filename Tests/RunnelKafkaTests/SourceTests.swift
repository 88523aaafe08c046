#if Kafka
    import Foundation
    import KafkaClient
    import RunnelCore
    import RunnelConfig
    import RunnelKafka
    import RunnelSQLite
    import Testing

    struct SourceTests {
        @Test func offsetsAreStoredInTheLoadTransactionAndANewGroupResumesFromThem() async throws {
            let topic = try await makeTopic("txn", partitions: 3)
            try await produce(topic, 0..<300)
            let target = try SQLiteTarget()
            let name = uniqueName("p")

            let first = try await runStreaming(target.pipeline(source(topic, group: uniqueName("g")), name: name), until: "300 rows") {
                try target.count() == 300
            }
            #expect(first.exitCode == 0)
            #expect(first.loaded == 300)
            // One stored offset per partition, together covering every message once.
            let stored = try target.storedOffsets(pipeline: name)
            #expect(stored.count == 3)
            #expect(stored.values.reduce(0, +) == 300)

            // A run under a group that never committed anything: without the stored offsets it
            // would read all 400 messages again; it reads exactly the 100 new ones.
            try await produce(topic, 300..<400)
            let second = try await runStreaming(target.pipeline(source(topic, group: uniqueName("g")), name: name), until: "400 rows") {
                try target.count() == 400
            }
            #expect(second.exitCode == 0)
            #expect(second.read == 100)
            #expect(try target.storedOffsets(pipeline: name).values.reduce(0, +) == 400)
            #expect(try target.rows("SELECT count(DISTINCT n), min(n), max(n) FROM orders") == [["400", "0", "399"]])
        }

        @Test func aPoisonMessageIsDeadLetteredOnceAndCommittedWithItsBatch() async throws {
            let topic = try await makeTopic("poison", partitions: 1)
            try await produce(topic, 0..<10)
            try await sendRaw(topic, key: "bad-1", value: "{not json")
            try await sendRaw(topic, key: "bad-2", value: "[1, 2]")
            try await produce(topic, 10..<20)
            let target = try SQLiteTarget()
            let name = uniqueName("p")
            let group = uniqueName("g")

            let summary = try await runStreaming(target.pipeline(source(topic, group: group), name: name), until: "20 rows, 2 letters") {
                try target.count() == 20 && target.count("runnel_dead_letters") == 2
            }
            #expect(summary.exitCode == 0)
            #expect(summary.deadLettered == 2)
            let letters = try target.rows("SELECT stage, error_code, source, raw FROM runnel_dead_letters ORDER BY raw")
            #expect(letters.map { $0[0] } == ["extract", "extract"])
            #expect(letters.map { $0[1] } == ["malformed_message", "malformed_message"])
            #expect(letters.map { $0[2] } == [topic, topic])
            #expect(letters.map { $0[3] } == ["[1, 2]", "{not json"])
            // Committed past them: 22 messages in the partition, offset 22 stored.
            #expect(try target.storedOffsets(pipeline: name) == ["\(topic)/0": 22])

            // Running again after one more message reads only that one and parks nothing twice.
            try await produce(topic, 20..<21)
            let again = try await runStreaming(target.pipeline(source(topic, group: group), name: name), until: "21 rows") {
                try target.count() == 21
            }
            #expect(again.read == 1)
            #expect(try target.count("runnel_dead_letters") == 2)
        }

        @Test func batchModeStopsAtTheEndOffsetsTakenAtStart() async throws {
            let topic = try await makeTopic("batch", partitions: 2)
            try await produce(topic, 0..<60, oneByOne: true)
            let target = try SQLiteTarget()
            let name = uniqueName("p")

            // Messages keep arriving while the run drains: it must end anyway, at the offsets
            // it took when it was assigned the partitions.
            let keepProducing = Task {
                var n = 1_000
                while !Task.isCancelled {
                    try await produce(topic, n..<(n + 1), oneByOne: true)
                    n += 1
                }
            }
            let control = RunControl()
            let runner = PipelineRunner(
                pipeline: target.pipeline(source(topic, group: uniqueName("g")), name: name), options: RunOptions(mode: .batch),
                control: control)
            let run = Task { await runner.run() }
            let ended = Finished()
            Task {
                _ = await run.value
                ended.set()
            }
            // A run that followed the topic would never end: fail instead of hanging.
            do {
                try await eventually("the batch run ends by itself", timeout: .seconds(90)) { ended.isSet }
            } catch {
                control.requestStop()
                keepProducing.cancel()
                throw error
            }
            let summary = await run.value
            keepProducing.cancel()
            _ = await keepProducing.result

            #expect(summary.exitCode == 0)
            #expect(summary.loaded >= 60)
            // What it loaded is exactly each partition's messages below the stored stop offset.
            let stored = try target.storedOffsets(pipeline: name)
            #expect(stored.values.reduce(0, +) == Int64(summary.loaded))
            #expect(try target.count() == summary.loaded)
            #expect(try target.rows("SELECT count(*) FROM orders WHERE n < 60") == [["60"]])
        }

        @Test func aNewGroupStartsAtTheFirstMessageAtOrAfterTheStartTime() async throws {
            // 20 messages stamped in January, 10 in June; a new group told to start on 1 March
            // reads exactly the June ones, and a second run of the same group resumes from its
            // stored offsets (the start time applies only where there is no offset).
            let topic = try await makeTopic("bytime", partitions: 2)
            let january: Int64 = 1_767_225_600_000  // 2026-01-01T00:00:00Z
            let june: Int64 = 1_780_272_000_000  // 2026-06-01T00:00:00Z
            try await produce(topic, 0..<20, oneByOne: true) { january + Int64($0) * 1_000 }
            try await produce(topic, 20..<30, oneByOne: true) { june + Int64($0) * 1_000 }
            let target = try SQLiteTarget()
            let name = uniqueName("p")
            var c = source(topic, group: uniqueName("g"))
            c.start = .timestamp(1_772_323_200_000)  // 2026-03-01T00:00:00Z
            let first = await PipelineRunner(pipeline: target.pipeline(c, name: name), options: RunOptions(mode: .batch)).run()
            #expect(first.exitCode == 0, "\(first.error ?? "")")
            let loaded = try target.rows("SELECT min(n), max(n), count(*) FROM orders")
            #expect(loaded == [["20", "29", "10"]], "min, max, count: \(loaded); \(first.read) read")
            try await produce(topic, 30..<31, oneByOne: true) { january + Int64($0) }
            let second = await PipelineRunner(pipeline: target.pipeline(c, name: name), options: RunOptions(mode: .batch)).run()
            #expect(second.exitCode == 0 && second.read == 1, "an old-stamped message after the stored offset is read")
        }

        @Test func aStartThatIsNeitherAPositionNorATimeIsASpecProblem() throws {
            let yaml = """
                pipeline: k
                extract: {type: kafka, brokers: "127.0.0.1:1", topics: [t], start: yesterday}
                load: {type: sqlite, path: out.db, table: t, key: [id]}
                validate: {on_invalid: drop}
                """
            var registry = ComponentRegistry()
            registry.registerCore()
            registry.registerKafka()
            registry.registerSQLite()
            do {
                _ = try PipelineSpec.parse(yaml: yaml, file: "k.yaml", directory: "/tmp", environment: Environment([:]), registry: registry)
                Issue.record("the spec was accepted")
            } catch {
                #expect(error.code == .config)
                #expect(error.message.contains("k.yaml:2:") && error.message.contains("extract.start") && error.message.contains("'yesterday'"), "\(error.message)")
            }
            let timed = yaml.replacingOccurrences(of: "yesterday", with: "2026-03-01T00:00:00Z")
            let spec = try PipelineSpec.parse(yaml: timed, file: "k.yaml", directory: "/tmp", environment: Environment([:]), registry: registry)
            let source = try #require(spec.pipeline.extractor as? KafkaExtractor)
            #expect(source.configuration.start == .timestamp(1_772_323_200_000))
        }

        @Test func aSpecWithAnUnknownPropertyFailsWithLibrdkafkasMessage() async throws {
            var c = source("whatever", group: "g")
            c.client.properties["fetch.max.byte"] = "1"
            let target = try SQLiteTarget()
            let summary = await PipelineRunner(pipeline: target.pipeline(c, name: "p"), options: RunOptions(mode: .batch)).run()
            #expect(summary.exitCode == 2)
            #expect(summary.error?.contains("fetch.max.byte") == true)
        }
    }
#endif
