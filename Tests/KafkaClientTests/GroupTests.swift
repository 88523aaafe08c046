#if Kafka
    import KafkaClient
    import Testing

    struct GroupTests {
        @Test func twoMembersSplitThePartitionsAndOneTakesOverWhenTheOtherLeaves() async throws {
            let topic = try await makeTopic("split", partitions: 4)
            let group = uniqueName("g")
            let logA = RebalanceLog()
            let logB = RebalanceLog()
            let a = try KafkaConsumer(testConsumerConfiguration(group: group), logger: testLogger, rebalance: logA.handler)
            let b = try KafkaConsumer(testConsumerConfiguration(group: group), logger: testLogger, rebalance: logB.handler)
            try a.start(.names([topic]))
            try b.start(.names([topic]))
            try await eventually("both members hold partitions") {
                let x = a.assignment
                let y = b.assignment
                return !x.isEmpty && !y.isEmpty && x.isDisjoint(with: y) && x.count + y.count == 4
            }

            // Messages produced now reach the two members, each partition one member.
            try await produce(topic, count: 200)
            var fromA: [KafkaMessage] = []
            var fromB: [KafkaMessage] = []
            try await eventually("every message consumed") {
                fromA += try await a.take(maxMessages: 500, waitingUpTo: .milliseconds(100))
                fromB += try await b.take(maxMessages: 500, waitingUpTo: .milliseconds(100))
                return fromA.count + fromB.count >= 200
            }
            #expect(fromA.count + fromB.count == 200)
            #expect(!fromA.isEmpty && !fromB.isEmpty)
            #expect(Set(fromA.map(\.partition)).isDisjoint(with: Set(fromB.map(\.partition))))
            let next = Dictionary(grouping: fromB, by: \.topicPartition).mapValues { $0.map(\.offset).max()! + 1 }
            try await b.commit(next)

            // B leaves: its revoke handler ran for its partitions, and A takes them over,
            // starting after what B committed.
            let bPartitions = b.assignment
            await b.close()
            #expect(logB.events.current.contains { if case .revoked(let p, _, _) = $0 { Set(p) == bPartitions } else { false } })
            try await eventually("A holds every partition") { a.assignment.count == 4 }
            try await produce(topic, count: 100, from: 200)
            var after: [KafkaMessage] = []
            try await eventually("the new messages consumed by A") {
                after += try await a.take(maxMessages: 500, waitingUpTo: .milliseconds(100))
                return after.count >= 100
            }
            await a.close()
            #expect(after.count == 100)
            // B's former partitions are among those A now reads (the 100 keys hash onto all four).
            #expect(Set(after.map(\.partition)).isSuperset(of: Set(bPartitions.map(\.partition))))
            // Nothing B had committed is delivered to A again.
            for m in after { if let n = next[m.topicPartition] { #expect(m.offset >= n) } }
        }
    }
#endif
