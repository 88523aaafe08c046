#if Kafka
    import Foundation
    import KafkaClient
    import RunnelCore
    import RunnelKafka
    import Testing

    #if canImport(Glibc)
        import Glibc
    #endif

    /// A broker of the test's own (Tansu and the relay, as scripts/services/kafka.sh starts them)
    /// that can be killed and started again.
    final class OwnBroker: @unchecked Sendable {
        // `@unchecked`: `tansu` is only touched by the test's own task.
        let port: Int
        private var tansu: Process?
        private let relay: Process

        init(port: Int) throws {
            guard let proxy = ProcessInfo.processInfo.environment["RUNNEL_TEST_KAFKA_PROXY"] else {
                throw Timeout(description: "RUNNEL_TEST_KAFKA_PROXY is not set (scripts/services/kafka.sh sets it)")
            }
            self.port = port
            relay = Process()
            relay.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            relay.arguments = ["python3", proxy, "\(port)", "\(port + 1)"]
            try relay.run()
            do { try start() } catch {
                stopRelay()
                throw error
            }
        }

        var brokers: String { "127.0.0.1:\(port)" }

        func start() throws {
            guard let bin = ProcessInfo.processInfo.environment["RUNNEL_TEST_TANSU"] else {
                throw Timeout(description: "RUNNEL_TEST_TANSU is not set (scripts/services/kafka.sh sets it)")
            }
            let p = Process()
            p.executableURL = URL(fileURLWithPath: bin)
            p.arguments = [
                "broker", "--listener-url", "tcp://127.0.0.1:\(port + 1)", "--advertised-listener-url", "tcp://127.0.0.1:\(port)",
                "--storage-engine", "memory://tansu/",
            ]
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            try p.run()
            tansu = p
        }

        func kill() {
            guard let p = tansu else { return }
            Glibc.kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
            tansu = nil
        }

        func stop() {
            kill()
            stopRelay()
        }

        /// SIGKILL: a child started by Foundation's Process may not act on SIGTERM.
        private func stopRelay() {
            Glibc.kill(relay.processIdentifier, SIGKILL)
            relay.waitUntilExit()
        }
    }

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
            try await eventually("the messages past offset 500 loaded", timeout: .seconds(90)) { try target.count() == 800 }
            control.requestStop()
            let summary = await run.value

            #expect(summary.exitCode == 0, "\(summary.error ?? "")")
            #expect(try target.storedOffsets(pipeline: name) == ["\(topic)/0": 800])
            // Offsets 500..<800 of the new history are keys 1500..<1800.
            #expect(try target.rows("SELECT min(n), max(n) FROM orders WHERE n >= 1000") == [["1500", "1799"]])
        }
    }
#endif
