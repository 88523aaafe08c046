#if Kafka
    import Foundation
    import KafkaClient
    import Logging
    import RunnelCore
    import RunnelKafka
    import RunnelSQLite
    import RunnelTesting

    #if canImport(Glibc)
        import Glibc
    #endif

    /// The broker scripts/test starts (scripts/services/kafka.sh), or a local one on 19092.
    let testBrokers = ProcessInfo.processInfo.environment["RUNNEL_TEST_KAFKA_BROKERS"] ?? "127.0.0.1:19092"

    let testLogger: Logger = {
        if ProcessInfo.processInfo.environment["RUNNEL_TEST_LOG"] != nil {
            var logger = Logger(label: "runnel-kafka-tests")
            logger.logLevel = .debug
            return logger
        }
        return Logger(label: "runnel-kafka-tests", factory: { _ in SwiftLogNoOpLogHandler() })
    }()

    /// Client settings for the test broker: Kafka's minimum session timeout (6 s), because
    /// Tansu waits about half of it for other members before it completes a join.
    var testClient: KafkaConfiguration {
        var c = KafkaConfiguration(brokers: [testBrokers])
        c.properties["session.timeout.ms"] = "6000"
        c.properties["heartbeat.interval.ms"] = "500"
        return c
    }

    func uniqueName(_ name: String) -> String {
        "runnel-test-\(name)-\(UUID().uuidString.prefix(8).lowercased())"
    }

    func makeTopic(_ name: String, partitions: Int32) async throws -> String {
        let topic = uniqueName(name)
        try await KafkaAdmin(testClient, logger: testLogger).createTopic(topic, partitions: partitions)
        return topic
    }

    /// Sends `{"n": i, "v": "value i"}` keyed `k<i>` for every i in `range`. `oneByOne` sends
    /// each message as its own request: Tansu then reports exact high watermarks (it counts a
    /// multi-message record batch as one offset there).
    func produce(
        _ topic: String, _ range: Range<Int>, oneByOne: Bool = false, client: KafkaConfiguration = testClient,
        timestamp: ((Int) -> Int64)? = nil
    ) async throws {
        let producer = try KafkaProducer(.init(client: client), logger: testLogger)
        let messages = range.map {
            KafkaOutgoingMessage(
                topic: topic, key: Array("k\($0)".utf8), value: Array("{\"n\":\($0),\"v\":\"value \($0)\"}".utf8),
                timestamp: timestamp?($0))
        }
        if oneByOne {
            for m in messages { try await producer.send([m]) }
        } else {
            try await producer.send(messages)
        }
        await producer.close()
    }

    func sendRaw(_ topic: String, key: String, value: String) async throws {
        let producer = try KafkaProducer(.init(client: testClient), logger: testLogger)
        try await producer.send([KafkaOutgoingMessage(topic: topic, key: Array(key.utf8), value: Array(value.utf8))])
        await producer.close()
    }

    /// A Kafka → SQLite pipeline with the offsets in the load's transaction.
    struct SQLiteTarget {
        let path: String
        let database: SQLiteDatabase

        init() throws {
            try self.init(path: CommandRunner.temporaryDirectory("runnel-kafka") + "/out.db")
        }

        init(path: String) {
            self.path = path
            database = SQLiteDatabase(.init(path: path))
        }

        func pipeline(_ source: KafkaSourceConfiguration, name: String, maxRecords: Int = 50) -> Pipeline {
            let store = SQLiteCheckpointStore(database: database)
            return Pipeline(
                name: name, extractor: KafkaExtractor(source, logger: testLogger),
                loader: SQLiteLoader(.init(table: "orders", key: ["n"]), database: database),
                checkpoints: store, deadLetters: SQLiteDeadLetterQueue(database: database),
                batching: BatchingPolicy(maxRecords: maxRecords, maxBytes: 1 << 20, maxLinger: .milliseconds(20)),
                retry: .exponentialJitter(maxAttempts: 3, baseDelay: .milliseconds(50), maxDelay: .milliseconds(500)))
        }

        func rows(_ sql: String) throws -> [[String]] {
            try database.withConnection { try $0.query(sql) }.map { $0.map(\.text) }
        }

        func count(_ table: String = "orders") throws -> Int {
            (try? rows("SELECT count(*) FROM \(table)").first.map { Int($0[0]) ?? 0 }) ?? 0
        }

        /// The stored next offset per partition part (`topic/partition`).
        func storedOffsets(pipeline: String) throws -> [String: Int64] {
            var out: [String: Int64] = [:]
            for row in try rows("SELECT pipeline, position FROM runnel_checkpoints WHERE pipeline LIKE '\(pipeline)#%'") {
                out[String(row[0].dropFirst(pipeline.count + 1))] = Int64(row[1])
            }
            return out
        }
    }

    func source(_ topic: String, group: String) -> KafkaSourceConfiguration {
        var c = KafkaSourceConfiguration(client: testClient, subscription: .names([topic]), group: group)
        c.idleWait = .milliseconds(100)
        return c
    }

    final class Finished: @unchecked Sendable {
        // `@unchecked`: behind the lock.
        private let lock = NSLock()
        private var value = false
        func set() { lock.withLock { value = true } }
        var isSet: Bool { lock.withLock { value } }
    }

    struct Timeout: Error, CustomStringConvertible { var description: String }

    /// Polls `condition` until it holds, failing after `timeout`. Waits on an outcome; the
    /// short pause between polls only keeps it from spinning.
    func eventually(_ what: String, timeout: Duration = .seconds(60), _ condition: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while try await !condition() {
            guard ContinuousClock.now < deadline else { throw Timeout(description: "\(what): not after \(timeout)") }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// Runs a streaming pipeline until `done` holds, then stops it and returns its summary.
    func runStreaming(_ pipeline: Pipeline, until what: String, _ done: @escaping @Sendable () throws -> Bool) async throws -> RunSummary {
        let control = RunControl()
        let runner = PipelineRunner(pipeline: pipeline, options: RunOptions(mode: .streaming), control: control)
        let run = Task { await runner.run() }
        do {
            try await eventually(what) { try done() }
        } catch {
            control.requestStop()
            _ = await run.value
            throw error
        }
        control.requestStop()
        return await run.value
    }

    /// A broker of the test's own (Tansu and the relay, as scripts/services/kafka.sh starts them)
    /// that can be killed and started again. Clients connect to the relay on `port`; Tansu
    /// listens on `brokerPort` and advertises the relay. `tansuArguments` are added to Tansu's
    /// command line (`--authentication`), `relayArguments` to the relay's (`--tls-cert FILE ...`).
    /// Both write their output to files in `logDirectory`.
    final class OwnBroker: @unchecked Sendable {
        // `@unchecked`: `tansu` is only touched by the test's own task.
        let port: Int
        let brokerPort: Int
        let logDirectory: String
        private let tansuArguments: [String]
        private var tansu: Process?
        private let relay: Process

        /// `port` nil: two free loopback ports; otherwise the relay on `port` and Tansu on `port + 1`.
        init(port: Int? = nil, tansuArguments: [String] = [], relayArguments: [String] = []) throws {
            guard let proxy = ProcessInfo.processInfo.environment["RUNNEL_TEST_KAFKA_PROXY"] else {
                throw Timeout(description: "RUNNEL_TEST_KAFKA_PROXY is not set (scripts/services/kafka.sh sets it)")
            }
            if let port {
                (self.port, brokerPort) = (port, port + 1)
            } else {
                let free = try freeLoopbackPorts(2)
                (self.port, brokerPort) = (free[0], free[1])
            }
            self.tansuArguments = tansuArguments
            logDirectory = try CommandRunner.temporaryDirectory("runnel-kafka-broker")
            relay = Process()
            relay.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            relay.arguments = ["python3", proxy, "\(self.port)", "\(brokerPort)"] + relayArguments
            relay.standardOutput = FileHandle.nullDevice
            relay.standardError = try Self.logFile(logDirectory + "/relay.log")
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
            p.arguments =
                [
                    "broker", "--listener-url", "tcp://127.0.0.1:\(brokerPort)",
                    "--advertised-listener-url", "tcp://127.0.0.1:\(port)", "--storage-engine", "memory://tansu/",
                ] + tansuArguments
            p.standardOutput = FileHandle.nullDevice
            p.standardError = try Self.logFile(logDirectory + "/tansu.log")
            try p.run()
            tansu = p
        }

        /// Until both Tansu and the relay accept connections; fails with their output when
        /// either exited.
        func waitUntilListening() async throws {
            try await eventually("Tansu on \(brokerPort) and the relay on \(port) listen", timeout: .seconds(20)) {
                guard relay.isRunning, tansu?.isRunning == true else {
                    throw Timeout(description: "the broker exited: \(logs)")
                }
                return acceptsConnections(port: brokerPort) && acceptsConnections(port: port)
            }
        }

        /// What Tansu and the relay wrote so far, for failure messages.
        var logs: String {
            ["tansu.log", "relay.log"].map { name in
                let text = (try? String(contentsOfFile: logDirectory + "/" + name, encoding: .utf8)) ?? ""
                return "\(name): \(text.suffix(2_000))"
            }.joined(separator: "\n")
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

        private static func logFile(_ path: String) throws -> FileHandle {
            FileManager.default.createFile(atPath: path, contents: nil)
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
            try handle.seekToEnd()
            return handle
        }
    }

    /// `count` different loopback ports that nothing listens on: each bound to port 0 (the
    /// kernel picks) while the others are held, then all released.
    func freeLoopbackPorts(_ count: Int) throws -> [Int] {
        var sockets: [Int32] = []
        defer { for s in sockets { close(s) } }
        var ports: [Int] = []
        for _ in 0..<count {
            let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard s >= 0 else { throw Timeout(description: "socket: errno \(errno)") }
            sockets.append(s)
            var address = loopback(port: 0)
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let bound = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(s, $0, length) == 0 && getsockname(s, $0, &length) == 0
                }
            }
            guard bound else { throw Timeout(description: "bind to 127.0.0.1:0: errno \(errno)") }
            ports.append(Int(UInt16(bigEndian: address.sin_port)))
        }
        return ports
    }

    /// Whether something accepts TCP connections on 127.0.0.1:`port`.
    func acceptsConnections(port: Int) -> Bool {
        let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard s >= 0 else { return false }
        defer { close(s) }
        var address = loopback(port: port)
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(s, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }

    private func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        return address
    }
#endif
