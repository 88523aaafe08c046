#if Kafka
    import KafkaClient
    import Testing

    struct RoundTripTests {
        @Test func createdTopicHasItsPartitions() async throws {
            let topic = try await makeTopic("create", partitions: 3)
            let admin = try KafkaAdmin(testClient, logger: testLogger)
            #expect(try await admin.partitionCount(topic) == 3)
            // Creating it again is a success when asked to ignore an existing topic.
            try await admin.createTopic(topic, partitions: 3)
        }

        @Test func producedMessagesAreConsumedOnceEachWithKeysAndHeaders() async throws {
            let topic = try await makeTopic("roundtrip", partitions: 4)
            let producer = try KafkaProducer(.init(client: testClient), logger: testLogger)
            var sent: [KafkaOutgoingMessage] = []
            for i in 0..<1_000 {
                sent.append(
                    KafkaOutgoingMessage(
                        topic: topic, key: Array("k\(i % 50)".utf8), value: Array("{\"n\":\(i)}".utf8),
                        headers: [("source", Array("test".utf8))]))
            }
            sent.append(KafkaOutgoingMessage(topic: topic, key: nil, value: nil))  // a tombstone
            try await producer.send(sent)
            await producer.close()

            let consumer = try KafkaConsumer(testConsumerConfiguration(group: uniqueName("g")), logger: testLogger) { _ in [:] }
            try consumer.start(.names([topic]))
            let got = try await consume(consumer) { $0.count >= 1_001 }
            await consumer.close()

            #expect(got.count == 1_001)
            let values = Set(got.compactMap { $0.value == nil ? nil : $0.text })
            #expect(values == Set((0..<1_000).map { "{\"n\":\($0)}" }))
            #expect(got.filter { $0.value == nil && $0.key == nil }.count == 1)
            // One key always lands on one partition, in order.
            var partitionOfKey: [[UInt8]: Int32] = [:]
            for m in got { if let k = m.key { #expect(partitionOfKey.updateValue(m.partition, forKey: k) ?? m.partition == m.partition) } }
            #expect(got.first { $0.value != nil }?.headers.first?.name == "source")
            #expect(got.first { $0.value != nil }?.headers.first?.value == Array("test".utf8))
            // Offsets per partition are consecutive from 0: nothing skipped, nothing twice.
            for (_, messages) in Dictionary(grouping: got, by: \.partition) {
                #expect(messages.map(\.offset) == Array(0..<Int64(messages.count)))
            }
        }

        @Test func regexSubscriptionFindsMatchingTopics() async throws {
            let prefix = uniqueName("rx")
            let admin = try KafkaAdmin(testClient, logger: testLogger)
            try await admin.createTopic("\(prefix)-a", partitions: 1)
            try await admin.createTopic("\(prefix)-b", partitions: 1)
            try await produce("\(prefix)-a", count: 3)
            try await produce("\(prefix)-b", count: 4)
            let consumer = try KafkaConsumer(testConsumerConfiguration(group: uniqueName("g")), logger: testLogger) { _ in [:] }
            try consumer.start(.pattern("^\(prefix)-.*"))
            let got = try await consume(consumer) { $0.count >= 7 }
            await consumer.close()
            #expect(Set(got.map(\.topic)) == ["\(prefix)-a", "\(prefix)-b"])
            #expect(got.count == 7)
        }

        @Test func commitAndResumeFromTheCommittedOffsets() async throws {
            let topic = try await makeTopic("resume", partitions: 2)
            try await produce(topic, count: 100)
            let group = uniqueName("g")

            // First member: read everything, commit up to the 30th message of each partition.
            let first = try KafkaConsumer(testConsumerConfiguration(group: group), logger: testLogger) { _ in [:] }
            try first.start(.names([topic]))
            let all = try await consume(first) { $0.count >= 100 }
            let commits = Dictionary(grouping: all, by: \.topicPartition).mapValues { _ in Int64(30) }
            try await first.commit(commits)
            #expect(try await first.committed(Array(commits.keys)) == commits.mapValues { $0 })
            await first.close()

            // Second member of the group: starts at the committed offsets, not at 0.
            let second = try KafkaConsumer(testConsumerConfiguration(group: group), logger: testLogger) { _ in [:] }
            try second.start(.names([topic]))
            let rest = try await consume(second) { $0.count >= 100 - 60 }
            await second.close()
            #expect(rest.count == 40)
            #expect(rest.allSatisfy { $0.offset >= 30 })
        }

        @Test func startOffsetsFromTheRebalanceHandlerWin() async throws {
            let topic = try await makeTopic("seek", partitions: 1)
            try await produce(topic, count: 20)
            let consumer = try KafkaConsumer(testConsumerConfiguration(group: uniqueName("g")), logger: testLogger) { event in
                guard case .assigned(let partitions, _) = event else { return [:] }
                return Dictionary(uniqueKeysWithValues: partitions.map { ($0, Int64(15)) })
            }
            try consumer.start(.names([topic]))
            let got = try await consume(consumer) { $0.count >= 5 }
            await consumer.close()
            #expect(got.map(\.offset) == [15, 16, 17, 18, 19])
        }

        /// A full buffer makes the poll thread wait for the owner, and pause the partitions when
        /// the owner takes longer than `pauseAfter` (zero: at once, so pausing is exercised).
        @Test(arguments: [Duration.zero, .seconds(1)])
        func aFullBufferWaitsOrPausesWithoutLosingMessages(pauseAfter: Duration) async throws {
            let topic = try await makeTopic("pause", partitions: 2)
            try await produce(topic, count: 2_000)
            var configuration = testConsumerConfiguration(group: uniqueName("g"))
            configuration.bufferCapacity = 50
            configuration.pauseAfter = pauseAfter
            let consumer = try KafkaConsumer(configuration, logger: testLogger) { _ in [:] }
            try consumer.start(.names([topic]))
            // Slow taker: small takes, so the buffer fills again and again.
            var got: [KafkaMessage] = []
            let deadline = ContinuousClock.now + .seconds(60)
            while got.count < 2_000, ContinuousClock.now < deadline {
                got += try await consumer.take(maxMessages: 7, waitingUpTo: .milliseconds(200))
            }
            await consumer.close()
            #expect(got.count == 2_000)
            for (_, messages) in Dictionary(grouping: got, by: \.partition) {
                #expect(messages.map(\.offset) == Array(0..<Int64(messages.count)))
            }
        }
    }
#endif
