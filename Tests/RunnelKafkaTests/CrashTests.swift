#if Kafka
    import Foundation
    import KafkaClient
    import RunnelCore
    import RunnelSQLite
    import RunnelTesting
    import Testing

    #if canImport(Glibc)
        import Glibc
    #endif

    /// `runnel-stream` killed with SIGKILL again and again while it loads a topic into SQLite with
    /// the offsets in the load's transaction.
    struct CrashTests {
        @Test func sigkillLoopLeavesTheTableEqualToTheTopic() async throws {
            let topic = try await makeTopic("crash", partitions: 3)
            let dir = try CommandRunner.temporaryDirectory("runnel-kafka-crash")
            let db = dir + "/out.db"
            let name = "crash-\(UUID().uuidString.prefix(8).lowercased())"
            let spec = dir + "/pipeline.yaml"
            try """
            pipeline: \(name)
            extract:
              type: kafka
              brokers: \(testBrokers)
              topics: [\(topic)]
              format: fields
              properties: {session.timeout.ms: "6000", heartbeat.interval.ms: "500"}
            load: {type: sqlite, path: out.db, table: orders, key: [n], synchronous: NORMAL}
            checkpoint: {type: sqlite}
            dead_letter: {type: sqlite}
            batching: {max_records: 100, max_linger: 5ms}
            retry: {max_attempts: 5, base_delay: 50ms, max_delay: 1s}
            """.write(toFile: spec, atomically: true, encoding: .utf8)
            let target = SQLiteTarget(path: db)
            let binary = CommandRunner.binary("runnel-stream")

            var produced = 0
            var kills = 0
            var generator = SystemRandomNumberGenerator()
            while kills < 20 {
                try await produce(topic, produced..<(produced + 1_500))
                produced += 1_500
                let before = try target.count()
                let worker = try CommandRunner.start(binary, ["run", spec, "--json-logs"], environment: ["HOSTNAME": "w\(kills)"])
                defer { if worker.process.isRunning { worker.kill(SIGKILL); _ = worker.wait() } }
                try await eventually("worker \(kills) loads something", timeout: .seconds(60)) { try target.count() > before }
                // Kill at a random moment of the loading, not at a batch boundary we chose.
                try await Task.sleep(for: .milliseconds(Int.random(in: 0...150, using: &generator)))
                worker.kill(SIGKILL)
                #expect(worker.wait() == 128 + SIGKILL)
                kills += 1
                // The invariant a transactional commit gives: each partition's rows are exactly
                // its messages below the stored offset — none beyond, none missing.
                try target.expectRowsMatchStoredOffsets(pipeline: name, topic: topic)
            }

            // A last worker finishes the topic and stops cleanly. More messages first, so that
            // the wait below ends only once this worker is up and loading (a SIGTERM before its
            // signal handlers are installed would kill it).
            try await produce(topic, produced..<(produced + 1_500))
            produced += 1_500
            let last = try CommandRunner.start(binary, ["run", spec, "--json-logs"], environment: ["HOSTNAME": "last"])
            defer { if last.process.isRunning { last.kill(SIGKILL); _ = last.wait() } }
            try await eventually("every message loaded", timeout: .seconds(120)) { try target.count() == produced }
            last.kill(SIGTERM)
            _ = last.stdoutPipe.fileHandleForReading.readDataToEndOfFile()
            let err = String(decoding: last.stderrPipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            #expect(last.wait() == 0, "\(err.suffix(2_000))")

            #expect(kills >= 20)
            #expect(try target.rows("SELECT count(*), count(DISTINCT n), min(n), max(n) FROM orders") == [["\(produced)", "\(produced)", "0", "\(produced - 1)"]])
            #expect(try target.rows("SELECT count(*) FROM orders WHERE v <> 'value ' || n") == [["0"]])
            #expect(try target.storedOffsets(pipeline: name).values.reduce(0, +) == Int64(produced))
            try target.expectRowsMatchStoredOffsets(pipeline: name, topic: topic)
            #expect(try target.count("runnel_dead_letters") == 0)
        }
    }

    extension SQLiteTarget {
        func expectRowsMatchStoredOffsets(pipeline: String, topic: String) throws {
            let stored = try storedOffsets(pipeline: pipeline)
            for p in 0..<3 {
                let next = stored["\(topic)/\(p)"] ?? 0
                let r = try rows("SELECT count(*), coalesce(max(kafka_offset) + 1, 0) FROM orders WHERE kafka_partition = \(p)")
                #expect(r == [["\(next)", "\(next)"]], "partition \(p): rows and stored offset \(next) disagree")
            }
        }
    }
#endif
