#if Kafka
    @testable import KafkaClient
    import Testing

    /// `rd_kafka_destroy` can block forever in librdkafka 2.0 after a broker restart; the
    /// clients give it a bounded time so that a run still ends.
    struct BoundedDestroyTests {
        @Test func aBodyThatNeverEndsIsAbandonedAtTheDeadlineAndOneThatEndsIsJoined() {
            let gate = ConditionLock()
            let release = KafkaClient.Locked(false)
            let started = ContinuousClock.now
            let finished = BoundedDestroy.run(within: .milliseconds(300)) {
                // Blocks until the test releases it, after the bounded wait gave up.
                gate.withLock { while !release.get() { gate.wait(untilNanoseconds: nil) } }
            }
            #expect(!finished)
            #expect(ContinuousClock.now - started >= .milliseconds(300))
            gate.withLock {
                release.set(true)
                gate.broadcast()
            }

            let ran = KafkaClient.Locked(false)
            #expect(BoundedDestroy.run(within: .seconds(60)) { ran.set(true) })
            #expect(ran.get())
        }
    }
#endif
